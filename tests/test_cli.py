"""The CLI mirrors the library; output is checked on the genealogy store."""

import json
import subprocess
import sys


def run(*args, env_store=None, check=True):
    import os

    env = dict(os.environ)
    if env_store:
        env["DEFDIP_STORE"] = str(env_store)
    proc = subprocess.run([sys.executable, "-m", "defdip", *args], capture_output=True, text=True, env=env)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_codebook_json():
    data = json.loads(run("codebook", "--format", "json").stdout)
    assert [a["id"] for a in data["activities"]] == ["contacts", "attaches", "exercises", "agreements"]


def test_genealogy_json_filters():
    records = json.loads(run("genealogy", "--activity", "attaches", "--to", "1900", "--format", "json").stdout)
    assert records and all(r["activity"] == "attaches" and r["start_year"] <= 1900 for r in records)
    for r in records:
        assert {"id", "title", "summary", "activity", "sub_activities", "start_year", "end_year", "participants",
                "sources"} <= set(r)
        assert all({"id", "name", "role"} <= set(p) for p in r["participants"])


def test_cite_prints_bibtex_and_rejects_unknown_keys():
    out = run("cite", "khalid_ahmed_2024").stdout
    assert out.lstrip().startswith("@") and "khalid_ahmed_2024" in out
    bad = run("cite", "khalid_ahmed_2042", check=False)
    assert bad.returncode == 1 and "khalid_ahmed_2024" in bad.stderr and "Traceback" not in bad.stderr


def test_status_json_and_missing_store(genealogy_store, tmp_path):
    info = json.loads(run("status", "--format", "json", env_store=genealogy_store).stdout)
    assert info["engagements"] >= 150
    missing = run("status", env_store=tmp_path / "none.duckdb", check=False)
    assert missing.returncode == 1 and "defdip build" in missing.stderr and "Traceback" not in missing.stderr
