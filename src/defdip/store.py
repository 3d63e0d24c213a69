"""The engagement store: an embedded DuckDB file that `defdip build` writes whole.

A build reads the genealogy and every available source, writes a new database
beside the old one and swaps it in only when complete, so a failed build leaves
the previous store as it was.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from defdip import __version__, config
from defdip.actors import registry
from defdip.codebook import codebook
from defdip.errors import DefdipError, StoreError
from defdip.genealogy import GENEALOGY_VERSION, USER_SOURCE_ID, load_genealogy, load_user_records, user_bibtex
from defdip.model import Engagement
from defdip.sources import all_sources
from defdip.sources.base import IngestContext, LoadResult, Source

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


def _frames(engagements: list[Engagement]) -> dict[str, pd.DataFrame]:
    """Flatten engagements into the store's three record tables.

    One pass, column by column (building a frame from per-row dicts costs more than the flattening);
    attributes are JSON with sorted keys, anything JSON lacks written as its str().
    """
    dumps = json.JSONEncoder(sort_keys=True, default=str).encode  # what json.dumps(..., sort_keys, default) runs
    eng: dict[str, list[Any]] = {c: [] for c in _ENGAGEMENT_COLUMNS}
    part: dict[str, list[Any]] = {c: [] for c in _PARTICIPANT_COLUMNS}
    prov: dict[str, list[Any]] = {c: [] for c in _PROVENANCE_COLUMNS}
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
        for pv in e.provenance:
            v_eid.append(eid)
            v_source.append(pv.source)
            v_version.append(pv.version)
            v_record.append(pv.record_id)
            v_citations.append(pv.citations)
    for col in ("start_month", "start_day", "end_year", "end_month", "end_day"):
        eng[col] = pd.array(eng[col], dtype="Int32")
    for col in ("ccode", "start_year", "end_year"):
        part[col] = pd.array(part[col], dtype="Int32")
    return {"engagements": pd.DataFrame(eng), "participants": pd.DataFrame(part), "provenance": pd.DataFrame(prov)}


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


def _write(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
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

    tick("genealogy", 0, total)
    engagements: list[Engagement] = list(load_genealogy())
    reports = [SourceReport("genealogy", "loaded", rows_read=len(engagements), engagements=len(engagements))]
    tables: dict[str, pd.DataFrame] = {}
    quarantine, unresolved, source_rows = [], [], []
    if records:
        own = [e for path in records for e in load_user_records(path)]
        engagements.extend(own)
        reports.append(SourceReport(USER_SOURCE_ID, "loaded", rows_read=len(own), engagements=len(own)))
        source_rows.append({"id": USER_SOURCE_ID, "title": "Records added by the user", "version": "local",
                            "kind": "engagements", "folder": "; ".join(map(str, records)), "homepage": "",
                            "terms": "", "adds": "the researcher's own records, validated like the genealogy",
                            "citation": "see each record's citations",
                            "bibtex": "\n\n".join(user_bibtex(p) for p in records), "status": "loaded", "note": ""})
    for i, (sid, source) in enumerate(sources.items(), start=1):
        tick(sid, i, total)
        result, ctx, report = _load_source(source, folder_root / source.folder)
        reports.append(report)
        source_rows.append({"id": sid, "title": source.title, "version": source.version, "kind": source.kind,
                            "folder": source.folder, "homepage": source.homepage, "terms": source.terms,
                            "adds": source.adds, "citation": source.citation, "bibtex": source.bibtex,
                            "status": report.status, "note": report.note})
        quarantine += [{"source": sid, **vars(r), "row": str(r.row)} for r in ctx.rejections]
        unresolved += [{"source": sid, "name": n, "count": c} for n, c in sorted(ctx.unresolved.items())]
        if result is None:
            continue
        engagements.extend(result.engagements)
        for name, frame in result.tables.items():
            if name in tables or name in ("engagements", "participants", "provenance", "polities"):
                raise DefdipError(f"source {sid} produces table {name!r}, which another part of the build owns")
            tables[name] = frame

    tick("writing store", total - 1, total)
    engagements = merge_duplicates(engagements)
    ids = [e.id for e in engagements]
    if len(ids) != len(set(ids)):
        dup = pd.Series(ids)[pd.Series(ids).duplicated()].iloc[0]
        raise DefdipError(f"two engagements share the id {dup!r}; source ids must be unique")
    engagements.sort(key=lambda e: e.id)
    frames = _frames(engagements)
    for r in reports:  # engagements after merging, per source (a merged event counts for each)
        prov = frames["provenance"]
        r.engagements = int(prov.loc[prov["source"] == r.source, "engagement_id"].nunique()) if len(prov) else 0

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".building-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(tmp))
        try:
            con.execute("BEGIN TRANSACTION")  # one commit for the whole store, not one per table
            con.execute(SCHEMA)
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
            for name, frame in sorted(tables.items()):
                _write(con, name, frame)
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
    tick("done", total, total)
    return BuildReport(target, len(engagements), reports)


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
