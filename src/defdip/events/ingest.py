"""Events ingest: official files -> partitioned parquet beside the store -> aggregates in the store.

The events table is written as ``<store>.events/year=YYYY/month=M/*.parquet`` (qualifying or not: the
raw codes with their file and line). The aggregates go into the store in one transaction (``ev_dyad_day``,
``ev_dyad_year``, ``ev_dyad_month``, ``ev_coverage``, ``ev_unresolved``, ``ev_quarantine``), replacing any
earlier event ingest (an ingest describes the files given to it); only after that commit is the new events
table swapped into place whole, so a failed ingest leaves both the store and the earlier table as they were.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from defdip.core import config
from defdip.core.errors import DefdipError, StoreError
from defdip.core.sql import quote_identifier
from defdip.events import actors, mapping, pipeline
from defdip.events.read import ReadReport, parquet_glob, read_events, write_events

TABLES = ("ev_dyad_day", "ev_dyad_year", "ev_dyad_month", "ev_coverage", "ev_unresolved", "ev_quarantine")


@dataclass
class IngestReport:
    """Figures of one ingest, for the CLI and tests."""

    rows_read: int
    kept: int
    quarantined: int
    qualifying_events: int
    event_days: int
    dyad_years: int
    formats: dict[str, int]
    failed_files: list[str]
    unresolved: list[dict[str, object]] = field(default_factory=list)
    events_path: str = ""


def events_dir(store: str | Path | None = None) -> Path:
    """Where the partitioned events table lives: beside the store file."""
    path = config.store_path(store)
    return path.with_name(path.name + ".events")


def prepare(path: str | Path) -> tuple[pa.Table, pa.Table, actors.Resolution, ReadReport]:
    """Read and resolve: (events, mapping as Arrow, actor resolution, read report)."""
    events, report = read_events(Path(path))
    res = actors.resolve(events)
    return events, pa.Table.from_pandas(mapping.mapping(), preserve_index=False), res, report


def _stage_parquet(read: Path, target: Path) -> Path:
    """Partition the events read by year and month next to ``target``; the result replaces ``target`` only
    once the store has its aggregates."""
    tmp = target.with_name(target.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    con = duckdb.connect()
    try:
        con.execute(f"COPY (SELECT * FROM read_parquet({parquet_glob(read)})) TO "
                    f"'{tmp.as_posix()}' (FORMAT parquet, PARTITION_BY (year, month))")
    finally:
        con.close()
    return tmp


def _swap(tmp: Path, target: Path) -> None:
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def ingest(path: str | Path, store: str | Path | None = None, *, engine: str = "duckdb",
           master: str | None = None) -> IngestReport:
    """Code the event files under ``path`` and write the event aggregates into the store."""
    store_file = config.store_path(store)
    if not store_file.is_file():
        raise StoreError(f"no store at {store_file}; run `defdip build` first (or pass --store / set DEFDIP_STORE)")
    if engine == "spark":
        try:
            import pyspark  # noqa: F401
        except ImportError:
            raise DefdipError("--engine spark needs PySpark: pip install 'defdip[spark]' (and Java 17)") from None
    target = events_dir(store)
    read = target.with_name(target.name + ".read")  # the events as read, one parquet file per input file
    shutil.rmtree(read, ignore_errors=True)
    try:
        report = write_events(Path(path), read)
        if not report.kept:
            reasons = "; ".join(report.failed_files) or "no event rows"
            raise DefdipError(f"{path}: nothing to ingest ({reasons})")
        res = actors.resolve_parquet(read)
        maps = pa.Table.from_pandas(mapping.mapping(), preserve_index=False)
        out = pipeline.run(engine, read, maps, res.table, master)
        staged = _stage_parquet(read, target)
    finally:
        shutil.rmtree(read, ignore_errors=True)
    frames = {"ev_dyad_day": out["dyad_day"], "ev_dyad_year": out["dyad_year"],
              "ev_dyad_month": out["dyad_month"], "ev_coverage": out["coverage"],
              "ev_unresolved": pd.DataFrame(res.unresolved, columns=["source", "code", "reason", "mentions",
                                                                      "first_year", "last_year"]),
              "ev_quarantine": pd.DataFrame(report.quarantine, columns=["file", "line", "column", "value",
                                                                         "reason"])}
    con = duckdb.connect(str(store_file))
    try:
        con.execute("BEGIN TRANSACTION")
        for name, frame in frames.items():
            con.register("_frame", frame)
            cast = " REPLACE (CAST(event_date AS DATE) AS event_date)" if "event_date" in frame else ""
            con.execute(f"CREATE OR REPLACE TABLE {quote_identifier(name)} AS SELECT *{cast} FROM _frame")
            con.unregister("_frame")
        con.execute("COMMIT")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        shutil.rmtree(staged, ignore_errors=True)
        raise StoreError(f"{store_file}: event tables not written ({exc})") from None
    finally:
        con.close()
    _swap(staged, target)  # after the commit: a failed store write leaves the earlier events table in place
    day = out["dyad_day"]
    return IngestReport(report.rows_read, report.kept, len(report.quarantine), int(day["events"].sum()),
                        len(day), len(out["dyad_year"]), report.formats, report.failed_files, res.unresolved,
                        str(target))
