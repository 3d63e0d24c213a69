"""Column layouts of the official event-data formats (GDELT 1.0/2.0 codebooks, ICEWS and POLECAT releases)."""

from __future__ import annotations

import re

_ACTOR = ("Code", "Name", "CountryCode", "KnownGroupCode", "EthnicCode", "Religion1Code", "Religion2Code",
          "Type1Code", "Type2Code", "Type3Code")
_EVENT = ("IsRootEvent", "EventCode", "EventBaseCode", "EventRootCode", "QuadClass", "GoldsteinScale",
          "NumMentions", "NumSources", "NumArticles", "AvgTone")
_GEO_V1 = ("Type", "FullName", "CountryCode", "ADM1Code", "Lat", "Long", "FeatureID")
_GEO_V2 = ("Type", "FullName", "CountryCode", "ADM1Code", "ADM2Code", "Lat", "Long", "FeatureID")


def _gdelt(geo: tuple[str, ...], tail: tuple[str, ...]) -> tuple[str, ...]:
    head = ("GLOBALEVENTID", "SQLDATE", "MonthYear", "Year", "FractionDate")
    actors = tuple(f"Actor{i}{c}" for i in (1, 2) for c in _ACTOR)
    geos = tuple(f"{who}Geo_{c}" for who in ("Actor1", "Actor2", "Action") for c in geo)
    return head + actors + _EVENT + geos + tail


GDELT1_BACKFILE = _gdelt(_GEO_V1, ("DATEADDED",))
"""GDELT 1.0 historical backfiles (1979 - March 2013): 57 columns, no SOURCEURL."""
GDELT1_DAILY = _gdelt(_GEO_V1, ("DATEADDED", "SOURCEURL"))
"""GDELT 1.0 daily exports (April 2013 -): 58 columns."""
GDELT2 = _gdelt(_GEO_V2, ("DATEADDED", "SOURCEURL"))
"""GDELT 2.0 15-minute exports (February 2015 -): 61 columns, DATEADDED as YYYYMMDDHHMMSS."""

GDELT_BY_WIDTH = {len(GDELT1_BACKFILE): ("gdelt1_backfile", GDELT1_BACKFILE),
                  len(GDELT1_DAILY): ("gdelt1_daily", GDELT1_DAILY),
                  len(GDELT2): ("gdelt2", GDELT2)}

ICEWS = ("Event ID", "Event Date", "Source Name", "Source Sectors", "Source Country", "Event Text", "CAMEO Code",
         "Intensity", "Target Name", "Target Sectors", "Target Country", "Story ID", "Sentence Number",
         "Publisher", "City", "District", "Province", "Country", "Latitude", "Longitude")
"""ICEWS coded event files (Dataverse release): tab-separated with this header row."""
ICEWS_REQUIRED = ("Event ID", "Event Date", "Source Sectors", "Source Country", "CAMEO Code", "Target Sectors",
                  "Target Country", "Story ID")

POLECAT = ("Event ID", "Event Date", "Event Type", "Event Mode", "Event Intensity", "Quad Code", "Contexts",
           "Actor Name", "Actor Country", "Actor COW", "Primary Actor Sector", "Actor Sectors", "Actor Title",
           "Recipient Name", "Recipient Country", "Recipient COW", "Primary Recipient Sector", "Recipient Sectors",
           "Recipient Title", "Placename", "City", "State", "Country", "Latitude", "Longitude", "Source",
           "Publication Date", "Story ID", "Language", "Version")
"""POLECAT weekly/yearly files (PLOVER ontology): tab-separated with a header row."""
POLECAT_REQUIRED = ("Event ID", "Event Date", "Event Type", "Event Mode", "Contexts", "Actor Country",
                    "Actor Sectors", "Recipient Country", "Recipient Sectors")

MILITARY_SECTORS = ("military", "defense", "defence", "armed forces", "army", "navy", "air force")
"""Words in ICEWS/POLECAT sector lists that make an actor a military or defence actor."""

EVENT_COLUMNS = ("source", "file", "line", "event_id", "event_date", "year", "month", "scheme", "code", "mode",
                 "a1", "a2", "defence", "sources", "story")
"""The common events table every reader produces (one row per coded event, raw actor codes)."""


CAMEO_CODE = r"^(0[1-9]|1[0-9]|20)[0-9]{0,2}$"
"""A CAMEO 1.1b3 event code: two to four digits whose first two are one of the twenty roots 01-20 (a regular
expression, so that readers can check a whole column with it)."""


def cameo_code_problem(code: str) -> str | None:
    """Why ``code`` is not a CAMEO event code (None when it is one): ``999`` or ``2104`` would be coded to
    nothing."""
    if not code.isdigit():
        return "not a CAMEO event code"
    if not re.fullmatch(CAMEO_CODE, code):
        return "not a CAMEO event code (two to four digits under one of the roots 01-20)"
    return None
