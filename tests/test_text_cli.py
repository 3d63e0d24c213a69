"""`defdip code`: documents to a review file, the reviewed file into the store, scores on gold, bad input."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import yaml

from defdip.ingest import build as store_mod
from defdip.ingest.genealogy import load_user_records

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "text"
GOLD_DEV = Path(__file__).resolve().parents[1] / "src" / "defdip" / "data" / "text" / "gold_dev.jsonl"


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "defdip", "code", *args], capture_output=True, text=True,
                          input=stdin, env=dict(os.environ))


def test_review_file_round_trips_into_the_store_with_documents_as_provenance(tmp_path):
    review = tmp_path / "review.yaml"
    proc = run(str(FIXTURES), "-o", str(review))
    assert proc.returncode == 0, proc.stderr
    assert review.exists() and (tmp_path / "review.bib").exists()
    text = review.read_text()
    records = yaml.safe_load(text)
    by_doc = {r["attributes"]["coded"]["document"] for r in records}
    assert {"news/malabar.md", "news/attache.html", "mod-001", "wire-2"} <= by_doc
    assert all(r["attributes"]["coded"]["status"] in ("occurred", "intended") for r in records)
    # what is not an event is shown to the reviewer, never stored
    assert "# [cancelled: not an event] exercises (ROK:participant, USA:participant)" in text
    assert "# [hypothetical: not an event] exercises (INS:participant, AUL:participant)" in text
    assert "[no date: give the document a date" in text and "[names no state or organisation]" in text
    # the reviewer drops one record and corrects a title; the file still loads unchanged otherwise
    dropped = next(r for r in records if r["attributes"]["coded"]["document"] == "wire-2")
    kept = [r for r in records if r is not dropped]
    kept[0]["title"] = "Reviewed: " + kept[0]["title"]
    review.write_text(yaml.safe_dump(kept, sort_keys=False, allow_unicode=True))
    assert [e.id for e in load_user_records(review)] != []
    empty = tmp_path / "no-sources"
    empty.mkdir()
    store = tmp_path / "s.duckdb"
    store_mod.build(store, empty, records=[review])
    con = duckdb.connect(str(store), read_only=True)
    try:
        rows = con.execute(
            "SELECT e.id, e.title, e.activity, p.citations, e.attributes FROM engagements e JOIN provenance p "
            "ON p.engagement_id = e.id WHERE p.source = 'user' ORDER BY e.id").fetchall()
        parts = con.execute("SELECT engagement_id, polity_id, role FROM participants WHERE engagement_id "
                            "LIKE 'text-%' ORDER BY 1, 2").fetchall()
        bib = con.execute("SELECT bibtex FROM sources WHERE id = 'user'").fetchone()[0]
    finally:
        con.close()
    assert len(rows) == len(kept) and dropped["id"] not in {r[0] for r in rows}
    assert any(r[1].startswith("Reviewed: ") for r in rows)
    malabar = next(r for r in rows if json.loads(r[4])["coded"]["document"] == "news/malabar.md")
    assert malabar[2] == "exercises" and malabar[3] == ["doc_news_malabar_md"]
    coded = json.loads(malabar[4])["coded"]
    source = (FIXTURES / "news" / "malabar.md").read_text()
    body = source[source.index("# Four navies"):]
    ev = coded["evidence"]["activity"]
    assert body[ev["start"]:ev["end"]] == ev["text"] and coded["rule"] and 0 < coded["confidence"] <= 1
    assert {(p, r) for e, p, r in parts if e == malabar[0]} == {
        ("IND", "participant"), ("JPN", "participant"), ("AUL", "participant"), ("USA", "participant")}
    assert "https://example.org/news/malabar-2024" in bib and "Four navies open Malabar off Okinawa" in bib


def test_csv_review_lists_every_candidate_and_uncoded_sentence(tmp_path):
    out = tmp_path / "review.csv"
    proc = run(str(FIXTURES / "releases.csv"), str(FIXTURES / "wire.jsonl"), "-o", str(out), "--date", "2023-09-01")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(out.open()))
    status = {(r["document"], r["activity"]): (r["status"], r["record"]) for r in rows}
    assert status[("mod-002", "exercises")] == ("cancelled", "False")
    assert status[("mod-003", "agreements")] == ("occurred", "True")  # dated by --date
    assert status[("wire-1", "exercises")] == ("hypothetical", "False")
    assert all(r["rule"] and r["sentence"] for r in rows)


def test_stdin_and_json_output():
    proc = run("-", "--format", "json", "--date", "2024-05-01",
               stdin="Indian Defence Minister Rajnath Singh visited Japan last week.\n")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [(r["activity"], r["participants"], r["year"], r["month"]) for r in rows] == [
        ("contacts", "IND:sender;JPN:host", 2024, 4)]


def test_evaluate_prints_scores_per_activity_and_pairs():
    proc = run("--evaluate", str(GOLD_DEV), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    scores = json.loads(proc.stdout)
    assert set(scores["activities"]) == {"contacts", "attaches", "exercises", "agreements"}
    assert scores["all"]["precision"] >= 0.9 and scores["all"]["recall"] >= 0.8 and scores["pairs"]["f1"] >= 0.85
    table = run("--evaluate", str(GOLD_DEV))
    assert table.returncode == 0 and "pairs" in table.stdout and "status accuracy" in table.stdout


def test_bad_input_is_one_clear_line(tmp_path):
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02" * 100)
    cases = [
        ((), "give a file, a folder or - (stdin) to code, or --evaluate GOLD"),
        ((str(tmp_path / "missing.txt"),), "no file or folder at"),
        ((str(tmp_path / "blob.txt"),), "no document to code"),
        ((str(FIXTURES / "plain.txt"), "-o", str(tmp_path / "out.txt")), "the review file must end in"),
        ((str(FIXTURES / "plain.txt"), "--evaluate", str(GOLD_DEV)), "give no INPUTS with it"),
    ]
    for args, message in cases:
        proc = run(*args)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)
    proc = run(str(tmp_path / "blob.txt"))
    assert "skipped:" in proc.stderr and "binary file" in proc.stderr
    proc = run(str(FIXTURES / "plain.txt"), "--date", "soonish")  # a usage error, as for every day option
    assert proc.returncode == 2 and "'soonish' is not a day: give it as YYYY-MM-DD" in proc.stderr
