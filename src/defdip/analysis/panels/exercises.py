"""Joint military exercises (``exercises``) from the engagement records of MME, JME and the unofficial list
of Russia's exercises: per dyad-year the exercises that started that year with both states taking part."""

from __future__ import annotations

from defdip.analysis.panels.registry import Layer, Tie, register

SOURCES = ("mme", "jme", "ru_exercises")
"""The sources whose exercise records count."""

TIE = Tie(
    name="exercises", tables=("engagements", "participants", "provenance"),
    sql=f"""
    WITH ep AS (
        SELECT DISTINCT e.id, e.start_year AS year, p.ccode
        FROM engagements e JOIN participants p ON p.engagement_id = e.id
        WHERE e.activity = 'exercises' AND p.ccode IS NOT NULL
          AND e.id IN (SELECT engagement_id FROM provenance WHERE source IN {SOURCES})),
    n AS (SELECT id, count(*) AS n FROM ep GROUP BY id)
    SELECT a.ccode AS c1, b.ccode AS c2, a.year, count(*) AS exercises,
           count(*) FILTER (WHERE n.n = 2) AS exercises_bilateral,
           count(*) FILTER (WHERE n.n > 2) AS exercises_multilateral
    FROM ep a JOIN ep b ON a.id = b.id AND a.ccode <> b.ccode JOIN n ON n.id = a.id
    GROUP BY ALL""",
    combine=dict.fromkeys(["exercises", "exercises_bilateral", "exercises_multilateral"], "max"),
    coverage="(d.year BETWEEN 1980 AND 2010 OR (d.year BETWEEN 2011 AND 2018 AND 365 IN (d.c1, d.c2)))",
    types={}, record_sources=SOURCES)

register(Layer(
    name="exercises", columns=("exercises", "exercises_bilateral", "exercises_multilateral"), source="mme",
    first_year=1980, last_year=2018,
    description="Number of joint military exercises that started that year with both states taking part (MME v7 "
    "and JME v3 1980-2010; the unofficial list of Russia's exercises extends Russia's dyads alone through "
    "2011-2018, other dyads NA there; JME's 1974-79 records are too sparse to count as coverage). bilateral = "
    "exactly two states with COW codes among the participants; multilateral = more.",
    citation_keys=("dorazio_galambos_2021", "dorazio_2013_jme", "milru_exercises_unofficial"),
    role="tie",
    scale="count", tables=TIE.tables, tie=TIE, general_coverage=(1980, 2010)))
