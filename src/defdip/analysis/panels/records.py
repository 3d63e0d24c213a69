"""A researcher's own records (``records_*``): engagements of source ``user`` -- records written by hand or coded
from text by ``defdip code`` and reviewed -- that entered the store through ``defdip build --records``.

Per dyad-year and activity of the codebook (contacts, attachés, exercises, agreements) and over all of them, two
counts of the records that started that year:

* ``records_<activity>``: records in which both states take part, whatever their roles (a property of the
  pair: the same in both orderings of a directed panel; non-directed panels keep that count);
* ``records_<activity>_sent``: of those, the records whose roles give a direction from ccode1 to ccode2 -- the
  first state sends or supplies (``sender``, ``supplier``), the second receives or hosts (``receiver``,
  ``recipient``, ``host``): an attaché's sending and receiving state, a visitor and host, an equipment supplier
  and recipient. Non-directed panels sum the two directions, so the count stays at most ``records_<activity>``.

Keeping the direction in a column of its own keeps both counts exact in either kind of panel: one column that
mixed symmetric and directed records could not be combined over the two directions without counting some
records twice or losing some.

A researcher's records are partial by nature (the documents someone chose to code), so the layers cover only
the years the store's user records span and are NA elsewhere; a store without user records has no data for them
(asking for one says so). Only participants with a COW code count (organisations and historical polities have
none).
"""

from __future__ import annotations

from defdip.analysis.panels.registry import Layer, Tie, register
from defdip.core.dates import present_year

USER = "user"
"""The source id of ``defdip build --records``."""

ACTIVITIES = {"contacts": "contacts between defence officials (visits, talks, dialogues, deployments)",
              "attaches": "defence attachés and military envoys",
              "exercises": "joint military exercises",
              "agreements": "defence agreements, MoUs, treaties and equipment transfers"}
"""Activity of the codebook -> what its records are (the layers' descriptions)."""

SENDS = ("sender", "supplier")
"""Roles on the sending side of a direction."""
RECEIVES = ("receiver", "recipient", "host")
"""Roles on the receiving side."""

_COUNTS = {**{act: f"a.activity = '{act}'" for act in ACTIVITIES}, "all": "TRUE"}
"""Layer suffix -> the records it counts."""

_SPAN = f"""(SELECT {{}} FROM engagements WHERE id IN (SELECT engagement_id FROM provenance WHERE source = '{USER}'))"""

TIE = Tie(
    name="records", tables=("engagements", "participants", "provenance"),
    sql=f"""
    WITH ep AS (
        SELECT e.id, e.activity, e.start_year AS year, p.ccode,
               bool_or(p.role IN {SENDS}) AS sends, bool_or(p.role IN {RECEIVES}) AS receives
        FROM engagements e JOIN participants p ON p.engagement_id = e.id
        WHERE p.ccode IS NOT NULL
          AND e.id IN (SELECT engagement_id FROM provenance WHERE source = '{USER}')
        GROUP BY ALL)
    SELECT a.ccode AS c1, b.ccode AS c2, a.year,
           {", ".join(f"count(*) FILTER (WHERE {cond}) AS records_{name}, "
                      f"count(*) FILTER (WHERE {cond} AND a.sends AND b.receives) "
                      f"AS records_{name}_sent" for name, cond in _COUNTS.items())}
    FROM ep a JOIN ep b ON a.id = b.id AND a.ccode <> b.ccode
    GROUP BY ALL""",
    combine={col: how for name in _COUNTS for col, how in ((f"records_{name}", "max"),
                                                          (f"records_{name}_sent", "sum"))},
    coverage=f"(d.year BETWEEN {_SPAN.format('min(start_year)')} "
             f"AND {_SPAN.format('max(coalesce(end_year, start_year))')})",
    types={}, record_sources=(USER,),
    load_hint="add your records with `defdip build --records FILE_OR_DIR` (YAML records, e.g. reviewed "
              "`defdip code` output)")

_WHERE = ("NA outside the years the store's user records span (first start year to last start or end year); no "
          "data in a store built without `--records`. Cite the records' own sources: their keys are in "
          "`defdip engagements --source user` (`defdip cite KEY --store` prints them), their .bib entries in an "
          "exported panel's CITATION.bib.")


def _layer(name: str, what: str) -> Layer:
    return Layer(
        name=f"records_{name}", columns=(f"records_{name}", f"records_{name}_sent"), source=USER,
        first_year=1816, last_year=present_year(),
        description=f"Number of the researcher's own records (`defdip build --records`, e.g. reviewed `defdip code` "
        f"output) of {what} that started that year with both states taking part; `_sent`: of those, the ones "
        "directed from ccode1 (sender, supplier) to ccode2 (receiver, recipient, host), both directions summed in "
        f"non-directed panels. {_WHERE}",
        citation_keys=("khalid_ahmed_2024",), role="tie", family="records", scale="count", tables=TIE.tables,
        tie=TIE)


register(*(_layer(name, what) for name, what in ACTIVITIES.items()),
         _layer("all", "any activity"))
