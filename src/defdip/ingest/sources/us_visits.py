"""US defence officials' visits abroad, 1992-2012 (a list distributed with the troopdata repository).

File ``visits.xls`` (Excel 97, data in ``Sheet1``): one row per visit of one official to one
country -- ``Title`` (Secretary of the Army, PACOM ...), ``Name``, ``Start Day``, ``Start
Month``, ``Start Year``, ``City Visited``, ``State Visit`` (the host, as an ISO 3166 alpha-3
code), ``End Day``, ``End Month``, ``End Year``. 377 rows. The list's origin is not
documented where it is published; it is cited as M. Flynn's troopdata repository.

One engagement per row, activity ``contacts``, instrument ``visit``, id
``us_visits-<Excel row>``; participants: the United States (``sender``) and the host
(``host``). Dates are kept to the day.

Reading rules
    * ``State Visit`` is read as an ISO3 code when it is three capital letters, else as a
      name (the file has "Kosovo", "Antarctica", "Wake Island"...). Quirks of this file are
      fixed by :data:`HOST_FIXES`: ``GNL`` (the visit to Narsarsuaq) is Greenland's ``GRL``;
      "Nassau" and "Saint Thomas" are cities, read as the Bahamas and the US Virgin Islands
      and kept as the city.
    * A visit to the United States or to one of its territories (Guam, the US Virgin
      Islands, Wake Island...) is not a visit abroad: it is quarantined with that reason.
    * An unresolved host is counted in ``unresolved``; the visit is kept (the United States
      is always a participant) and the text is listed in ``attributes["unresolved"]``.
    * A start or end year that is not a whole year within the list's coverage (1992-2012)
      quarantines the row, naming the field. An impossible month or day is dropped (the date keeps the
      precision still valid) and an end date before the start is dropped; both corrections
      are listed in ``attributes["date_notes"]``.
    * An exact duplicate row is quarantined (the first copy is kept).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from defdip.core.dates import present_year
from defdip.core.errors import SourceFormatError
from defdip.core.model import Engagement
from defdip.ingest.sources.base import (
    IngestContext,
    LoadResult,
    Source,
    as_text,
    frame_records,
    impossible_year,
    precision_of,
    read_date,
    require_columns,
    require_rows,
    whole_year,
)

VISITS_FILE = "visits.xls"
SHEET = "Sheet1"
REQUIRED = ("Title", "Name", "Start Day", "Start Month", "Start Year", "City Visited", "State Visit", "End Day",
            "End Month", "End Year")
FIRST_YEAR = 1992
LAST_YEAR = 2012
"""The list's coverage: a year outside it is a typo or a coded blank, quarantined."""

HOST_FIXES: dict[str, tuple[str, str | None]] = {
    "GNL": ("GRL", None),  # typo in the file: the row's city is Narsarsuaq, Greenland
    "Nassau": ("BHS", "Nassau"),
    "Saint Thomas": ("VIR", "Saint Thomas"),
}
"""``State Visit`` values of this file that are not ISO3 codes of the host: (code, city)."""

TROOPDATA_BIB = """@misc{flynn_troopdata_visits,
  author       = {Flynn, Michael E.},
  title        = {{US} defence officials' visits abroad, 1992--2012},
  howpublished = {File \\texttt{data-raw/visits.xls} of the troopdata repository,
                  \\url{https://github.com/meflynn/troopdata}},
  year         = {2023},
  note         = {Origin of the list not documented in the repository}
}"""


def read_sheet(path: Path) -> pd.DataFrame:
    """The visits sheet with its header checked (SourceFormatError names file and columns)."""
    try:
        frame = pd.read_excel(path, sheet_name=SHEET, dtype=object, engine="calamine")
    except ValueError as exc:  # missing sheet, or not an Excel file
        raise SourceFormatError(f"{path.name}: cannot read sheet {SHEET!r} ({exc})") from None
    except Exception as exc:  # the reader raises its own errors for truncated / corrupt workbooks
        raise SourceFormatError(f"{path.name}: not a readable Excel workbook ({type(exc).__name__}: {exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    require_columns(frame, REQUIRED, path.name)
    require_rows(frame.dropna(how="all"), path)
    return frame


def text(value: Any) -> str:
    """A cell as stripped text, "" when blank (the file's text fields are kept as strings)."""
    return as_text(value) or ""


class USDefenseVisits(Source):
    id = "us_visits"
    title = "US defence officials' visits abroad, 1992-2012"
    folder = "us_defense_visits"
    version = "troopdata repository file (commit 3946bcf)"
    files = (VISITS_FILE,)
    downloads = ()
    homepage = "https://github.com/meflynn/troopdata"
    terms = ("Origin unattributed: the list is published without documentation in M. Flynn's troopdata "
             "repository (data-raw/visits.xls) and is cited as that repository's list until its origin is known. "
             "No licence is stated for this file; use it for research with that citation.")
    adds = ("377 trips of US service secretaries, the Marine Corps commandant and combatant commanders "
            "(PACOM, STRATCOM) to foreign countries, 1992-2012, dated to the day, with the city where known.")
    citation = ("Flynn, Michael E. US defence officials' visits abroad, 1992-2012 (visits.xls), distributed with "
                "the troopdata repository, https://github.com/meflynn/troopdata. Origin of the list undocumented.")
    bibtex = TROOPDATA_BIB
    citation_keys = ("flynn_troopdata_visits",)
    coverage = (FIRST_YEAR, LAST_YEAR)
    min_rows = 300
    """The list has 377 visits."""

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        path = Path(folder) / VISITS_FILE
        frame = read_sheet(path)
        frame = frame.dropna(how="all")
        result = LoadResult(rows_read=len(frame))
        usa = ctx.registry.get("USA")
        seen: dict[tuple[str, ...], int] = {}
        for idx, row in zip(frame.index, frame_records(frame)):
            line = int(idx) + 2  # Excel row: the header is row 1
            key = tuple(text(row[c]) for c in REQUIRED)
            if key in seen:
                ctx.reject(VISITS_FILE, line, "+".join(REQUIRED[:2]), f"{key[0]} / {key[1]}",
                           f"duplicate row: identical to row {seen[key]}; kept the first")
                continue
            seen[key] = line
            eng = self._engagement(row, line, usa, ctx)
            if eng is not None:
                result.engagements.append(eng)
        return result

    def _engagement(self, row: dict[str, Any], line: int, usa: Any, ctx: IngestContext) -> Engagement | None:
        years = {}
        for field in ("Start Year", "End Year"):
            value = whole_year(row[field], FIRST_YEAR, min(LAST_YEAR, present_year()))
            if value is None:
                ctx.reject(VISITS_FILE, line, field, text(row[field]),
                           impossible_year(text(row[field]), FIRST_YEAR, min(LAST_YEAR, present_year())))
                return None
            years[field] = value
        notes: list[str] = []
        sy = years["Start Year"]
        _, sm, sd = read_date(sy, row["Start Month"], row["Start Day"], "start", notes, zero_unknown=False)
        ey: int | None = years["End Year"]
        _, em, ed = read_date(ey, row["End Month"], row["End Day"], "end", notes, zero_unknown=False)
        if (ey, em or 0, ed or 0) < (sy, sm or 0, sd or 0):
            notes.append(f"end {ey}-{em or 0:02d}-{ed or 0:02d} is before the start; end date dropped")
            ey, em, ed = None, None, None

        raw_host = text(row["State Visit"])
        city = text(row["City Visited"]) or None
        code, fixed_city = HOST_FIXES.get(raw_host, (raw_host, None))
        city = city or fixed_city
        if not code:
            ctx.reject(VISITS_FILE, line, "State Visit", "", "visit without a host")
            return None
        if re.fullmatch(r"[A-Z]{3}", code):
            host = ctx.resolve_code("iso3", code, sy)
        else:
            host = ctx.resolve(code, sy)
        if host is not None and (host.id == usa.id or host.part_of == usa.id):
            ctx.reject(VISITS_FILE, line, "State Visit", raw_host,
                       f"{host.name} is the United States or one of its territories, not a foreign host")
            return None

        official = text(row["Title"])
        name = text(row["Name"])
        participants = [{"id": usa.id, "name": usa.name, "role": "sender", "ccode": usa.ccode,
                         "attributes": {"official_title": official, "official_name": name}}]
        attributes: dict[str, Any] = {"official_title": official, "official_name": name, "city": city,
                                      "state_visit": raw_host}
        if host is None:
            attributes["unresolved"] = [raw_host]
        else:
            participants.append({"id": host.id, "name": host.name, "role": "host", "ccode": host.ccode})
        if notes:
            attributes["date_notes"] = notes
        where = host.name if host is not None else raw_host
        data = {
            "id": f"us_visits-{line:04d}",
            "title": f"{official} {name} visits {where}" + (f" ({city})" if city else ""),
            "summary": f"Visit of the US {official}, {name}, to {where}" + (f", {city}" if city else "") + ".",
            "activity": "contacts", "instrument": "visit",
            "start_year": sy, "start_month": sm, "start_day": sd,
            "end_year": ey, "end_month": em, "end_day": ed, "precision": precision_of(sm, sd),
            "participants": participants, "attributes": attributes,
            "provenance": [self.provenance(f"{SHEET}!{line}")],
        }
        return ctx.engagement(data, VISITS_FILE, line)


SOURCES = [USDefenseVisits()]
