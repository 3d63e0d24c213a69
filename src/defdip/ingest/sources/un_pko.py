"""UN peacekeeping: personnel contributions (``un_pko``) and Geo-PKO deployment locations (``geopko``).

Both sources share the folder ``un_peacekeeping`` and code their engagements as activity
``contacts``, instrument ``deployment``, sub-activity ``peacekeeping``, with the United
Nations (polity ``un``) as ``organiser``; the AU-UN hybrid operation in Darfur (UNAMID)
has the African Union (``au``) as a second organiser.

``un_pko`` -- contributions by country, mission and year
    File ``un_pko_contributions_country_year_mission.csv`` (columns ``Year``, ``Country``,
    ``Mission``, ``Female``, ``Male``, ``Total``): the average monthly number of uniformed
    personnel a country had in a mission in a year, computed by a third party from the UN's
    open data on troop and police contributions
    (https://peacekeeping.un.org/en/data-troop-and-police-contributions), 2010-2021.

    * One engagement per contributor x mission x year with ``Total > 0``, id
      ``un_pko-<mission>-<year>-<contributor id>``; participants: the contributor
      (``contributor``), the UN (``organiser``) and the country or countries hosting the
      mission (``host``, from :data:`MISSIONS`, a table written for defdip).
    * Rows with ``Total == 0`` are a country listed for a mission it had nobody in that
      year: they are counted in ``rows_read`` but are not deployments, so they make no
      engagement and no row of the reference table (and are not quarantined).
    * ``Total`` may differ by one from ``Female + Male``: each is a rounded mean of monthly
      figures; the three are kept as given.
    * Quarantined: an exact duplicate row (the first is kept), a second row for the same
      country, mission and year with other figures, a year that is not a whole year between
      1948 and next year, a missing or negative personnel figure, and a row with more or fewer
      fields than the header (a truncated file).
      A contributor that does not resolve is counted in ``unresolved`` and its rows make no
      engagement (quarantined with the reason): a deployment without its contributor says
      nothing about defence relations.

    Reference table ``pko_contributions`` (one row per engagement): ``ccode`` (contributor,
    COW), ``year``, ``mission``, ``host_ccode`` (the mission's first host, null for regional
    offices and Western Sahara), ``total``, ``female``, ``male`` (mean monthly personnel).
    Panels build ``pko_codeployed`` from it: two states with personnel in the same mission in
    the same year.

``geopko`` -- Geo-PKO v2.3 location-year aggregates (Cil et al. 2020)
    Files ``geopko_v2.3_frontmap_location_year.csv`` (one or more rows per mission, year and
    deployment location: host ``country``, coordinates, troop counts ``NoTroops`` and their
    yearly mean ``ave.no.troops``, HQ type ``hq``, police, medical, aviation and observer
    flags) and ``geopko_v2.3_tccmap_location_year.csv`` (per location: ``No.TCC`` and
    ``year.overview``, a text list "Country (size)" of the troop contributors there).

    * One engagement per mission x year, id ``geopko-<mission>-<year>`` (spaces in mission
      names become ``-``): the UN (``organiser``), every host country of the year's
      locations (``host``; "Ethiopia/Eritrea" names both) and every contributor named in
      the year's overviews (``contributor``, with the summed unit sizes it is listed with and
      its number of locations). "TCC name unknown" and "Multinational" name no contributor
      and are counted in ``attributes["unnamed_contingents"]``; a few Geo-PKO spellings are
      mapped before resolving (:data:`GEOPKO_NAMES`).
    * A location's troops = its ``ave.no.troops`` (the mean over the year's reports), else
      the mean of its ``NoTroops`` values. Attributes: number of locations, troops at
      locations (sum), HQ locations, the largest ``No.TCC`` at one location, and the list of
      locations with coordinates and troops (the first :data:`MAX_LOCATIONS`, largest first).
    * Quarantined: rows with more or fewer fields than the header, exact duplicate rows,
      impossible years, coordinates outside the globe, and
      a mission-year none of whose hosts or contributors resolves.

    Reference table ``geopko_locations``: ``mission``, ``year``, ``host`` (Geo-PKO's country
    name), ``location``, ``latitude``, ``longitude``, ``troops`` -- one row per distinct
    location of a mission-year, for maps.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from defdip.core.dates import present_year
from defdip.core.model import Engagement
from defdip.ingest.sources.base import (
    IngestContext,
    LoadResult,
    Source,
    as_float,
    frame_records,
    frame_rows,
    impossible_year,
    quarantine_duplicates,
    quarantine_short_rows,
    quarantined_rows,
    read_csv_checked,
    slug,
    whole_year,
)

PKO_FILE = "un_pko_contributions_country_year_mission.csv"
FRONT_FILE = "geopko_v2.3_frontmap_location_year.csv"
TCC_FILE = "geopko_v2.3_tccmap_location_year.csv"

PKO_REQUIRED = ("Year", "Country", "Mission", "Female", "Male", "Total")
FRONT_REQUIRED = ("mission", "year", "country", "location", "latitude", "longitude", "NoTroops", "hq",
                  "ave.no.troops")
FRONT_FLAGS = ("UNPOL", "Med", "Av", "UNMO")
TCC_REQUIRED = ("mission", "year", "location", "latitude", "longitude", "No.TCC", "year.overview")

FIRST_YEAR = 1948
"""The first UN peacekeeping operation (UNTSO) began in 1948."""
MAX_LOCATIONS = 40
"""Locations listed in a Geo-PKO engagement's attributes (the reference table has them all)."""

MISSIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    # acronym: (name, host names as the registry knows them; the first is the main host)
    "BINUB": ("UN Integrated Office in Burundi", ("Burundi",)),
    "BNUB": ("UN Office in Burundi", ("Burundi",)),
    "BINUH": ("UN Integrated Office in Haiti", ("Haiti",)),
    "MINUJUSTH": ("UN Mission for Justice Support in Haiti", ("Haiti",)),
    "MINUSTAH": ("UN Stabilization Mission in Haiti", ("Haiti",)),
    "MINURCAT": ("UN Mission in the Central African Republic and Chad", ("Chad", "Central African Republic")),
    "MINURSO": ("UN Mission for the Referendum in Western Sahara", ("Western Sahara",)),
    "MINUSCA": ("UN Multidimensional Integrated Stabilization Mission in the Central African Republic",
                ("Central African Republic",)),
    "MINUSMA": ("UN Multidimensional Integrated Stabilization Mission in Mali", ("Mali",)),
    "MONUC": ("UN Organization Mission in the Democratic Republic of the Congo", ("DR Congo",)),
    "MONUSCO": ("UN Organization Stabilization Mission in the Democratic Republic of the Congo", ("DR Congo",)),
    "UNAMA": ("UN Assistance Mission in Afghanistan", ("Afghanistan",)),
    "UNAMI": ("UN Assistance Mission for Iraq", ("Iraq",)),
    "UNAMID": ("African Union-United Nations Hybrid Operation in Darfur", ("Sudan",)),
    "UNDOF": ("UN Disengagement Observer Force (Golan)", ("Syria", "Israel")),
    "UNFICYP": ("UN Peacekeeping Force in Cyprus", ("Cyprus",)),
    "UNIFIL": ("UN Interim Force in Lebanon", ("Lebanon",)),
    "UNIOGBIS": ("UN Integrated Peacebuilding Office in Guinea-Bissau", ("Guinea-Bissau",)),
    "UNISFA": ("UN Interim Security Force for Abyei", ("Sudan", "South Sudan")),
    "UNMC": ("UN Mission in Colombia", ("Colombia",)),
    "UNMHA": ("UN Mission to Support the Hudaydah Agreement", ("Yemen",)),
    "UNMIK": ("UN Interim Administration Mission in Kosovo", ("Kosovo",)),
    "UNMIL": ("UN Mission in Liberia", ("Liberia",)),
    "UNMIN": ("UN Mission in Nepal", ("Nepal",)),
    "UNMIS": ("UN Mission in the Sudan", ("Sudan",)),
    "UNMISS": ("UN Mission in the Republic of South Sudan", ("South Sudan",)),
    "UNMIT": ("UN Integrated Mission in Timor-Leste", ("Timor-Leste",)),
    "UNMOGIP": ("UN Military Observer Group in India and Pakistan", ("India", "Pakistan")),
    "UNOCI": ("UN Operation in Cote d'Ivoire", ("Cote d'Ivoire",)),
    "UNOWAS": ("UN Office for West Africa and the Sahel", ()),
    "UNSMIL": ("UN Support Mission in Libya", ("Libya",)),
    "UNSMIS": ("UN Supervision Mission in Syria", ("Syria",)),
    "UNSOM": ("UN Assistance Mission in Somalia", ("Somalia",)),
    "UNSOS": ("UN Support Office in Somalia", ("Somalia",)),
    "UNTSO": ("UN Truce Supervision Organization", ("Israel", "Egypt", "Lebanon", "Syria")),
    "UNVMC": ("UN Verification Mission in Colombia", ("Colombia",)),
}
"""Missions of the contributions file: full name and host countries (defdip's own table).

UNOWAS is a regional office (West Africa and the Sahel) and has no single host; UNTSO's
observers serve in the four states around Israel's armistice lines; UNDOF patrols the Golan
separation area between Israel and Syria; UNISFA's Abyei area is claimed by both Sudans.
"""

CO_ORGANISERS = {"UNAMID": "au"}
"""Missions run jointly with another organisation (polity id)."""

GEOPKO_NAMES = {"Drc": "DR Congo", "Korea": "South Korea", "Korea (ROK)": "South Korea", "Us": "United States"}
"""Geo-PKO spellings that the registry would read otherwise (Geo-PKO's "Korea" is South Korea)."""
GEOPKO_UNNAMED = {"tcc name unknown", "multinational", "un"}
"""Overview entries that name no contributing state ("Un": UN units without a national contingent)."""


def tidy_number(value: float | None) -> int | float | None:
    """3.0 -> 3 for JSON attributes; fractions kept."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(float(value), 2)


def read_checked(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """Read one CSV (UTF-8 or cp1252) as stripped text cells and check its header."""
    frame = read_csv_checked(path, required, dtype=str, keep_default_na=False)
    return frame.apply(lambda col: col.str.strip())


def organisers(ctx: IngestContext, mission: str) -> list[dict[str, Any]]:
    out = []
    for pid in ("un", CO_ORGANISERS.get(mission)):
        if pid:
            polity = ctx.registry.get(pid)
            out.append({"id": polity.id, "name": polity.name, "role": "organiser", "ccode": polity.ccode})
    return out


# ----------------------------------------------------------------------------------------------- un_pko

class UNPeacekeepingContributions(Source):
    id = "un_pko"
    title = "UN peacekeeping troop and police contributions by country, mission and year"
    folder = "un_peacekeeping"
    version = "2010-2021 country-mission-year means (UN open data)"
    files = (PKO_FILE,)
    downloads = ()
    homepage = "https://peacekeeping.un.org/en/data-troop-and-police-contributions"
    terms = ("UN open data: free to use with attribution to the United Nations Department of Peace Operations. "
             "The yearly means by country and mission were computed by a third party (corinnee/"
             "UN_Peacekeeping_Analytics, MIT licence) from the UN's monthly files; the UN publishes monthly "
             "spreadsheets, not this file, so it is placed in the folder by hand.")
    adds = ("Which countries had uniformed personnel in which UN missions each year 2010-2021 (mean monthly "
            "personnel, female and male), with the mission's host: the peacekeeping sub-activity as "
            "contributor-UN-host engagements.")
    citation = ("United Nations Department of Peace Operations. Troop and police contributions (open data), "
                "https://peacekeeping.un.org/en/data-troop-and-police-contributions; yearly means by country "
                "and mission, 2010-2021.")
    bibtex = """@misc{un_dpo_contributions,
  author       = {{United Nations Department of Peace Operations}},
  title        = {Troop and Police Contributions},
  howpublished = {Open data, \\url{https://peacekeeping.un.org/en/data-troop-and-police-contributions}},
  year         = {2021},
  note         = {Monthly uniformed personnel by contributing country, mission and gender; used as yearly means
                  by country and mission, 2010--2021}
}"""
    citation_keys = ("un_dpo_contributions",)
    coverage = (2010, 2021)
    min_rows = 10000
    """The file has some 57,000 country-mission-years."""

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        path = Path(folder) / PKO_FILE
        frame = read_checked(path, PKO_REQUIRED)
        result = LoadResult(rows_read=len(frame))
        frame = quarantine_short_rows(frame, path, ctx)
        frame = quarantine_duplicates(frame, list(frame.columns), PKO_FILE, ctx, show=["Year", "Country", "Mission"])
        seen: dict[tuple[int, str, str], int] = {}
        table = []
        # most of the ~57,000 rows are a country listed with nobody deployed: the cells are read through
        # per-value lookups (the file has few distinct years and figures) rather than cell by cell
        columns = ("Year", "Country", "Mission", "Total", "Female", "Male")
        cells = {c: frame[c].to_numpy(dtype=object).tolist() for c in columns}
        year_of = {v: whole_year(v, FIRST_YEAR, present_year()) for v in set(cells["Year"])}
        nobody = 0
        number_of = {v: as_float(v) for c in ("Total", "Female", "Male") for v in set(cells[c])}
        for idx, *raw in zip(frame.index.tolist(), *cells.values()):
            row = dict(zip(columns, raw))
            line = int(idx) + 2
            year = year_of[row["Year"]]
            if year is None:
                ctx.reject(PKO_FILE, line, "Year", row["Year"],
                           impossible_year(row["Year"], FIRST_YEAR, present_year()))
                continue
            country, mission = row["Country"], row["Mission"].upper()
            if not country or not mission:
                field = "Country" if not country else "Mission"
                ctx.reject(PKO_FILE, line, field, "", f"row without a {field.lower()}")
                continue
            figures = {k: number_of[row[k]] for k in ("Total", "Female", "Male")}
            bad = next((k for k, v in figures.items() if v is None or v < 0), None)
            if bad:
                ctx.reject(PKO_FILE, line, bad, row[bad],
                           f"{bad} is {'missing' if figures[bad] is None else 'negative'} (truncated row?)")
                continue
            key = (year, country, mission)
            if key in seen:
                ctx.reject(PKO_FILE, line, "Year+Country+Mission", f"{year}/{country}/{mission}",
                           f"conflicting duplicate: line {seen[key]} has the same country, mission and year with "
                           f"other figures; kept the first")
                continue
            seen[key] = line
            if figures["Total"] == 0:
                nobody += 1
                continue  # listed, but nobody deployed that year: not a deployment
            contributor = ctx.resolve(country, year)
            if contributor is None:
                ctx.reject(PKO_FILE, line, "Country", country,
                           f"contributor {country!r} does not resolve to a known polity in {year}")
                continue
            host_list = [ctx.resolve(name, year) for name in MISSIONS.get(mission, ("", ()))[1]]
            hosts = [h for h in host_list if h is not None and h.id != contributor.id]
            name = MISSIONS.get(mission, (mission, ()))[0]
            participants = [{"id": contributor.id, "name": country, "role": "contributor",
                             "ccode": contributor.ccode}]
            participants += organisers(ctx, mission)
            participants += [{"id": h.id, "name": h.name, "role": "host", "ccode": h.ccode} for h in hosts]
            total, female, male = (tidy_number(figures[k]) for k in ("Total", "Female", "Male"))
            attributes = {
                "mission": mission, "mission_name": name, "personnel_total": total,
                "personnel_female": female, "personnel_male": male,
                "measure": "mean monthly uniformed personnel in the year",
                "host": [h.id for h in hosts] if hosts else None,
            }
            if mission not in MISSIONS:
                attributes["note"] = "mission not in defdip's mission table: host unknown"
            data = {
                "id": f"un_pko-{mission.lower()}-{year}-{contributor.id}",
                "title": f"{country} in {mission}, {year} ({total} personnel)",
                "summary": f"{country} contributed on average {total} uniformed personnel ({female} women, "
                           f"{male} men) a month to the {name} in {year}.",
                "activity": "contacts", "sub_activities": ["peacekeeping"], "instrument": "deployment",
                "start_year": year, "end_year": year, "precision": "year",
                "participants": participants, "attributes": attributes,
                "provenance": [self.provenance(f"{year}/{country}/{mission}")],
            }
            eng = ctx.engagement(data, PKO_FILE, line)
            if eng is None:
                continue
            result.engagements.append(eng)
            host_main = host_list[0] if host_list else None
            table.append({"ccode": contributor.ccode, "year": year, "mission": mission,
                          "host_ccode": host_main.ccode if host_main is not None else None,
                          "total": figures["Total"], "female": figures["Female"], "male": figures["Male"]})
        pko = pd.DataFrame(table, columns=["ccode", "year", "mission", "host_ccode", "total", "female", "male"])
        for col in ("ccode", "year", "host_ccode"):
            pko[col] = pko[col].astype("Int64")
        for col in ("total", "female", "male"):
            pko[col] = pko[col].astype("float64")
        result.tables = {"pko_contributions": pko}
        result.accounted = {"kept": len(result.engagements), "listed with nobody deployed": nobody}
        return result


# ----------------------------------------------------------------------------------------------- geopko

_OVERVIEW_MARKS = re.compile(r"[(),]")


def parse_overview(text: str) -> list[tuple[str, int | None]]:
    """'India (150), Korea (ROK) (size unknown)' -> [('India', 150), ('Korea (ROK)', None)].

    Entries are split at commas outside parentheses; the last parenthesised group of an
    entry is its unit size (digits, else unknown).
    """
    text = text or ""
    items, depth, start = [], 0, 0
    for mark in _OVERVIEW_MARKS.finditer(text):  # only commas and parentheses matter
        char = mark.group()
        if char == ",":
            if depth == 0:
                items.append(text[start:mark.start()])
                start = mark.end()
            continue
        depth = max(depth + (1 if char == "(" else -1), 0)
    items.append(text[start:])
    out = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        match = re.fullmatch(r"(.*?)\s*\(([^()]*)\)", item)
        name, size = (match.group(1).strip(), match.group(2).strip().replace(",", "")) if match else (item, "")
        if not name:
            continue
        out.append((name, int(size) if size.isdigit() else None))
    return out


class GeoPKO(Source):
    id = "geopko"
    title = "Geo-PKO v2.3: UN peacekeeping deployments by location and year"
    folder = "un_peacekeeping"
    version = "2.3 (location-year aggregates)"
    files = (FRONT_FILE, TCC_FILE)
    downloads = ()
    homepage = "https://pcr.uu.se/data/geo-pko"
    terms = ("Free for research with citation of Cil et al. (2020); distributed by the Department of Peace and "
             "Conflict Research, Uppsala University. The two files are the location-year aggregates the Geo-PKO "
             "team publish with their dashboard (GitHub geopko/Geo-PKO-Shiny-Dashboard, GPL-2); the official "
             "site offers the full monthly file, which this loader does not read.")
    adds = ("Where UN peacekeepers were deployed 1994-2024: mission-years with host countries, named troop "
            "contributors, locations, coordinates and troop numbers (a map table for every location).")
    citation = ("Cil, Deniz, Hanne Fjelde, Lisa Hultman, and Desirée Nilsson. 2020. \"Mapping Blue Helmets: "
                "Introducing the Geocoded Peacekeeping Operations (Geo-PKO) Dataset.\" Journal of Peace Research "
                "57(2): 360-370.")
    bibtex = """@article{cil_geopko_2020,
  author  = {Cil, Deniz and Fjelde, Hanne and Hultman, Lisa and Nilsson, Desir{\\'e}e},
  title   = {Mapping Blue Helmets: Introducing the {Geocoded Peacekeeping Operations (Geo-PKO)} Dataset},
  journal = {Journal of Peace Research},
  year    = {2020},
  volume  = {57},
  number  = {2},
  pages   = {360--370},
  doi     = {10.1177/0022343319871978},
  note    = {Data: Geo-PKO version 2.3, \\url{https://pcr.uu.se/data/geo-pko}}
}"""
    citation_keys = ("cil_geopko_2020",)
    coverage = (1994, 2024)
    min_rows = 2000
    """The two location-year files have some 7,400 and 4,000 rows."""

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        folder = Path(folder)
        front = read_checked(folder / FRONT_FILE, FRONT_REQUIRED)
        tcc = read_checked(folder / TCC_FILE, TCC_REQUIRED)
        result = LoadResult(rows_read=len(front) + len(tcc))
        front = quarantine_short_rows(front, folder / FRONT_FILE, ctx)
        tcc = quarantine_short_rows(tcc, folder / TCC_FILE, ctx)
        where = ["mission", "year", "location"]
        front = quarantine_duplicates(front, list(front.columns), FRONT_FILE, ctx, show=where)
        tcc = quarantine_duplicates(tcc, list(tcc.columns), TCC_FILE, ctx, show=where)
        front = self._valid_rows(front, FRONT_FILE, ctx)
        tcc = self._valid_rows(tcc, TCC_FILE, ctx)

        locations = self._locations(front)
        by_key_loc: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for loc in locations:
            by_key_loc.setdefault((loc["mission"], loc["year"]), []).append(loc)
        by_key_tcc: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for row in frame_records(tcc):
            by_key_tcc.setdefault((row["mission"], row["year"]), []).append(row)
        first_line: dict[tuple[str, int], tuple[str, int]] = {}
        for file, frame in ((TCC_FILE, tcc), (FRONT_FILE, front)):
            for idx, m, y in zip(frame.index, frame["mission"], frame["year"]):
                first_line[(m, y)] = (file, int(idx) + 2)

        valid = len(front) + len(tcc)
        row_stage = quarantined_rows(ctx)
        for key in sorted(set(by_key_loc) | set(by_key_tcc)):
            eng = self._engagement(key, by_key_loc.get(key, []), by_key_tcc.get(key, []), first_line[key], ctx)
            if eng is not None:
                result.engagements.append(eng)
        # rows are aggregated into mission-years; one quarantined whole is quarantined at one of its rows
        result.accounted = {"rows aggregated into mission-years": valid - (quarantined_rows(ctx) - row_stage)}
        table = pd.DataFrame(
            [{k: loc[k] for k in ("mission", "year", "host", "location", "latitude", "longitude", "troops")}
             for loc in locations],
            columns=["mission", "year", "host", "location", "latitude", "longitude", "troops"])
        table["year"] = table["year"].astype("Int64")
        for col in ("latitude", "longitude", "troops"):
            table[col] = table[col].astype("float64")
        result.tables = {"geopko_locations": table}
        return result

    @staticmethod
    def _valid_rows(frame: pd.DataFrame, file: str, ctx: IngestContext) -> pd.DataFrame:
        keep = []
        years = []
        for idx, row in zip(frame.index, frame_records(frame)):
            line = int(idx) + 2
            year = whole_year(row["year"], FIRST_YEAR, present_year())
            if year is None:
                ctx.reject(file, line, "year", row["year"], impossible_year(row["year"], FIRST_YEAR, present_year()))
                continue
            if not row["mission"]:
                ctx.reject(file, line, "mission", "", "row without a mission")
                continue
            lat, lon = as_float(row["latitude"]), as_float(row["longitude"])
            if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
                field = "latitude" if lat is None or abs(lat) > 90 else "longitude"
                ctx.reject(file, line, field, row[field], "missing or impossible coordinates (truncated row?)")
                continue
            keep.append(idx)
            years.append(year)
        out = frame.loc[keep].copy()
        out["year"] = years
        out["latitude"] = out["latitude"].astype(float)
        out["longitude"] = out["longitude"].astype(float)
        return out

    @staticmethod
    def _locations(front: pd.DataFrame) -> list[dict[str, Any]]:
        """One record per distinct location of a mission-year (several report rows merged).

        Sorted by mission, year, country, location and coordinates; within a location the report rows keep
        their file order. (One pass over the rows: pandas' groupby costs more per group than the work itself.)
        """
        keys = ["mission", "year", "country", "location", "latitude", "longitude"]
        flag_cols = [f for f in FRONT_FLAGS if f in front.columns]
        groups: dict[tuple[Any, ...], list[list[Any]]] = {}
        for row in frame_rows(front, [*keys, "ave.no.troops", "NoTroops", "hq", *flag_cols]):
            key = row[:6]
            cells = groups.get(key)
            if cells is None:
                cells = groups[key] = [[] for _ in range(3 + len(flag_cols))]
            for values, value in zip(cells, row[6:]):
                values.append(value)
        out = []
        for key in sorted(groups):
            mission, year, country, location, lat, lon = key
            ave_cells, count_cells, hq_cells, *flag_cells = groups[key]
            ave = [v for v in (as_float(x) for x in ave_cells) if v is not None]
            counts = [v for v in (as_float(x) for x in count_cells) if v is not None]
            troops = ave[0] if ave else (sum(counts) / len(counts) if counts else None)
            hq = max((as_float(x) or 0 for x in hq_cells), default=0)
            flags = {f.lower(): bool(max((as_float(x) or 0 for x in cells), default=0))
                     for f, cells in zip(flag_cols, flag_cells)}
            out.append({"mission": mission, "year": int(year), "host": country, "location": location,
                        "latitude": float(lat), "longitude": float(lon),
                        "troops": round(troops, 1) if troops is not None else None, "hq": int(hq), **flags})
        return out

    def _engagement(self, key: tuple[str, int], locations: list[dict[str, Any]], tcc_rows: list[dict[str, Any]],
                    where: tuple[str, int], ctx: IngestContext) -> Engagement | None:
        mission, year = key
        file, line = where
        participants = organisers(ctx, mission)
        unresolved: list[str] = []
        resolved = 0
        host_names: list[str] = []
        for loc in locations:
            for name in (n.strip() for n in str(loc["host"]).split("/")):
                if name and name not in host_names:
                    host_names.append(name)
        host_ids = set()
        for name in host_names:
            polity = ctx.resolve(name, year)
            if polity is None:
                unresolved.append(f"host: {name}")
                continue
            resolved += 1
            if polity.id not in host_ids:
                host_ids.add(polity.id)
                participants.append({"id": polity.id, "name": polity.name, "role": "host", "ccode": polity.ccode,
                                     "attributes": {"geopko_name": name}})
        contributors: dict[str, dict[str, Any]] = {}
        unnamed = 0
        for row in tcc_rows:
            for name, size in parse_overview(row["year.overview"]):
                if name.lower() in GEOPKO_UNNAMED:
                    unnamed += 1
                    continue
                entry = contributors.setdefault(name, {"locations": 0, "troops": 0, "sizes_unknown": 0})
                entry["locations"] += 1
                if size is None:
                    entry["sizes_unknown"] += 1
                else:
                    entry["troops"] += size
        contributor_ids: dict[str, dict[str, Any]] = {}
        for name, entry in contributors.items():
            polity = ctx.resolve(GEOPKO_NAMES.get(name, name), year)
            if polity is None:
                unresolved.append(f"contributor: {name}")
                continue
            resolved += 1
            part = contributor_ids.get(polity.id)
            if part is None:
                contributor_ids[polity.id] = {"id": polity.id, "name": polity.name, "role": "contributor",
                                              "ccode": polity.ccode,
                                              "attributes": {"geopko_name": name, "locations": entry["locations"],
                                                             "listed_troops": entry["troops"],
                                                             "units_of_unknown_size": entry["sizes_unknown"]}}
            else:  # two Geo-PKO spellings of one country: add them up
                for k, field in (("locations", "locations"), ("listed_troops", "troops"),
                                 ("units_of_unknown_size", "sizes_unknown")):
                    part["attributes"][k] += entry[field]
        participants += list(contributor_ids.values())
        if not resolved:
            names = ", ".join(host_names + list(contributors)) or "none"
            ctx.reject(file, line, "country" if file == FRONT_FILE else "year.overview", names,
                       f"{mission} {year}: no host or contributor resolves to a known polity (names: {names})")
            return None

        troops = [loc["troops"] for loc in locations if loc["troops"] is not None]
        ordered = sorted(locations, key=lambda loc: (-(loc["troops"] or 0), loc["location"]))
        max_tcc = max((int(as_float(r["No.TCC"]) or 0) for r in tcc_rows), default=None)
        attributes: dict[str, Any] = {
            "mission": mission,
            "mission_name": MISSIONS.get(mission, (None, ()))[0],
            "n_locations": len(locations),
            "troops_at_locations": tidy_number(round(sum(troops), 1)) if troops else None,
            "n_hq_locations": sum(1 for loc in locations if loc["hq"] > 0),
            "max_tcc_at_location": max_tcc,
            "n_contributors_named": len(contributor_ids),
            "unnamed_contingents": unnamed,
            "locations": [{"location": loc["location"], "host": loc["host"], "lat": round(loc["latitude"], 5),
                           "lon": round(loc["longitude"], 5), "troops": tidy_number(loc["troops"]),
                           "hq": loc["hq"]} for loc in ordered[:MAX_LOCATIONS]],
            "locations_truncated": len(locations) > MAX_LOCATIONS,
        }
        if not locations:
            attributes["note"] = "listed in the contributor map only (no location rows in the front map)"
        if unresolved:
            attributes["unresolved"] = unresolved
        hosts_text = ", ".join(p["name"] for p in participants if p["role"] == "host") or "unknown host"
        data = {
            "id": f"geopko-{slug(mission)}-{year}",
            "title": f"{mission} deployments in {year} ({hosts_text})",
            "summary": (f"{mission} had {len(locations)} deployment location(s) in {year}"
                        + (f" with about {attributes['troops_at_locations']} troops" if sum(troops) > 0 else "")
                        + (f"; {len(contributor_ids)} named troop contributor(s)" if contributor_ids else "") + "."),
            "activity": "contacts", "sub_activities": ["peacekeeping"], "instrument": "deployment",
            "start_year": year, "end_year": year, "precision": "year",
            "participants": participants, "attributes": attributes,
            "provenance": [self.provenance(f"{mission}/{year}")],
        }
        return ctx.engagement(data, file, line)


SOURCES = [UNPeacekeepingContributions(), GeoPKO()]
