"""Defense Cooperation Agreement Dataset (``dca_*``): a DCA counts from its signature year while in force
(DCAD's end-year estimate; the data end in 2010), in both directions."""

from __future__ import annotations

from defdip.analysis.panels.registry import Layer, Tie, register

TIE = Tie(
    name="dcad", tables=("dcad_agreement",),
    sql="""
    WITH y AS (
        SELECT ccode1, ccode2, lower(type) AS type,
               unnest(range(sign_year::INTEGER, least(coalesce(end_year_estimate, 2010), 2010)::INTEGER + 1))
                 AS year
        FROM dcad_agreement
        WHERE ccode1 IS NOT NULL AND ccode2 IS NOT NULL AND ccode1 <> ccode2 AND sign_year IS NOT NULL),
    both_ways AS (SELECT ccode1 AS c1, ccode2 AS c2, type, year FROM y
                  UNION ALL SELECT ccode2, ccode1, type, year FROM y)
    SELECT c1, c2, year, max(CASE WHEN type = 'general' THEN 1 ELSE 0 END) AS dca_general,
           max(CASE WHEN type = 'sector' THEN 1 ELSE 0 END) AS dca_sector, 1 AS dca_any
    FROM both_ways GROUP BY ALL""",
    combine=dict.fromkeys(["dca_general", "dca_sector", "dca_any"], "max"),
    coverage="d.year BETWEEN 1980 AND 2010", types={})

register(*(Layer(
    name=f"dca_{kind}", columns=(f"dca_{kind}",), source="dcad", first_year=1980, last_year=2010,
    description=f"1 if {text} is in force: signed in or before the year and not ended (DCAD endYearEstimate; data "
    "end 2010).",
    citation_keys=("kinne_dcad_2020",),
    role="tie", family="dca", scale="indicator", tables=TIE.tables, tie=TIE)
    for kind, text in (("general", "a general (framework) DCA"), ("sector", "a sector-specific DCA"),
                       ("any", "any DCA"))))
