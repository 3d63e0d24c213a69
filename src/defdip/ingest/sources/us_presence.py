"""US military presence abroad: troop deployments 1950-2023 and overseas bases (Allen, Flynn & Machain).

Files ``troopdata.csv`` (country-year: ``countryname``, ``ccode``, ``iso3c``, ``year``,
``troops``, ``army``, ``navy``, ``air_force``, ``marine_corps``, ``region``,
``space_force``, ``coast_guard``; ``NA`` = missing) and ``basedata.csv`` (one row per
facility: ``countryname``, ``ccode``, ``iso3c``, ``basename``, ``lat``, ``lon`` and the 0/1
columns ``base``, ``lilypad`` and ``fundedsite``; Windows-1252 text). Both come from the
troopdata project (Allen, Flynn & Machain 2022; bases after Vine 2015).

Engagements (activity ``contacts``, instrument ``military_presence``; the United States is
the ``sender``, the host country the ``host``):

* **Troop spells** -- one engagement per host and continuous spell of years with troops
  > 0, id ``us_presence-troops-<host id>-<first year>``, not one per year. The yearly series
  is in ``attributes["troops_by_year"]`` (``{"1950": 1234, ...}``) with the peak (and its
  year) and the mean. A year with 0 troops, or missing from the file, or with ``troops`` =
  ``NA``, ends a spell. A spell running to the last year of the file is ``ongoing``.
* **Base list** -- one engagement per host with the facilities of the base list, id
  ``us_presence-bases-<host id>``: names, coordinates and type (major base, lilypad, US-funded
  host site) in ``attributes["sites"]`` and counts by type. The list has no dates; it
  describes the network of the late 2010s and is dated c. :data:`BASE_LIST_YEAR`.

Hosts
    A code below 1000 is a COW ``ccode`` (troopdata's Ethiopia of 2022-2023 carries 529, read
    as COW 530 -- :data:`CCODE_FIXES`); troopdata's own codes (1000 and above, and 6 for
    Puerto Rico) mark territories and other locations, resolved by name (Greenland, Hong
    Kong, Diego Garcia... are territories in the registry; a territory participant carries
    ``attributes["administered_by"]``). Rows for one host under two codes (Montenegro 341
    and 1010, South Sudan 626 and 1020, Taiwan 713 and 1012, Cabo Verde 402 and 1015) are
    added up year by year. Skipped, without an engagement: the United States itself and its
    territories (not abroad), ``Afloat`` (personnel at sea; its rows with troops are
    quarantined with that reason), and the unidentified locations ("UNKNOWN", "Undefined",
    "Zz-Unknown"), each of whose spells is quarantined with that reason.
    An unresolved host is counted in ``unresolved`` and its spell is kept with the name in
    ``attributes["unresolved"]`` (the United States is always a participant).

    troopdata lists many places under the state they became (Algeria in 1950, Malta in 1951,
    Bahrain in 1951): when no polity of that code or name existed in the year, the polity is
    taken whatever the year, and the host carries ``attributes["outside_existence"]`` (the
    engagement a ``host_note``); such years stay out of ``us_troops``.

Bad rows: a row with more or fewer fields than the header (a truncated file), exact
duplicates and a second row for the same code, name and year are quarantined (the first is
kept); a year that is not a whole year between 1950 (the series' start) and this year, a missing
code or a negative troop count quarantines the row with the field. ``accounted`` says where the other
rows went: into a host's yearly series (and spells), the base lists, or set aside as the United States
itself or personnel afloat or unidentified without troops.

Reference table ``us_troops``: ``ccode``, ``year``, ``troops``, ``army``, ``navy``,
``air_force``, ``marine_corps`` -- every state-year of troopdata whose host resolves to a
state with a COW code (zeros kept, the United States and territories left out, rows of one
state under two codes added up; ``NA`` stays missing).
"""

from __future__ import annotations

from collections import Counter
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
    as_int,
    find_code,
    frame_records,
    impossible_year,
    quarantine_duplicates,
    quarantine_short_rows,
    quarantined_rows,
    read_csv_checked,
    slug,
    whole_year,
)

TROOP_FILE = "troopdata.csv"
BASE_FILE = "basedata.csv"
TROOP_REQUIRED = ("countryname", "ccode", "year", "troops", "army", "navy", "air_force", "marine_corps")
BASE_REQUIRED = ("countryname", "ccode", "basename", "lat", "lon", "base", "lilypad", "fundedsite")
BRANCHES = ("army", "navy", "air_force", "marine_corps")
FIRST_YEAR = 1950
"""troopdata's series begins in 1950; a later year than this one is a typo or a coded blank."""
BASE_LIST_YEAR = 2018
"""The base list describes the network of the late 2010s (troopdata documents it as running through 2018)."""

CCODE_FIXES = {529: 530}
"""troopdata codes that are not the COW code of the state they name: Ethiopia 2022-2023."""
NAME_CODES = {6}
"""Codes below 1000 that troopdata uses for a territory (6 = Puerto Rico): resolved by name."""
NOT_A_HOST = {"afloat": "personnel afloat are not in a host country"}
UNIDENTIFIED_ID = "unknown"
NA_CELLS: dict[str, Any] = {"dtype": str, "keep_default_na": False, "na_values": ["NA", ""]}
"""How troopdata's CSVs are read: text cells, ``NA`` and blanks as missing."""

ALLEN_BIB = """@article{allen_flynn_machain_2022,
  author  = {Allen, Michael A. and Flynn, Michael E. and Machain, Carla Martinez},
  title   = {{US} Global Military Deployments, 1950--2020},
  journal = {Conflict Management and Peace Science},
  year    = {2022},
  volume  = {39},
  number  = {3},
  pages   = {351--370},
  doi     = {10.1177/07388942211030885}
}"""
VINE_BIB = """@book{vine_2015_base_nation,
  author    = {Vine, David},
  title     = {Base Nation: How {U.S.} Military Bases Abroad Harm {America} and the World},
  publisher = {Metropolitan Books},
  address   = {New York},
  year      = {2015}
}"""


class _HostFinder:
    """Finds the host polity of a (code, name) pair; ``count`` routes the lookup through the context."""

    def __init__(self, ctx: IngestContext):
        self.ctx = ctx

    @staticmethod
    def by_name(code: int | None) -> bool:
        return code is None or code >= 1000 or code in NAME_CODES

    def _find(self, code: int | None, name: str, year: int) -> tuple[Any, bool, str, Any]:
        """(polity or None, lenient, kind, key) of the first lookup that matches, without counting.

        The code (or, for troopdata's own codes, the name) is tried first for a polity that
        existed in ``year``; failing that, for the polity whatever the year (``lenient``):
        troopdata lists many places under the state they later became (Algeria in 1950,
        Malta in 1951), and the place is what a presence is about.
        """
        reg = self.ctx.registry
        if code is not None:
            code = CCODE_FIXES.get(code, code)
        routes: list[tuple[str, Any]] = [("name", name)] if self.by_name(code) else [("ccode", code), ("name", name)]
        for strict in (True, False):
            for kind, key in routes:
                polity = (reg.try_resolve(key, year, strict=strict) if kind == "name"
                          else find_code(reg, kind, key, year, strict=strict))
                if polity is not None:
                    return polity, not strict, kind, key
        return None, False, "name", name

    def quiet(self, code: int | None, name: str, year: int) -> tuple[Any, bool]:
        """(polity or None, lenient) without counting (see :meth:`_find`)."""
        polity, lenient, _, _ = self._find(code, name, year)
        return polity, lenient

    def count(self, code: int | None, name: str, year: int) -> tuple[Any, bool]:
        """The same lookup, counted once through the context (a miss, under the name, when nothing matches)."""
        polity, lenient, kind, key = self._find(code, name, year)
        if polity is None:
            return self.ctx.resolve(name or str(code), year), False
        if kind == "name":
            return self.ctx.resolve(key, year, strict=not lenient), lenient
        return self.ctx.resolve_code(kind, key, year, strict=not lenient), lenient


class USMilitaryPresence(Source):
    id = "us_presence"
    title = "US military presence abroad: troop deployments and overseas bases"
    folder = "us_military_presence"
    version = "troopdata (Allen, Flynn & Machain 2022), repository commit 3946bcf"
    files = (TROOP_FILE, BASE_FILE)
    downloads = ()
    homepage = "https://github.com/meflynn/troopdata"
    terms = ("Research data published by the authors in the troopdata R package and repository (GPL-3 licensed "
             "package); cite Allen, Flynn & Machain (2022) for deployments and Vine (2015) for the base list.")
    adds = ("Where US troops were stationed, 1950-2023, as spells of presence per host with the yearly series, "
            "and the overseas base network (major bases, lilypads, funded sites) with coordinates.")
    citation = ("Allen, Michael A., Michael E. Flynn, and Carla Martinez Machain. 2022. \"US Global Military "
                "Deployments, 1950-2020.\" Conflict Management and Peace Science 39(3): 351-370. Base list after "
                "Vine, David. 2015. Base Nation. New York: Metropolitan Books.")
    bibtex = ALLEN_BIB + "\n\n" + VINE_BIB
    citation_keys = ("allen_flynn_machain_2022", "vine_2015_base_nation")
    coverage = (FIRST_YEAR, 2023)
    min_rows = 5000
    """troopdata has some 15,000 country-years and the base list some 700 sites."""

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        folder = Path(folder)
        troops = read_csv_checked(folder / TROOP_FILE, TROOP_REQUIRED, **NA_CELLS)
        bases = read_csv_checked(folder / BASE_FILE, BASE_REQUIRED, **NA_CELLS)
        result = LoadResult(rows_read=len(troops) + len(bases))
        finder = _HostFinder(ctx)
        usa = ctx.registry.get("USA")
        troops = quarantine_short_rows(troops, folder / TROOP_FILE, ctx)
        bases = quarantine_short_rows(bases, folder / BASE_FILE, ctx)
        troops = quarantine_duplicates(troops, ["ccode", "countryname", "year"], TROOP_FILE, ctx)
        bases = quarantine_duplicates(bases, list(bases.columns), BASE_FILE, ctx)

        fates: Counter[str] = Counter()
        series, last_year, table = self._troop_rows(troops, finder, usa, ctx, fates)
        row_stage = quarantined_rows(ctx)
        for host_key, years in sorted(series.items()):
            for spell in self._spells(years):
                eng = self._spell_engagement(host_key, spell, years, last_year, finder, usa, ctx)
                if eng is not None:
                    result.engagements.append(eng)
        # a spell quarantined whole is quarantined at one of its rows, counted above as in a series: that row
        # is accounted for by the quarantine instead (the same for a base list, below)
        fates["troop rows in yearly series"] -= quarantined_rows(ctx) - row_stage
        result.engagements += self._base_engagements(bases, finder, usa, ctx, fates)
        result.tables = {"us_troops": table}
        result.accounted = {k: v for k, v in sorted(fates.items()) if v}
        return result

    # ------------------------------------------------------------------ troops
    def _troop_rows(self, frame: pd.DataFrame, finder: _HostFinder, usa: Any, ctx: IngestContext,
                    fates: Counter[str]) -> tuple[dict[str, dict[int, dict[str, Any]]], int | None, pd.DataFrame]:
        """Yearly troops per host, the last year of the file, and the us_troops table."""
        series: dict[str, dict[int, dict[str, Any]]] = {}
        state_rows: dict[tuple[int, int], dict[str, Any]] = {}
        last_year = None
        for idx, row in zip(frame.index, frame_records(frame)):
            line = int(idx) + 2
            year = whole_year(row["year"], FIRST_YEAR, present_year())
            if year is None:
                ctx.reject(TROOP_FILE, line, "year", row["year"],
                           impossible_year(row["year"], FIRST_YEAR, present_year()))
                continue
            name = "" if pd.isna(row["countryname"]) else str(row["countryname"]).strip()
            code = as_int(row["ccode"])
            if code is None and not name:
                ctx.reject(TROOP_FILE, line, "ccode", row["ccode"], "row without a country code or name")
                continue
            count = None if pd.isna(row["troops"]) else as_float(row["troops"])
            if not pd.isna(row["troops"]) and (count is None or count < 0):
                ctx.reject(TROOP_FILE, line, "troops", row["troops"], "troops is not a count of zero or more")
                continue
            last_year = year if last_year is None else max(last_year, year)
            polity, lenient = finder.quiet(code, name, year)
            if polity is not None and (polity.id == usa.id or polity.part_of == usa.id):
                fates["troop rows of the United States and its territories"] += 1
                continue  # the United States and its territories are not abroad
            branches = {b: as_float(row[b]) for b in BRANCHES}
            if polity is not None and not lenient and polity.kind == "state" and polity.ccode is not None:
                entry = state_rows.setdefault((polity.ccode, year), {"ccode": polity.ccode, "year": year,
                                                                     "troops": None, **{b: None for b in BRANCHES}})
                for col, value in (("troops", count), *branches.items()):
                    if value is not None:
                        entry[col] = (entry[col] or 0) + value
            if name.lower() in NOT_A_HOST:
                if count:
                    ctx.reject(TROOP_FILE, line, "countryname", name, NOT_A_HOST[name.lower()])
                else:
                    fates["troop rows afloat or unidentified, without troops"] += 1
                continue
            host_key = polity.id if polity is not None else f"?{name or code}"
            years = series.setdefault(host_key, {})
            entry = years.setdefault(year, {"troops": None, "lines": [], "names": set(), "codes": set()})
            if count is not None:
                entry["troops"] = (entry["troops"] or 0) + count
            entry["lines"].append(line)
            fates["troop rows in yearly series"] += 1
            entry["names"].add(name)
            if code is not None:
                entry["codes"].add(code)
        table = pd.DataFrame(sorted(state_rows.values(), key=lambda r: (r["ccode"], r["year"])),
                             columns=["ccode", "year", "troops", *BRANCHES])
        for col in table.columns:
            table[col] = table[col].astype("Int64")
        return series, last_year, table

    @staticmethod
    def _spells(years: dict[int, dict[str, Any]]) -> list[list[int]]:
        spells: list[list[int]] = []
        current: list[int] = []
        for year in sorted(years):
            if years[year]["troops"] and years[year]["troops"] > 0:
                if current and year == current[-1] + 1:
                    current.append(year)
                else:
                    if current:
                        spells.append(current)
                    current = [year]
            else:
                if current:
                    spells.append(current)
                current = []
        if current:
            spells.append(current)
        return spells

    def _spell_engagement(self, host_key: str, spell: list[int], years: dict[int, dict[str, Any]],
                          last_year: int | None, finder: _HostFinder, usa: Any, ctx: IngestContext
                          ) -> Engagement | None:
        first, last = spell[0], spell[-1]
        entry = years[first]
        line = entry["lines"][0]
        names = sorted({n for y in spell for n in years[y]["names"] if n})
        codes = sorted({c for y in spell for c in years[y]["codes"]})
        rep_name = sorted(entry["names"])[0] if entry["names"] else ""
        rep_code = min(entry["codes"], key=lambda c: (finder.by_name(c), c)) if entry["codes"] else None
        if host_key == UNIDENTIFIED_ID:
            ctx.reject(TROOP_FILE, line, "countryname", ", ".join(names),
                       f"troops {first}-{last} at a location the source does not identify; no host to record")
            return None
        host, outside = finder.count(rep_code, rep_name, first)
        series = {str(y): int(years[y]["troops"]) for y in spell}
        values = list(series.values())
        peak_year = max(spell, key=lambda y: years[y]["troops"])
        participants = [{"id": usa.id, "name": usa.name, "role": "sender", "ccode": usa.ccode}]
        attributes: dict[str, Any] = {
            "troops_by_year": series,
            "peak_troops": int(years[peak_year]["troops"]),
            "peak_year": peak_year,
            "mean_troops": round(sum(values) / len(values), 1),
            "n_years": len(spell),
            "source_names": names,
            "source_ccodes": codes,
        }
        if host is None:
            attributes["unresolved"] = names
            where = rep_name
        else:
            part = {"id": host.id, "name": host.name, "role": "host", "ccode": host.ccode, "attributes": {}}
            if host.part_of:
                part["attributes"]["administered_by"] = host.part_of
                attributes["administered_by"] = host.part_of
            if outside:
                part["attributes"]["outside_existence"] = True
                attributes["host_note"] = (f"{host.name} did not exist as such in {first}: the source lists the "
                                           f"place under its later (or former) name")
            participants.append(part)
            where = host.name
        hid = host.id if host is not None else slug(rep_name)
        span = f"{first}" if first == last else f"{first}-{last}"
        data = {
            "id": f"us_presence-troops-{hid}-{first}",
            "title": f"US troops in {where}, {span}",
            "summary": (f"US military personnel stationed in {where} every year {span}: peak "
                        f"{attributes['peak_troops']:,} in {peak_year}, mean {attributes['mean_troops']:,}."),
            "activity": "contacts", "instrument": "military_presence",
            "start_year": first, "end_year": last, "precision": "year",
            "ongoing": last_year is not None and last == last_year,
            "participants": participants, "attributes": attributes,
            "provenance": [self.provenance(f"{'/'.join(map(str, codes)) or rep_name}:{span}")],
        }
        return ctx.engagement(data, TROOP_FILE, line)

    # ------------------------------------------------------------------ bases
    def _base_engagements(self, frame: pd.DataFrame, finder: _HostFinder, usa: Any, ctx: IngestContext,
                          fates: Counter[str]) -> list[Engagement]:
        groups: dict[str, dict[str, Any]] = {}
        for idx, row in zip(frame.index, frame_records(frame)):
            line = int(idx) + 2
            name = "" if pd.isna(row["countryname"]) else str(row["countryname"]).strip()
            code = as_int(row["ccode"])
            if code is None and not name:
                ctx.reject(BASE_FILE, line, "ccode", row["ccode"], "site without a country code or name")
                continue
            lat, lon = as_float(row["lat"]), as_float(row["lon"])
            if (lat is not None and abs(lat) > 90) or (lon is not None and abs(lon) > 180):
                ctx.reject(BASE_FILE, line, "lat" if lat is not None and abs(lat) > 90 else "lon",
                           f"{row['lat']}/{row['lon']}", "coordinates outside the globe")
                continue
            polity, _ = finder.quiet(code, name, BASE_LIST_YEAR)
            if polity is not None and (polity.id == usa.id or polity.part_of == usa.id):
                fates["sites in the United States and its territories"] += 1
                continue
            fates["sites in base lists"] += 1
            key = polity.id if polity is not None else f"?{name or code}"
            group = groups.setdefault(key, {"line": line, "code": code, "name": name, "sites": []})
            kinds = [k for k in ("base", "lilypad", "fundedsite") if as_int(row[k]) == 1]
            group["sites"].append({"name": None if pd.isna(row["basename"]) else str(row["basename"]).strip(),
                                   "lat": lat, "lon": lon,
                                   "type": {"base": "base", "lilypad": "lilypad", "fundedsite": "funded_site"}
                                   .get(kinds[0]) if kinds else None})
        out = []
        row_stage = quarantined_rows(ctx)
        for key, group in sorted(groups.items()):
            if key == UNIDENTIFIED_ID:
                ctx.reject(BASE_FILE, group["line"], "countryname", group["name"],
                           "sites at a location the source does not identify; no host to record")
                continue
            host, outside = finder.count(group["code"], group["name"], BASE_LIST_YEAR)
            sites = sorted(group["sites"], key=lambda s: (s["name"] or ""))
            counts = {t: sum(1 for s in sites if s["type"] == t) for t in ("base", "lilypad", "funded_site")}
            participants = [{"id": usa.id, "name": usa.name, "role": "sender", "ccode": usa.ccode}]
            attributes: dict[str, Any] = {"n_sites": len(sites), "n_bases": counts["base"],
                                          "n_lilypads": counts["lilypad"], "n_funded_sites": counts["funded_site"],
                                          "sites": sites, "source_name": group["name"],
                                          "dating": f"base list of the late 2010s, dated c. {BASE_LIST_YEAR}"}
            if host is None:
                attributes["unresolved"] = [group["name"]]
                where = group["name"]
            else:
                part = {"id": host.id, "name": host.name, "role": "host", "ccode": host.ccode, "attributes": {}}
                if host.part_of:
                    part["attributes"]["administered_by"] = host.part_of
                if outside:
                    part["attributes"]["outside_existence"] = True
                participants.append(part)
                where = host.name
            hid = host.id if host is not None else slug(group["name"])
            data = {
                "id": f"us_presence-bases-{hid}",
                "title": f"US military sites in {where} ({len(sites)})",
                "summary": (f"{len(sites)} US military site(s) in {where} on the overseas base list: "
                            f"{counts['base']} major base(s), {counts['lilypad']} lilypad(s), "
                            f"{counts['funded_site']} US-funded host site(s)."),
                "activity": "contacts", "instrument": "military_presence",
                "start_year": BASE_LIST_YEAR, "precision": "year", "circa": True,
                "participants": participants, "attributes": attributes,
                "provenance": [self.provenance(f"bases:{group['name'] if group['code'] is None else group['code']}")],
            }
            eng = ctx.engagement(data, BASE_FILE, group["line"])
            if eng is not None:
                out.append(eng)
        fates["sites in base lists"] -= quarantined_rows(ctx) - row_stage
        return out


SOURCES = [USMilitaryPresence()]
