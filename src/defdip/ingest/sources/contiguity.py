"""COW Direct Contiguity v3.2: land and water borders between states, 1816-2016.

Reference table ``cow_contiguity`` (ccode1 < ccode2, conttype 1-5 (0 marks a spell without
contiguity in peacesciencer's master records), stdate/enddate and their
years styear/endyear) that panels use for the ``conttype`` control. Reads the master-record
file as peacesciencer publishes it (``cow_contdir_v3.2.csv``: ccode1, ccode2, conttype, stdate,
enddate in ISO dates) or COW's own ``contdirs.csv`` (statelno, statehno, conttype, begin, end as
yyyymm), whichever is present.

Bad rows are quarantined with line and field: a row with more or fewer fields than the header, an
exact duplicate, a missing code or date, a conttype outside 0-5, a year outside 1816-2016 and a
spell that ends before it starts.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from defdip.core.errors import SourceFormatError
from defdip.ingest.sources.base import (
    Download,
    IngestContext,
    LoadResult,
    Source,
    quarantine_duplicates,
    quarantine_reversed,
    quarantine_short_rows,
    quarantine_years,
    read_csv_checked,
)

FIRST_YEAR = 1816
LAST_YEAR = 2016
"""Direct Contiguity v3.2 covers 1816-2016."""

BIB = """@article{stinnett_etal2002,
  author = {Stinnett, Douglas M. and Tir, Jaroslav and Schafer, Philip and Diehl, Paul F. and Gochman, Charles},
  title = {The {Correlates of War} Project Direct Contiguity Data, Version 3},
  journal = {Conflict Management and Peace Science},
  volume = {19},
  number = {2},
  pages = {59--67},
  year = {2002},
  doi = {10.1177/073889420201900203}
}"""


class Contiguity(Source):
    id = "cow_contiguity"
    title = "COW Direct Contiguity v3.2"
    folder = "cow_contiguity"
    version = "3.2"
    files = ()
    downloads = (Download("https://correlatesofwar.org/wp-content/uploads/DirectContiguity320.zip",
                          "DirectContiguity320.zip", members=("contdirs.csv",)),)
    homepage = "https://correlatesofwar.org/data-sets/direct-contiguity/"
    terms = "COW data are free for research use with citation."
    adds = "Direct contiguity between states (land/river border and water distances), 1816-2016, for panel controls."
    citation = ("Stinnett, D. M., J. Tir, P. Schafer, P. F. Diehl, and C. Gochman. 2002. The Correlates of War "
                "Project Direct Contiguity Data, Version 3. Conflict Management and Peace Science 19(2): 59-67.")
    bibtex = BIB
    citation_keys = ("stinnett_etal2002",)
    coverage = (FIRST_YEAR, LAST_YEAR)
    min_rows = 1000
    """Some 1,870 contiguity spells."""
    kind = "reference"

    def missing_files(self, folder: Path) -> list[str]:
        if (folder / "cow_contdir_v3.2.csv").is_file() or (folder / "contdirs.csv").is_file():
            return []
        return ["cow_contdir_v3.2.csv (or COW's contdirs.csv)"]

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        path = folder / "cow_contdir_v3.2.csv"
        if path.is_file():
            raw = read_csv_checked(path, ("ccode1", "ccode2", "conttype", "stdate", "enddate"))
            read = len(raw)
            raw = quarantine_duplicates(quarantine_short_rows(raw, path, ctx), list(raw.columns), path.name, ctx)
            start = pd.to_datetime(raw["stdate"], errors="coerce", format="%Y-%m-%d")
            end = pd.to_datetime(raw["enddate"], errors="coerce", format="%Y-%m-%d")
            a, b = raw["ccode1"], raw["ccode2"]
        else:
            path = folder / "contdirs.csv"
            raw = read_csv_checked(path, ("statelno", "statehno", "conttype", "begin", "end"))
            read = len(raw)
            raw = quarantine_duplicates(quarantine_short_rows(raw, path, ctx), list(raw.columns), path.name, ctx)
            start = pd.to_datetime(raw["begin"].astype(str) + "01", format="%Y%m%d", errors="coerce")
            end = pd.to_datetime(raw["end"].astype(str) + "01", format="%Y%m%d", errors="coerce")
            a, b = raw["statelno"], raw["statehno"]
        a, b = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
        frame = pd.DataFrame({
            "ccode1": a.where(a < b, b), "ccode2": b.where(a < b, a),
            "conttype": pd.to_numeric(raw["conttype"], errors="coerce"),
            "stdate": start.dt.strftime("%Y-%m-%d"), "enddate": end.dt.strftime("%Y-%m-%d"),
            "styear": start.dt.year, "endyear": end.dt.year,
        })
        bad = frame[["ccode1", "ccode2", "conttype", "styear", "endyear"]].isna().any(axis=1) | \
            ~frame["conttype"].isin([0, 1, 2, 3, 4, 5])
        for idx in frame.index[bad]:
            ctx.reject(path.name, int(idx) + 2, "ccode1/ccode2/conttype/dates", raw.loc[idx].to_dict(),
                       "missing code, date or conttype outside 0-5")
        frame = frame[~bad].copy()
        frame = quarantine_years(frame, {"styear": True, "endyear": True}, FIRST_YEAR, LAST_YEAR, path.name, ctx)
        frame = quarantine_reversed(frame, "stdate", "enddate", path.name, ctx)
        if frame.empty:
            raise SourceFormatError(f"{path}: no usable contiguity records")
        for col in ("ccode1", "ccode2", "conttype", "styear", "endyear"):
            frame[col] = frame[col].round().astype("Int32")
        return LoadResult(tables={"cow_contiguity": frame.reset_index(drop=True)}, rows_read=read,
                          accounted={"rows in the table": len(frame)})


SOURCES = [Contiguity()]
