"""The read layer: one read-only handle on the store and the named queries over its record tables.

Every module that reads engagements, participants or provenance asks here, so that the same question gets the
same rows wherever it is asked (the CLI's ``defdip engagements``, exports, the report, the web API and pages,
profiles). The handle, :class:`StoreReader`, is opened once with :func:`open_store` (or borrowed with
:func:`reading`) and keeps lookups that depend only on the store file (its tables, its sources) for its lifetime.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from defdip.core import config, translit
from defdip.core.actors import Polity, UnknownPolityError, registry
from defdip.core.codebook import codebook
from defdip.core.errors import DefdipError, StoreError

# ----------------------------------------------------------------------------------------------- the handle


class StoreReader:
    """The store file opened read-only once, with :meth:`has_table` and :meth:`cached` lookups kept as long as
    the handle is open.

    ``con`` is the calling thread's connection: each thread gets a cursor of its own on the one database (DuckDB
    connections are not shared between threads), so one handle serves a threaded server. The file is attached
    read-only to a private in-memory database, so a store rebuilt meanwhile (a new file swapped in by the atomic
    build) does not disturb the queries on this handle, and a new handle reads the new file. Temporary tables
    and registered frames live in that private database (per cursor: register and query on the same ``con``).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise StoreError(f"no store at {path}; run `defdip build` first (or pass --store / set DEFDIP_STORE)")
        con = duckdb.connect(":memory:")
        try:
            con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS store (READ_ONLY)")
            con.execute("USE store")
        except duckdb.Error as exc:
            con.close()
            raise StoreError(f"cannot open the store {path}: {exc}") from None
        self._main = con
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._tables = frozenset(str(r[0]) for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'store'").fetchall())
        self._lock = threading.Lock()
        self._memo: dict[Hashable, Any] = {}
        self._key_locks: dict[Hashable, threading.Lock] = {}

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """This thread's connection to the store (kept until the handle is closed)."""
        cur: duckdb.DuckDBPyConnection | None = getattr(self._local, "con", None)
        if cur is None:
            cur = self.cursor()
            self._local.con = cur
            with self._lock:
                self._cursors.append(cur)
        return cur

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new connection of its own on the same store (close it when done)."""
        with self._lock:  # the handle's own connection only makes cursors, one at a time
            cur = self._main.cursor()
        cur.execute("USE store")
        return cur

    def has_table(self, name: str) -> bool:
        """Whether the store holds table ``name`` (reference tables depend on the sources a build had)."""
        return name in self._tables

    def tables(self) -> frozenset[str]:
        return self._tables

    def cached(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per handle and key: for lookups that depend only on the store file. A second thread
        asking for a key being computed waits for that result (a computation may create tables in the handle's
        own database, which must happen once)."""
        with self._lock:
            if key in self._memo:
                return self._memo[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._memo:
                    return self._memo[key]
            try:
                value = compute()
                with self._lock:
                    self._memo[key] = value
            finally:
                with self._lock:
                    self._key_locks.pop(key, None)
            return value

    def close(self) -> None:
        with self._lock:
            cursors, self._cursors = self._cursors, []
        for cur in cursors:
            cur.close()
        self._main.close()

    def __enter__(self) -> StoreReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


StoreLike = str | Path | StoreReader | None
"""A store as callers name it: a path, None for the default store (``--store``/``DEFDIP_STORE``), or a handle."""


def open_store(store: str | Path | None = None) -> StoreReader:
    """The store at ``store`` (default: ``DEFDIP_STORE`` or the user data directory), opened read-only;
    StoreError when it has not been built."""
    return StoreReader(config.store_path(store))


@contextmanager
def reading(store: StoreLike = None) -> Iterator[StoreReader]:
    """A handle on ``store`` for a ``with`` block: an open handle is lent as it is (and left open), a path is
    opened and closed at the end."""
    if isinstance(store, StoreReader):
        yield store
        return
    reader = open_store(store)
    try:
        yield reader
    finally:
        reader.close()


# ----------------------------------------------------------------------------------------------- engagements

@dataclass(frozen=True)
class EngagementFilter:
    """Which engagements to select; polities are registry ids (resolve names with :func:`polity_id`).

    Years select engagements in force at some time in ``from_year..to_year``: started by ``to_year`` and
    not ended before ``from_year`` (an engagement without an end year ends in its start year; an ongoing
    one has not ended).
    """

    country: str | None = None
    partner: str | None = None
    activity: str | None = None
    sub_activity: str | None = None
    instrument: str | None = None
    source: str | None = None
    from_year: int | None = None
    to_year: int | None = None
    exclude_sub_activities: tuple[str, ...] = ()
    text: str | None = None

    def check(self) -> EngagementFilter:
        """Raise DefdipError naming the parameter when a value is not in the codebook or years are off."""
        cb = codebook()
        for name, value, ids in (("activity", self.activity, cb.activity_ids),
                                 ("sub-activity", self.sub_activity, cb.sub_activity_ids),
                                 ("instrument", self.instrument, cb.instrument_ids)):
            if value is not None and value not in ids:
                raise DefdipError(f"unknown {name} {value!r}; expected one of {', '.join(ids)}")
        for value in self.exclude_sub_activities:
            if value not in cb.sub_activity_ids:
                raise DefdipError(f"unknown sub-activity to exclude {value!r}; expected one of "
                                  f"{', '.join(cb.sub_activity_ids)}")
        for name, year in (("from", self.from_year), ("to", self.to_year)):
            if year == 0:
                raise DefdipError(f"--{name}: there is no year 0 (1 BCE is -1, 1 CE is 1)")
        if self.from_year is not None and self.to_year is not None and self.from_year > self.to_year:
            raise DefdipError(f"reversed years: --from {self.from_year} is after --to {self.to_year}")
        return self

    def as_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class PolityMatch:
    """The polity a user's name refers to, and the registry's note when the name could mean others too."""

    polity: Polity
    note: str | None


NAME_MAX = 120
"""Longest polity name accepted (a search box or a URL path segment, not a paragraph)."""


def resolve_polity(name: str, year: int | None = None) -> PolityMatch:
    """The one resolver of a user's polity name: an id (exactly as the registry writes it), a name, variant,
    alias, COW abbreviation or ISO3 code, as of ``year`` when one is given; with the registry's ambiguity note
    ("Congo" names two states). An unknown name raises UnknownPolityError with close suggestions (search
    matches when the registry has no spelling suggestion); an empty or overlong one a DefdipError."""
    text = (name or "").strip()
    if not text:
        raise DefdipError("empty polity name: give an id, name, COW abbreviation or ISO3 code")
    if len(text) > NAME_MAX:
        raise DefdipError(f"polity name too long (at most {NAME_MAX} characters)")
    reg = registry()
    if text in reg:
        return PolityMatch(reg.get(text), None)
    try:
        polity = reg.resolve(text, year)
    except UnknownPolityError as exc:
        if not exc.suggestions:  # the message stays the registry's; the suggestions serve a 404 body
            exc.suggestions = [f"{p.name} ({p.id})" for p in reg.search(text, limit=5)]
        raise
    return PolityMatch(polity, reg.ambiguity_note(text, year))


def polity_id(name: str, year: int | None = None) -> str:
    """The registry id :func:`resolve_polity` gives ``name``."""
    return resolve_polity(name, year).polity.id


def _where(f: EngagementFilter, title_ids: Sequence[str] = ()) -> tuple[str, list[Any]]:
    """The filter as a WHERE clause over ``engagements e`` (placeholders only) and its parameters; ``title_ids``
    are the engagements :func:`title_matches` finds for ``f.text`` (titles in another script or spelling)."""
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    for pid in (f.country, f.partner):
        if pid is not None:
            where.append("EXISTS (SELECT 1 FROM participants x WHERE x.engagement_id = e.id AND x.polity_id = ?)")
            params.append(pid)
    for column, value in (("e.activity = ?", f.activity), ("list_contains(e.sub_activities, ?)", f.sub_activity),
                          ("e.instrument = ?", f.instrument), ("list_contains(e.datasets, ?)", f.source)):
        if value is not None:
            where.append(column)
            params.append(value)
    for value in f.exclude_sub_activities:
        where.append("NOT list_contains(coalesce(e.sub_activities, []), ?)")
        params.append(value)
    if f.from_year is not None:
        where.append("(CASE WHEN e.ongoing THEN 9999 ELSE coalesce(e.end_year, e.start_year) END) >= ?")
        params.append(f.from_year)
    if f.to_year is not None:
        where.append("e.start_year <= ?")
        params.append(f.to_year)
    if f.text:
        where.append("(e.title ILIKE ? ESCAPE '\\' OR e.id = ? OR list_contains(?::VARCHAR[], e.id))")
        escaped = f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.extend([f"%{escaped}%", f.text, list(title_ids)])
    return " AND ".join(where), params


def check_source(source: str | None, store: StoreLike = None) -> None:
    """DefdipError naming the store's sources when ``source`` gave it no engagement."""
    if source is not None and source not in known_sources(store):
        raise DefdipError(f"unknown source {source!r}; the store holds: {', '.join(known_sources(store))}")


def known_sources(store: StoreLike = None) -> list[str]:
    """The sources that gave the store at least one engagement (provenance), sorted."""
    with reading(store) as db:
        return list(db.cached("known_sources", lambda: [r[0] for r in db.con.execute(
            "SELECT DISTINCT source FROM provenance ORDER BY 1").fetchall()]))


_WIDE = """
SELECT e.id, e.title, e.activity, e.sub_activities, e.instrument, e.start_year, e.start_month, e.start_day,
       e.end_year, e.end_month, e.end_day, e.precision, e.circa, e.ongoing, e.n_participants,
       (SELECT list(struct_pack(id := p.polity_id, name := p.name, role := p.role, ccode := p.ccode)
                    ORDER BY p.polity_id, p.role) FROM participants p WHERE p.engagement_id = e.id) AS participants,
       e.datasets, (SELECT list(v.record_id ORDER BY v.source, v.record_id) FROM provenance v
                    WHERE v.engagement_id = e.id) AS source_record_ids,
       e.citations, e.attributes
FROM engagements e WHERE {where} ORDER BY e.start_year, e.id"""

_LONG = """
SELECT e.id AS engagement_id, e.title, e.activity, e.instrument, e.start_year, e.end_year, e.ongoing,
       p.polity_id, p.role, p.ccode, q.gwcode, q.iso3, q.kind, p.name AS name_in_source,
       coalesce(p.start_year, e.start_year) AS participant_from, coalesce(p.end_year, e.end_year) AS participant_to,
       e.datasets, e.citations
FROM engagements e JOIN participants p ON p.engagement_id = e.id LEFT JOIN polities q ON q.id = p.polity_id
WHERE {where} ORDER BY e.start_year, e.id, p.role, p.polity_id"""


def engagements(f: EngagementFilter, store: StoreLike = None, *, long: bool = False) -> pd.DataFrame:
    """Engagements matching ``f``: one row each, or with ``long`` one row per engagement x participant with
    its ``ccode``, ``gwcode``, ``iso3``, role and the name the registry gives the polity in the engagement's
    start year (``name``), so that rows merge with panels."""
    f.check()
    with reading(store) as db:
        check_source(f.source, db)
        where, params = _where(f, title_matches(f.text, db, phrase=True) if f.text else ())
        frame = db.con.execute((_LONG if long else _WIDE).format(where=where), params).df()
    if long:
        reg = registry()
        frame.insert(frame.columns.get_loc("name_in_source"), "name",
                     [reg.display_name(pid, int(year)) for pid, year in zip(frame["polity_id"], frame["start_year"])])
        for col in ("ccode", "gwcode"):
            frame[col] = frame[col].astype("Int32")
    return frame


def participants_text(parts: Sequence[dict[str, Any]] | None) -> str:
    """Participants as ``USA:participant; JPN:participant`` for one-line table and CSV cells."""
    return "" if parts is None else "; ".join(f"{p['id']}:{p['role']}" for p in parts)


def quarantine(store: StoreLike = None, source: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows the last build set aside (source, file, row, field, value, reason) and every name it could
    not resolve (source, name, count), optionally for one source."""
    with reading(store) as db:
        where, params = ("WHERE source = ?", [source]) if source else ("", [])
        rows = db.con.execute(f"SELECT source, file, row, field, value, reason FROM quarantine {where} "
                              "ORDER BY source, file, try_cast(row AS INTEGER), row, field", params).df()
        names = db.con.execute(f"SELECT source, name, count FROM unresolved {where} "
                               "ORDER BY source, count DESC, name", params).df()
    return rows, names


# ----------------------------------------------------------------------------------------------- list items

IN_FORCE_TO = "(CASE WHEN e.ongoing THEN 9999 ELSE coalesce(e.end_year, e.start_year) END)"
"""The last year an engagement is in force when selecting by years (an ongoing one has not ended)."""

_ITEM = f"""SELECT e.id, e.title, e.activity, e.sub_activities, e.instrument, e.start_year, e.end_year, e.ongoing,
       e.circa, (SELECT list(struct_pack(id := p.polity_id, name := p.name, role := p.role)
                             ORDER BY p.polity_id, p.role)
                 FROM participants p WHERE p.engagement_id = e.id) AS participants,
       e.datasets, e.citations, {IN_FORCE_TO} AS in_force_to
FROM engagements e"""


def _dicts(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description or ()]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def engagement_items(store: StoreLike = None) -> list[dict[str, Any]]:
    """Every engagement as a list item (id, title, activity, sub_activities, instrument, start and end year,
    ongoing, circa, participants as id/name/role, datasets, citations, ``in_force_to``), ordered by start
    year and id: what a server filters in memory (it selects what :func:`engagement_page` selects)."""
    with reading(store) as db:
        return _dicts(db.con.execute(_ITEM + " ORDER BY e.start_year, e.id"))


def engagement_page(f: EngagementFilter, store: StoreLike = None, *, page: int = 1,
                    page_size: int = 50) -> tuple[int, list[dict[str, Any]]]:
    """The number of engagements matching ``f`` and page ``page`` of their list items (as
    :func:`engagement_items`, without ``in_force_to``), in the order start year, id."""
    f.check()
    with reading(store) as db:
        check_source(f.source, db)
        where, params = _where(f, title_matches(f.text, db, phrase=True) if f.text else ())
        row = db.con.execute(f"SELECT count(*) FROM engagements e WHERE {where}", params).fetchone()
        items = _dicts(db.con.execute(f"{_ITEM} WHERE {where} ORDER BY e.start_year, e.id LIMIT ? OFFSET ?",
                                      [*params, page_size, (page - 1) * page_size]))
    for item in items:
        del item["in_force_to"]
    return (int(row[0]) if row else 0), items


def engagements_by_id(ids: Sequence[str], store: StoreLike = None) -> list[dict[str, Any]]:
    """The list items (as :func:`engagement_page` gives them) of the engagements ``ids``, in that order."""
    with reading(store) as db:
        items = {i["id"]: i for i in _dicts(db.con.execute(
            f"{_ITEM} WHERE e.id IN (SELECT unnest(?::VARCHAR[]))", [list(ids)]))}
    out = [items[i] for i in ids if i in items]
    for item in out:
        del item["in_force_to"]
    return out


def engagement_polities(store: StoreLike = None) -> list[tuple[str, str]]:
    """Every (engagement id, polity id) of the participants, once each."""
    with reading(store) as db:
        return [(str(e), str(p)) for e, p in db.con.execute(
            "SELECT DISTINCT engagement_id, polity_id FROM participants ORDER BY 1, 2").fetchall()]


def title_matches(q: str, store: StoreLike = None, *, phrase: bool = False) -> list[str]:
    """Ids of the engagements whose title holds every word of ``q`` in any script or transliteration (titles and
    query folded to Latin search keys, so "Rimpac 2012" finds "Римпак-2012"), best first: the whole title, then
    titles that begin with the query, hold it as a phrase, or hold its words; an id equal to ``q`` first. With
    ``phrase`` only titles holding the folded query as one run of words (what a filter wants: "' OR '1'='1" is
    the phrase "or 1 1", which no title holds, not the words "or" and "1", which thousands do)."""
    key = translit.search_key(q)
    if not key:
        return []
    with reading(store) as db:
        keys = db.cached(("title_keys",), lambda: _title_keys(db))
    words = [key] if phrase else key.split()
    hit = keys["key"].str.contains(words[0], regex=False)
    for w in words[1:]:
        hit &= keys["key"].str.contains(w, regex=False)
    hit |= keys["id"] == q
    found = keys[hit]
    rank = [0 if k == key or i == q else 1 if k.startswith(key) else 2 if key in k else 3
            for i, k in zip(found["id"], found["key"])]
    return list(found.assign(rank=rank).sort_values(["rank", "start_year", "id"])["id"])


def _title_keys(db: StoreReader) -> pd.DataFrame:
    frame = db.con.execute("SELECT id, title, start_year FROM engagements").df()
    frame["key"] = [translit.search_key(t or "") for t in frame["title"]]
    return frame[["id", "start_year", "key"]]


def engagement_record(engagement_id: str, store: StoreLike = None) -> dict[str, Any] | None:
    """One engagement's every column, with ``participants`` (id, name, role, ccode, years, attributes; by role
    and id) and ``provenance`` (source, version, record_id, citations); None when the store has no such id."""
    with reading(store) as db:
        found = _dicts(db.con.execute("SELECT * FROM engagements WHERE id = ?", [engagement_id]))
        if not found:
            return None
        record = found[0]
        record["participants"] = _dicts(db.con.execute(
            "SELECT polity_id AS id, name, role, ccode, start_year, end_year, attributes FROM participants "
            "WHERE engagement_id = ? ORDER BY role, polity_id", [engagement_id]))
        record["provenance"] = _dicts(db.con.execute(
            "SELECT source, version, record_id, citations FROM provenance WHERE engagement_id = ? "
            "ORDER BY source, record_id", [engagement_id]))
    return record


# ----------------------------------------------------------------------------------------------- genealogy

def genealogy(store: StoreLike = None) -> pd.DataFrame:
    """The curated genealogy's records in the store (id, title, summary, activity, sub_activities,
    instrument, start_year, end_year, circa, citations, participants as id/name/role ordered by name),
    ordered by start year and id."""
    with reading(store) as db:
        return db.con.execute("""
            SELECT e.id, e.title, e.summary, e.activity, e.sub_activities, e.instrument, e.start_year, e.end_year,
                   e.circa, e.citations,
                   (SELECT list(struct_pack(id := p.polity_id, name := coalesce(p.name, p.polity_id),
                                            role := p.role) ORDER BY p.name)
                    FROM participants p WHERE p.engagement_id = e.id) AS participants
            FROM engagements e
            WHERE e.id IN (SELECT engagement_id FROM provenance WHERE source = 'genealogy')
            ORDER BY e.start_year, e.id""").df()


# ----------------------------------------------------------------------------------------------- polities

def polity_engagement_counts(store: StoreLike = None, *, states_only: bool = False) -> dict[str, int]:
    """Polity id -> the number of engagements it takes part in (states only, with ``states_only``), most
    engaged first (ties by id)."""
    state = "JOIN polities pol ON pol.id = p.polity_id AND pol.kind = 'state'" if states_only else ""
    with reading(store) as db:
        return {str(pid): int(n) for pid, n in db.con.execute(
            f"SELECT p.polity_id, count(DISTINCT p.engagement_id) AS n FROM participants p {state} "
            "GROUP BY 1 ORDER BY n DESC, 1").fetchall()}


def polity_activity(polity_id: str, store: StoreLike = None) -> tuple[dict[str, int], int | None, int | None]:
    """A polity's engagements per codebook activity (every activity, 0 when none) and the first start and last
    start or end year of those engagements (None without any)."""
    per = {a: 0 for a in codebook().activity_ids}
    with reading(store) as db:
        rows = db.con.execute("""
            SELECT e.activity, count(*), min(e.start_year), max(coalesce(e.end_year, e.start_year))
            FROM engagements e WHERE e.id IN (SELECT engagement_id FROM participants WHERE polity_id = ?)
            GROUP BY 1""", [polity_id]).fetchall()
    for activity, n, _, _ in rows:
        per[str(activity)] = int(n)
    firsts = [int(r[2]) for r in rows]
    lasts = [int(r[3]) for r in rows]
    return per, (min(firsts) if firsts else None), (max(lasts) if lasts else None)


# ----------------------------------------------------------------------------------------------- partners

NOT_PEACEKEEPING = "NOT (e.instrument = 'deployment' AND list_contains(coalesce(e.sub_activities, []), 'peacekeeping'))"
"""Partner counts leave peacekeeping deployments out: a mission ties contributors to hosts, not to each other."""

_MEMBER_YEARS = f"""
    SELECT DISTINCT pa.engagement_id, pa.polity_id, e.n_participants,
           greatest(coalesce(pa.start_year, e.start_year), $lo) AS y0,
           least(coalesce(pa.end_year, {IN_FORCE_TO}), coalesce(pol.end_year, 9999), $hi) AS y1
    FROM participants pa JOIN engagements e ON e.id = pa.engagement_id
    JOIN polities pol ON pol.id = pa.polity_id AND pol.kind = 'state'
    WHERE e.start_year <= $hi AND {IN_FORCE_TO} >= $lo AND {NOT_PEACEKEEPING}"""


def partner_counts(from_year: int, to_year: int, store: StoreLike = None) -> pd.DataFrame:
    """For each state, its state partners in ``from_year..to_year``: ``partners`` (distinct states it shared an
    engagement with), ``bilateral_partners`` (in two-party engagements) and ``engagements`` (those it took part
    in with a partner), peacekeeping deployments left out.

    The one definition of a partner in a window: two states are partners when both took part in the same
    engagement in a common year of the window. A member counts only for the years it was a participant (its
    own entry and exit years, else the engagement's; never after its state ended), so a member that left an
    alliance before the window is nobody's partner in it.
    """
    with reading(store) as db:
        return db.con.execute(f"""
            WITH act AS ({_MEMBER_YEARS}), m AS (SELECT * FROM act WHERE y0 <= y1)
            SELECT a.polity_id, count(DISTINCT b.polity_id) AS partners,
                   count(DISTINCT CASE WHEN a.n_participants = 2 THEN b.polity_id END) AS bilateral_partners,
                   count(DISTINCT a.engagement_id) AS engagements
            FROM m a JOIN m b ON a.engagement_id = b.engagement_id AND a.polity_id <> b.polity_id
                            AND greatest(a.y0, b.y0) <= least(a.y1, b.y1)
            GROUP BY 1 ORDER BY 1""", {"lo": from_year, "hi": to_year}).df()


def state_partners(polity_id: str, store: StoreLike = None) -> pd.DataFrame:
    """The states that share an engagement with ``polity_id`` in any year, peacekeeping deployments left out:
    polity_id, engagements, first_year and last_year (first and last start year), main_activity (most frequent)."""
    with reading(store) as db:
        return db.con.execute(f"""
            WITH mine AS (SELECT DISTINCT engagement_id FROM participants WHERE polity_id = ?)
            SELECT pa.polity_id, count(DISTINCT pa.engagement_id) AS engagements,
                   min(e.start_year) AS first_year, max(e.start_year) AS last_year, mode(e.activity) AS main_activity
            FROM participants pa JOIN mine USING (engagement_id) JOIN engagements e ON e.id = pa.engagement_id
            JOIN polities pp ON pp.id = pa.polity_id AND pp.kind = 'state'
            WHERE pa.polity_id <> ? AND {NOT_PEACEKEEPING} GROUP BY 1 ORDER BY 1""", [polity_id, polity_id]).df()


_ROLES = "string_agg(DISTINCT p.role, ', ' ORDER BY p.role) AS role"
"""A participant's roles in one engagement (rows ``p`` of participants): distinct, sorted, comma-joined."""


def shared_engagements(polity_ids: Sequence[str], store: StoreLike = None) -> pd.DataFrame:
    """The engagements every polity of ``polity_ids`` takes part in (a country's with one id, a dyad's
    timeline with two), with the first one's roles in each (``role``: distinct roles, sorted, comma-joined)."""
    if not polity_ids:
        return pd.DataFrame({"id": pd.Series(dtype=object), "role": pd.Series(dtype=object)})
    others = "".join(" AND EXISTS (SELECT 1 FROM participants x WHERE x.engagement_id = p.engagement_id "
                     "AND x.polity_id = ?)" for _ in polity_ids[1:])
    with reading(store) as db:
        return db.con.execute(
            f"SELECT p.engagement_id AS id, {_ROLES} "
            f"FROM participants p WHERE p.polity_id = ?{others} GROUP BY 1 ORDER BY 1", list(polity_ids)).df()


def engagement_roles(store: StoreLike = None) -> pd.DataFrame:
    """Every polity's roles in each engagement it takes part in: polity_id, id, role (as
    :func:`shared_engagements` gives them for one polity), ordered by polity and engagement."""
    with reading(store) as db:
        return db.con.execute(
            f"SELECT p.polity_id, p.engagement_id AS id, {_ROLES} FROM participants p GROUP BY 1, 2 ORDER BY 1, 2").df()


def partner_activity(polity_id: str | None, engagements: pd.DataFrame, store: StoreLike = None) -> pd.DataFrame:
    """For the engagements in ``engagements`` (columns id, activity, start_year, in_force_to), each other
    polity taking part (not ``unknown``) per activity: id, name (the registry's, else as in the source),
    kind, activity, n (engagements), first_year (first start), last_year (last in force).

    ``polity_id`` None: the partners of every polity taking part at once, that polity in a first column
    ``self`` (ordered by it): what a server cuts every country's partners from."""
    with reading(store) as db:
        con = db.con
        con.register("_partner_engagements", engagements[["id", "activity", "start_year", "in_force_to"]])
        try:
            rows = con.execute("""
                SELECT s.polity_id AS self, p.polity_id AS id, any_value(coalesce(pol.name, p.name)) AS name,
                       any_value(pol.kind) AS kind, e.activity, count(DISTINCT e.id) AS n,
                       min(e.start_year) AS first_year, max(e.in_force_to) AS last_year
                FROM _partner_engagements e JOIN participants s ON s.engagement_id = e.id
                JOIN participants p ON p.engagement_id = e.id
                LEFT JOIN polities pol ON pol.id = p.polity_id
                WHERE p.polity_id <> s.polity_id AND p.polity_id <> 'unknown' AND s.polity_id <> 'unknown'
                  AND (s.polity_id = $polity OR $polity IS NULL)
                GROUP BY s.polity_id, p.polity_id, e.activity ORDER BY 1, 2, 5""", {"polity": polity_id}).df()
        finally:
            con.unregister("_partner_engagements")
    return rows if polity_id is None else rows.drop(columns="self")


# ----------------------------------------------------------------------------------------------- store summary

def span(store: StoreLike = None) -> tuple[int, int | None, int | None]:
    """Number of engagements, first start year and last start or end year."""
    with reading(store) as db:
        row = db.con.execute(
            "SELECT count(*), min(start_year), max(coalesce(end_year, start_year)) FROM engagements").fetchone()
    assert row is not None  # an aggregate always gives one row
    return int(row[0]), row[1], row[2]


def start_years(store: StoreLike = None) -> pd.Series:
    """Every engagement's start year."""
    with reading(store) as db:
        return db.con.execute("SELECT start_year FROM engagements").df()["start_year"]


def activity_counts(store: StoreLike = None) -> dict[str, int]:
    """Engagements per activity (activities without any are absent)."""
    with reading(store) as db:
        return {str(a): int(n) for a, n in db.con.execute(
            "SELECT activity, count(*) FROM engagements GROUP BY 1 ORDER BY 1").fetchall()}


def sub_activity_counts(store: StoreLike = None) -> dict[str, int]:
    """Engagements per sub-activity (sub-activities without any are absent)."""
    with reading(store) as db:
        return {str(s): int(n) for s, n in db.con.execute(
            "SELECT s, count(*) FROM (SELECT unnest(sub_activities) AS s FROM engagements) GROUP BY 1 "
            "ORDER BY 1").fetchall()}


def source_activity_counts(store: StoreLike = None) -> pd.DataFrame:
    """source, activity, n: the distinct engagements each source gave the store per activity."""
    with reading(store) as db:
        return db.con.execute("""SELECT p.source, e.activity, count(DISTINCT e.id) AS n FROM provenance p
                                 JOIN engagements e ON e.id = p.engagement_id GROUP BY 1, 2 ORDER BY 1, 2""").df()


def source_engagement_counts(store: StoreLike = None) -> dict[str, int]:
    """Source id -> the distinct engagements it gave the store."""
    with reading(store) as db:
        return {str(s): int(n) for s, n in db.con.execute(
            "SELECT source, count(DISTINCT engagement_id) FROM provenance GROUP BY 1 ORDER BY 1").fetchall()}


# ----------------------------------------------------------------------------------------------- build tables

def sources(store: StoreLike = None) -> pd.DataFrame:
    """The sources table (every dataset the build knew: id, title, version, kind, status, citation, terms,
    bibtex, note ...), by kind and id; empty for a store without one."""
    with reading(store) as db:
        if not db.has_table("sources"):
            return pd.DataFrame(columns=["id", "title", "version", "kind", "status", "bibtex"])
        return db.con.execute("SELECT * FROM sources ORDER BY kind, id").df()


def source_bibtex(store: StoreLike = None, *, loaded_only: bool = True) -> list[str]:
    """The BibTeX of the sources (those loaded into the store, with ``loaded_only``), in source order."""
    frame = sources(store)
    if loaded_only:
        frame = frame[frame["status"] == "loaded"]
    return [b for b in frame.sort_values("id")["bibtex"] if isinstance(b, str) and b]


def meta(store: StoreLike = None) -> dict[str, str]:
    """The store's versions and build facts (key -> value)."""
    with reading(store) as db:
        return {str(k): str(v) for k, v in db.con.execute("SELECT key, value FROM meta ORDER BY key").fetchall()}


def ingest_report(store: StoreLike = None) -> pd.DataFrame:
    """The last build's ingest report, one row per source."""
    with reading(store) as db:
        return db.con.execute("SELECT * FROM ingest_report ORDER BY source").df()


def quarantine_counts(store: StoreLike = None) -> pd.DataFrame:
    """source, rejected: the rows the last build set aside per source."""
    with reading(store) as db:
        return db.con.execute("SELECT source, count(*) AS rejected FROM quarantine GROUP BY 1 ORDER BY 1").df()


def unresolved_counts(store: StoreLike = None) -> pd.DataFrame:
    """source, mentions, names: the names each source used that no polity matched."""
    with reading(store) as db:
        return db.con.execute("SELECT source, sum(count) AS mentions, count(*) AS names FROM unresolved "
                              "GROUP BY 1 ORDER BY 1").df()


def country_shapes(store: StoreLike = None) -> pd.DataFrame | None:
    """Natural Earth shapes (iso3, name, geometry as GeoJSON text), or None when the store has none."""
    with reading(store) as db:
        if not db.has_table("ne_countries"):
            return None
        return db.con.execute("SELECT iso3, name, geometry FROM ne_countries ORDER BY iso3").df()
