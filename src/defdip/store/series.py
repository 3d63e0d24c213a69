"""The read layer's aggregate and time-series queries: what the analyses of change over time, the network code
and the maps read from the record tables (engagements, participants, provenance).

Each function returns plain rows; what they mean (which engagements count, what is in force, when a dyad is
allied) is decided by :mod:`defdip.analysis.evolution` and :mod:`defdip.analysis.network`, which read the store
only through here. Every function takes an open connection: :func:`connection` lends one from the read layer's
handle (:mod:`defdip.store.queries`) for a path, the default store or an open handle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pandas as pd

from defdip.core import config
from defdip.store.queries import StoreLike, reading

StoreArg = StoreLike | duckdb.DuckDBPyConnection
"""A store as the analyses take it: a path, None for the default store, a :class:`StoreReader` or an open
connection (both lent as they are)."""


@contextmanager
def connection(store: StoreArg = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to ``store`` through the read layer's handle (:func:`defdip.store.queries.reading`);
    a handle or connection passed in is used as it is and left open."""
    if isinstance(store, duckdb.DuckDBPyConnection):
        yield store
        return
    with reading(store) as reader:
        yield reader.con


def store_path(con: duckdb.DuckDBPyConnection) -> str | None:
    """The file behind a connection's current database (None for an in-memory one)."""
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return str(row[0]) if row and row[0] else None


def panel_store(store: StoreArg, con: duckdb.DuckDBPyConnection) -> StoreLike | None:
    """What the layer registry should read for ``store``: the path or handle given as it is (its cached lookups
    kept), or for a lent raw connection the file behind it (None for an in-memory database)."""
    if not isinstance(store, duckdb.DuckDBPyConnection):
        return store if store is not None else str(config.store_path(None))
    return store_path(con)


SPANS_SQL = """
WITH ds AS (
  SELECT d, max(greatest(start_year, coalesce(end_year, start_year))) AS covered
  FROM (SELECT unnest(datasets) AS d, start_year, end_year FROM engagements) GROUP BY d),
cov AS (
  SELECT x.id, max(ds.covered) AS covered
  FROM (SELECT id, unnest(datasets) AS d FROM engagements) x JOIN ds USING (d) GROUP BY x.id)
SELECT e.id, e.title, e.activity, e.instrument, e.sub_activities, e.start_year, e.start_month, e.start_day,
       e.end_year, e.ongoing, e.precision, e.n_participants, e.attributes, e.datasets, e.citations,
       CASE WHEN e.ongoing THEN greatest(coalesce(e.end_year, e.start_year), coalesce(cov.covered, e.start_year))
            ELSE greatest(coalesce(e.end_year, e.start_year), e.start_year) END AS in_force_to
FROM engagements e LEFT JOIN cov USING (id)
"""
"""Every engagement with ``in_force_to``: its end year, or for an ongoing one the last year its datasets see."""


def engagement_spans(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every engagement (ordered by id) with the columns the analyses use and ``in_force_to`` (see
    :data:`SPANS_SQL`; attributes as stored, JSON text)."""
    return con.execute(SPANS_SQL + " ORDER BY e.id").df()


def participant_states(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """Engagement id -> the polities taking part that are not organisations (nor the ``unknown`` actor)."""
    rows = con.execute("""
        SELECT p.engagement_id, list(DISTINCT p.polity_id) FROM participants p
        LEFT JOIN polities pol ON pol.id = p.polity_id
        WHERE coalesce(pol.kind, '') <> 'organisation' AND p.polity_id <> 'unknown' GROUP BY 1""").fetchall()
    return {str(eid): set(ids) for eid, ids in rows}


def polity_pairs(con: duckdb.DuckDBPyConnection, ids: list[str] | None = None) -> pd.DataFrame:
    """Pairs of participants (not organisations) sharing an engagement, with the years both took part.

    Columns: engagement_id, a, b (polity ids, a < b), ccode_a, ccode_b, first (first year both took part),
    last (last year: participant spells bounded by the engagement's ``in_force_to``). ``ids`` restricts the
    engagements. A peacekeeping deployment (instrument ``deployment`` with the ``peacekeeping`` sub-activity)
    ties a contributor (or lead nation) to a host only: contributors deployed together, or two hosts of one
    mission, are not a pair (the ``pko_codeployed`` panel layer has them).
    """
    con.execute("CREATE OR REPLACE TEMP TABLE _eng_span AS SELECT id, start_year, in_force_to FROM ("
                + SPANS_SQL + ")")
    only = ""
    if ids is not None:
        con.register("_pair_ids", pd.DataFrame({"id": pd.Series(ids, dtype="string")}))
        only = "AND e.id IN (SELECT id FROM _pair_ids)"
    sql = f"""
    WITH parts AS (
      SELECT p.engagement_id, p.polity_id, any_value(p.ccode) AS ccode,
             min(coalesce(p.start_year, s.start_year)) AS py0,
             max(coalesce(p.end_year, s.in_force_to)) AS py1,
             bool_or(p.role IN ('contributor', 'leader')) AS sends, bool_or(p.role = 'host') AS hosts,
             any_value(e.instrument = 'deployment' AND list_contains(e.sub_activities, 'peacekeeping')) AS pko
      FROM participants p
      JOIN _eng_span s ON s.id = p.engagement_id
      JOIN engagements e ON e.id = p.engagement_id
      LEFT JOIN polities pol ON pol.id = p.polity_id
      WHERE coalesce(pol.kind, '') <> 'organisation' AND p.polity_id <> 'unknown' {only}
      GROUP BY 1, 2)
    SELECT x.engagement_id, x.polity_id AS a, y.polity_id AS b, x.ccode AS ccode_a, y.ccode AS ccode_b,
           greatest(x.py0, y.py0, s.start_year) AS first, least(x.py1, y.py1, s.in_force_to) AS last
    FROM parts x JOIN parts y ON x.engagement_id = y.engagement_id AND x.polity_id < y.polity_id
    JOIN _eng_span s ON s.id = x.engagement_id
    WHERE NOT x.pko OR (x.sends AND y.hosts) OR (x.hosts AND y.sends)
    """
    out = con.execute(sql).df()
    if ids is not None:
        con.unregister("_pair_ids")
    out = out[out["first"] <= out["last"]].reset_index(drop=True)
    for col in ("first", "last"):
        out[col] = out[col].astype(int)
    return out


def polities(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """id, name and ccode of every polity in the store (the graph's node names and codes)."""
    return con.execute("SELECT id, name, ccode FROM polities").df()


def ccode_ids(con: duckdb.DuckDBPyConnection) -> dict[int, tuple[str, str]]:
    """COW code -> (polity id, name) for the states in the store's ``polities`` table (the earliest spell of a
    code first): how panel rows, keyed by COW codes, name their polities."""
    rows = con.execute("SELECT ccode, id, name FROM polities WHERE ccode IS NOT NULL AND kind = 'state' "
                       "ORDER BY ccode, start_year NULLS FIRST, id").fetchall()
    out: dict[int, tuple[str, str]] = {}
    for code, pid, name in rows:
        out.setdefault(int(code), (str(pid), str(name)))
    return out


def source_windows(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per source (curated ones included): source, first_year (first start), last_year (last start or end
    year), records and activities (sorted list), ordered by first year and source."""
    return con.execute("""
        SELECT p.source, min(e.start_year) AS first_year,
               max(greatest(e.start_year, coalesce(e.end_year, e.start_year))) AS last_year,
               count(DISTINCT e.id) AS records, list(DISTINCT e.activity ORDER BY e.activity) AS activities
        FROM provenance p JOIN engagements e ON e.id = p.engagement_id
        GROUP BY 1 ORDER BY 2, 1""").df()


def map_window(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """The latest ten years that at least half the activity datasets reach (the maps' default window).

    A dataset's reach is its last start year; years after this one count as this year. Without datasets
    (only the genealogy), the window ends at the store's last start year.
    """
    ends = con.execute("""SELECT p.source, max(e.start_year) AS last FROM provenance p
                          JOIN engagements e ON e.id = p.engagement_id WHERE p.source <> 'genealogy'
                          GROUP BY 1""").fetchall()
    this_year = dt.date.today().year
    if not ends:
        row = con.execute("SELECT max(start_year) FROM engagements").fetchone()
        last = int(row[0]) if row and row[0] is not None else this_year
    else:
        values = sorted(min(int(v), this_year) for _, v in ends)
        last = values[(len(values) - 1) // 2]
    return last - 9, last
