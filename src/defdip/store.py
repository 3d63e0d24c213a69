"""The engagement store: an embedded DuckDB file that `defdip build` writes whole.

A build reads the genealogy and every available source, writes a new database
beside the old one and swaps it in only when complete, so a failed build leaves
the previous store as it was.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import pickle
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from defdip import __version__, config
from defdip.actors import registry
from defdip.codebook import codebook
from defdip.errors import DefdipError, StoreError
from defdip.genealogy import GENEALOGY_VERSION, USER_SOURCE_ID, load_genealogy, load_user_records, user_bibtex
from defdip.model import Engagement
from defdip.sources import all_sources
from defdip.sources.base import IngestContext, LoadResult, Rejection, Source

Progress = Callable[[str, int, int], None]
"""Callback(step description, done, total) used to drive progress bars."""


@dataclass
class SourceReport:
    source: str
    status: str  # loaded | skipped | failed
    note: str = ""
    rows_read: int = 0
    engagements: int = 0
    rejected: int = 0
    mentions: int = 0
    unresolved_mentions: int = 0


@dataclass
class BuildReport:
    store: Path
    engagements: int
    sources: list[SourceReport] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"store": str(self.store), "engagements": self.engagements,
                "sources": [vars(s) for s in self.sources]}


def merge_duplicates(engagements: Iterable[Engagement]) -> list[Engagement]:
    """Merge engagements that sources marked as the same event (equal ``match_key``).

    The first one seen keeps its id and fields; the others add their provenance,
    participants and sub-activities, so one event carries every source that saw it.
    """
    merged: dict[str, Engagement] = {}
    out: list[Engagement] = []
    for eng in engagements:
        if eng.match_key is None:
            out.append(eng)
            continue
        base = merged.get(eng.match_key)
        if base is None:
            merged[eng.match_key] = eng
            out.append(eng)
            continue
        seen = {p.id for p in base.participants}
        base.participants.extend(p for p in eng.participants if p.id not in seen)
        base.provenance.extend(eng.provenance)
        base.sub_activities = sorted(set(base.sub_activities) | set(eng.sub_activities))
        for key, value in eng.attributes.items():  # details only the later source has are kept
            base.attributes.setdefault(key, value)
        base.attributes.setdefault("merged_ids", []).append(eng.id)
    return out


_ENGAGEMENT_COLUMNS = ("id", "title", "summary", "activity", "sub_activities", "instrument", "start_year",
                       "start_month", "start_day", "end_year", "end_month", "end_day", "precision", "circa", "ongoing",
                       "n_participants", "attributes", "datasets", "citations")
_PARTICIPANT_COLUMNS = ("engagement_id", "polity_id", "name", "role", "ccode", "start_year", "end_year", "attributes")
_PROVENANCE_COLUMNS = ("engagement_id", "source", "version", "record_id", "citations")


_Flat = tuple[dict[str, list[Any]], dict[str, list[Any]], dict[str, list[Any]], list[int]]
"""Engagements flattened to column lists: engagements, participants, provenance, and provenance rows per engagement."""


def _flatten(engagements: Iterable[Engagement]) -> _Flat:
    """Flatten engagements, in the order given, into column lists of plain values.

    One pass, column by column (building a frame from per-row dicts costs more than the flattening);
    attributes are JSON with sorted keys, anything JSON lacks written as its str(). Plain lists are
    also what a build worker hands back cheaply (pickling pydantic models costs more than loading).
    """
    dumps = json.JSONEncoder(sort_keys=True, default=str).encode  # what json.dumps(..., sort_keys, default) runs
    eng: dict[str, list[Any]] = {c: [] for c in _ENGAGEMENT_COLUMNS}
    part: dict[str, list[Any]] = {c: [] for c in _PARTICIPANT_COLUMNS}
    prov: dict[str, list[Any]] = {c: [] for c in _PROVENANCE_COLUMNS}
    n_prov: list[int] = []
    (e_id, e_title, e_summary, e_activity, e_subs, e_instrument, e_sy, e_sm, e_sd, e_ey, e_em, e_ed, e_precision,
     e_circa, e_ongoing, e_n, e_attrs, e_datasets, e_citations) = eng.values()
    p_eid, p_pid, p_name, p_role, p_ccode, p_sy, p_ey, p_attrs = part.values()
    v_eid, v_source, v_version, v_record, v_citations = prov.values()
    for e in engagements:
        eid = e.id
        e_id.append(eid)
        e_title.append(e.title)
        e_summary.append(e.summary)
        e_activity.append(e.activity)
        e_subs.append(e.sub_activities)
        e_instrument.append(e.instrument)
        e_sy.append(e.start_year)
        e_sm.append(e.start_month)
        e_sd.append(e.start_day)
        e_ey.append(e.end_year)
        e_em.append(e.end_month)
        e_ed.append(e.end_day)
        e_precision.append(e.precision)
        e_circa.append(e.circa)
        e_ongoing.append(e.ongoing)
        e_n.append(len(e.participants))
        e_attrs.append(dumps(e.attributes))
        e_datasets.append(e.sources)
        e_citations.append(e.citations)
        for p in e.participants:
            p_eid.append(eid)
            p_pid.append(p.id)
            p_name.append(p.name)
            p_role.append(p.role)
            p_ccode.append(p.ccode)
            p_sy.append(p.start_year)
            p_ey.append(p.end_year)
            p_attrs.append(dumps(p.attributes) if p.attributes else None)
        n_prov.append(len(e.provenance))
        for pv in e.provenance:
            v_eid.append(eid)
            v_source.append(pv.source)
            v_version.append(pv.version)
            v_record.append(pv.record_id)
            v_citations.append(pv.citations)
    return eng, part, prov, n_prov


def _segments(counts: np.ndarray, order: list[int]) -> np.ndarray:
    """Row positions of the child rows (participants, provenance) of engagements taken in ``order``."""
    n = np.asarray(counts, dtype=np.int64)
    starts = (np.cumsum(n) - n)[order]
    picked = n[order]
    out_starts = np.cumsum(picked) - picked
    return np.arange(int(picked.sum()), dtype=np.int64) + np.repeat(starts - out_starts, picked)


_STR, _STRS = pa.string(), pa.list_(pa.string())
_TYPES = {  # the column types of the record tables, as they go to DuckDB (which casts them to the schema's)
    "engagements": dict(zip(_ENGAGEMENT_COLUMNS, (
        _STR, _STR, _STR, _STR, _STRS, _STR, pa.int64(), pa.int32(), pa.int32(), pa.int32(), pa.int32(), pa.int32(),
        _STR, pa.bool_(), pa.bool_(), pa.int64(), _STR, _STRS, _STRS))),
    "participants": dict(zip(_PARTICIPANT_COLUMNS, (
        _STR, _STR, _STR, _STR, pa.int32(), pa.int32(), pa.int32(), _STR))),
    "provenance": dict(zip(_PROVENANCE_COLUMNS, (_STR, _STR, _STR, _STR, _STRS))),
}


_RECORD_TABLES = ("engagements", "participants", "provenance")


class _Chunk(NamedTuple):
    """Engagements flattened into the record tables (Arrow: typed columns built straight from the lists,
    cheaper than a DataFrame and cheap to hand back from a build worker), with the number of provenance
    rows per engagement (participants per engagement is the ``n_participants`` column)."""

    engagements: pa.Table
    participants: pa.Table
    provenance: pa.Table
    n_prov: np.ndarray

    @property
    def ids(self) -> list[str]:
        return self.engagements.column("id").to_pylist()


def _chunk(engagements: Iterable[Engagement]) -> _Chunk:
    """Flatten engagements, in the order given, into a chunk of the record tables."""
    *flat, n_prov = _flatten(engagements)
    return _Chunk(*(pa.table({c: pa.array(cols[c], type=t) for c, t in _TYPES[name].items()})
                    for name, cols in zip(_RECORD_TABLES, flat)), np.asarray(n_prov, dtype=np.int64))


def _assemble(chunks: list[_Chunk], *, by_id: bool) -> dict[str, pa.Table]:
    """The store's three record tables from chunks, in chunk order or (``by_id``) sorted by engagement id
    (each engagement's participants and provenance in their own order, as the engagement lists them)."""
    tables = {name: chunks[0][k] if len(chunks) == 1 else pa.concat_tables([ch[k] for ch in chunks])
              for k, name in enumerate(_RECORD_TABLES)}
    if by_id:
        ids = tables["engagements"].column("id").to_pylist()
        order = sorted(range(len(ids)), key=ids.__getitem__)
        if order != list(range(len(ids))):
            n_part = tables["engagements"].column("n_participants").to_numpy()
            n_prov = np.concatenate([ch.n_prov for ch in chunks])
            rows = {"engagements": np.asarray(order, dtype=np.int64), "participants": _segments(n_part, order),
                    "provenance": _segments(n_prov, order)}
            tables = {k: t.take(rows[k]) for k, t in tables.items()}
    return tables


def _frames(engagements: list[Engagement]) -> dict[str, pa.Table]:
    """Flatten engagements, in the order given, into the store's three record tables."""
    return _assemble([_chunk(engagements)], by_id=False)


SCHEMA = """
CREATE TABLE engagements (
  id VARCHAR PRIMARY KEY, title VARCHAR NOT NULL, summary VARCHAR, activity VARCHAR NOT NULL,
  sub_activities VARCHAR[], instrument VARCHAR NOT NULL,
  start_year INTEGER NOT NULL, start_month INTEGER, start_day INTEGER,
  end_year INTEGER, end_month INTEGER, end_day INTEGER,
  precision VARCHAR, circa BOOLEAN, ongoing BOOLEAN, n_participants INTEGER,
  attributes JSON, datasets VARCHAR[], citations VARCHAR[]);
CREATE TABLE participants (
  engagement_id VARCHAR NOT NULL, polity_id VARCHAR NOT NULL, name VARCHAR, role VARCHAR NOT NULL,
  ccode INTEGER, start_year INTEGER, end_year INTEGER, attributes JSON);
CREATE TABLE provenance (
  engagement_id VARCHAR NOT NULL, source VARCHAR NOT NULL, version VARCHAR NOT NULL,
  record_id VARCHAR NOT NULL, citations VARCHAR[]);
"""


_BOOKKEEPING = frozenset({"sources", "ingest_report", "quarantine", "unresolved", "meta"})
"""Tables the build writes after the records (a source's table is written as soon as the source is loaded)."""


def _write(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame | pa.Table) -> None:
    con.register("_frame", frame)
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()[0]
    if exists:
        con.execute(f'INSERT INTO "{name}" SELECT * FROM _frame')
    else:
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _frame')
    con.unregister("_frame")


def _polities_frame() -> pd.DataFrame:
    rows = [{"id": p.id, "name": p.name, "kind": p.kind, "ccode": p.ccode, "gwcode": p.gwcode, "iso3": p.iso3,
             "start_year": p.start_year, "end_year": p.end_year} for p in registry().polities()]
    frame = pd.DataFrame(rows)
    for col in ("ccode", "gwcode", "start_year", "end_year"):
        frame[col] = frame[col].astype("Int32")
    return frame


def _load_source(source: Source, folder: Path) -> tuple[LoadResult | None, IngestContext, SourceReport]:
    ctx = IngestContext(source.id)
    missing = source.missing_files(folder)
    if missing:
        note = f"skipped: {folder} lacks {', '.join(missing)} (run `defdip fetch {source.id}` or point --sources at it)"
        return None, ctx, SourceReport(source.id, "skipped", note)
    result = source.load(folder, ctx)
    report = SourceReport(
        source.id, "loaded", rows_read=result.rows_read, engagements=len(result.engagements),
        rejected=len(ctx.rejections), mentions=ctx.mentions, unresolved_mentions=sum(ctx.unresolved.values()))
    return result, ctx, report


@dataclass
class _Loaded:
    """One source loaded, in the form a build worker hands back (plain, picklable values).

    Engagements that may merge with another source's (a ``match_key``) stay objects; the others are
    already flattened (``flat``). ``kept`` gives the positions of the objects among the source's
    engagements, so the original order of ids can be rebuilt for error messages.
    """

    report: SourceReport
    rejections: list[Rejection]
    unresolved: Counter[str]
    tables: dict[str, pd.DataFrame]
    objects: list[Engagement]
    kept: list[int]
    flat: _Chunk | None


def _split(engagements: list[Engagement]) -> tuple[list[Engagement], list[int], _Chunk]:
    """Engagements with a ``match_key`` (and their positions), the others flattened."""
    kept = [i for i, e in enumerate(engagements) if e.match_key is not None]
    objects = [engagements[i] for i in kept]
    flat = _chunk(e for e in engagements if e.match_key is None)
    return objects, kept, flat


def _load_one(source: Source, folder: Path) -> _Loaded:
    result, ctx, report = _load_source(source, folder)
    if result is None:
        return _Loaded(report, ctx.rejections, ctx.unresolved, {}, [], [], None)
    objects, kept, flat = _split(result.engagements)
    return _Loaded(report, ctx.rejections, ctx.unresolved, result.tables, objects, kept, flat)


@dataclass
class _Failed:
    """An exception raised in a build worker, carried back to be raised again as the same type and message."""

    kind: type[BaseException]
    args: tuple[Any, ...]
    state: dict[str, Any]

    def rebuild(self) -> BaseException:
        exc = self.kind.__new__(self.kind, *self.args)
        exc.args = self.args
        exc.__dict__.update(self.state)
        return exc


_JOBS: dict[str, tuple[Source, Path]] = {}
"""The sources a parallel build hands its workers, by id (set before the workers fork, so they inherit it)."""


def _load_group(ids: list[str]) -> list[_Loaded | _Failed]:
    """Worker task: load sources that share a folder, in order, stopping at the first that fails."""
    out: list[_Loaded | _Failed] = []
    for sid in ids:
        source, folder = _JOBS[sid]
        try:
            out.append(_load_one(source, folder))
        except Exception as exc:  # raised again in the parent, in source order
            failed = _Failed(type(exc), exc.args, dict(vars(exc)))
            try:
                pickle.loads(pickle.dumps(failed))
            except Exception:
                failed = _Failed(DefdipError if isinstance(exc, DefdipError) else RuntimeError,
                                 (f"{type(exc).__name__}: {exc}",), {})
            out.append(failed)
            break
    return out


def _workers(n_groups: int) -> int:
    """How many processes load sources: DEFDIP_BUILD_WORKERS, else up to two of the CPUs this process may use.

    One (load in this process) when only one folder has files to load, where 'fork' is unavailable
    (workers must inherit the loaded registry and the sources) or where other threads run (forking a
    threaded process risks a deadlock in the child).
    """
    setting = os.environ.get("DEFDIP_BUILD_WORKERS", "").strip()
    if setting:
        try:
            wanted = max(1, int(setting))
        except ValueError:
            raise DefdipError(f"DEFDIP_BUILD_WORKERS must be a whole number, not {setting!r}") from None
    else:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        wanted = min(2, cpus)
    if ("fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1
            or multiprocessing.current_process().daemon):
        return 1
    return max(1, min(wanted, n_groups))


def _folder_cost(folder: Path) -> int:
    try:
        return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    except OSError:
        return 0


class _Loader:
    """Loads sources in source-id order for the build: in this process, or in forked workers.

    Sources sharing a folder go to one worker together (so a module's per-process parse cache, such as the
    exercises', still reads the folder once); the largest folders are handed out first and each worker
    takes the next folder when it is free. Results are taken in source-id order whatever the order the
    workers finish in, and a worker's error is raised again when its source's turn comes, so a parallel
    build reports, fails and writes exactly as a sequential one.
    """

    def __init__(self, sources: dict[str, Source], folder_root: Path):
        self.sources = sources
        self.folder_root = folder_root
        self.pool: ProcessPoolExecutor | None = None
        self.futures: dict[str, tuple[Future, int]] = {}
        self.groups: dict[Future, list[str]] = {}
        self.results: dict[Future, list[_Loaded | _Failed]] = {}
        groups: dict[Path, list[str]] = {}
        for sid, source in sources.items():
            folder = folder_root / source.folder
            if not source.missing_files(folder):
                groups.setdefault(folder, []).append(sid)
        workers = _workers(len(groups))
        if workers < 2:
            return
        registry()  # loaded once here; the workers inherit it
        codebook()
        _JOBS.clear()
        _JOBS.update({sid: (source, folder_root / source.folder) for sid, source in sources.items()})
        try:
            self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
            for _folder, ids in sorted(groups.items(), key=lambda g: (-_folder_cost(g[0]), g[1][0])):
                future = self.pool.submit(_load_group, ids)
                self.groups[future] = ids
                for position, sid in enumerate(ids):
                    self.futures[sid] = (future, position)
        except OSError:  # no processes to be had: load here
            self.close()
            self.futures.clear()
            self.groups.clear()

    def _collect(self, future: Future) -> list[_Loaded | _Failed]:
        """A finished task's results (kept until each of its sources has been taken)."""
        results = future.result()
        self.results[future] = results
        del self.groups[future]
        return results

    def load(self, sid: str, early: Callable[[str, _Loaded], None] | None = None) -> _Loaded:
        """The source ``sid`` loaded (raising what its loader raised).

        While it waits, ``early(id, loaded)`` is called once for each source that other workers have
        finished meanwhile, in the order they finish (the caller writes their tables then).
        """
        if sid not in self.futures:
            return _load_one(self.sources[sid], self.folder_root / self.sources[sid].folder)
        future, position = self.futures.pop(sid)
        while future not in self.results:
            for done in [f for f in self.groups if f.done()]:
                if done is future or (early is not None and done.exception() is None):
                    ids = self.groups[done]
                    for other, loaded in zip(ids, self._collect(done)):
                        if early is not None and done is not future and isinstance(loaded, _Loaded):
                            early(other, loaded)
            if future not in self.results:
                wait([f for f in self.groups if not f.done()], return_when=FIRST_COMPLETED)
        loaded = self.results[future][position]
        if all(f is not future for f, _ in self.futures.values()):
            del self.results[future]
        if isinstance(loaded, _Failed):
            raise loaded.rebuild()
        return loaded

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
            _JOBS.clear()


def _ids_in_order(order: list[tuple[list[Engagement], list[int], _Chunk]], alive: set[int]) -> list[str]:
    """Every engagement id left after merging, in the order the build read them (for error messages)."""
    ids: list[str] = []
    for objects, kept, flat in order:
        flat_ids = iter(flat.ids)
        at = dict(zip(kept, objects))
        for i in range(len(objects) + flat.engagements.num_rows):
            if i in at:
                if id(at[i]) in alive:
                    ids.append(at[i].id)
            else:
                ids.append(next(flat_ids))
    return ids


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (reference counting still frees almost everything).

    A build keeps some million small objects (engagements, participants, source rows) alive until it
    writes them; each full collection walks all of them, which cost a third of the build's time. The
    build makes next to no reference cycles, so nothing piles up; the collector is restored after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build(store: str | Path | None = None, sources_dir: str | Path | None = None,
          only: list[str] | None = None, progress: Progress | None = None,
          records: list[str | Path] | None = None) -> BuildReport:
    """Build the store from the genealogy, a researcher's own ``records`` and every source in ``sources_dir``.

    Raises DefdipError for unusable input; the existing store is replaced only on success.
    """
    with _gc_paused():
        return _build(store, sources_dir, only, progress, records or [])


def _build(store: str | Path | None, sources_dir: str | Path | None, only: list[str] | None,
           progress: Progress | None, records: list[str | Path]) -> BuildReport:
    target = config.store_path(store)
    folder_root = config.sources_dir(sources_dir)
    sources = all_sources()
    if only:
        unknown = [s for s in only if s not in sources]
        if unknown:
            raise DefdipError(f"unknown source(s) {', '.join(unknown)}; known sources: {', '.join(sources)}")
        sources = {k: v for k, v in sources.items() if k in only}
    tick = progress or (lambda *_: None)
    total = len(sources) + 2

    tmp = target.with_name(target.name + f".building-{os.getpid()}")
    opened: list[duckdb.DuckDBPyConnection] = []

    def db() -> duckdb.DuckDBPyConnection:
        """The new store, opened (empty, in one transaction) when the first table is ready to write."""
        if not opened:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.unlink(missing_ok=True)
            con = duckdb.connect(str(tmp))
            opened.append(con)
            if loader.pool is not None:  # the workers have the CPUs while they load
                con.execute("SET threads = 1")
            con.execute("BEGIN TRANSACTION")  # one commit for the whole store, not one per table
            con.execute(SCHEMA)
        return opened[0]

    loader = _Loader(sources, folder_root)  # workers fork now (before DuckDB starts threads) and start loading
    try:
        tick("genealogy", 0, total)
        genealogy = list(load_genealogy())
        g_objects, g_kept, g_flat = _split(genealogy)  # those that may merge stay objects; the rest flattened now
        objects = list(g_objects)
        chunks: list[_Chunk] = [g_flat]
        order: list[tuple[list[Engagement], list[int], _Chunk]] = [(g_objects, g_kept, g_flat)]
        reports = [SourceReport("genealogy", "loaded", rows_read=len(genealogy), engagements=len(genealogy))]
        owned = {"engagements", "participants", "provenance", "polities"}
        tables: set[str] = set()
        late: dict[str, pd.DataFrame] = {}  # tables named like the build's own bookkeeping: written after it
        written: dict[str, str] = {}  # tables written as soon as their source was loaded, and by which source

        def early(sid: str, loaded: _Loaded) -> None:
            """Write a source's tables as soon as a worker hands them over (the others are still loading)."""
            for name, frame in sorted(loaded.tables.items()):
                if name not in written and name not in owned and name not in _BOOKKEEPING:
                    _write(db(), name, frame)
                    written[name] = sid

        quarantine, unresolved, source_rows = [], [], []
        if records:
            own = [e for path in records for e in load_user_records(path)]
            own_objects, own_kept, own_flat = _split(own)
            objects += own_objects
            chunks.append(own_flat)
            order.append((own_objects, own_kept, own_flat))
            reports.append(SourceReport(USER_SOURCE_ID, "loaded", rows_read=len(own), engagements=len(own)))
            source_rows.append({"id": USER_SOURCE_ID, "title": "Records added by the user", "version": "local",
                                "kind": "engagements", "folder": "; ".join(map(str, records)), "homepage": "",
                                "terms": "", "adds": "the researcher's own records, validated like the genealogy",
                                "citation": "see each record's citations",
                                "bibtex": "\n\n".join(user_bibtex(p) for p in records), "status": "loaded",
                                "note": ""})
        for i, (sid, source) in enumerate(sources.items(), start=1):
            tick(sid, i, total)
            loaded = loader.load(sid, early)
            report = loaded.report
            reports.append(report)
            source_rows.append({"id": sid, "title": source.title, "version": source.version, "kind": source.kind,
                                "folder": source.folder, "homepage": source.homepage, "terms": source.terms,
                                "adds": source.adds, "citation": source.citation, "bibtex": source.bibtex,
                                "status": report.status, "note": report.note})
            quarantine += [{"source": sid, **vars(r), "row": str(r.row)} for r in loaded.rejections]
            unresolved += [{"source": sid, "name": n, "count": c} for n, c in sorted(loaded.unresolved.items())]
            if loaded.flat is None:
                continue
            objects += loaded.objects
            chunks.append(loaded.flat)
            order.append((loaded.objects, loaded.kept, loaded.flat))
            for name, frame in sorted(loaded.tables.items()):
                if name in tables or name in owned:
                    raise DefdipError(f"source {sid} produces table {name!r}, which another part of the build owns")
                tables.add(name)
                if name in _BOOKKEEPING:
                    late[name] = frame
                elif name not in written:  # (a name another source wrote early fails the build at that source)
                    _write(db(), name, frame)
                    written[name] = sid
        loader.close()

        tick("writing store", total - 1, total)
        merged = merge_duplicates(objects)
        all_ids = [e.id for e in merged] + list(chain.from_iterable(ch.ids for ch in chunks))
        if len(all_ids) != len(set(all_ids)):
            ids = pd.Series(_ids_in_order(order, {id(e) for e in merged}))
            raise DefdipError(f"two engagements share the id {ids[ids.duplicated()].iloc[0]!r}; "
                              "source ids must be unique")
        frames = _assemble([_chunk(merged), *chunks], by_id=True)
        del objects, merged, chunks, order
        n_engagements = frames["engagements"].num_rows
        per_source: dict[str, set[str]] = {}
        for source_id, eid in zip(*(frames["provenance"].column(c).to_pylist() for c in ("source", "engagement_id"))):
            per_source.setdefault(source_id, set()).add(eid)
        for r in reports:  # engagements after merging, per source (a merged event counts for each)
            r.engagements = len(per_source.get(r.source, ()))

        con = db()
        con.execute("RESET threads")
        for name in ("engagements", "participants", "provenance"):
            _write(con, name, frames[name])
        _write(con, "polities", _polities_frame())
        _write(con, "sources", pd.DataFrame(source_rows, columns=[
            "id", "title", "version", "kind", "folder", "homepage", "terms", "adds", "citation", "bibtex",
            "status", "note"]))
        _write(con, "ingest_report", pd.DataFrame([vars(r) for r in reports]))
        _write(con, "quarantine", pd.DataFrame(quarantine, columns=["source", "file", "row", "field", "value",
                                                                    "reason"]).astype(str))
        _write(con, "unresolved", pd.DataFrame(unresolved, columns=["source", "name", "count"]))
        _write(con, "meta", pd.DataFrame([
            {"key": "defdip_version", "value": __version__},
            {"key": "codebook_version", "value": codebook().version},
            {"key": "genealogy_version", "value": GENEALOGY_VERSION},
        ]))
        for name, frame in sorted(late.items()):
            _write(con, name, frame)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
        con.close()
        opened.clear()
        os.replace(tmp, target)
    finally:
        loader.close()
        for con in opened:
            con.close()
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
    tick("done", total, total)
    return BuildReport(target, n_engagements, reports)


def connect(store: str | Path | None = None, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the store; a clear error when it has not been built yet."""
    path = config.store_path(store)
    if not path.is_file():
        raise StoreError(f"no store at {path}; run `defdip build` first (or pass --store / set DEFDIP_STORE)")
    return duckdb.connect(str(path), read_only=read_only)


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0])


def require_table(con: duckdb.DuckDBPyConnection, name: str, source: str) -> None:
    """Raise StoreError naming the source to load when a reference table is absent."""
    if not has_table(con, name):
        raise StoreError(f"the store has no {name!r} table: build it with the {source!r} source available "
                         f"(`defdip build --sources DIR`)")


def status(store: str | Path | None = None) -> dict[str, Any]:
    """Counts per source and per activity, with the last build's ingest report."""
    con = connect(store)
    try:
        total = con.execute("SELECT count(*) FROM engagements").fetchone()[0]
        per_activity = dict(con.execute(
            "SELECT activity, count(*) FROM engagements GROUP BY 1 ORDER BY 1").fetchall())
        per_source = dict(con.execute(
            "SELECT source, count(DISTINCT engagement_id) FROM provenance GROUP BY 1 ORDER BY 1").fetchall())
        per_source_activity: dict[str, dict[str, int]] = {}
        for src, act, n in con.execute(
                "SELECT p.source, e.activity, count(DISTINCT e.id) FROM provenance p JOIN engagements e "
                "ON e.id = p.engagement_id GROUP BY 1, 2 ORDER BY 1, 2").fetchall():
            per_source_activity.setdefault(src, {})[act] = n
        per_sub = dict(con.execute(
            "SELECT s, count(*) FROM (SELECT unnest(sub_activities) AS s FROM engagements) GROUP BY 1 ORDER BY 1"
        ).fetchall())
        span = con.execute("SELECT min(start_year), max(coalesce(end_year, start_year)) FROM engagements").fetchone()
        report = con.execute("SELECT * FROM ingest_report ORDER BY source").df().to_dict(orient="records")
        unresolved = con.execute(
            "SELECT source, name, count FROM unresolved ORDER BY count DESC, source, name").df().to_dict("records")
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    finally:
        con.close()
    return {
        "store": str(config.store_path(store)), "engagements": total, "first_year": span[0], "last_year": span[1],
        "per_activity": per_activity, "per_sub_activity": per_sub, "per_source": per_source,
        "per_source_activity": per_source_activity, "ingest": report, "unresolved": unresolved, "meta": meta,
    }
