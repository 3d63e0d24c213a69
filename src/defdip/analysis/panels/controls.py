"""The state system's own controls: COW direct contiguity (``conttype``) and major-power status (``cowmaj``),
both through 2016."""

from __future__ import annotations

from defdip.analysis.panels.registry import COW_END, Layer, Tie, register

CONTIGUITY = Tie(
    name="contiguity", tables=("cow_contiguity",),
    sql="""
    WITH y AS (SELECT ccode1, ccode2, conttype, unnest(range(styear, endyear + 1)) AS year
               FROM cow_contiguity WHERE conttype > 0),
    both_ways AS (SELECT ccode1 AS c1, ccode2 AS c2, conttype, year FROM y
                  UNION ALL SELECT ccode2, ccode1, conttype, year FROM y)
    SELECT c1, c2, year, min(conttype) AS conttype FROM both_ways GROUP BY ALL""",
    combine={"conttype": "min"}, coverage=f"d.year BETWEEN 1816 AND {COW_END}", types={})

register(
    Layer(name="conttype", columns=("conttype",), source="cow_contiguity", first_year=1816, last_year=COW_END,
          description="COW direct contiguity type: 1 land/river border, 2-5 water distance up to 12/24/150/400 "
          "miles, 0 none (closest type in force in the year). State-year: land_contig = number of land/river "
          "neighbours.",
          citation_keys=("stinnett_etal2002",),
          role="control", family="contiguity", scale="code", tables=CONTIGUITY.tables,
          tie=CONTIGUITY, state_columns=("land_contig",), aggregation="land_partners"),
    Layer(name="cowmaj", columns=("cowmaj1", "cowmaj2"), source="state_system", first_year=1816, last_year=COW_END,
          description="1 if the state is a COW major power that year (majors2016). State-year: cowmaj.",
          citation_keys=("cow_states2016",),
          role="node", family="majors", scale="indicator", tables=("cow_majors",),
          state_columns=("cowmaj",), aggregation="own",
          node_sql="SELECT DISTINCT ccode, unnest(range(styear, endyear + 1)) AS year FROM cow_majors"),
)
