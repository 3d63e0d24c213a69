"""`defdip validate`: the reconciliation of the store with its sources, on the real data and on stores
broken on purpose (each check must catch what it is for)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from defdip.analysis.validate import as_frame, failures, validate
from defdip.cli.app import app


def _broken(genealogy_store: Path, tmp_path: Path, *sql: str) -> Path:
    path = tmp_path / "broken.duckdb"
    shutil.copy(genealogy_store, path)
    con = duckdb.connect(str(path))
    for statement in sql:
        con.execute(statement)
    con.close()
    return path


def _by_name(checks, text: str):
    return [c for c in checks if text in c.name]


def test_real_store_validates(full_store: Path) -> None:
    """The proof that ships with the product: every check passes on the full shared data."""
    checks = validate(full_store)
    bad = as_frame(failures(checks))
    assert bad.empty, "\n" + bad.to_string()
    kinds = {c.kind for c in checks}
    assert kinds == {"accounting", "parity", "invariant"}
    accounted = {c.source for c in checks if c.kind == "accounting"}
    assert {"genealogy", "atop", "dcad", "mme", "jme", "sipri", "un_pko", "us_visits"} <= accounted


def test_genealogy_store_validates(genealogy_store: Path) -> None:
    checks = validate(genealogy_store)
    assert not failures(checks), as_frame(failures(checks)).to_string()
    (acc,) = [c for c in checks if c.kind == "accounting" and c.source == "genealogy"]
    assert acc.expected == acc.actual > 250


def test_vanished_rows_fail_accounting(genealogy_store: Path, tmp_path: Path) -> None:
    path = _broken(genealogy_store, tmp_path, "UPDATE ingest_report SET rows_read = rows_read + 3 "
                                              "WHERE source = 'genealogy'")
    (acc,) = [c for c in validate(path) if c.kind == "accounting" and c.source == "genealogy"]
    assert not acc.ok and acc.expected == acc.actual + 3


def test_self_dyad_and_code_mismatch_are_caught(genealogy_store: Path, tmp_path: Path) -> None:
    con = duckdb.connect(str(genealogy_store), read_only=True)
    eid, pid, role = con.execute("SELECT engagement_id, polity_id, role FROM participants "
                                 "WHERE ccode IS NOT NULL ORDER BY 1 LIMIT 1").fetchone()
    con.close()
    path = _broken(genealogy_store, tmp_path,
                   f"INSERT INTO participants SELECT * FROM participants WHERE engagement_id = '{eid}' "
                   f"AND polity_id = '{pid}'",
                   f"UPDATE participants SET ccode = 999 WHERE engagement_id = '{eid}' AND polity_id = '{pid}'")
    checks = validate(path)
    (twice,) = _by_name(checks, "state twice")
    assert not twice.ok and eid in twice.note
    (codes,) = _by_name(checks, "COW codes agree")
    assert not codes.ok and codes.actual == 2
    (counts,) = _by_name(checks, "participant count")
    assert not counts.ok and role


def test_participant_outside_existence_is_caught(genealogy_store: Path, tmp_path: Path) -> None:
    con = duckdb.connect(str(genealogy_store), read_only=True)
    eid = con.execute("SELECT engagement_id FROM participants WHERE polity_id = 'USA' ORDER BY 1 LIMIT 1").fetchone()[0]
    con.close()
    path = _broken(genealogy_store, tmp_path,
                   f"UPDATE participants SET start_year = 1700, end_year = 1701 WHERE engagement_id = '{eid}' "
                   "AND polity_id = 'USA'")
    (exist,) = _by_name(validate(path), "existed")
    assert not exist.ok and f"{eid} USA 1700-1701" in exist.note


def test_unknown_citation_is_caught(genealogy_store: Path, tmp_path: Path) -> None:
    path = _broken(genealogy_store, tmp_path,
                   "UPDATE engagements SET citations = list_append(citations, 'no_such_key_1999') "
                   "WHERE id = (SELECT min(id) FROM engagements)")
    (cites,) = _by_name(validate(path), "citation")
    assert not cites.ok and "no_such_key_1999" in cites.note


def test_cli_exit_status_and_formats(genealogy_store: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(app, ["validate", "--store", str(genealogy_store), "-f", "json"])
    assert good.exit_code == 0, good.output
    broken = _broken(genealogy_store, tmp_path, "UPDATE engagements SET end_year = start_year - 5 "
                                                "WHERE id = (SELECT min(id) FROM engagements WHERE start_year > 0)")
    bad = runner.invoke(app, ["validate", "--store", str(broken), "--failed", "-f", "csv"])
    assert bad.exit_code == 1
    lines = bad.output.strip().splitlines()
    assert len(lines) == 2 and "end before its start" in lines[1]


def test_missing_store_is_one_line(tmp_path: Path) -> None:
    from defdip.core.errors import StoreError

    with pytest.raises(StoreError, match="no store at"):
        validate(tmp_path / "none.duckdb")


@pytest.mark.shared
def test_status_lists_the_quarantine(full_store: Path) -> None:
    import json

    result = CliRunner().invoke(app, ["status", "--store", str(full_store), "--quarantine", "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    con = duckdb.connect(str(full_store), read_only=True)
    total = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    con.close()
    assert len(data["quarantine"]) == total > 0
    assert {"source", "file", "row", "field", "value", "reason"} <= set(data["quarantine"][0])
    one = CliRunner().invoke(app, ["status", "--store", str(full_store), "--quarantine", "-s", "dcad", "-f", "csv"])
    lines = one.output.strip().splitlines()
    assert lines[0].startswith("source,file,row") and all(line.startswith("dcad,") for line in lines[1:])
