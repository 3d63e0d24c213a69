"""Militarized interstate disputes: Gibler-Miller-Little (GML) MID 2.2.1 and COW MID 5.0.

Outcome data for the conflict model (``defdip.analysis.conflict``); no engagements. The loaders read the
non-directed dyadic dispute-year and dispute-level files in the layout peacesciencer publishes
(``gml_mid_ddydisps``, ``gml_mid_disps``, ``cow_mid_ddydisps``, ``cow_mid_disps``: one column per
variable, COW state codes, ``ccode1 < ccode2``). Exported from R with
``write.csv(peacesciencer::gml_mid_ddydisps, "gml_mid_ddydisps.csv")`` and so on; the official
releases (internationalconflict.ua.edu for GML, correlatesofwar.org for MID 5) ship the participant
and incident files from which peacesciencer builds these.

Every row is checked (:func:`defdip.ingest.sources.base.read_reference_csv`): a row with more or fewer
fields than the header, a year outside the release's coverage (1816-2010 for GML, 1816-2014 for
COW), a participant ending before it starts, a repeated dispute-dyad-year or dispute, a missing
code and a state in dispute with itself are quarantined with line and field.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from defdip.ingest.sources.base import IngestContext, LoadResult, Source, read_reference_csv

FIRST_YEAR = 1816
GML_LAST_YEAR = 2010
"""GML MID 2.2.1 covers 1816-2010."""
COW_LAST_YEAR = 2014
"""COW MID 5.0 covers 1816-2014."""

GML_BIB = """@article{gibler_miller_little2016,
  author = {Gibler, Douglas M. and Miller, Steven V. and Little, Erin K.},
  title = {An Analysis of the Militarized Interstate Dispute ({MID}) Dataset, 1816--2001},
  journal = {International Studies Quarterly},
  volume = {60},
  number = {4},
  pages = {719--730},
  year = {2016},
  doi = {10.1093/isq/sqw045}
}"""

COW_MID_BIB = """@article{palmer_etal2022mid5,
  author = {Palmer, Glenn and McManus, Roseanne W. and D'Orazio, Vito and Kenwick, Michael R. and
            Karstens, Mikaela and Bloch, Chase and Dietrich, Nick and Kahn, Kayla and Ritter, Kellan and
            Soules, Michael J.},
  title = {The {MID5} Dataset, 2011--2014: Procedures, Coding Rules, and Description},
  journal = {Conflict Management and Peace Science},
  volume = {39},
  number = {4},
  pages = {470--482},
  year = {2022},
  doi = {10.1177/0738894221995743}
}"""

DYAD_COLS = ["dispnum", "ccode1", "ccode2", "year"]
DISP_COLS = ["dispnum", "styear", "stmon", "outcome", "settle", "fatality", "mindur", "maxdur", "hiact", "hostlev",
             "recip"]


def _numeric(frame: pd.DataFrame, keep_float: tuple[str, ...] = ()) -> pd.DataFrame:
    """peacesciencer's .rda exports hold codes as doubles: make whole-number columns nullable ints."""
    out = frame.copy()
    for col in out.columns:
        values = pd.to_numeric(out[col], errors="coerce")
        if values.notna().sum() == 0 and out[col].notna().any():
            continue  # a text column
        if col not in keep_float and ((values.dropna() % 1) == 0).all():
            out[col] = values.round().astype("Int32")
        else:
            out[col] = values
    return out


def _dyad_file(path: Path, prefix: str, last: int, ctx: IngestContext) -> tuple[pd.DataFrame, int]:
    """The non-directed dispute-year file, rows checked; (rows kept, rows read)."""
    frame, read = read_reference_csv(path, DYAD_COLS + [f"{prefix}midonset", f"{prefix}midongoing"], ctx,
                                     first=FIRST_YEAR, last=last, years={"year": True},
                                     key=["dispnum", "ccode1", "ccode2", "year"])
    frame = _numeric(frame)
    bad = frame[["ccode1", "ccode2"]].isna().any(axis=1) | (frame["ccode1"] == frame["ccode2"])
    for idx in frame.index[bad]:
        ctx.reject(path.name, int(idx) + 2, "ccode1/ccode2", f"{frame.at[idx, 'ccode1']}/{frame.at[idx, 'ccode2']}",
                   "missing state code, or a state in dispute with itself")
    frame = frame[~bad]
    # keep the non-directed convention ccode1 < ccode2 with per-state columns swapped along
    swap = frame["ccode1"] > frame["ccode2"]
    if swap.any():
        pairs = [(c[:-1] + "1", c[:-1] + "2") for c in frame.columns if c.endswith("1") and c[:-1] + "2" in frame]
        for a, b in pairs:
            frame.loc[swap, [a, b]] = frame.loc[swap, [b, a]].to_numpy()
    return frame.sort_values(["ccode1", "ccode2", "year", "dispnum"]).reset_index(drop=True), read


def _disputes(path: Path, last: int, ctx: IngestContext) -> tuple[pd.DataFrame, int]:
    """The dispute-level file, rows checked; (rows kept, rows read)."""
    frame, read = read_reference_csv(path, DISP_COLS, ctx, first=FIRST_YEAR, last=last, years={"styear": True},
                                     key=["dispnum"])
    return _numeric(frame).reset_index(drop=True), read


class GmlMid(Source):
    id = "gml_mid"
    title = "Gibler-Miller-Little Militarized Interstate Disputes 2.2.1"
    folder = "mid_conflict"
    version = "2.2.1"
    files = ("gml_mid_ddydisps.csv", "gml_mid_disps.csv")
    homepage = "https://internationalconflict.ua.edu/"
    terms = "Free for research use with citation (GML MID); peacesciencer's processed files are GPL-2 packaged."
    adds = ("MID onset and ongoing disputes per non-directed dyad-year 1816-2010 (GML 2.2.1): the outcome of "
            "`defdip model`.")
    citation = ("Gibler, D. M., S. V. Miller, and E. K. Little. 2016. An Analysis of the Militarized Interstate "
                "Dispute (MID) Dataset, 1816-2001. International Studies Quarterly 60(4): 719-730.")
    bibtex = GML_BIB
    citation_keys = ("gibler_miller_little2016",)
    coverage = (FIRST_YEAR, GML_LAST_YEAR)
    min_rows = 5000
    """Some 9,300 dispute-years and 2,200 disputes (and 5,200 participant rows)."""
    kind = "reference"

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        dyads, rows = _dyad_file(folder / "gml_mid_ddydisps.csv", "gml", GML_LAST_YEAR, ctx)
        disps, read = _disputes(folder / "gml_mid_disps.csv", GML_LAST_YEAR, ctx)
        tables = {"gml_mid_dyad_year": dyads, "gml_mid_disps": disps}
        rows += read
        part = folder / "gml_part.csv"
        if part.is_file():
            frame, read = read_reference_csv(part, ["dispnum", "ccode", "styear", "endyear", "sidea"], ctx,
                                             first=FIRST_YEAR, last=GML_LAST_YEAR,
                                             years={"styear": True, "endyear": True}, span=("styear", "endyear"))
            tables["gml_mid_part"] = _numeric(frame).reset_index(drop=True)
            rows += read
        return LoadResult(tables=tables, rows_read=rows,
                          accounted={"rows in tables": sum(len(t) for t in tables.values())})


class CowMid(Source):
    id = "cow_mid"
    title = "Correlates of War Militarized Interstate Disputes 5.0"
    folder = "mid_conflict"
    version = "5.0"
    files = ("cow_mid_ddydisps.csv", "cow_mid_disps.csv")
    homepage = "https://correlatesofwar.org/data-sets/mids/"
    terms = "COW data are free for research use with citation."
    adds = "COW MID 5.0 onset and ongoing disputes per non-directed dyad-year 1816-2014."
    citation = ("Palmer, G., et al. 2022. The MID5 Dataset, 2011-2014: Procedures, Coding Rules, and Description. "
                "Conflict Management and Peace Science 39(4): 470-482.")
    bibtex = COW_MID_BIB
    citation_keys = ("palmer_etal2022mid5",)
    coverage = (FIRST_YEAR, COW_LAST_YEAR)
    min_rows = 5000
    """Some 10,200 dispute-years and 2,400 disputes."""
    kind = "reference"

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        dyads, rows = _dyad_file(folder / "cow_mid_ddydisps.csv", "cow", COW_LAST_YEAR, ctx)
        disps, read = _disputes(folder / "cow_mid_disps.csv", COW_LAST_YEAR, ctx)
        return LoadResult(tables={"cow_mid_dyad_year": dyads, "cow_mid_disps": disps}, rows_read=rows + read,
                          accounted={"rows in tables": len(dyads) + len(disps)})


SOURCES = [CowMid(), GmlMid()]
