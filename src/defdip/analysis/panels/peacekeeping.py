"""UN peacekeeping co-deployment (``pko_codeployed``): two states with personnel in the same UN mission in
the same year (UN DPO contributions, 2010-2021)."""

from __future__ import annotations

from defdip.analysis.panels.registry import Layer, Tie, register

TIE = Tie(
    name="pko", tables=("pko_contributions",),
    sql="""
    WITH c AS (SELECT DISTINCT ccode, year, mission FROM pko_contributions
               WHERE ccode IS NOT NULL AND coalesce(total, 0) > 0)
    SELECT a.ccode AS c1, b.ccode AS c2, a.year, 1 AS pko_codeployed
    FROM c a JOIN c b ON a.year = b.year AND a.mission = b.mission AND a.ccode <> b.ccode
    GROUP BY ALL""",
    combine={"pko_codeployed": "max"}, coverage="d.year BETWEEN 2010 AND 2021", types={})

register(Layer(
    name="pko_codeployed", columns=("pko_codeployed",), source="un_pko", first_year=2010, last_year=2021,
    description="1 if both states contributed personnel to the same UN peacekeeping mission that year.",
    citation_keys=("un_dpo_contributions",),
    role="tie", family="peacekeeping", scale="indicator", tables=TIE.tables, tie=TIE))
