"""The CLI mirrors the library: its layers, rows and figures are the library's (on the genealogy store, and on
the real store for the network)."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from defdip.analysis import evolution as ev
from defdip.analysis import network as net
from defdip.analysis import panels
from defdip.analysis.profiles import profile
from defdip.cli import app
from defdip.core.errors import DefdipError


def run(*args, env_store=None, check=True):
    """`python -m defdip ARGS` in a fresh process (the real entry point)."""
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


def test_codebook_events_prints_the_event_mapping_as_events_mapping_does():
    via_codebook = json.loads(run("codebook", "--events", "--format", "json").stdout)
    via_events = json.loads(run("events", "mapping", "--format", "json").stdout)
    assert via_codebook == via_events
    assert {r["activity"] for r in via_codebook} >= {"contacts", "exercises", "agreements"}


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


# --- the CLI mirrors the library: same layers, same rows, same figures ------------------------------------------

def invoke(*args):
    """The command in this process; it must succeed."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_layer_lists_come_from_the_registry():
    listed = json.loads(invoke("panel", "layers", "--format", "json").stdout)
    assert [r["layer"] for r in listed] == list(panels.LAYERS) and len(listed) > 20
    ties = json.loads(invoke("network", "--list", "-f", "json").stdout)
    assert {r["layer"]: r["description"] for r in ties} == net.layers()
    assert "dd_index" in net.layers() and "dca_any" in net.layers()


def test_cite_layers_and_unknown_layer_message_match_the_registry():
    out = invoke("cite", "--layers", "atop_defense").stdout
    for key in panels.LAYERS["atop_defense"].citation_keys:
        assert f"{{{key}," in out
    bad = run("cite", "--layers", "atop_defence", check=False)
    with pytest.raises(DefdipError) as expected:
        panels.resolve("atop_defence")
    assert bad.returncode == 1 and bad.stderr.strip().splitlines() == [f"error: {expected.value}"]


def test_evolution_table_and_chart_are_the_library_s(genealogy_store, tmp_path):
    table, chart = tmp_path / "out" / "evolution.csv", tmp_path / "out" / "evolution.svg"
    invoke("evolution", "--by", "era", "-o", str(table), "--chart", str(chart), "--store", str(genealogy_store))
    written = pd.read_csv(table)
    expected = ev.evolution(genealogy_store, by="era")
    assert len(written) == len(expected) > 0
    assert written["started"].sum() == expected["started"].sum() >= 150
    assert chart.read_text(encoding="utf-8").lstrip().startswith("<svg")


def test_profile_json_is_the_library_s(genealogy_store):
    data = json.loads(invoke("profile", "athens", "-f", "json", "--store", str(genealogy_store)).stdout)
    info = profile("athens", genealogy_store)
    assert data["polity"]["id"] == info["polity"]["id"] == "athens"
    assert data["engagements"] == info["engagements"] > 0
    assert len(data["timeline"]) == len(info["timeline"])


@pytest.mark.shared
def test_evolution_chart_by_decade_draws_each_dataset_s_coverage(full_store, tmp_path):
    chart = tmp_path / "evolution.svg"
    invoke("evolution", "--by", "decade", "--chart", str(chart), "--store", str(full_store))
    svg = chart.read_text(encoding="utf-8")
    assert "dcad 1980-2010" in svg and "mme 1980-2010" in svg  # the strip under the series names each window


@pytest.mark.shared
def test_network_summary_on_the_real_store(full_store, tmp_path):
    graph = tmp_path / "dca.graphml"
    data = json.loads(invoke("network", "--year", "2010", "--layer", "dca_any", "-o", str(graph), "-f", "json",
                             "--store", str(full_store)).stdout)
    result = net.network(2010, layer="dca_any", store=full_store)
    assert data["summary"]["nodes"] == result.summary["nodes"] > 50
    assert data["summary"]["edges"] == result.summary["edges"]
    assert [n["id"] for n in data["nodes"]] == list(result.nodes.head(10)["id"])
    assert graph.read_text(encoding="utf-8").startswith("<?xml")
