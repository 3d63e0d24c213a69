"""Defence attachés (``attache_posts``, ``attache_posts_resident``) from a researcher's own posting list
(:mod:`defdip.ingest.sources.attaches`): the attaché posts one state held accredited to another in a year.

A posting list is partial by nature (a researcher compiles one state's postings, or one capital's
diplomatic list), so a missing posting is no evidence of none: the layer covers the dyads of the states
that send an attaché somewhere in the list, in the years the list spans, and is NA elsewhere. A posting
counts in each year from its start to its end (to the present while ongoing; its start year alone when the
end is not known).
"""

from __future__ import annotations

from defdip.analysis.panels.registry import Layer, Tie, register
from defdip.core.dates import present_year

TIE = Tie(
    name="attaches", tables=("attache_postings",),
    sql=f"""
    WITH y AS (
        SELECT sender_ccode AS c1, receiver_ccode AS c2, resident,
               unnest(range(start_year, coalesce(end_year, CASE WHEN ongoing THEN {present_year()} END, start_year)
                            + 1)) AS year
        FROM attache_postings
        WHERE sender_ccode IS NOT NULL AND receiver_ccode IS NOT NULL AND sender_ccode <> receiver_ccode)
    SELECT c1, c2, year, count(*) AS attache_posts, count(*) FILTER (WHERE resident) AS attache_posts_resident
    FROM y GROUP BY ALL""",
    combine={"attache_posts": "sum", "attache_posts_resident": "sum"},
    coverage=f"""(d.year BETWEEN (SELECT min(start_year) FROM attache_postings)
                  AND (SELECT max(coalesce(end_year, CASE WHEN ongoing THEN {present_year()} END, start_year))
                       FROM attache_postings)
                  AND (d.c1 IN (SELECT sender_ccode FROM attache_postings)
                       OR d.c2 IN (SELECT sender_ccode FROM attache_postings)))""",
    types={})

register(
    Layer(name="attache_posts", columns=("attache_posts",), source="attache_postings", first_year=1800,
          last_year=present_year(),
          description="Number of attaché posts (defence, military, naval, air attachés and defence advisers) "
          "ccode1 held accredited to ccode2 that year, resident or not, from the researcher's posting list "
          "(`attache_postings`); non-directed: both directions summed. NA outside the dyads of the list's "
          "sending states and the years it spans.",
          citation_keys=("defdip_attache_postings",), role="tie", family="attaches", scale="count",
          tables=TIE.tables, tie=TIE),
    Layer(name="attache_posts_resident", columns=("attache_posts_resident",), source="attache_postings",
          first_year=1800, last_year=present_year(),
          description="Of those posts, the ones resident in ccode2 (not accredited from a post elsewhere).",
          citation_keys=("defdip_attache_postings",), role="tie", family="attaches", scale="count",
          tables=TIE.tables, tie=TIE))
