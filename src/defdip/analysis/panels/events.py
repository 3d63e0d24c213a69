"""Defence events from machine-coded event data (``ev_*``, issue 12; :mod:`defdip.events`): days with at
least one event of a kind per directed dyad-year, in the years whose event files are loaded."""

from __future__ import annotations

import pandas as pd

from defdip.analysis.panels.registry import Layer, Tie, register

KINDS = {"ev_contacts": "visits and meetings (CAMEO 042/043/044; PLOVER CONSULT in visit, third-party or "
                        "multilateral mode)",
         "ev_milcoop": "military cooperation (CAMEO 062; PLOVER COOPERATE)",
         "ev_agreements": "agreements (CAMEO 057, 0312; PLOVER AGREE/SUPPORT)",
         "ev_milaid": "military aid (CAMEO 072, 0332; PLOVER AID in military mode)",
         "ev_peacekeeping": "peacekeeping (CAMEO 074, 0334; PLOVER AID in peacekeeping mode)",
         "ev_hadr": "humanitarian aid by a military actor (CAMEO 073; PLOVER AID in humanitarian mode)"}
"""Layer name -> the events it counts."""

TIE = Tie(
    name="events", tables=("ev_dyad_year", "ev_coverage"),
    sql=f"SELECT c1, c2, year, {', '.join(KINDS)} FROM ev_dyad_year",
    combine=dict.fromkeys(KINDS, "max"),
    coverage="d.year IN (SELECT year FROM ev_coverage)", types={})

register(*(Layer(
    name=name, columns=(name,), source="events", first_year=1979, last_year=pd.Timestamp.now().year,
    description=f"Number of days with at least one defence event of {text} from ccode1 to ccode2 that year: "
    "machine-coded events (GDELT, ICEWS, POLECAT) with a military or defence actor on one side, one per "
    "directed dyad-day however many reports; non-directed: the larger direction. NA in years with no event "
    "files loaded (`defdip events ingest`). Not part of dd_index.",
    citation_keys=("leetaru_schrodt_gdelt_2013", "boschee_icews_2015", "halterman_plover_2023", "schrodt_cameo_2012"),
    role="tie", family="events", scale="count", tables=TIE.tables, tie=TIE) for name, text in KINDS.items()))
