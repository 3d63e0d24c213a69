"""Read-only access to the store for the web app, shared by the API and the HTML pages.

Every query here is parameterised (``?`` placeholders): user input never becomes SQL text. Each call opens
its own read-only DuckDB connection and closes it, so requests served on different threads never share one.
Results that are costly and depend only on the store (headline charts, the polity table) are cached per
store file version (its modification time), so a rebuilt store is picked up without a restart.
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
import pandas as pd

from defdip import charts, citations, config
from defdip import store as store_mod
from defdip.actors import Polity, UnknownPolityError, registry
from defdip.codebook import codebook
from defdip.errors import DefdipError, StoreError

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

@dataclass
class WebStore:
    """The store one app serves: its path, read-only connections and a small per-version cache."""

    path: Path

    def __post_init__(self) -> None:
        self._cache: OrderedDict[tuple, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[tuple, threading.Lock] = {}

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
        return store_mod.connect(self.path, read_only=True)

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

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        con = self.connect()
        try:
            row = con.execute(sql, list(params or [])).fetchone()
            return row[0] if row else None
        finally:
            con.close()

    def has_table(self, name: str) -> bool:
        con = self.connect()
        try:
            return store_mod.has_table(con, name)
        finally:
            con.close()

    def cached(self, key: tuple, compute: Callable[[], Any], size: int = 64) -> Any:
        """``compute()`` once per store version and key (one computation at a time per key)."""
        version = self.version()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == version:
                self._cache.move_to_end(key)
                return hit[1]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                hit = self._cache.get(key)
                if hit is not None and hit[0] == version:
                    return hit[1]
            value = compute()
            with self._lock:
                self._cache[key] = (version, value)
                self._cache.move_to_end(key)
                while len(self._cache) > size:
                    self._cache.popitem(last=False)
            return value


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

_PARTS = """(SELECT list(struct_pack(id := p.polity_id, name := p.name, role := p.role)
                        ORDER BY p.polity_id, p.role)
             FROM participants p WHERE p.engagement_id = e.id)"""

ITEM_COLUMNS = ("id", "title", "activity", "sub_activities", "instrument", "start_year", "end_year", "ongoing",
                "circa", "participants", "datasets", "citations")


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
        where.append("(CASE WHEN e.ongoing THEN 9999 ELSE coalesce(e.end_year, e.start_year) END) >= ?")
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
    pages = max(1, math.ceil(total / page_size)) if total else 0
    return {"total": int(total), "page": page, "page_size": page_size, "pages": pages,
            "items": jsonable(items)}


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
