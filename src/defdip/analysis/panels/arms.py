"""SIPRI arms transfers (``arms_tiv``): the TIV delivered from one state to another in a year, a deal's
delivered TIV spread evenly over its delivery years."""

from __future__ import annotations

from defdip.analysis.panels.registry import Layer, Tie, register

TIE = Tie(
    name="arms", tables=("engagements", "participants", "provenance"),
    sql="""
    WITH t AS (
        SELECT e.id, e.attributes FROM engagements e
        WHERE e.instrument = 'equipment_transfer'
          AND e.id IN (SELECT engagement_id FROM provenance WHERE source = 'sipri')),
    deliveries AS (
        SELECT t.id, unnest(CAST(json_extract(t.attributes, '$.delivery_years') AS INTEGER[])) AS year,
               coalesce(TRY_CAST(json_extract_string(t.attributes, '$.tiv_delivered') AS DOUBLE), 0)
                 / greatest(json_array_length(json_extract(t.attributes, '$.delivery_years')), 1) AS tiv
        FROM t),
    sides AS (
        SELECT d.id, d.year, d.tiv, s.ccode AS c1, r.ccode AS c2
        FROM deliveries d
        JOIN participants s ON s.engagement_id = d.id AND s.role = 'supplier' AND s.ccode IS NOT NULL
        JOIN participants r ON r.engagement_id = d.id AND r.role = 'recipient' AND r.ccode IS NOT NULL)
    SELECT c1, c2, year, sum(tiv) AS arms_tiv FROM sides WHERE c1 <> c2 GROUP BY ALL""",
    combine={"arms_tiv": "sum"}, coverage="d.year BETWEEN 1950 AND 2023", types={"arms_tiv": "DOUBLE"},
    record_sources=("sipri",))

register(Layer(
    name="arms_tiv", columns=("arms_tiv",), source="sipri", first_year=1950, last_year=2018,
    description="SIPRI TIV (millions) of weapons delivered from ccode1 to ccode2 that year (a deal's delivered TIV "
    "spread evenly over its delivery years); non-directed: both ways summed. The shared development copy is an "
    "8% sample of the register: figures from it are not totals.",
    citation_keys=("sipri_arms_transfers",),
    role="tie", family="arms", scale="value", tables=TIE.tables, tie=TIE))
