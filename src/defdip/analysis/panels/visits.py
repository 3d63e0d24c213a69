"""Visits by US defence officials (``visits``, TroopData): directed from the US, so only dyads with the US
are covered (1992-2012)."""

from __future__ import annotations

from defdip.analysis.panels.registry import Layer, Tie, register

TIE = Tie(
    name="visits", tables=("engagements", "participants", "provenance"),
    sql="""
    WITH v AS (SELECT DISTINCT e.id, e.start_year AS year FROM engagements e
               JOIN provenance pv ON pv.engagement_id = e.id AND pv.source = 'us_visits'
               WHERE e.instrument = 'visit')
    SELECT 2 AS c1, p.ccode AS c2, v.year, count(DISTINCT v.id) AS visits
    FROM v JOIN participants p ON p.engagement_id = v.id
    WHERE p.ccode IS NOT NULL AND p.ccode <> 2
    GROUP BY ALL""",
    combine={"visits": "sum"}, coverage="(d.year BETWEEN 1992 AND 2012 AND 2 IN (d.c1, d.c2))", types={},
    record_sources=("us_visits",))

register(Layer(
    name="visits", columns=("visits",), source="us_visits", first_year=1992, last_year=2012,
    description="Number of visits by US defence officials to the other state that year (directed from the US; only "
    "dyads with the US are covered, others NA).",
    citation_keys=("flynn_troopdata_visits",),
    role="tie", scale="count", tables=TIE.tables, tie=TIE))
