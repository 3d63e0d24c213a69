"""State-system reference tables: COW state list, system membership, major powers; Gleditsch-Ward states.

These tables are the population that panels are built on (``defdip.analysis.panels``). They add no
engagements. Files (COW v2016, as distributed by the Correlates of War Project):

* ``cow_states2016.csv`` -- COW ``states2016.csv`` (one row per membership spell);
* ``system2016.csv``     -- COW state-years 1816-2016;
* ``majors2016.csv``     -- COW major-power spells;
* ``gw_states.csv``      -- Gleditsch & Ward's independent states (peacesciencer's CSV with ISO
  ``startdate``/``enddate``); Gleditsch's own ``iisystem.dat`` (tab-separated, dd:mm:yyyy dates)
  is read instead when the CSV is absent;
* ``cow_capitals.csv`` / ``gw_capitals.csv`` (optional) -- capitals compiled for peacesciencer.

Every row is checked (:func:`defdip.ingest.sources.base.read_reference_csv`): a row with more or fewer
fields than the header, a year outside 1816 to the list's last year (2016 for COW, 2017 for G-W,
this year for the capitals), a spell ending before it starts and a repeated state-year or spell
are quarantined with line and field, never silently dropped.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from defdip.core.dates import present_year
from defdip.ingest.sources.base import (
    Download,
    IngestContext,
    LoadResult,
    Source,
    quarantine_reversed,
    quarantine_years,
    read_reference_csv,
)

FIRST_YEAR = 1816
"""Both state lists begin in 1816."""

COW_LAST_YEAR = 2016
"""COW's v2016 files end in 2016."""

GW_LAST_YEAR = 2017
"""peacesciencer's Gleditsch-Ward list runs to 2017-12-31."""

COW_BIB = """@misc{cow_states2016,
  author = {{Correlates of War Project}},
  title = {State System Membership List, v2016},
  year = {2017},
  howpublished = {\\url{https://correlatesofwar.org/data-sets/state-system-membership/}}
}
@article{gleditsch_ward1999,
  author = {Gleditsch, Kristian S. and Ward, Michael D.},
  title = {A Revised List of Independent States since the {Congress of Vienna}},
  journal = {International Interactions},
  volume = {25},
  number = {4},
  pages = {393--413},
  year = {1999},
  doi = {10.1080/03050629908434958}
}
@article{miller2022peacesciencer,
  author = {Miller, Steven V.},
  title = {peacesciencer: An {R} Package for Quantitative Peace Science Research},
  journal = {Conflict Management and Peace Science},
  volume = {39},
  number = {6},
  pages = {755--779},
  year = {2022},
  doi = {10.1177/07388942221077926}
}"""


def _int_cols(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    for col in columns:
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").round().astype("Int32")
    return frame


def _read_gw(folder: Path, ctx: IngestContext) -> tuple[pd.DataFrame, int] | None:
    """Gleditsch-Ward states from peacesciencer's CSV or from Gleditsch's iisystem.dat; (rows kept, rows read)."""
    csv, dat = folder / "gw_states.csv", folder / "iisystem.dat"
    if csv.is_file():
        frame, read = read_reference_csv(csv, ["gwcode", "stateabb", "statename", "startdate", "enddate"], ctx,
                                         first=FIRST_YEAR, last=GW_LAST_YEAR, dates=("startdate", "enddate"),
                                         span=("startdate", "enddate"), key=["gwcode", "startdate"])
    elif dat.is_file():
        frame = pd.read_csv(dat, sep="\t", header=None, encoding="latin-1",
                            names=["gwcode", "stateabb", "statename", "startdate", "enddate"])
        read = len(frame)
        for col in ("startdate", "enddate"):
            parsed = pd.to_datetime(frame[col].astype(str).str.strip(), format="%d:%m:%Y", errors="coerce")
            frame[col] = parsed.dt.strftime("%Y-%m-%d")
        years = frame.assign(startdate=pd.to_datetime(frame["startdate"]).dt.year,
                             enddate=pd.to_datetime(frame["enddate"]).dt.year)
        years = quarantine_years(years, {"startdate": True, "enddate": True}, FIRST_YEAR, GW_LAST_YEAR, dat.name,
                                 ctx, line=lambda idx: int(idx) + 1)
        years = quarantine_reversed(years, "startdate", "enddate", dat.name, ctx, line=lambda idx: int(idx) + 1)
        frame = frame.loc[years.index]
    else:
        return None
    start = pd.to_datetime(frame["startdate"])
    end = pd.to_datetime(frame["enddate"])
    out = pd.DataFrame({
        "gwcode": pd.to_numeric(frame["gwcode"], errors="coerce").astype("Int32"),
        "stateabb": frame["stateabb"].astype(str).str.strip(),
        "statename": frame["statename"].astype(str).str.strip(),
        "startdate": start.dt.strftime("%Y-%m-%d"), "enddate": end.dt.strftime("%Y-%m-%d"),
        "start_year": start.dt.year.astype("Int32"), "end_year": end.dt.year.astype("Int32"),
    })
    return out.reset_index(drop=True), read


class StateSystem(Source):
    id = "state_system"
    title = "COW State System Membership v2016 and Gleditsch-Ward independent states"
    folder = "state_system"
    version = "COW 2016; GW 2017"
    files = ("cow_states2016.csv", "system2016.csv", "majors2016.csv")
    downloads = (
        Download("https://correlatesofwar.org/wp-content/uploads/states2016.csv", "cow_states2016.csv"),
        Download("https://correlatesofwar.org/wp-content/uploads/system2016.csv", "system2016.csv"),
        Download("https://correlatesofwar.org/wp-content/uploads/majors2016.csv", "majors2016.csv"),
        Download("http://ksgleditsch.com/data/iisystem.dat", "iisystem.dat"),
    )
    homepage = "https://correlatesofwar.org/data-sets/state-system-membership/"
    terms = "COW data are free for research use with citation; Gleditsch-Ward list free with citation."
    adds = "The state system (COW state-years 1816-2016, major powers, Gleditsch-Ward states) that panels build on."
    citation = ("Correlates of War Project. 2017. State System Membership List, v2016. "
                "Gleditsch, K. S., and M. D. Ward. 1999. A Revised List of Independent States since the "
                "Congress of Vienna. International Interactions 25(4): 393-413.")
    bibtex = COW_BIB
    citation_keys = ("cow_states2016", "gleditsch_ward1999")
    kind = "reference"

    coverage = (FIRST_YEAR, GW_LAST_YEAR)
    min_rows = 10000
    """system2016 alone has some 16,000 state-years."""

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        tables: dict[str, pd.DataFrame] = {}
        rows = kept = 0
        cols = ["stateabb", "ccode", "statenme", "styear", "stmonth", "stday", "endyear", "endmonth", "endday"]
        states, read = read_reference_csv(folder / "cow_states2016.csv", cols, ctx, first=FIRST_YEAR,
                                          last=COW_LAST_YEAR, years={"styear": True, "endyear": True},
                                          span=("styear", "endyear"), key=["ccode", "styear", "stmonth", "stday"])
        states = _int_cols(states[cols].copy(), cols[1:2] + cols[3:])
        states["stateabb"] = states["stateabb"].astype(str).str.strip()
        tables["cow_states"] = states.reset_index(drop=True)
        rows, kept = rows + read, kept + len(states)

        system, read = read_reference_csv(folder / "system2016.csv", ["stateabb", "ccode", "year"], ctx,
                                          first=FIRST_YEAR, last=COW_LAST_YEAR, years={"year": True},
                                          key=["ccode", "year"])
        system = _int_cols(system[["stateabb", "ccode", "year"]].copy(), ["ccode", "year"])
        bad = system["ccode"].isna()
        for idx in system.index[bad]:
            ctx.reject("system2016.csv", int(idx) + 2, "ccode", "", "missing state code")
        system = system[~bad].sort_values(["year", "ccode"])
        tables["cow_system"] = system.reset_index(drop=True)
        rows, kept = rows + read, kept + len(system)

        cols = ["stateabb", "ccode", "styear", "stmonth", "stday", "endyear", "endmonth", "endday"]
        majors, read = read_reference_csv(folder / "majors2016.csv", cols, ctx, first=FIRST_YEAR,
                                          last=COW_LAST_YEAR, years={"styear": True, "endyear": True},
                                          span=("styear", "endyear"))
        tables["cow_majors"] = _int_cols(majors[cols].copy(), cols[1:]).reset_index(drop=True)
        rows, kept = rows + read, kept + len(majors)

        gw = _read_gw(folder, ctx)
        if gw is not None:
            tables["gw_states"] = gw[0]
            rows, kept = rows + gw[1], kept + len(gw[0])
        for name, code in (("cow_capitals", "ccode"), ("gw_capitals", "gwcode")):
            path = folder / f"{name}.csv"
            if path.is_file():
                caps, read = read_reference_csv(path, [code, "capital", "stdate", "enddate", "lat", "lng"], ctx,
                                                first=FIRST_YEAR, last=present_year(), dates=("stdate", "enddate"),
                                                span=("stdate", "enddate"))
                tables[name] = _int_cols(caps, [code]).reset_index(drop=True)
                rows, kept = rows + read, kept + len(caps)
        return LoadResult(tables=tables, rows_read=rows, accounted={"rows in tables": kept})


SOURCES = [StateSystem()]
