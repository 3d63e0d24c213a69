"""Benchmark: GDELT 2.0-format files -> events table -> ev_* layers, beside hand-written DuckDB SQL.

A generator writes synthetic 15-minute export files (61 tab-separated columns, no header) whose columns
follow the shapes of the real file in ../shared/data/gdelt_events/v2: most rows name fewer than two
countries, about 2.5% have a MIL actor type, event codes concentrate on the verbal-cooperation roots.
Synthetic files are for benchmarks only, never for tests.

Stages, each in its own process (peak memory = that process's maximum RSS):
  read       defdip's reader: raw files -> the common events table (parquet files, written chunk by chunk)
  engine     the defdip pipeline on DuckDB over those files (dyad-day, dyad-year, dyad-month, coverage)
  baseline   hand-written DuckDB SQL computing the same four outputs from the same files
  raw_sql    the same hand-written SQL reading the raw files straight away (the floor for the whole path)
  spark      (with --spark) the same pipeline on PySpark, checked equal to DuckDB's result

Targets (issue 12): engine within 1.3x of the baseline, >= 5M rows/s per core from the events table,
flat peak memory from 1M to 10M rows.

    python benchmarks/events.py [--rows 1000000] [--files 4] [--spark]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

COUNTRIES = ["USA", "CHN", "RUS", "GBR", "IND", "FRA", "DEU", "JPN", "ISR", "IRN", "PAK", "TUR", "AUS", "CAN",
             "UKR", "SYR", "KOR", "PRK", "BRA", "NGA", "AFR", "EUR"]
CODES = ["010", "020", "036", "040", "042", "043", "044", "046", "051", "057", "061", "062", "072", "073",
         "074", "0312", "0332", "0334", "112", "120", "173", "190"]
CODE_WEIGHTS = np.array([12, 6, 5, 10, 6, 5, 3, 8, 6, 2, 2, 2, 1, 1, 1, 1, 1, 1, 7, 6, 7, 8], dtype=float)


def generate(folder: Path, rows: int, files: int, seed: int = 12) -> list[Path]:
    """Write ``files`` GDELT 2.0 export files with ``rows`` rows in all."""
    from defdip.events.formats import GDELT2

    rng = np.random.default_rng(seed)
    col = {name: i for i, name in enumerate(GDELT2)}
    paths = []
    per = -(-rows // files)
    for f in range(files):
        n = min(per, rows - f * per)
        if n <= 0:
            break
        stamp = f"2019102{4 + f // 96}{(f % 96) // 4:02d}{(f % 4) * 15:02d}00"
        days = rng.integers(20, 25, n)
        a1 = np.where(rng.random(n) < 0.6, rng.choice(COUNTRIES, n), "")
        a2 = np.where(rng.random(n) < 0.45, rng.choice(COUNTRIES, n), "")
        mil1 = np.where(rng.random(n) < 0.015, "MIL", "")
        mil2 = np.where(rng.random(n) < 0.012, "MIL", "")
        codes = rng.choice(CODES, n, p=CODE_WEIGHTS / CODE_WEIGHTS.sum())
        sources = rng.integers(1, 6, n)
        grid = np.full((n, len(GDELT2)), "", dtype=object)
        grid[:, col["GLOBALEVENTID"]] = (np.arange(n) + f * per + 880000000).astype(str)
        grid[:, col["SQLDATE"]] = np.char.add("201910", days.astype(str))
        grid[:, col["Actor1CountryCode"]] = a1
        grid[:, col["Actor2CountryCode"]] = a2
        grid[:, col["Actor1Code"]] = np.char.add(a1.astype(str), mil1.astype(str))
        grid[:, col["Actor1Type1Code"]] = mil1
        grid[:, col["Actor2Type1Code"]] = mil2
        grid[:, col["EventCode"]] = codes
        grid[:, col["NumSources"]] = sources.astype(str)
        grid[:, col["NumMentions"]] = (sources * 2).astype(str)
        grid[:, col["DATEADDED"]] = stamp
        grid[:, col["SOURCEURL"]] = "https://news.example/story"
        path = folder / f"{stamp}.export.CSV"
        with path.open("w") as fh:
            fh.writelines("\t".join(r) + "\n" for r in grid)
        paths.append(path)
    return paths


CHILD = r"""
import json, resource, sys, time
from pathlib import Path
stage, raw, parquet = sys.argv[1], sys.argv[2], Path(sys.argv[3])
import duckdb, pyarrow as pa
from defdip.events import pipeline
from defdip.events.mapping import mapping, LAYERS
from defdip.events.actors import resolve_parquet
from defdip.events.read import parquet_glob
maps = pa.Table.from_pandas(mapping(), preserve_index=False)
def done(t, rows, extra=None):
    secs = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"stage": stage, "seconds": secs, "rows": rows, "peak_mb": peak, **(extra or {})}))
if stage == "read":
    from defdip.events.read import write_events
    t = time.perf_counter()
    report = write_events(raw, parquet)
    done(t, report.rows_read)
else:
    actors = resolve_parquet(parquet).table
    rows = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet({parquet_glob(parquet)})").fetchone()[0]
    t = time.perf_counter()
    if stage == "engine":
        out = pipeline.run_duckdb(parquet, maps, actors)
    elif stage == "spark":
        out = pipeline.run_spark(parquet, maps, actors)
    else:
        con = duckdb.connect()
        con.register("mapping", maps); con.register("actors", actors)
        src = f"read_parquet({parquet_glob(parquet)})"
        if stage == "raw_sql":
            src = ("(SELECT 'gdelt' AS source, 'f' AS file, strptime(column01, '%Y%m%d')::DATE AS event_date, "
                   "column01[1:4]::INT AS year, column01[5:6]::INT AS month, 'cameo' AS scheme, column26 AS code, "
                   "'' AS mode, coalesce(column07, '') AS a1, coalesce(column17, '') AS a2, "
                   "'MIL' IN (column12, column13, column14, column22, column23, column24) IS TRUE AS defence, "
                   "column32::BIGINT AS sources FROM read_csv('" + raw + "/*.export.CSV', delim='\t', header=false, "
                   "all_varchar=true, quote=''))")
        # the engine's four outputs (dyad-days; dyad-years and dyad-months by layer; file coverage), written
        # by hand in DuckDB's own dialect (GROUP BY ALL, FILTER)
        con.execute(f"CREATE TEMP VIEW ev AS SELECT * FROM {src}")
        con.execute(
            "CREATE TEMP TABLE d AS SELECT m.layer, a.ccode AS c1, b.ccode AS c2, e.event_date, e.year, e.month, "
            "count(*) AS events, sum(e.sources) AS sources FROM ev e "
            "JOIN mapping m ON m.scheme = e.scheme AND m.code = e.code AND m.mode = '' "
            "JOIN actors a ON a.source = e.source AND a.code = e.a1 AND a.year = e.year "
            "JOIN actors b ON b.source = e.source AND b.code = e.a2 AND b.year = e.year "
            "WHERE e.defence AND a.ccode <> b.ccode GROUP BY ALL")
        days = ", ".join(f"count(*) FILTER (layer = '{n}') AS {n}" for n in LAYERS)
        raws = ", ".join(f"coalesce(sum(events) FILTER (layer = '{n}'), 0) AS {n}_events" for n in LAYERS)
        out = {"dyad_day": con.execute("SELECT * FROM d").df(),
               "dyad_year": con.execute(f"SELECT c1, c2, year, {days}, {raws} FROM d GROUP BY ALL").df(),
               "dyad_month": con.execute(f"SELECT c1, c2, year, month, {days} FROM d GROUP BY ALL").df(),
               "coverage": con.execute(
                   "WITH f AS (SELECT source, file, year, count(*) AS n FROM ev GROUP BY ALL) "
                   "SELECT year, source, sum(n) AS events, count(*) AS files FROM f "
                   "JOIN (SELECT file, sum(n) AS total FROM f GROUP BY ALL) USING (file) "
                   "WHERE n * 10 >= total GROUP BY ALL").df()}
    summary = out["dyad_year"]
    layers = [c for c in summary.columns if c.startswith("ev_") and not c.endswith("_events")]
    done(t, rows, {"dyad_years": len(summary), "event_days": int(summary[layers].to_numpy().sum())})
"""


def stage(name: str, raw: Path, parquet: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, name, str(raw), str(parquet)],
                         capture_output=True, text=True, env=env)
    if out.returncode:
        sys.exit(f"stage {name} failed:\n{out.stderr.strip()}")
    # (Spark and DuckDB's progress bars may share stdout: the figures are the last JSON object in it)
    at = out.stdout.rfind('{"stage"')
    if at < 0:
        sys.exit(f"stage {name} printed no figures:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return json.loads(out.stdout[at:].splitlines()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in all (default 1M; try 10000000)")
    parser.add_argument("--files", type=int, default=4, help="number of 15-minute files")
    parser.add_argument("--spark", action="store_true", help="also run the Spark engine (needs defdip[spark])")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        raw.mkdir()
        generate(raw, args.rows, args.files)
        parquet = Path(tmp) / "events"  # the folder write_events fills, one parquet file per input file
        names = ["read", "engine", "baseline", "raw_sql"] + (["spark"] if args.spark else [])
        results = [stage(name, raw, parquet) for name in names]
    print(f"{args.rows:,} GDELT 2.0 rows in {args.files} files, {cores} core(s) available")
    print(f"{'stage':<9} {'seconds':>8} {'rows/s/core':>13} {'peak MB':>8} {'event-days':>11}")
    for r in results:
        rate = r["rows"] / r["seconds"] / cores
        print(f"{r['stage']:<9} {r['seconds']:8.2f} {rate:13,.0f} {r['peak_mb']:8.0f} {r.get('event_days', ''):>11}")
    by = {r["stage"]: r for r in results}
    print(f"engine / baseline: {by['engine']['seconds'] / by['baseline']['seconds']:.2f}x (target <= 1.3x)")
    if by["engine"]["event_days"] != by["baseline"]["event_days"]:
        print("MISMATCH: engine and baseline event-days differ")
    if "spark" in by:
        same = by["spark"]["event_days"] == by["engine"]["event_days"]
        print(f"spark event-days {'equal to' if same else 'DIFFER from'} DuckDB's")


if __name__ == "__main__":
    main()
