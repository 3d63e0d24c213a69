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

from defdip.core import config
from defdip.core.actors import registry
from defdip.core.codebook import codebook
from defdip.core.errors import DefdipError, StoreError

# ----------------------------------------------------------------------------------------------- the handle


class StoreReader:
    """The store file opened read-only once: ``con`` for the caller's thread, :meth:`cursor` for other threads,
    :meth:`has_table` and :meth:`cached` lookups kept as long as the handle is open.

    The file is attached read-only to a private in-memory database, so a store rebuilt meanwhile (a new file
    swapped in by the atomic build) does not disturb the queries on this handle, and a new handle reads the new
    file. Temporary tables and registered frames live in that private database.
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
        self.con: duckdb.DuckDBPyConnection = con
        self._tables = frozenset(r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'store'").fetchall())
        self._lock = threading.Lock()
        self._memo: dict[Hashable, Any] = {}

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own on the same store, for another thread (close it when done)."""
        cur = self.con.cursor()
        cur.execute("USE store")
        return cur

    def has_table(self, name: str) -> bool:
        """Whether the store holds table ``name`` (reference tables depend on the sources a build had)."""
        return name in self._tables

    def tables(self) -> frozenset[str]:
        return self._tables

    def cached(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per handle and key: for lookups that depend only on the store file."""
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        value = compute()
        with self._lock:
            return self._memo.setdefault(key, value)

    def close(self) -> None:
        self.con.close()

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


def polity_id(name: str, year: int | None = None) -> str:
    """A registry id for a user's name, id, COW abbreviation or ISO3 code (DefdipError with suggestions)."""
    text = (name or "").strip()
    reg = registry()
    if text in reg:
        return text
    return reg.resolve(text, year).id


def where_clause(f: EngagementFilter) -> tuple[str, list[Any]]:
    """The filter as a WHERE clause over ``engagements e`` (placeholders only) and its parameters."""
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
        where.append("(e.title ILIKE ? ESCAPE '\\' OR e.id = ?)")
        escaped = f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.extend([f"%{escaped}%", f.text])
    return " AND ".join(where), params


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
        if f.source is not None and f.source not in known_sources(db):
            raise DefdipError(f"unknown source {f.source!r}; the store holds: {', '.join(known_sources(db))}")
        where, params = where_clause(f)
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
