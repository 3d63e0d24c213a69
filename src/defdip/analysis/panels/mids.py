"""Militarized disputes (``gml_mid``): GML MID 2.2.1 onset and ongoing dispute per dyad-year, 1816-2010
(issue 11.4)."""

from __future__ import annotations

from defdip.analysis.panels.registry import Layer, Tie, register

LAST_YEAR = 2010
"""Last year of GML MID 2.2.1."""

TIE = Tie(
    name="gml_mid", tables=("gml_mid_dyad_year",),
    sql="""
    WITH m AS (SELECT ccode1, ccode2, year, max(gmlmidonset) AS gmlmidonset, max(gmlmidongoing) AS gmlmidongoing
               FROM gml_mid_dyad_year GROUP BY ALL)
    SELECT ccode1 AS c1, ccode2 AS c2, year, gmlmidonset, gmlmidongoing FROM m
    UNION ALL SELECT ccode2, ccode1, year, gmlmidonset, gmlmidongoing FROM m""",
    combine={"gmlmidonset": "max", "gmlmidongoing": "max"}, coverage=f"d.year BETWEEN 1816 AND {LAST_YEAR}", types={})

register(Layer(
    name="gml_mid", columns=("gmlmidonset", "gmlmidongoing"), source="gml_mid", first_year=1816, last_year=LAST_YEAR,
    description="GML MID 2.2.1: gmlmidonset = 1 if a militarized dispute between the two states began that year; "
    "gmlmidongoing = 1 if one was under way (the onset year included). Non-directed: the dyad's dispute-years "
    "in gml_mid_ddydisps; directed: the same value both ways. State-year: the number of dispute partners.",
    citation_keys=("gibler_miller_little2016",),
    role="control", family="mids", scale="indicator", tables=TIE.tables, tie=TIE))
