"""Read-only access to the store for the web app, shared by the API and the HTML pages.

Every query here is parameterised (``?`` placeholders): user input never becomes SQL text. The store is opened
read-only once per store file version and each query runs on a cursor of its own, so requests served on
different threads never share one. Results that are costly and depend only on the store (networks, profiles,
panel slices, headline charts, the polity table) are cached per store file version (its modification time),
so a rebuilt store is picked up without a restart.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from defdip.analysis.network import NetworkData
from defdip.analysis.network import network_data as load_network_data
from defdip.core import citations, config
from defdip.core.actors import Polity, UnknownPolityError, registry
from defdip.core.codebook import codebook
from defdip.core.errors import DefdipError, StoreError
from defdip.present import charts
from defdip.store import build as store_mod

MAX_PAGE_SIZE = 500
"""Largest page of engagements one request may ask for."""


class ApiError(DefdipError):
    """A user error with the HTTP status it maps to (and optional extra JSON fields)."""

    def __init__(self, status: int, detail: str, **extra: Any):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extra = extra


# ----------------------------------------------------------------------------------------------- JSON helpers

def jsonable(value: Any) -> Any:
    """Plain JSON values from frames, numpy scalars, NA/NaN (-> null), tuples, sets and dataclasses."""
    if isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return jsonable(value.tolist())
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, Path):
        return str(value)
    return str(value)


def polity_json(p: Polity) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "kind": p.kind, "ccode": p.ccode, "gwcode": p.gwcode, "iso3": p.iso3,
            "start_year": p.start_year, "end_year": p.end_year, "years": p.years(),
            "variants": list(p.variants), "successor": p.successor, "part_of": p.part_of}


# ----------------------------------------------------------------------------------------------- the store

CACHE_SIZES = {"network": 128, "profile": 128, "profile_json": 128, "dyad": 64, "dyad_json": 64, "panel": 64}
"""Entries kept per kind of cached result (LRU); kinds not named keep ``DEFAULT_CACHE_SIZE``."""
DEFAULT_CACHE_SIZE = 16

COMPUTE_SLOTS = 2
"""Cache misses computed at the same time (others wait): bounds the memory and CPU that a burst of costly
requests (networks over long windows, profiles) can take from the rest."""


@dataclass(frozen=True)
class Failed:
    """A cached computation that ended in a user error: the same request gets the same error at once."""

    error: DefdipError


def _answer(value: Any) -> Any:
    if isinstance(value, Failed):
        raise value.error.with_traceback(None)
    return value


@dataclass
class WebStore:
    """The store one app serves: its path, one read-only database handle per store version (a cursor per
    query, so threads never share one) and small per-version caches of costly results."""

    path: Path

    def __post_init__(self) -> None:
        self._cache: dict[str, OrderedDict[tuple, tuple[int, Any]]] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[tuple, threading.Lock] = {}
        self._slots = threading.BoundedSemaphore(COMPUTE_SLOTS)
        self._holding = threading.local()  # a computation that needs another cached value keeps its slot
        self._db: tuple[int, duckdb.DuckDBPyConnection] | None = None

    @classmethod
    def at(cls, store: str | Path | None = None) -> WebStore:
        return cls(config.store_path(store))

    def version(self) -> int:
        """The store file's modification time (ns); StoreError when there is no store."""
        try:
            return self.path.stat().st_mtime_ns
        except OSError:
            raise StoreError(f"no store at {self.path}; run `defdip build` first "
                             "(or pass --store / set DEFDIP_STORE)") from None

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own on the store (close it when done).

        The store file is attached read-only to a private in-memory database, opened once per store version:
        a rebuilt store (a new file swapped in) gets a new handle, while queries running on the old one finish
        on the old file.
        """
        version = self.version()
        with self._lock:
            if self._db is None or self._db[0] != version:
                con = duckdb.connect(":memory:")
                try:
                    con.execute(f"ATTACH '{str(self.path).replace(chr(39), chr(39) * 2)}' AS store (READ_ONLY)")
                except duckdb.Error as exc:
                    con.close()
                    raise StoreError(f"cannot open the store {self.path}: {exc}") from None
                self._db = (version, con)
            cursor = self._db[1].cursor()
        cursor.execute("USE store")
        return cursor

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        con = self.connect()
        try:
            return con.execute(sql, list(params or [])).df()
        finally:
            con.close()

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        con = self.connect()
        try:
            cur = con.execute(sql, list(params or []))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]
        finally:
            con.close()

    def has_table(self, name: str) -> bool:
        con = self.connect()
        try:
            return store_mod.has_table(con, name)
        finally:
            con.close()

    def cached(self, key: tuple, compute: Callable[[], Any], size: int | None = None) -> Any:
        """``compute()`` once per store version and key; ``key[0]`` names the kind, which keeps ``size`` entries
        (default: ``CACHE_SIZES``).

        One computation per key at a time (a second request for it waits for the first's result) and at most
        ``COMPUTE_SLOTS`` computations at once. A :class:`DefdipError` is cached like a result and raised again.
        """
        version = self.version()
        kind = str(key[0])
        with self._lock:
            hit = self._lookup(kind, key, version)
            if hit is not None:
                return _answer(hit[1])
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                hit = self._lookup(kind, key, version)
                if hit is not None:
                    return _answer(hit[1])
            try:
                value = self._compute(compute)
            except DefdipError as exc:  # an answer too (no data in a window, a missing table): kept, not redone
                value = Failed(exc)
            with self._lock:
                entries = self._cache.setdefault(kind, OrderedDict())
                entries[key] = (version, value)
                while len(entries) > (size or CACHE_SIZES.get(kind, DEFAULT_CACHE_SIZE)):
                    old, _ = entries.popitem(last=False)
                    self._key_locks.pop(old, None)
            return _answer(value)

    def _compute(self, compute: Callable[[], Any]) -> Any:
        if getattr(self._holding, "slot", False):
            return compute()
        with self._slots:
            self._holding.slot = True
            try:
                return compute()
            finally:
                self._holding.slot = False

    def _lookup(self, kind: str, key: tuple, version: int) -> tuple[int, Any] | None:
        entries = self._cache.get(kind)
        hit = entries.get(key) if entries is not None else None
        if hit is None or hit[0] != version:
            return None
        entries.move_to_end(key)  # type: ignore[union-attr]
        return hit


# ----------------------------------------------------------------------------------------------- validation

def resolve_polity(name: str) -> Polity:
    """A polity from an id, name, variant, COW abbreviation or ISO3 code; 404 with suggestions otherwise."""
    text = (name or "").strip()
    if not text:
        raise ApiError(422, "empty polity name")
    if len(text) > 120:
        raise ApiError(422, "polity name too long (at most 120 characters)")
    reg = registry()
    try:
        if text in reg:
            return reg.get(text)
        return reg.resolve(text)
    except UnknownPolityError as exc:
        suggestions = list(exc.suggestions)
        if not suggestions:
            suggestions = [f"{p.name} ({p.id})" for p in reg.search(text, limit=5)]
        raise ApiError(404, str(exc), suggestions=suggestions) from None


def check_years(from_year: int | None, to_year: int | None, *, max_span: int | None = None,
                what: str = "year range") -> None:
    """422 for year 0 and reversed ranges (and ranges longer than ``max_span`` years)."""
    for name, year in (("from_year", from_year), ("to_year", to_year)):
        if year == 0:
            raise ApiError(422, f"{name}: there is no year 0 (1 BCE is -1, 1 CE is 1)")
    if from_year is not None and to_year is not None and from_year > to_year:
        raise ApiError(422, f"reversed {what}: from_year {from_year} is after to_year {to_year}")
    if max_span is not None and (from_year is None or to_year is None or to_year - from_year + 1 > max_span):
        raise ApiError(422, f"the {what} must be at most {max_span} years (give from_year and to_year) "
                            "unless a country is given")


def check_activity(activity: str | None, *, sub: bool = False) -> None:
    if activity is None:
        return
    ids = codebook().sub_activity_ids if sub else codebook().activity_ids
    if activity not in ids:
        kind = "sub-activity" if sub else "activity"
        raise ApiError(422, f"unknown {kind} {activity!r}; expected one of {', '.join(ids)}")


def known_sources(ws: WebStore) -> list[str]:
    return ws.cached(("known_sources",), lambda: [r["source"] for r in ws.rows(
        "SELECT DISTINCT source FROM provenance ORDER BY source")])


# ----------------------------------------------------------------------------------------------- engagements

ONGOING_END = 9999
"""The end year an ongoing engagement is given when selecting by years: it has not ended."""

_PARTS = """(SELECT list(struct_pack(id := p.polity_id, name := p.name, role := p.role)
                        ORDER BY p.polity_id, p.role)
             FROM participants p WHERE p.engagement_id = e.id)"""


def engagement_filters(*, country: str | None = None, partner: str | None = None, activity: str | None = None,
                       sub_activity: str | None = None, instrument: str | None = None, source: str | None = None,
                       from_year: int | None = None, to_year: int | None = None,
                       text: str | None = None) -> tuple[str, list[Any]]:
    """A WHERE clause (placeholders only) and its parameters; names must already be resolved to ids.

    Years select engagements in force at some time in the range: started by ``to_year`` and not ended before
    ``from_year`` (an engagement without an end year is taken to end in its start year).
    """
    where, params = ["TRUE"], []
    for pid in (country, partner):
        if pid is not None:
            where.append("EXISTS (SELECT 1 FROM participants x WHERE x.engagement_id = e.id AND x.polity_id = ?)")
            params.append(pid)
    if activity is not None:
        where.append("e.activity = ?")
        params.append(activity)
    if sub_activity is not None:
        where.append("list_contains(e.sub_activities, ?)")
        params.append(sub_activity)
    if instrument is not None:
        where.append("e.instrument = ?")
        params.append(instrument)
    if source is not None:
        where.append("list_contains(e.datasets, ?)")
        params.append(source)
    if from_year is not None:
        where.append(f"(CASE WHEN e.ongoing THEN {ONGOING_END} ELSE coalesce(e.end_year, e.start_year) END) >= ?")
        params.append(from_year)
    if to_year is not None:
        where.append("e.start_year <= ?")
        params.append(to_year)
    if text:
        where.append("(e.title ILIKE ? ESCAPE '\\' OR e.id = ?)")
        params.extend([f"%{_like_escape(text)}%", text])
    return " AND ".join(where), params


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_engagements(ws: WebStore, where: str, params: list[Any], *, page: int = 1,
                     page_size: int = 50) -> dict[str, Any]:
    con = ws.connect()
    try:
        total = con.execute(f"SELECT count(*) FROM engagements e WHERE {where}", params).fetchone()[0]
        cur = con.execute(
            f"""SELECT e.id, e.title, e.activity, e.sub_activities, e.instrument, e.start_year, e.end_year,
                       e.ongoing, e.circa, {_PARTS} AS participants, e.datasets, e.citations
                FROM engagements e WHERE {where}
                ORDER BY e.start_year, e.id LIMIT ? OFFSET ?""",
            [*params, page_size, (page - 1) * page_size])
        names = [d[0] for d in cur.description]
        items = [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()
    return _page(total, page, page_size, jsonable(items))


ITEM_SQL = f"""SELECT e.id, e.title, e.activity, e.sub_activities, e.instrument, e.start_year, e.end_year,
                       e.ongoing, e.circa, {_PARTS} AS participants, e.datasets, e.citations,
                       CASE WHEN e.ongoing THEN {ONGOING_END} ELSE coalesce(e.end_year, e.start_year) END AS in_force_to
                FROM engagements e ORDER BY e.start_year, e.id"""


@dataclass(frozen=True)
class EngagementIndex:
    """Every engagement's list item in the API's order (start year, id), with arrays to filter them in memory.

    Built once per store version: a filtered page then costs array operations instead of a query, so that
    ``/api/engagements`` keeps up with many clients. It selects exactly what :func:`engagement_filters` selects
    (tested against it); free-text search (``q``) goes to the query.
    """

    items: list[dict[str, Any]]
    start_year: np.ndarray
    in_force_to: np.ndarray
    activity: np.ndarray
    instrument: np.ndarray
    by_polity: dict[str, np.ndarray]
    by_sub_activity: dict[str, np.ndarray]
    by_source: dict[str, np.ndarray]

    @classmethod
    def build(cls, ws: WebStore) -> EngagementIndex:
        items = jsonable(ws.rows(ITEM_SQL))
        n = len(items)
        position = {item["id"]: i for i, item in enumerate(items)}
        polity_rows: dict[str, list[int]] = {}
        for r in ws.rows("SELECT DISTINCT engagement_id, polity_id FROM participants"):
            polity_rows.setdefault(r["polity_id"], []).append(position[r["engagement_id"]])

        def flags(column: str) -> dict[str, np.ndarray]:
            out: dict[str, np.ndarray] = {}
            for i, item in enumerate(items):
                for value in item[column] or ():
                    out.setdefault(value, np.zeros(n, dtype=bool))[i] = True
            return out

        in_force_to = np.array([item.pop("in_force_to") for item in items], dtype=np.int64)
        return cls(items=items, start_year=np.array([i["start_year"] for i in items], dtype=np.int64),
                   in_force_to=in_force_to, activity=np.array([i["activity"] for i in items], dtype=object),
                   instrument=np.array([i["instrument"] for i in items], dtype=object),
                   by_polity={k: np.array(sorted(v), dtype=np.int64) for k, v in polity_rows.items()},
                   by_sub_activity=flags("sub_activities"), by_source=flags("datasets"))

    def select(self, *, country: str | None = None, partner: str | None = None, activity: str | None = None,
               sub_activity: str | None = None, instrument: str | None = None, source: str | None = None,
               from_year: int | None = None, to_year: int | None = None) -> np.ndarray:
        """Positions of the matching items, in order (the filters of :func:`engagement_filters`)."""
        n = len(self.items)
        mask = np.ones(n, dtype=bool)
        for pid in (country, partner):
            if pid is not None:
                member = np.zeros(n, dtype=bool)
                member[self.by_polity.get(pid, np.empty(0, dtype=np.int64))] = True
                mask &= member
        if activity is not None:
            mask &= self.activity == activity
        if instrument is not None:
            mask &= self.instrument == instrument
        for value, table in ((sub_activity, self.by_sub_activity), (source, self.by_source)):
            if value is not None:
                mask &= table.get(value, np.zeros(n, dtype=bool))
        if from_year is not None:
            mask &= self.in_force_to >= from_year
        if to_year is not None:
            mask &= self.start_year <= to_year
        return np.flatnonzero(mask)


def engagement_index(ws: WebStore) -> EngagementIndex:
    return ws.cached(("engagement_index",), lambda: EngagementIndex.build(ws))


def network_data(ws: WebStore) -> NetworkData:
    """The store's engagements, their pairs of polities and the polities, read once per store version: every
    network and profile is cut from them (:func:`defdip.analysis.network.network_data`) instead of reading the store."""
    return ws.cached(("network_data",), lambda: load_network_data(ws.path))


def engagement_frame(ws: WebStore) -> pd.DataFrame:
    """:func:`defdip.analysis.evolution.load_engagements` of the store, once per store version (shared: read-only)."""
    return network_data(ws).frame


def find_engagements(ws: WebStore, *, page: int = 1, page_size: int = 50, text: str | None = None,
                     **filters: Any) -> dict[str, Any]:
    """A page of engagements matching ``filters`` (the keywords of :func:`engagement_filters`, polities as
    ids), in the order start year, id; from the in-memory index, or the query when ``text`` is given."""
    if text:
        where, params = engagement_filters(text=text, **filters)
        return list_engagements(ws, where, params, page=page, page_size=page_size)
    index = engagement_index(ws)
    found = index.select(**filters)
    start = (page - 1) * page_size
    return _page(len(found), page, page_size, [index.items[i] for i in found[start:start + page_size]])


def _page(total: int, page: int, page_size: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    pages = max(1, math.ceil(total / page_size)) if total else 0
    return {"total": int(total), "page": page, "page_size": page_size, "pages": pages, "items": items}


def engagement(ws: WebStore, engagement_id: str) -> dict[str, Any]:
    """One engagement with its participants, provenance and formatted citations; 404 when absent."""
    con = ws.connect()
    try:
        cur = con.execute("SELECT * FROM engagements WHERE id = ?", [engagement_id])
        row = cur.fetchone()
        if row is None:
            raise ApiError(404, f"no engagement with id {engagement_id!r}")
        rec = dict(zip([d[0] for d in cur.description], row))
        cur = con.execute("SELECT polity_id AS id, name, role, ccode, start_year, end_year, attributes "
                          "FROM participants WHERE engagement_id = ? ORDER BY role, polity_id", [engagement_id])
        parts = [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]
        cur = con.execute("SELECT source, version, record_id, citations FROM provenance WHERE engagement_id = ? "
                          "ORDER BY source, record_id", [engagement_id])
        prov = [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]
    finally:
        con.close()
    for key in ("attributes",):
        rec[key] = _json_field(rec.get(key))
    for p in parts:
        p["attributes"] = _json_field(p.get("attributes"))
    reg = registry()
    for p in parts:
        p["kind"] = reg.get(p["id"]).kind if p["id"] in reg else None
    keys = list(rec.get("citations") or [])
    for pv in prov:
        keys += [k for k in (pv.get("citations") or []) if k not in keys]
    rec["participants"] = parts
    rec["provenance"] = prov
    rec["references"] = citations.references(keys)
    return jsonable(rec)


def _json_field(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# ----------------------------------------------------------------------------------------------- maps

def countries(ws: WebStore) -> pd.DataFrame | None:
    """Natural Earth shapes (iso3, name, geometry), or None when the store has none."""
    def load() -> pd.DataFrame | None:
        if not ws.has_table("ne_countries"):
            return None
        return ws.query("SELECT iso3, name, geometry FROM ne_countries ORDER BY iso3")
    return ws.cached(("ne_countries",), load)


def iso3_of(p: Polity, shapes: pd.DataFrame | None) -> str | None:
    if shapes is None:
        return p.iso3
    frame, _ = charts.iso3_values(pd.DataFrame({"polity_id": [p.id], "n": [1]}), shapes, {"n": "sum"})
    return str(frame["iso3"].iloc[0]) if len(frame) else p.iso3
