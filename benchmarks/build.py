"""Benchmark: a full `defdip build` from a sources folder against DuckDB reading the same files raw.

The baseline reads every data file in the folders the sources use (CSV with DuckDB; .xls and GeoJSON,
which DuckDB cannot read without extensions, with pandas and json).

Prints seconds, engagements per second and peak memory for both (the largest of the build process and its
loader workers), and the ratio.
Target (issue 3): the full build in under 60 s on a 2-core machine, within 3x of the raw read.

    python benchmarks/build.py [--sources DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD_BUILD = """
import json, resource, sys, time
from defdip.ingest.build import build
t = time.perf_counter()
report = build(sys.argv[1], sys.argv[2])
secs = time.perf_counter() - t
peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
print(json.dumps({"seconds": secs, "engagements": report.engagements, "peak_rss_mb": peak / 1024}))
"""

CHILD_RAW = """
import json, resource, sys, time
from pathlib import Path
import duckdb, pandas as pd
from defdip.ingest.sources import all_sources
t = time.perf_counter()
con = duckdb.connect()
rows = 0
folders = sorted({Path(sys.argv[1]) / source.folder for source in all_sources().values()})
for path in sorted(p for folder in folders if folder.is_dir() for p in folder.iterdir()):
    if path.suffix == ".csv":
        for enc in ("utf-8", "latin-1"):
            try:
                rows += con.execute(
                    f"SELECT count(*) FROM read_csv(?, all_varchar=true, encoding='{enc}', ignore_errors=true)",
                    [str(path)]).fetchone()[0]
                break
            except duckdb.Error:
                continue
        else:  # mixed encodings DuckDB refuses: pandas reads the bytes as cp1252
            rows += len(pd.read_csv(path, dtype=str, encoding="cp1252", encoding_errors="replace"))
    elif path.suffix == ".xls":
        rows += sum(len(f) for f in pd.read_excel(path, sheet_name=None).values())
    elif path.suffix == ".geojson":
        rows += len(json.loads(path.read_text(encoding="utf-8"))["features"])
secs = time.perf_counter() - t
print(json.dumps({"seconds": secs, "rows": rows,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(code: str, *args: str) -> dict:
    """Run in a fresh interpreter so peak memory belongs to that run alone."""
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", default=os.environ.get("DEFDIP_SOURCES"), help="sources folder")
    args = parser.parse_args()
    if not args.sources:
        sys.exit("give --sources DIR or set DEFDIP_SOURCES")
    with tempfile.TemporaryDirectory() as tmp:
        raw = child(CHILD_RAW, args.sources)
        full = child(CHILD_BUILD, str(Path(tmp) / "bench.duckdb"), args.sources)
    ratio = full["seconds"] / raw["seconds"] if raw["seconds"] else float("inf")
    print(f"baseline  DuckDB raw read of the same files: {raw['seconds']:7.2f} s  {raw['rows']:>9,} rows  "
          f"peak RSS {raw['peak_rss_mb']:7.0f} MB")
    print(f"defdip    full build:                        {full['seconds']:7.2f} s  {full['engagements']:>9,} "
          f"engagements ({full['engagements'] / full['seconds']:,.0f}/s)  peak RSS {full['peak_rss_mb']:7.0f} MB")
    print(f"ratio build/raw: {ratio:.2f}x   target: < 60 s and <= 3x  ->  "
          f"{'met' if full['seconds'] < 60 and ratio <= 3 else 'NOT met'}")


if __name__ == "__main__":
    main()
