"""COW Formal Alliances v4.1 (``cow_*``): peacesciencer's non-directed dyad-year summary, one indicator per
alliance type, 1816-2012."""

from __future__ import annotations

from defdip.analysis.panels.registry import Layer, Tie, register

TIE = Tie(
    name="cow_alliance", tables=("cow_alliance_dyad_year",),
    sql="""
    SELECT ccode1 AS c1, ccode2 AS c2, year, max(cow_defense) AS cow_defense, max(cow_neutral) AS cow_neutral,
           max(cow_nonagg) AS cow_nonagg, max(cow_entente) AS cow_entente
    FROM (SELECT ccode1, ccode2, year, cow_defense, cow_neutral, cow_nonagg, cow_entente
            FROM cow_alliance_dyad_year
          UNION ALL
          SELECT ccode2, ccode1, year, cow_defense, cow_neutral, cow_nonagg, cow_entente
            FROM cow_alliance_dyad_year)
    GROUP BY ALL""",
    combine=dict.fromkeys(["cow_defense", "cow_neutral", "cow_nonagg", "cow_entente"], "max"),
    coverage="d.year BETWEEN 1816 AND 2012", types={})

register(*(Layer(
    name=f"cow_{kind}", columns=(f"cow_{kind}",), source="cow_alliance", first_year=1816, last_year=2012,
    description=f"1 if a COW Formal Alliances v4.1 {kind} alliance links the dyad that year (peacesciencer's "
    "dyad-year summary).",
    citation_keys=("gibler_alliances_2009",),
    role="tie", family="cow_alliance", scale="indicator", tables=TIE.tables, tie=TIE)
    for kind in ("defense", "neutral", "nonagg", "entente")))
