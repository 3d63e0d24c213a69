"""The web app's view of the store, shared by the API and the HTML pages: one read-only handle per store file
version, small per-version caches of costly results, and the answers both the API and the pages show.

Every read of the record tables goes through :mod:`defdip.store.queries` (parameterised: user input never
becomes SQL text). Results that are costly and depend only on the store (networks, profiles, panel slices,
headline charts, the polity table) are cached per store file version (its modification time), so a rebuilt
store is picked up without a restart.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd

from defdip.analysis import evolution, panels, profiles
from defdip.analysis.network import NetworkData, PanelTies
from defdip.analysis.network import network_data as load_network_data
from defdip.analysis.network import panel_ties as load_panel_ties
from defdip.core import citations, config
from defdip.core.actors import Polity, registry
from defdip.core.codebook import codebook
from defdip.core.errors import DefdipError, StoreError
from defdip.ingest import build as store_build
from defdip.present import charts
from defdip.store import queries, series
from defdip.store.queries import EngagementFilter, StoreReader

MAX_PAGE_SIZE = 500
"""Largest page of engagements one request may ask for."""

YEAR_MIN, YEAR_MAX = -5000, 2200
"""The years a request may name."""


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
    if value is None or isinstance(value, (bool, str, int)):  # the common case first: answers hold many
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, pd.DataFrame):
        return _frame_json(value)
    if isinstance(value, pd.Series):
        return _column_json(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
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


def _column_json(column: pd.Series) -> list[Any]:
    """:func:`jsonable` of each value of a column, converted a column at a time where numpy's dtype says what
    the values are (integers and booleans as they are, floats with NaN/inf as null)."""
    values: list[Any] = column.tolist()
    if isinstance(column.dtype, np.dtype):
        if column.dtype.kind in "iub":
            return values
        if column.dtype.kind == "f":
            return [None if math.isnan(v) or math.isinf(v) else v for v in values]
    return [jsonable(v) for v in values]


def _frame_json(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as dicts (what ``to_dict(orient="records")`` through :func:`jsonable` gives), column-wise."""
    keys = [str(k) for k in frame.columns]
    columns = [_column_json(column) for _, column in frame.items()]
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)] if columns else \
        [{} for _ in range(len(frame))]


def polity_json(p: Polity) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "kind": p.kind, "ccode": p.ccode, "gwcode": p.gwcode, "iso3": p.iso3,
            "start_year": p.start_year, "end_year": p.end_year, "years": p.years(),
            "variants": list(p.variants), "successor": p.successor, "part_of": p.part_of}


# ----------------------------------------------------------------------------------------------- the store

CACHE_SIZES = {"network": 128, "profile": 384, "profile_json": 384, "dyad": 64, "dyad_json": 64, "panel": 64,
               "panel_window": 4, "panel_ties": 32}
"""Entries kept per kind of cached result (LRU); kinds not named keep ``DEFAULT_CACHE_SIZE``."""
DEFAULT_CACHE_SIZE = 16

COMPUTE_SLOTS = 3
"""Cache misses computed at the same time (others wait): bounds the memory and CPU that a burst of costly
requests (networks over long windows, profiles) can take from the rest. Three rather than two: a panel slice
spends much of its time in DuckDB, outside the interpreter, while another computation uses it (load benchmark,
rounds 2-4: mix p99 about 253 ms with three, 275 ms with two)."""


@dataclass(frozen=True)
class Failed:
    """A cached computation that ended in a user error: the same request gets the same error at once."""

    error: DefdipError


T = TypeVar("T")
Key = tuple[Any, ...]


def _answer(value: T | Failed) -> T:
    if isinstance(value, Failed):
        raise value.error.with_traceback(None)
    return value


@dataclass
class WebStore:
    """The store one app serves: its path, one read-only handle per store version (each thread queries on a
    connection of its own: :class:`defdip.store.queries.StoreReader`) and small per-version caches of costly
    results."""

    path: Path

    def __post_init__(self) -> None:
        self._cache: dict[str, OrderedDict[Key, tuple[int, Any]]] = {}
        self._lock = threading.Lock()
        self._key_locks: dict[Key, threading.Lock] = {}
        self._slots = threading.BoundedSemaphore(COMPUTE_SLOTS)
        self._holding = threading.local()  # a computation that needs another cached value keeps its slot
        self._db: tuple[int, StoreReader] | None = None

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

    def db(self) -> StoreReader:
        """The read-only handle on the current store file, opened once per store version: a rebuilt store (a new
        file swapped in) gets a new handle, while queries running on the old one finish on the old file."""
        version = self.version()
        with self._lock:
            if self._db is None or self._db[0] != version:
                self._db = (version, queries.open_store(self.path))
            return self._db[1]

    def cached(self, key: Key, compute: Callable[[], T], size: int | None = None) -> T:
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
                found: T = _answer(hit[1])
                return found
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                hit = self._lookup(kind, key, version)
                if hit is not None:
                    waited: T = _answer(hit[1])
                    return waited
            value: T | Failed
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

    def _compute(self, compute: Callable[[], T]) -> T:
        if getattr(self._holding, "slot", False):
            return compute()
        with self._slots:
            self._holding.slot = True
            try:
                return compute()
            finally:
                self._holding.slot = False

    def _lookup(self, kind: str, key: Key, version: int) -> tuple[int, Any] | None:
        entries = self._cache.get(kind)
        if entries is None:
            return None
        hit = entries.get(key)
        if hit is None or hit[0] != version:
            return None
        entries.move_to_end(key)
        return hit


# ----------------------------------------------------------------------------------------------- validation

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


# ----------------------------------------------------------------------------------------------- engagements

@dataclass(frozen=True)
class EngagementIndex:
    """Every engagement's list item in the API's order (start year, id), with arrays to filter them in memory.

    Built once per store version: a filtered page then costs array operations instead of a query, so that
    ``/api/engagements`` keeps up with many clients. It selects what an :class:`EngagementFilter` selects in the
    store (:func:`defdip.store.queries.engagement_page`, tested against it); free-text search goes to the query.
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
    def build(cls, db: StoreReader) -> EngagementIndex:
        items = jsonable(queries.engagement_items(db))
        n = len(items)
        position = {item["id"]: i for i, item in enumerate(items)}
        polity_rows: dict[str, list[int]] = {}
        for engagement_id, polity_id in queries.engagement_polities(db):
            polity_rows.setdefault(polity_id, []).append(position[engagement_id])

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

    def select(self, f: EngagementFilter) -> np.ndarray:
        """Positions of the items ``f`` selects, in order (every field but ``text``, which needs the query)."""
        n = len(self.items)
        mask = np.ones(n, dtype=bool)
        for pid in (f.country, f.partner):
            if pid is not None:
                member = np.zeros(n, dtype=bool)
                member[self.by_polity.get(pid, np.empty(0, dtype=np.int64))] = True
                mask &= member
        if f.activity is not None:
            mask &= self.activity == f.activity
        if f.instrument is not None:
            mask &= self.instrument == f.instrument
        for value, table in ((f.sub_activity, self.by_sub_activity), (f.source, self.by_source)):
            if value is not None:
                mask &= table.get(value, np.zeros(n, dtype=bool))
        for value in f.exclude_sub_activities:
            mask &= ~self.by_sub_activity.get(value, np.zeros(n, dtype=bool))
        if f.from_year is not None:
            mask &= self.in_force_to >= f.from_year
        if f.to_year is not None:
            mask &= self.start_year <= f.to_year
        return np.flatnonzero(mask)


def engagement_index(ws: WebStore) -> EngagementIndex:
    return ws.cached(("engagement_index",), lambda: EngagementIndex.build(ws.db()))


def network_data(ws: WebStore) -> NetworkData:
    """The store's engagements, their pairs of polities and the polities, read once per store version: every
    network and profile is cut from them (:func:`defdip.analysis.network.network_data`) instead of reading the
    store."""
    return ws.cached(("network_data",), lambda: load_network_data(ws.path))


def panel_ties(ws: WebStore, layer: str) -> PanelTies | None:
    """A panel tie layer's tied dyad-years (:func:`defdip.analysis.network.panel_ties`), once per store version
    and layer: every window's network of the layer is cut from them. None for a layer they cannot be read for
    (a derived layer, a store without its tables): its networks read the panel, which words the error."""
    try:
        found: PanelTies = ws.cached(("panel_ties", layer), lambda: load_panel_ties(layer, ws.db()))
    except (DefdipError, duckdb.Error):
        return None
    return found


def engagement_frame(ws: WebStore) -> pd.DataFrame:
    """:func:`defdip.analysis.evolution.load_engagements` of the store, once per store version (shared: read-only)."""
    return network_data(ws).frame


def find_engagements(ws: WebStore, f: EngagementFilter, *, page: int = 1, page_size: int = 50) -> dict[str, Any]:
    """A page of the engagements ``f`` selects (polities as ids), in the order start year, id: from the
    in-memory index, or the query when ``f`` has a text to search."""
    if f.text:
        total, items = queries.engagement_page(f, ws.db(), page=page, page_size=page_size)
        return _page(total, page, page_size, jsonable(items))
    index = engagement_index(ws)
    found = index.select(f)
    start = (page - 1) * page_size
    return _page(len(found), page, page_size, [index.items[i] for i in found[start:start + page_size]])


def _page(total: int, page: int, page_size: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    pages = max(1, math.ceil(total / page_size)) if total else 0
    return {"total": int(total), "page": page, "page_size": page_size, "pages": pages, "items": items}


def engagement(ws: WebStore, engagement_id: str) -> dict[str, Any]:
    """One engagement with its participants, provenance and formatted citations; 404 when absent."""
    rec = queries.engagement_record(engagement_id, ws.db())
    if rec is None:
        raise ApiError(404, f"no engagement with id {engagement_id!r}")
    rec["attributes"] = _json_field(rec.get("attributes"))
    reg = registry()
    for p in rec["participants"]:
        p["attributes"] = _json_field(p.get("attributes"))
        p["kind"] = reg.get(p["id"]).kind if p["id"] in reg else None
    keys = list(rec.get("citations") or [])
    for pv in rec["provenance"]:
        keys += [k for k in (pv.get("citations") or []) if k not in keys]
    rec["references"] = citations.references(keys, all_source_bibtex(ws))  # a user's own .bib keys resolve too
    answer: dict[str, Any] = jsonable(rec)
    return answer


def _json_field(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def search_engagements(ws: WebStore, ids: list[str]) -> list[dict[str, Any]]:
    """The list items of the engagements ``ids``, in that order."""
    return jsonable(queries.engagements_by_id(ids, ws.db())) if ids else []


# ----------------------------------------------------------------------------------------------- polities, genealogy

def polity_counts(ws: WebStore) -> dict[str, int]:
    """Polity id -> engagements it takes part in, once per store version."""
    return ws.cached(("polity_counts",), lambda: queries.polity_engagement_counts(ws.db()))


def top_states(ws: WebStore, limit: int = 24) -> list[tuple[str, int]]:
    """The ``limit`` states with the most engagements (ties by id)."""
    return ws.cached(("top_states", limit), lambda: list(
        queries.polity_engagement_counts(ws.db(), states_only=True).items())[:limit])


def genealogy_frame(ws: WebStore) -> pd.DataFrame:
    return ws.cached(("genealogy",), lambda: queries.genealogy(ws.db()))


def select_genealogy(ws: WebStore, activity: str | None, from_year: int | None,
                     to_year: int | None) -> pd.DataFrame:
    """Genealogy records of ``activity`` that began by ``to_year`` and ended (else began) from ``from_year``."""
    frame = genealogy_frame(ws)
    if activity:
        frame = frame[frame["activity"] == activity]
    if from_year is not None:
        ends = frame["end_year"].fillna(frame["start_year"])
        frame = frame[ends >= from_year]
    if to_year is not None:
        frame = frame[frame["start_year"] <= to_year]
    return frame


# ----------------------------------------------------------------------------------------------- analyses

def evolution_frame(ws: WebStore, by: str) -> pd.DataFrame:
    return ws.cached(("evolution", by), lambda: evolution.evolution(ws.path, by=by))


def partnership_frame(ws: WebStore, by: str) -> pd.DataFrame:
    return ws.cached(("partnership", by), lambda: evolution.partnership_index(ws.path, by=by))


def coverage(ws: WebStore) -> pd.DataFrame:
    """Each dataset's coverage window (drawn under every time-series chart)."""
    return ws.cached(("coverage_windows",), lambda: evolution.coverage_windows(ws.path))


def profile_tables(ws: WebStore) -> profiles.ProfileData:
    """Every polity's roles and partners (:func:`defdip.analysis.profiles.profile_data`), read once per store
    version: every profile is cut from them."""
    return ws.cached(("profile_tables",), lambda: profiles.profile_data(ws.db(), engagement_frame(ws)))


def profile_data(ws: WebStore, polity_id: str) -> dict[str, Any]:
    return ws.cached(("profile", polity_id), lambda: profiles.profile(
        polity_id, store=ws.db(), frame=engagement_frame(ws), data=profile_tables(ws)))


def profile_answer(ws: WebStore, polity_id: str) -> dict[str, Any]:
    """The profile as JSON values, converted once per store version (the timeline is sliced per request)."""
    return ws.cached(("profile_json", polity_id), lambda: jsonable(profile_data(ws, polity_id)))


def dyad_data(ws: WebStore, a: str, b: str) -> dict[str, Any]:
    """The dyad profile of two polity ids, once per store version (the API and the dyad page share it)."""
    return ws.cached(("dyad", a, b), lambda: profiles.dyad_profile(a, b, store=ws.db(), frame=engagement_frame(ws)))


def dyad_answer(ws: WebStore, a: str, b: str) -> dict[str, Any]:
    return ws.cached(("dyad_json", a, b), lambda: jsonable(dyad_data(ws, a, b)))


def store_status(ws: WebStore) -> dict[str, Any]:
    return ws.cached(("status",), lambda: store_build.status(ws.path))


def sources_answer(ws: WebStore) -> dict[str, Any]:
    """The store's sources (id order) with their engagements, its versions and the loaded sources' BibTeX."""
    def build() -> Any:
        frame = queries.sources(ws.db()).sort_values("id")
        rows = frame.to_dict(orient="records")
        counts = queries.source_engagement_counts(ws.db())
        store_meta = queries.meta(ws.db())
        for r in rows:
            r["engagements"] = counts.get(r["id"], 0)
        return jsonable({"meta": store_meta, "genealogy": {"engagements": counts.get("genealogy", 0),
                                                            "version": store_meta.get("genealogy_version")},
                         "sources": rows, "bibtex": "\n\n".join(
                             r["bibtex"] for r in rows if r.get("bibtex") and r.get("status") == "loaded")})
    answer: dict[str, Any] = ws.cached(("sources",), build)
    return answer


def all_source_bibtex(ws: WebStore) -> list[str]:
    """The BibTeX of every source the store knows, loaded or not (citation keys resolve against it)."""
    return ws.cached(("source_bibtex",), lambda: queries.source_bibtex(ws.db(), loaded_only=False))


# ----------------------------------------------------------------------------------------------- panels

SHARED_WINDOW_YEARS = 30
"""Longest year window whose dyad-years (every state) are computed once and shared by the country slices."""


def dyad_slice(ws: WebStore, country: str | None, from_year: int | None, to_year: int | None,
               names: list[str] | None, system: str = "cow", directed: bool = False) -> pd.DataFrame:
    """:func:`defdip.analysis.panels.dyad_year` of ``country``'s dyads, or of every dyad without one.

    A country's slice over a window of at most ``SHARED_WINDOW_YEARS`` years of named layers that are read from
    the store (none derived from other rows) is cut from that window's dyad-years of every state, computed once
    per store version: forty countries' slices cost one panel query, not forty. The window stays in the engine's
    order and each slice is sorted (sorting the whole window was about 40% of its cost). The rows, their order
    and types are the panel's own (the same selection: dyads with the country on either side); anything else,
    and a country with no dyads there (whose error the panel words), is the panel's query."""
    def direct() -> pd.DataFrame:
        return panels.dyad_year(ws.db(), directed=directed, from_year=from_year, to_year=to_year, system=system,
                                layers=names, countries=[country] if country else None)

    if (not country or not names or from_year is None or to_year is None
            or to_year - from_year + 1 > SHARED_WINDOW_YEARS
            or any(panels.LAYERS[n].derive is not None for n in names if n in panels.LAYERS)):
        return direct()
    polity = registry().resolve(country, strict=False)
    code = polity.ccode if system == "cow" else polity.gwcode
    if code is None:
        return direct()
    try:
        whole = ws.cached(("panel_window", from_year, to_year, tuple(names), system, directed),
                          lambda: panels.dyad_year(ws.db(), directed=directed, from_year=from_year,
                                                   to_year=to_year, system=system, layers=names, ordered=False))
    except DefdipError:
        return direct()
    prefix = "ccode" if system == "cow" else "gwcode"
    picked = whole[((whole[f"{prefix}1"] == code) | (whole[f"{prefix}2"] == code)).fillna(False).to_numpy()]
    if picked.empty:
        return direct()
    return picked.sort_values(["year", f"{prefix}1", f"{prefix}2"]).reset_index(drop=True)


# ----------------------------------------------------------------------------------------------- maps

def countries(ws: WebStore) -> pd.DataFrame | None:
    """Natural Earth shapes (iso3, name, geometry), or None when the store has none."""
    return ws.cached(("ne_countries",), lambda: queries.country_shapes(ws.db()))


def map_window(ws: WebStore) -> tuple[int, int]:
    """The maps' default window (the latest ten years that at least half the activity datasets reach)."""
    return ws.cached(("map_window",), lambda: series.map_window(ws.db().con))


def partner_counts(ws: WebStore, from_year: int, to_year: int) -> pd.DataFrame:
    return ws.cached(("partner_counts", from_year, to_year), lambda: queries.partner_counts(
        from_year, to_year, ws.db()))


def iso3_of(p: Polity, shapes: pd.DataFrame | None) -> str | None:
    if shapes is None:
        return p.iso3
    frame, _ = charts.iso3_values(pd.DataFrame({"polity_id": [p.id], "n": [1]}), shapes, {"n": "sum"})
    return str(frame["iso3"].iloc[0]) if len(frame) else p.iso3
