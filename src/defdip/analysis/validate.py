"""The proof that ships with the store: every source's rows accounted for, its figures reconciled, its
records keeping the rules every record must keep.

``validate(store)`` reads a built store and returns one :class:`Check` per line:

* accounting: for every loaded source, the rows read equal the rows it kept (or set aside for a stated
  reason, e.g. blank rows or dyad-years aggregated into spells) plus the rows it quarantined;
* parity: each source module's own comparisons with the dataset's published figures or files
  (:meth:`Source.checks`), and the COW dyad-year base against the state-system file;
* invariants: no record lists a state twice, participants' codes agree with the registry, every
  participant existed in the record's years, years are possible, every citation key resolves.

A check that fails without a note explaining the difference is a bug; ``defdip validate`` exits non-zero.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from defdip.core import config
from defdip.core.actors import registry
from defdip.core.citations import unresolved_keys, used_keys
from defdip.core.errors import StoreError
from defdip.ingest.sources import all_sources
from defdip.ingest.sources.base import Check
from defdip.store.build import has_table

KINDS = ("accounting", "parity", "invariant")


def validate(store: str | Path | None = None) -> list[Check]:
    """Every check of the store at ``store`` (accounting, then parity, then invariants)."""
    path = config.store_path(store)
    if not path.is_file():
        raise StoreError(f"no store at {path}; run `defdip build` first (or pass --store / set DEFDIP_STORE)")
    con = duckdb.connect(str(path), read_only=True)
    try:
        checks = accounting(con) + parity(con) + invariants(con)
    finally:
        con.close()
    return sorted(checks, key=lambda c: KINDS.index(c.kind) if c.kind in KINDS else len(KINDS))


def as_frame(checks: Iterable[Check], *, pretty: bool = False) -> pd.DataFrame:
    """The checks as a table (one row each); ``pretty`` prints counts with thousands separators."""
    rows = [{**asdict(c), "expected": _shown(c.expected, pretty), "actual": _shown(c.actual, pretty)}
            for c in checks]
    return pd.DataFrame(rows, columns=["kind", "source", "name", "expected", "actual", "ok", "note"])


def _shown(value: Any, pretty: bool) -> str:
    if value is None:
        return ""
    if pretty and isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def failures(checks: Iterable[Check]) -> list[Check]:
    return [c for c in checks if not c.ok]


# ----------------------------------------------------------------------------- accounting

def accounting(con: duckdb.DuckDBPyConnection) -> list[Check]:
    """rows read = rows accounted for (kept, or set aside for a stated reason) + rows quarantined."""
    quarantined = dict(con.execute(
        "SELECT source, count(DISTINCT file || '#' || row) FROM quarantine GROUP BY 1").fetchall())
    report = con.execute("SELECT * FROM ingest_report ORDER BY source").df()
    checks: list[Check] = []
    for row in report.to_dict("records"):
        if row["status"] != "loaded":
            continue
        sid = row["source"]
        accounted = json.loads(row.get("accounted") or "{}")
        rejected = int(quarantined.get(sid, 0))
        total = sum(int(v) for v in accounted.values()) + rejected
        parts = " + ".join(f"{v:,} {k}" for k, v in sorted(accounted.items())) or "nothing"
        checks.append(Check(sid, "rows read = accounted + quarantined", int(row["rows_read"]), total,
                            total == int(row["rows_read"]), kind="accounting",
                            note=f"{parts} + {rejected:,} quarantined"))
    merged = con.execute("""
        SELECT source, count(*) FROM provenance
        WHERE engagement_id IN (SELECT engagement_id FROM provenance GROUP BY 1 HAVING count(DISTINCT source) > 1)
        GROUP BY 1 ORDER BY 1""").fetchall()
    for sid, n in merged:  # a report line: records of this source merged with another source's record
        checks.append(Check(sid, "records merged with another source's", None, int(n), True, kind="accounting"))
    return checks


# ----------------------------------------------------------------------------- parity

def parity(con: duckdb.DuckDBPyConnection) -> list[Check]:
    """Each loaded source's own checks, and the COW dyad-year base against the system file."""
    loaded = {sid for (sid,) in con.execute("SELECT source FROM ingest_report WHERE status = 'loaded'").fetchall()}
    checks: list[Check] = []
    for sid, source in all_sources().items():
        if sid in loaded:
            checks += source.checks(con)
    if has_table(con, "cow_system") and has_table(con, "cow_majors"):
        checks.append(_cow_base(con))
    return checks


def _cow_base(con: duckdb.DuckDBPyConnection) -> Check:
    """The panel's non-directed COW dyad-years against pairs counted straight from system2016."""
    from defdip.analysis.panels import COW_END, dyad_year

    expected = int(con.execute(
        f"SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT year, count(DISTINCT ccode) AS n FROM cow_system "
        f"WHERE year <= {COW_END} GROUP BY year)").fetchone()[0])
    first = con.execute("SELECT min(year) FROM cow_system").fetchone()[0]
    actual = len(dyad_year(_store_file(con), from_year=int(first), to_year=COW_END, layers=["cowmaj"]))
    return Check("state_system", f"non-directed dyad-years {first}-{COW_END} vs system2016 pairs", expected,
                 actual, expected == actual)


def _store_file(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
               .fetchone()[0])


# ----------------------------------------------------------------------------- invariants

def invariants(con: duckdb.DuckDBPyConnection) -> list[Check]:
    return [_no_state_twice(con), _codes_agree(con), _participants_exist(con), _years_possible(con),
            _participant_counts(con), _citations_resolve(con)]


def _examples(rows: list[tuple[Any, ...]]) -> str:
    return "; ".join(" ".join(str(v) for v in r) for r in rows[:5])


def _no_state_twice(con: duckdb.DuckDBPyConnection) -> Check:
    """The same state twice in one role, or a two-party record whose parties are one state.

    (A state may hold two roles in one record: Kenya both hosted and contributed to UNMIS in 2006.)"""
    rows = con.execute("""
        SELECT engagement_id, polity_id FROM participants WHERE polity_id <> 'unknown'
        GROUP BY engagement_id, polity_id, role HAVING count(*) > 1
        UNION
        SELECT engagement_id, min(polity_id) FROM participants WHERE polity_id <> 'unknown' GROUP BY 1
        HAVING count(*) = 2 AND count(DISTINCT polity_id) = 1
        ORDER BY 1""").fetchall()
    return Check("store", "no record lists a state twice in one role (no self-dyads)", 0, len(rows), not rows,
                 kind="invariant", note=_examples(rows))


def _codes_agree(con: duckdb.DuckDBPyConnection) -> Check:
    rows = con.execute("""
        SELECT p.engagement_id, p.polity_id, p.ccode, q.ccode FROM participants p JOIN polities q ON q.id = p.polity_id
        WHERE p.ccode IS NOT NULL AND q.ccode IS NOT NULL AND p.ccode <> q.ccode ORDER BY 1""").fetchall()
    return Check("store", "participants' COW codes agree with the registry", 0, len(rows), not rows,
                 kind="invariant", note=_examples(rows))


def _participants_exist(con: duckdb.DuckDBPyConnection) -> Check:
    """Every participant existed (or an organisation was founded) at some point in its years in the record.

    A participant the source itself names before or after the polity existed (an order placed before a
    recipient's independence, troops in a colony) is kept with a flag saying so; those are counted apart.
    """
    reg = registry()
    flags = ("resolved_outside_existence", "outside_existence", "resolved_as_of")
    flagged = " OR ".join(f"json_extract(p.attributes, '$.{f}') IS NOT NULL" for f in flags)
    pairs = con.execute(f"""
        SELECT p.polity_id, coalesce(p.start_year, e.start_year) AS s,
               coalesce(p.end_year, e.end_year, p.start_year, e.start_year) AS t,
               coalesce({flagged}, false) AS flagged, min(e.id)
        FROM participants p JOIN engagements e ON e.id = p.engagement_id
        WHERE p.polity_id <> 'unknown' GROUP BY 1, 2, 3, 4""").fetchall()
    bad, documented = [], 0
    for polity_id, start, end, is_flagged, example in pairs:
        polity = reg.get(polity_id) if polity_id in reg else None
        if polity is not None and _overlaps(polity, int(start), int(max(start, end))):
            continue
        if is_flagged:
            documented += 1
        else:
            bad.append((example, polity_id, f"{start}-{end}"))
    bad.sort()
    note = f"{documented} flagged by their source as named outside the polity's existence; " if documented else ""
    return Check("store", "every participant existed in its years in the record", 0, len(bad), not bad,
                 kind="invariant", note=note + _examples(bad))


def _overlaps(polity: Any, start: int, end: int) -> bool:
    spells = polity.spells or ((polity.start_year, polity.end_year),)
    return any((a is None or a <= end) and (b is None or start <= b) for a, b in spells)


def _years_possible(con: duckdb.DuckDBPyConnection) -> Check:
    this_year = _dt.date.today().year
    rows = con.execute(f"""
        SELECT id, start_year, end_year FROM engagements
        WHERE start_year = 0 OR end_year = 0 OR start_year > {this_year + 1} OR end_year > {this_year + 1}
           OR end_year < start_year ORDER BY id""").fetchall()
    return Check("store", f"no year 0, none after {this_year + 1}, no end before its start", 0, len(rows), not rows,
                 kind="invariant", note=_examples(rows))


def _participant_counts(con: duckdb.DuckDBPyConnection) -> Check:
    rows = con.execute("""
        SELECT e.id, e.n_participants, count(p.polity_id) FROM engagements e
        LEFT JOIN participants p ON p.engagement_id = e.id GROUP BY 1, 2
        HAVING e.n_participants <> count(p.polity_id) ORDER BY 1""").fetchall()
    return Check("store", "each record's participant count matches its participants", 0, len(rows), not rows,
                 kind="invariant", note=_examples(rows))


def _citations_resolve(con: duckdb.DuckDBPyConnection) -> Check:
    """Every key on a record or provenance entry, and every key the package uses (sources, layers, genealogy,
    codebook), has a BibTeX entry, so `defdip cite KEY` prints it."""
    keys: set[str] = set().union(*used_keys().values())
    for sql in ("SELECT DISTINCT unnest(citations) FROM engagements",
                "SELECT DISTINCT unnest(citations) FROM provenance"):
        keys.update(str(k) for (k,) in con.execute(sql).fetchall() if k)
    extra = [t for (t,) in con.execute("SELECT bibtex FROM sources").fetchall() if t]
    missing = unresolved_keys(keys, extra)
    return Check("store", "every citation key resolves", 0, len(missing), not missing, kind="invariant",
                 note=", ".join(missing[:10]))
