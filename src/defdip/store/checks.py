"""The read layer's validation queries: what ``defdip validate``, the sources' own checks and the event layers'
precision and recall ask of a built store.

Each function takes an open (read-only) DuckDB connection on the store and returns plain values or a frame,
so the modules that judge the figures (:mod:`defdip.analysis.validate`, each source's ``checks``,
:mod:`defdip.events.validate`) hold no SQL over the record tables. A query over a reference table the store
may lack (a source that was not built) returns None rather than failing.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pandas as pd

OUTSIDE_EXISTENCE_FLAGS = ("resolved_outside_existence", "outside_existence", "resolved_as_of")
"""Participant attributes with which a source says it named a polity outside the polity's existence."""


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(_scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]))


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    rows = con.execute(sql, params or []).fetchall()  # (fetched whole, so no result is left pending)
    return rows[0][0] if rows else None


# ----------------------------------------------------------------------------- the build's bookkeeping

def ingest_report(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The last build's ingest report, one dict per source, by source id."""
    frame = con.execute("SELECT * FROM ingest_report ORDER BY source").df()
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def loaded_sources(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The sources the last build loaded (not skipped)."""
    return {str(sid) for (sid,) in con.execute("SELECT source FROM ingest_report WHERE status = 'loaded'").fetchall()}


def rows_read(con: duckdb.DuckDBPyConnection, source: str) -> int | None:
    """The rows a source's loader read; None when the build did not report the source."""
    n = _scalar(con, "SELECT rows_read FROM ingest_report WHERE source = ?", [source])
    return None if n is None else int(n)


def ingest_figures(con: duckdb.DuckDBPyConnection, source: str) -> tuple[int, dict[str, int]] | None:
    """A source's rows read and where they went (``accounted``); None when the build did not report it."""
    rows = con.execute("SELECT rows_read, accounted FROM ingest_report WHERE source = ?", [source]).fetchall()
    if not rows:
        return None
    row = rows[0]
    return int(row[0]), {str(k): int(v) for k, v in json.loads(row[1] or "{}").items()}


def quarantined_per_source(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Distinct rows (file and row) each source set aside."""
    return {str(sid): int(n) for sid, n in con.execute(
        "SELECT source, count(DISTINCT file || '#' || row) FROM quarantine GROUP BY 1").fetchall()}


def quarantined_rows(con: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    """The distinct row labels a source quarantined (a line number, or a source's own ``line;detail``)."""
    return [str(r) for (r,) in con.execute("SELECT DISTINCT row FROM quarantine WHERE source = ?",
                                           [source]).fetchall()]


def quarantined_by_value(con: duckdb.DuckDBPyConnection, source: str, field: str) -> dict[int, int]:
    """Rows a source quarantined at ``field``, counted by the field's value read as a whole number."""
    return {int(v): int(n) for v, n in con.execute(
        "SELECT TRY_CAST(value AS INTEGER), count(*) FROM quarantine WHERE source = ? AND field = ? GROUP BY 1",
        [source, field]).fetchall() if v is not None}


def store_file(con: duckdb.DuckDBPyConnection) -> str:
    """The path of the store file this connection reads (panels open the store by path)."""
    return str(_scalar(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"))


def store_summary(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What ``defdip status`` shows: engagements in all, per activity, sub-activity and source (and source by
    activity), the span of years, the last build's ingest report, unresolved names and build metadata."""
    total = int(_scalar(con, "SELECT count(*) FROM engagements"))
    per_activity = dict(con.execute("SELECT activity, count(*) FROM engagements GROUP BY 1 ORDER BY 1").fetchall())
    per_source = dict(con.execute(
        "SELECT source, count(DISTINCT engagement_id) FROM provenance GROUP BY 1 ORDER BY 1").fetchall())
    per_source_activity: dict[str, dict[str, int]] = {}
    for src, act, n in con.execute(
            "SELECT p.source, e.activity, count(DISTINCT e.id) FROM provenance p JOIN engagements e "
            "ON e.id = p.engagement_id GROUP BY 1, 2 ORDER BY 1, 2").fetchall():
        per_source_activity.setdefault(src, {})[act] = n
    per_sub = dict(con.execute(
        "SELECT s, count(*) FROM (SELECT unnest(sub_activities) AS s FROM engagements) GROUP BY 1 ORDER BY 1"
    ).fetchall())
    span = con.execute("SELECT min(start_year), max(coalesce(end_year, start_year)) FROM engagements").fetchone()
    first, last = span if span is not None else (None, None)
    report = con.execute("SELECT * FROM ingest_report ORDER BY source").df().to_dict(orient="records")
    unresolved = con.execute(
        "SELECT source, name, count FROM unresolved ORDER BY count DESC, source, name").df().to_dict("records")
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    return {"engagements": total, "first_year": first, "last_year": last, "per_activity": per_activity,
            "per_sub_activity": per_sub, "per_source": per_source, "per_source_activity": per_source_activity,
            "ingest": report, "unresolved": unresolved, "meta": meta}


# ----------------------------------------------------------------------------- records per source

def records_of_source(con: duckdb.DuckDBPyConnection, source: str) -> int:
    """Stored records a source contributed to (a record merged from two sources counts for each)."""
    return int(_scalar(con, "SELECT count(DISTINCT engagement_id) FROM provenance WHERE source = ?", [source]))


def merged_per_source(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """For each source, its provenance entries on records that another source also contributed to."""
    return [(str(sid), int(n)) for sid, n in con.execute("""
        SELECT source, count(*) FROM provenance
        WHERE engagement_id IN (SELECT engagement_id FROM provenance GROUP BY 1 HAVING count(DISTINCT source) > 1)
        GROUP BY 1 ORDER BY 1""").fetchall()]


def records_from_file(con: duckdb.DuckDBPyConnection, source: str, file: str) -> int:
    """Records of a source whose ``attributes.file`` names ``file`` (a source that reads one of two files)."""
    return int(_scalar(con, """
        SELECT count(*) FROM provenance p JOIN engagements e ON e.id = p.engagement_id
        WHERE p.source = ? AND json_extract_string(e.attributes, '$.file') = ?""", [source, file]))


def records_lacking_own_attributes(con: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    """Records a source contributed to that do not keep its attributes under its id (``attributes.<id>``)."""
    return [str(r[0]) for r in con.execute("""
        SELECT DISTINCT p.engagement_id FROM provenance p JOIN engagements e ON e.id = p.engagement_id
        WHERE p.source = ? AND json_extract(e.attributes, '$.' || ?) IS NULL ORDER BY 1""",
        [source, source]).fetchall()]


# ----------------------------------------------------------------------------- invariants of every record

def states_twice(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """(record, polity) where a record lists a state twice in one role, or its two parties are one state."""
    return con.execute("""
        SELECT engagement_id, polity_id FROM participants WHERE polity_id <> 'unknown'
        GROUP BY engagement_id, polity_id, role HAVING count(*) > 1
        UNION
        SELECT engagement_id, min(polity_id) FROM participants WHERE polity_id <> 'unknown' GROUP BY 1
        HAVING count(*) = 2 AND count(DISTINCT polity_id) = 1
        ORDER BY 1""").fetchall()


def code_mismatches(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """(record, polity, stored ccode, registry ccode) where a participant's COW code is not the registry's."""
    return con.execute("""
        SELECT p.engagement_id, p.polity_id, p.ccode, q.ccode FROM participants p JOIN polities q ON q.id = p.polity_id
        WHERE p.ccode IS NOT NULL AND q.ccode IS NOT NULL AND p.ccode <> q.ccode ORDER BY 1""").fetchall()


def participant_spans(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int, bool, str]]:
    """Each distinct (polity, first year, last year, flagged) of a participant in a record, with one record.

    The years are the participant's own where given, else the record's; ``flagged``: the source named it
    outside the polity's existence (:data:`OUTSIDE_EXISTENCE_FLAGS`).
    """
    flagged = " OR ".join(f"json_extract(p.attributes, '$.{f}') IS NOT NULL" for f in OUTSIDE_EXISTENCE_FLAGS)
    return [(str(pid), int(s), int(t), bool(f), str(example)) for pid, s, t, f, example in con.execute(f"""
        SELECT p.polity_id, coalesce(p.start_year, e.start_year) AS s,
               coalesce(p.end_year, e.end_year, p.start_year, e.start_year) AS t,
               coalesce({flagged}, false) AS flagged, min(e.id)
        FROM participants p JOIN engagements e ON e.id = p.engagement_id
        WHERE p.polity_id <> 'unknown' GROUP BY 1, 2, 3, 4""").fetchall()]


def impossible_years(con: duckdb.DuckDBPyConnection, last_year: int) -> list[tuple[Any, ...]]:
    """(record, start, end) with a year 0, a year after ``last_year`` or an end before its start."""
    return con.execute("""
        SELECT id, start_year, end_year FROM engagements
        WHERE start_year = 0 OR end_year = 0 OR start_year > ? OR end_year > ?
           OR end_year < start_year ORDER BY id""", [last_year, last_year]).fetchall()


def participant_count_mismatches(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """(record, n_participants, participants stored) where the two differ."""
    return con.execute("""
        SELECT e.id, e.n_participants, count(p.polity_id) FROM engagements e
        LEFT JOIN participants p ON p.engagement_id = e.id GROUP BY 1, 2
        HAVING e.n_participants <> count(p.polity_id) ORDER BY 1""").fetchall()


def stored_citation_keys(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every citation key on a record or on a provenance entry."""
    keys: set[str] = set()
    for sql in ("SELECT DISTINCT unnest(citations) FROM engagements",
                "SELECT DISTINCT unnest(citations) FROM provenance"):
        keys.update(str(k) for (k,) in con.execute(sql).fetchall() if k)
    return keys


def stored_bibtex(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The BibTeX the build recorded for each source (the user's own ``.bib`` files among them)."""
    return [str(t) for (t,) in con.execute("SELECT bibtex FROM sources").fetchall() if t]


# ----------------------------------------------------------------------------- reference tables

def cow_system_pairs(con: duckdb.DuckDBPyConnection, last_year: int) -> tuple[int, int] | None:
    """Non-directed pairs of COW system members summed over the years to ``last_year``, and the first year;
    None without the ``cow_system`` and ``cow_majors`` tables (the panel's dyad-year base needs both)."""
    if not (_has_table(con, "cow_system") and _has_table(con, "cow_majors")):
        return None
    pairs = _scalar(con, "SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT year, count(DISTINCT ccode) AS n "
                         "FROM cow_system WHERE year <= ? GROUP BY year)", [last_year])
    return int(pairs), int(_scalar(con, "SELECT min(year) FROM cow_system"))


def has_atop_directed_file(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store holds rows of ATOP's own directed dyad-year file (``atop_ddyr``)."""
    return _has_table(con, "atop_ddyr") and bool(_scalar(con, "SELECT count(*) FROM atop_ddyr"))


def atop_asymmetric_alliances(con: duckdb.DuckDBPyConnection) -> tuple[list[int], list[int]]:
    """Alliances whose member rows ATOP codes ``asymm`` with ``obvary`` (obligations owed to some co-members
    only), and those of them the cited exceptions table ``atop_exception`` codes pair by pair."""
    if not (_has_table(con, "atop_member") and _has_table(con, "atop_exception")):
        return [], []
    flagged = [int(a) for (a,) in con.execute(
        "SELECT DISTINCT atopid FROM atop_member WHERE asymm = 1 AND obvary = 1 ORDER BY atopid").fetchall()]
    coded = [int(a) for (a,) in con.execute(
        "SELECT DISTINCT atopid FROM atop_exception ORDER BY atopid").fetchall()]
    return flagged, coded


def atop_directed_differences(con: duckdb.DuckDBPyConnection, derived: pd.DataFrame) -> tuple[int, int]:
    """ATOP's own directed dyad-year file against ``derived``, the directed layers the layer registry derives
    from the member file (``c1``, ``c2``, ``year``, ``atop_defense`` ... ``atop_consul``): (allied directed
    dyad-years in the file, dyad-years that differ)."""
    con.register("_atop_derived", derived)
    try:
        row = con.execute("""
        WITH ours AS (SELECT * FROM _atop_derived),
        theirs AS (SELECT statea AS c1, stateb AS c2, year, defense, offense, neutral, nonagg, consul
                   FROM atop_ddyr)
        SELECT count(t.c1), count(*) FILTER (WHERE o.c1 IS NULL OR t.c1 IS NULL
            OR (o.atop_defense, o.atop_offense, o.atop_neutral, o.atop_nonagg, o.atop_consul)
               <> (t.defense, t.offense, t.neutral, t.nonagg, t.consul))
        FROM ours o FULL JOIN theirs t ON o.c1 = t.c1 AND o.c2 = t.c2 AND o.year = t.year""").fetchall()
    finally:
        con.unregister("_atop_derived")
    total, differ = row[0]
    return int(total), int(differ)


def dcad_self_dyads(con: duckdb.DuckDBPyConnection) -> list[str] | None:
    """DCAD agreements whose two parties are one state; None without the ``dcad_agreement`` table."""
    if not _has_table(con, "dcad_agreement"):
        return None
    return [str(r[0]) for r in con.execute("SELECT dcaid FROM dcad_agreement WHERE ccode1 = ccode2 ORDER BY 1")
            .fetchall()]


# ----------------------------------------------------------------------------- exercises (MME, JME)

def mme_exercises(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per stored MME record: its MMEID and the start year by MME's own dates (``mmeid``, ``year``)."""
    return con.execute("""
        SELECT json_extract_string(attributes, '$.mme.mmeid') AS mmeid,
               TRY_CAST(left(json_extract_string(attributes, '$.mme.start'), 4) AS INTEGER) AS year
        FROM engagements WHERE json_extract(attributes, '$.mme') IS NOT NULL""").df()


def mme_file_years(con: duckdb.DuckDBPyConnection) -> dict[int, int] | None:
    """MME's file rows per year (``mme_file_years``); None without the table."""
    if not _has_table(con, "mme_file_years"):
        return None
    return {int(y): int(n) for y, n in con.execute("SELECT year, rows FROM mme_file_years").fetchall()}


def jme_batches(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int, int]] | None:
    """JME's batches as the sheet holds them: batch -> (first row, last row, report rows); None without them."""
    if not _has_table(con, "jme_batches"):
        return None
    return {str(b): (int(first), int(last), int(n)) for b, first, last, n in con.execute(
        "SELECT batch, first_row, last_row, rows FROM jme_batches").fetchall()}


def jme_rows_stored(con: duckdb.DuckDBPyConnection, batches: list[str]) -> dict[str, int]:
    """For each JME batch, the report rows that stored records hold (``attributes.jme.batches.<batch>``)."""
    out: dict[str, int] = {}
    for batch in batches:
        n = _scalar(con, "SELECT sum(TRY_CAST(json_extract(attributes, '$.jme.batches.' || ?) AS INTEGER))::INTEGER "
                         "FROM engagements", [batch])
        if n is not None:
            out[batch] = int(n)
    return out


def match_tiers(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """MME/JME pairs the build merged, per pairing tier (none without the ``exercise_matches`` table)."""
    if not _has_table(con, "exercise_matches"):
        return []
    return [(str(t), int(n)) for t, n in con.execute(
        "SELECT tier, count(*) FROM exercise_matches GROUP BY 1 ORDER BY 1").fetchall()]


# ----------------------------------------------------------------------------- event layers vs curated data

def event_years(con: duckdb.DuckDBPyConnection) -> set[int] | None:
    """The years the event files cover (``ev_coverage``); None when no event layers were ingested."""
    if not _has_table(con, "ev_dyad_year"):
        return None
    return {int(r[0]) for r in con.execute("SELECT DISTINCT year FROM ev_coverage").fetchall()}


EVENT_LAYERS = ("ev_milcoop", "ev_contacts", "ev_agreements")
"""The event layers compared with curated data."""


def event_dyad_years(con: duckdb.DuckDBPyConnection, layer: str) -> pd.DataFrame:
    """Non-directed dyad-years (``c1``, ``c2``, ``year``) in which event layer ``layer`` is positive."""
    if layer not in EVENT_LAYERS:
        raise ValueError(f"unknown event layer {layer!r}; expected one of {', '.join(EVENT_LAYERS)}")
    return con.execute(f"""SELECT DISTINCT least(c1, c2) AS c1, greatest(c1, c2) AS c2, year
                           FROM ev_dyad_year WHERE "{layer}" > 0""").df()


def exercise_dyad_years(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Non-directed dyad-years of MME/JME exercises (start year), from the stored records."""
    return con.execute("""
        SELECT DISTINCT least(a.ccode, b.ccode) AS c1, greatest(a.ccode, b.ccode) AS c2, e.start_year AS year
        FROM engagements e JOIN participants a ON a.engagement_id = e.id JOIN participants b ON b.engagement_id = e.id
        WHERE e.activity = 'exercises' AND a.ccode IS NOT NULL AND b.ccode IS NOT NULL AND a.ccode <> b.ccode
          AND e.id IN (SELECT engagement_id FROM provenance WHERE source IN ('mme', 'jme'))""").df()


def us_visit_dyad_years(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Dyad-years of the US (COW 2) with each state its defence officials visited (US defence visits list)."""
    return con.execute("""
        SELECT DISTINCT least(2, p.ccode) AS c1, greatest(2, p.ccode) AS c2, e.start_year AS year
        FROM engagements e JOIN participants p ON p.engagement_id = e.id
        WHERE e.instrument = 'visit' AND p.ccode IS NOT NULL AND p.ccode <> 2
          AND e.id IN (SELECT engagement_id FROM provenance WHERE source = 'us_visits')""").df()


def dca_signed_dyad_years(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """Non-directed dyad-years in which DCAD records a signature; None without the ``dcad_agreement`` table."""
    if not _has_table(con, "dcad_agreement"):
        return None
    return con.execute("""
        SELECT DISTINCT least(ccode1, ccode2) AS c1, greatest(ccode1, ccode2) AS c2, sign_year AS year
        FROM dcad_agreement WHERE ccode1 IS NOT NULL AND ccode2 IS NOT NULL AND ccode1 <> ccode2""").df()


def attache_figures(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    """Attaché postings: (postings whose citation has no row in attache_references, receiving states of the
    postings, rows of the attache_postings table)."""
    missing = _scalar(con, """
        SELECT count(*) FROM engagements e JOIN provenance p ON p.engagement_id = e.id
        WHERE p.source = 'attache_postings' AND json_extract_string(e.attributes, '$.citation')
              NOT IN (SELECT key FROM attache_references)""")
    receivers = _scalar(con, """
        SELECT count(*) FROM participants p JOIN provenance v ON v.engagement_id = p.engagement_id
        WHERE v.source = 'attache_postings' AND p.role = 'receiver'""")
    rows = _scalar(con, "SELECT count(*) FROM attache_postings")
    return int(missing), int(receivers), int(rows)
