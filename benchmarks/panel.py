"""Benchmark: the directed dyad-year panel 1816-2018 with every layer, beside a hand-written DuckDB baseline.

    .venv/bin/python benchmarks/panel.py [--sources DIR] [--store FILE] [--repeat N]

Builds a store from the sources folder when the store file does not exist yet, then measures, each in a
fresh child process (so peak memory is its own):

* ``panel``    -- ``defdip.analysis.panels.dyad_year(directed=True, from_year=1816, to_year=2018)`` with every layer the
  store can supply, as a pandas DataFrame;
* ``baseline`` -- one hand-written DuckDB query for the same directed state-system dyads with the ATOP
  layer only (its five obligation columns) (member-year expansion, self-join, left join), fetched as a DataFrame.

Figures: wall seconds (best of N), Python peak allocation (tracemalloc) and the process's peak resident
set size (resource.getrusage). Targets: panel under 15 s and 4 GB, within 2x of the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BASELINE_SQL = """
WITH nodes AS (
    SELECT ccode, year FROM cow_system
    UNION SELECT s.ccode, y.year FROM cow_system s, range(2017, 2019) y(year) WHERE s.year = 2016
    UNION SELECT state, year FROM atop_sy WHERE year > 2016),
dyads AS (SELECT a.ccode AS ccode1, b.ccode AS ccode2, a.year FROM nodes a JOIN nodes b
          ON a.year = b.year AND a.ccode <> b.ccode),
my AS (SELECT atopid, member, year, max(defense) AS defense, max(offense) AS offense, max(neutral) AS neutral,
              max(nonagg) AS nonagg, max(consul) AS consul FROM (
           SELECT atopid, member, defense, offense, neutral, nonagg, consul,
                  unnest(range(yrent, (CASE WHEN yrexit = 0 THEN 2018 ELSE yrexit END) + 1)) AS year
           FROM atop_member) GROUP BY ALL),
atop AS (SELECT a.member AS ccode1, b.member AS ccode2, a.year, max(a.defense) AS atop_defense,
                max(a.offense) AS atop_offense, max(a.neutral) AS atop_neutral, max(a.nonagg) AS atop_nonagg,
                max(a.consul) AS atop_consul
         FROM my a JOIN my b ON a.atopid = b.atopid AND a.year = b.year AND a.member <> b.member GROUP BY ALL)
SELECT d.ccode1, d.ccode2, d.year, coalesce(t.atop_defense, 0) AS atop_defense,
       coalesce(t.atop_offense, 0) AS atop_offense, coalesce(t.atop_neutral, 0) AS atop_neutral,
       coalesce(t.atop_nonagg, 0) AS atop_nonagg, coalesce(t.atop_consul, 0) AS atop_consul
FROM dyads d LEFT JOIN atop t USING (ccode1, ccode2, year)
ORDER BY d.year, d.ccode1, d.ccode2
"""


def _measure(kind: str, store: str) -> dict:
    import duckdb

    from defdip.analysis import panels  # imports are not part of the measurement

    tracemalloc.start()
    start = time.perf_counter()
    if kind == "panel":
        frame = panels.dyad_year(store, directed=True, from_year=1816, to_year=2018)
    else:
        con = duckdb.connect(store, read_only=True)
        frame = con.sql(BASELINE_SQL).df()
        con.close()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return {"kind": kind, "seconds": seconds, "rows": len(frame), "columns": frame.shape[1],
            "py_peak_mb": peak / 2**20, "rss_peak_mb": rss_kb / 1024}


def _child(kind: str, store: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--measure", kind, "--store", store], capture_output=True,
                         text=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    if out.returncode != 0:
        raise SystemExit(f"{kind} run failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, default=None,
                        help="sources folder (default: DEFDIP_SOURCES, else ../shared/data beside the clone)")
    parser.add_argument("--store", type=Path, default=None, help="store file (default: out/bench/defdip.duckdb)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (best time is reported)")
    parser.add_argument("--measure", choices=["panel", "baseline"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    store = args.store or ROOT / "out" / "bench" / "defdip.duckdb"
    if args.measure:
        print(json.dumps(_measure(args.measure, str(store))))
        return

    if not store.is_file():
        from defdip.ingest.build import build

        sources = args.sources or Path(os.environ.get("DEFDIP_SOURCES") or ROOT.parent / "shared" / "data")
        print(f"building {store} from {sources} ...", flush=True)
        t = time.perf_counter()
        build(store, sources)
        print(f"  built in {time.perf_counter() - t:.1f} s", flush=True)

    runs: dict[str, list[dict]] = {"baseline": [], "panel": []}
    for _ in range(max(1, args.repeat)):
        for kind in ("baseline", "panel"):
            runs[kind].append(_child(kind, str(store)))
    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in runs.items()}
    peak = {k: max(r["rss_peak_mb"] for r in v) for k, v in runs.items()}
    print(f"\ndirected dyad-year panel 1816-2018 (store {store}); best of {args.repeat} runs, each in a fresh process")
    print(f"{'measurement':<44}{'seconds':>9}{'rows':>11}{'cols':>6}{'py peak MB':>12}{'RSS peak MB':>13}")
    labels = {"baseline": "baseline: hand-written SQL, ATOP layer",
              "panel": "defdip.analysis.panels.dyad_year, every layer"}
    for kind in ("baseline", "panel"):
        r = best[kind]
        print(f"{labels[kind]:<44}{r['seconds']:>9.2f}{r['rows']:>11,}{r['columns']:>6}{r['py_peak_mb']:>12.0f}"
              f"{peak[kind]:>13.0f}")
    ratio = best["panel"]["seconds"] / best["baseline"]["seconds"]
    ok = best["panel"]["seconds"] < 15 and peak["panel"] < 4096 and ratio <= 2
    print(f"\nratio panel/baseline: {ratio:.2f}x  (targets: < 15 s, < 4 GB, <= 2x) -> {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
