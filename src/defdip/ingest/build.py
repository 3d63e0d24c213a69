"""The engagement store: an embedded DuckDB file that `defdip build` writes whole.

A build reads as: load every source (the bundled genealogy, the researcher's own records and every dataset
with files, each a :class:`~defdip.ingest.sources.base.Source`) -> match and merge records of one event
across sources (:func:`~defdip.ingest.matching.match_and_merge`) -> write a new database beside the old one
and swap it in only when complete, so a failed build leaves the previous store as it was. ``defdip
validate`` (:mod:`defdip.analysis.validate`) then checks what was written.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from defdip import __version__
from defdip.core import config
from defdip.core.actors import registry
from defdip.core.codebook import codebook
from defdip.core.errors import DefdipError, StoreError
from defdip.core.model import Engagement
from defdip.core.sql import quote_identifier
from defdip.events.ingest import TABLES as EVENT_TABLES
from defdip.ingest import guard
from defdip.ingest.genealogy import GENEALOGY_VERSION, USER_SOURCE_ID, GenealogySource, UserSource
from defdip.ingest.loading import Loaded, Loader, SourceReport
from defdip.ingest.matching import Match, match_and_merge, matches_frame
from defdip.ingest.records import Chunk, assemble, chunk
from defdip.ingest.sources import all_sources
from defdip.ingest.sources.base import Source
from defdip.store import checks
from defdip.store.queries import open_store

Progress = Callable[[str, int, int], None]
"""Callback(step description, done, total) used to drive progress bars."""


@dataclass
class BuildReport:
    store: Path
    engagements: int
    sources: list[SourceReport] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"store": str(self.store), "engagements": self.engagements,
                "sources": [vars(s) for s in self.sources]}


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
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()
    if found and found[0]:
        con.execute(f"INSERT INTO {quote_identifier(name)} SELECT * FROM _frame")
    else:
        con.execute(f"CREATE TABLE {quote_identifier(name)} AS SELECT * FROM _frame")
    con.unregister("_frame")


def _polities_frame() -> pd.DataFrame:
    rows = [{"id": p.id, "name": p.name, "kind": p.kind, "ccode": p.ccode, "gwcode": p.gwcode, "iso3": p.iso3,
             "start_year": p.start_year, "end_year": p.end_year} for p in registry().polities()]
    frame = pd.DataFrame(rows)
    for col in ("ccode", "gwcode", "start_year", "end_year"):
        frame[col] = frame[col].astype("Int32")
    return frame


def _ids_in_order(order: list[tuple[list[Engagement], list[int], Chunk]], alive: set[int]) -> list[str]:
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
          records: list[str | Path] | None = None, replace: bool = False) -> BuildReport:
    """Build the store from the genealogy, a researcher's own ``records`` and every source in ``sources_dir``.

    Raises DefdipError for unusable input; the existing store is replaced only on success. One build of a
    store runs at a time (a second fails naming the first's process); temporary files of earlier builds
    that died are removed first. A build that would drop a source the current store holds refuses unless
    ``replace`` is true.
    """
    target = config.store_path(store)
    with guard.build_lock(target), _gc_paused():
        guard.remove_debris(target)
        try:
            return _build(target, sources_dir, only, progress, records or [], replace)
        except (duckdb.IOException, duckdb.FatalException, duckdb.OutOfMemoryException, OSError) as exc:
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise StoreError(f"could not write the new store beside {target} ({detail}); the previous store "
                             "is unchanged: free some disk space (or memory) and build again") from exc


def build_sources(datasets: dict[str, Source], records: list[str | Path]) -> dict[str, Source]:
    """Every source a build loads, in the order it loads and merges them (the first record of an event
    keeps its id): the genealogy, the researcher's own ``records`` when given, then the datasets by id."""
    own: list[Source] = [GenealogySource(), *([UserSource(records)] if records else [])]
    clash = sorted({s.id for s in own} & set(datasets))
    if clash:
        raise DefdipError(f"source id {clash[0]!r} is the build's own; give the dataset module another id")
    return {**{s.id: s for s in own}, **datasets}


@dataclass
class _Gathered:
    """Every source's results, gathered for the merge and the write."""

    objects: list[Engagement] = field(default_factory=list)
    """Records that may merge across sources (a ``match_key``), in the build's order."""
    chunks: list[Chunk] = field(default_factory=list)
    """The other records, flattened, one chunk per source."""
    order: list[tuple[list[Engagement], list[int], Chunk]] = field(default_factory=list)
    """Per source: its mergeable records, their positions and its chunk (rebuilds the id order for errors)."""
    reports: list[SourceReport] = field(default_factory=list)
    source_rows: list[dict[str, str]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    unresolved: list[dict[str, Any]] = field(default_factory=list)
    late: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Tables named like the build's own bookkeeping: written after it."""


def _build(target: Path, sources_dir: str | Path | None, only: list[str] | None,
           progress: Progress | None, records: list[str | Path], replace: bool) -> BuildReport:
    """Load every source, match and merge their records, write the store (``defdip validate`` checks it)."""
    folder_root = config.sources_dir(sources_dir)
    datasets = all_sources()
    if only:
        unknown = [s for s in only if s not in datasets]
        if unknown:
            raise DefdipError(f"unknown source(s) {', '.join(unknown)}; known sources: {', '.join(datasets)}")
        datasets = {k: v for k, v in datasets.items() if k in only}
    if not replace:
        loading = {sid for sid, source in datasets.items() if not source.missing_files(folder_root / source.folder)}
        known = set(all_sources()) | {USER_SOURCE_ID}
        held = [s for s in guard.held_sources(target) if s in known]  # (a source no longer defined cannot load)
        guard.refuse_to_drop(target, held, loading, set(all_sources()) - set(datasets), folder_root, bool(records),
                             USER_SOURCE_ID)
    sources = build_sources(datasets, records)
    tick = progress or (lambda *_: None)
    total = len(sources) + 1

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

    loader = Loader(sources, folder_root)  # workers fork now (before DuckDB starts threads) and start loading
    try:
        got = _load_all(sources, loader, db, tick, total)
        loader.close()

        tick("writing store", total - 1, total)
        merged, matches = match_and_merge(got.objects)
        all_ids = [e.id for e in merged] + list(chain.from_iterable(ch.ids for ch in got.chunks))
        if len(all_ids) != len(set(all_ids)):
            ids = pd.Series(_ids_in_order(got.order, {id(e) for e in merged}))
            raise DefdipError(f"two engagements share the id {ids[ids.duplicated()].iloc[0]!r}; "
                              "source ids must be unique")
        frames = assemble([chunk(merged), *got.chunks], by_id=True)
        del merged
        got.objects, got.chunks, got.order = [], [], []
        n_engagements = frames["engagements"].num_rows
        per_source: dict[str, set[str]] = {}
        for source_id, eid in zip(*(frames["provenance"].column(c).to_pylist() for c in ("source", "engagement_id"))):
            per_source.setdefault(source_id, set()).add(eid)
        for r in got.reports:  # engagements after merging, per source (a merged event counts for each)
            r.engagements = len(per_source.get(r.source, ()))
        _write_store(db(), frames, got, matches)
        _carry_event_tables(db(), target)
        con = opened.pop()
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
        con.close()
        os.replace(tmp, target)
    finally:
        loader.close()
        for con in opened:
            try:
                con.close()
            except duckdb.Error:  # a connection DuckDB invalidated (a full disk): nothing left to close
                pass
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
    tick("done", total, total)
    return BuildReport(target, n_engagements, got.reports)


_OWNED = frozenset({"engagements", "participants", "provenance", "polities"})
"""Tables the build itself writes (no source may produce one)."""


def _load_all(sources: dict[str, Source], loader: Loader, db: Callable[[], duckdb.DuckDBPyConnection],
              tick: Progress, total: int) -> _Gathered:
    """Every source loaded in the build's order; each source's tables written as soon as it is loaded."""
    got = _Gathered()
    tables: set[str] = set()
    written: dict[str, str] = {}  # tables written as soon as their source was loaded, and by which source

    def early(sid: str, loaded: Loaded) -> None:
        """Write a source's tables as soon as a worker hands them over (the others are still loading)."""
        for name, frame in sorted(loaded.tables.items()):
            if name not in written and name not in _OWNED and name not in _BOOKKEEPING:
                _write(db(), name, frame)
                written[name] = sid

    for i, (sid, source) in enumerate(sources.items()):
        tick(sid, i, total)
        loaded = loader.load(sid, early)
        report = loaded.report
        got.reports.append(report)
        row = source.catalogue_row(report.status, report.note)
        if row is not None:
            if loaded.bibtex:  # the references that came with the data, beside the dataset's own entry
                row = {**row, "bibtex": "\n\n".join(t for t in (row.get("bibtex"), loaded.bibtex) if t)}
            got.source_rows.append(row)
        got.quarantine += [{"source": sid, **vars(r), "row": str(r.row)} for r in loaded.rejections]
        got.unresolved += [{"source": sid, "name": n, "count": c} for n, c in sorted(loaded.unresolved.items())]
        if loaded.flat is None:
            continue
        got.objects += loaded.objects
        got.chunks.append(loaded.flat)
        got.order.append((loaded.objects, loaded.kept, loaded.flat))
        for name, frame in sorted(loaded.tables.items()):
            if name in tables or name in _OWNED:
                raise DefdipError(f"source {sid} produces table {name!r}, which another part of the build owns")
            tables.add(name)
            if name in _BOOKKEEPING:
                got.late[name] = frame
            elif name not in written:  # (a name another source wrote early fails the build at that source)
                _write(db(), name, frame)
                written[name] = sid
    return got


def _carry_event_tables(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    """The event-data aggregates of the store being replaced, into the new one: they come from ``defdip events
    ingest`` (files beside the store), not from any source, so a rebuild keeps them instead of dropping them."""
    if not target.is_file():
        return
    old = open_store(target)
    try:
        for name in EVENT_TABLES:
            if old.has_table(name):
                _write(con, name, old.con.sql(f"SELECT * FROM {quote_identifier(name)}").to_arrow_table())
    finally:
        old.close()


def _write_store(con: duckdb.DuckDBPyConnection, frames: dict[str, pa.Table], got: _Gathered,
                 matches: list[Match]) -> None:
    """The merged records and the build's bookkeeping, into the open transaction of the new store."""
    con.execute("RESET threads")
    for name in ("engagements", "participants", "provenance"):
        _write(con, name, frames[name])
    _write(con, "polities", _polities_frame())
    _write(con, "sources", pd.DataFrame(got.source_rows, columns=[
        "id", "title", "version", "kind", "folder", "homepage", "terms", "adds", "citation", "bibtex",
        "status", "note"]))
    _write(con, "ingest_report", pd.DataFrame([vars(r) for r in got.reports]))
    _write(con, "quarantine", pd.DataFrame(got.quarantine, columns=["source", "file", "row", "field", "value",
                                                                    "reason"]).astype(str))
    _write(con, "unresolved", pd.DataFrame(got.unresolved, columns=["source", "name", "count"]))
    _write(con, "exercise_matches", matches_frame(matches))
    _write(con, "meta", pd.DataFrame([
        {"key": "defdip_version", "value": __version__},
        {"key": "codebook_version", "value": codebook().version},
        {"key": "genealogy_version", "value": GENEALOGY_VERSION},
    ]))
    for name, frame in sorted(got.late.items()):
        _write(con, name, frame)


def status(store: str | Path | None = None) -> dict[str, Any]:
    """Counts per source and per activity, with the last build's ingest report and any temporary files
    builds left beside the store (``debris``: a running build's, or a dead one's the next build removes)."""
    with open_store(store) as reader:
        summary = checks.store_summary(reader.con)
    return {"store": str(reader.path), **summary, "debris": guard.debris(reader.path)}
