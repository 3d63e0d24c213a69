"""Capital distance (``capdist``): great-circle distance between the capitals in force at the end of the year
(COW capitals compiled for peacesciencer), issue 11.4."""

from __future__ import annotations

from defdip.analysis.panels.registry import ATOP_END, Layer, Tie, register

TIE = Tie(
    name="capdist", tables=("cow_capitals",),
    # the capital in force at the end of the year (the later-starting one when a state moved its capital);
    # great-circle (haversine) distance on a sphere of radius 6,371 km
    sql=f"""
    WITH y AS (SELECT ccode, unnest(range(year(stdate::DATE), year(enddate::DATE) + 1)) AS year,
                      stdate, lat, lng FROM cow_capitals
               WHERE ccode IS NOT NULL AND lat IS NOT NULL AND lng IS NOT NULL),
    c AS (SELECT ccode, year, arg_max(radians(lat), stdate) AS la, arg_max(radians(lng), stdate) AS lo
          FROM y WHERE year BETWEEN 1816 AND {ATOP_END} GROUP BY ccode, year)
    SELECT a.ccode AS c1, b.ccode AS c2, a.year,
           2 * 6371.0 * asin(sqrt(pow(sin((b.la - a.la) / 2), 2)
                                  + cos(a.la) * cos(b.la) * pow(sin((b.lo - a.lo) / 2), 2))) AS capdist
    FROM c a JOIN c b ON a.year = b.year AND a.ccode <> b.ccode""",
    combine={"capdist": "max"}, coverage=f"d.year BETWEEN 1816 AND {ATOP_END}", types={"capdist": "DOUBLE"},
    fill=False)

register(Layer(
    name="capdist", columns=("capdist",), source="state_system", first_year=1816, last_year=ATOP_END,
    description="Great-circle distance in km between the two states' capitals in force at the end of the year (COW "
    "capitals compiled for peacesciencer, cow_capitals.csv; haversine on a 6,371 km sphere). NA where either "
    "capital is unknown that year. State-year: the number of states with a known capital distance.",
    citation_keys=("miller2022peacesciencer", "cow_states2016"),
    role="control", family="capital_distance", scale="value", tables=TIE.tables,
    tie=TIE))
