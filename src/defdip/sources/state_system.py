"""State-system reference tables: COW state list, system membership, major powers; Gleditsch-Ward states.

These tables are the population that panels are built on (``defdip.panels``). They add no
engagements. Files (COW v2016, as distributed by the Correlates of War Project):

* ``cow_states2016.csv`` -- COW ``states2016.csv`` (one row per membership spell);
* ``system2016.csv``     -- COW state-years 1816-2016;
* ``majors2016.csv``     -- COW major-power spells;
* ``gw_states.csv``      -- Gleditsch & Ward's independent states (peacesciencer's CSV with ISO
  ``startdate``/``enddate``); Gleditsch's own ``iisystem.dat`` (tab-separated, dd:mm:yyyy dates)
  is read instead when the CSV is absent;
* ``cow_capitals.csv`` / ``gw_capitals.csv`` (optional) -- capitals compiled for peacesciencer.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from defdip.errors import SourceFormatError
from defdip.sources.base import Download, IngestContext, LoadResult, Source, read_text_csv, require_columns

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


def _read_gw(folder: Path) -> pd.DataFrame | None:
    """Gleditsch-Ward states from peacesciencer's CSV or from Gleditsch's iisystem.dat."""
    csv, dat = folder / "gw_states.csv", folder / "iisystem.dat"
    if csv.is_file():
        frame = read_text_csv(csv)
        require_columns(frame, ["gwcode", "stateabb", "statename", "startdate", "enddate"], csv)
    elif dat.is_file():
        frame = pd.read_csv(dat, sep="\t", header=None, encoding="latin-1",
                            names=["gwcode", "stateabb", "statename", "startdate", "enddate"])
        for col in ("startdate", "enddate"):
            frame[col] = pd.to_datetime(frame[col].astype(str).str.strip(), format="%d:%m:%Y",
                                        errors="coerce").dt.strftime("%Y-%m-%d")
    else:
        return None
    start = pd.to_datetime(frame["startdate"], errors="coerce")
    end = pd.to_datetime(frame["enddate"], errors="coerce")
    if start.isna().any() or end.isna().any():
        raise SourceFormatError(f"{csv if csv.is_file() else dat}: unreadable start/end dates")
    out = pd.DataFrame({
        "gwcode": pd.to_numeric(frame["gwcode"]).astype("Int32"),
        "stateabb": frame["stateabb"].astype(str).str.strip(),
        "statename": frame["statename"].astype(str).str.strip(),
        "startdate": start.dt.strftime("%Y-%m-%d"), "enddate": end.dt.strftime("%Y-%m-%d"),
        "start_year": start.dt.year.astype("Int32"), "end_year": end.dt.year.astype("Int32"),
    })
    return out


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

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        tables: dict[str, pd.DataFrame] = {}
        rows = 0

        path = folder / "cow_states2016.csv"
        states = read_text_csv(path)
        cols = ["stateabb", "ccode", "statenme", "styear", "stmonth", "stday", "endyear", "endmonth", "endday"]
        require_columns(states, cols, path)
        states = _int_cols(states[cols].copy(), cols[1:2] + cols[3:])
        states["stateabb"] = states["stateabb"].astype(str).str.strip()
        tables["cow_states"] = states
        rows += len(states)

        path = folder / "system2016.csv"
        system = read_text_csv(path)
        require_columns(system, ["stateabb", "ccode", "year"], path)
        system = _int_cols(system[["stateabb", "ccode", "year"]].copy(), ["ccode", "year"])
        bad = system["ccode"].isna() | system["year"].isna()
        for idx in system.index[bad]:
            ctx.reject(path.name, int(idx) + 2, "ccode/year", system.loc[idx, "ccode"], "missing code or year")
        system = system[~bad].drop_duplicates(["ccode", "year"]).sort_values(["year", "ccode"])
        tables["cow_system"] = system.reset_index(drop=True)
        rows += len(system)

        path = folder / "majors2016.csv"
        majors = read_text_csv(path)
        cols = ["stateabb", "ccode", "styear", "stmonth", "stday", "endyear", "endmonth", "endday"]
        require_columns(majors, cols, path)
        tables["cow_majors"] = _int_cols(majors[cols].copy(), cols[1:])
        rows += len(majors)

        gw = _read_gw(folder)
        if gw is not None:
            tables["gw_states"] = gw
            rows += len(gw)
        for name, code in (("cow_capitals", "ccode"), ("gw_capitals", "gwcode")):
            path = folder / f"{name}.csv"
            if path.is_file():
                caps = read_text_csv(path)
                require_columns(caps, [code, "capital", "stdate", "enddate", "lat", "lng"], path)
                tables[name] = _int_cols(caps, [code])
                rows += len(caps)
        return LoadResult(tables=tables, rows_read=rows)


SOURCES = [StateSystem()]
