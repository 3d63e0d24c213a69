"""A title search matches across scripts and spellings, the same in the API, the CLI's filter and the search page."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from defdip.ingest import build as store_mod
from defdip.present.web import create_app
from defdip.store import queries
from defdip.store.queries import EngagementFilter

RECORDS = """
- id: user-rimpak-2012
  title: Римпак-2012
  activity: exercises
  instrument: exercise
  start_year: 2012
  participants:
    - {id: RUS, role: participant}
    - {id: USA, role: participant}
  sources: [forster_2004]
- id: user-malabar-2012
  title: Malabar 2012
  activity: exercises
  instrument: exercise
  start_year: 2012
  participants:
    - {id: IND, role: participant}
    - {id: USA, role: participant}
  sources: [forster_2004]
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("titles")
    (root / "mine").mkdir()
    (root / "mine" / "records.yaml").write_text(RECORDS, encoding="utf-8")
    (root / "none").mkdir()
    path = root / "s.duckdb"
    store_mod.build(path, root / "none", records=[root / "mine"])
    return path


@pytest.mark.parametrize("q", ["Rimpac 2012", "RIMPAK-2012", "Римпак 2012"])
def test_a_latin_or_cyrillic_query_finds_the_cyrillic_title(store: Path, q: str) -> None:
    assert queries.title_matches(q, store)[0] == "user-rimpak-2012"
    frame = queries.engagements(EngagementFilter(text=q), store)
    assert list(frame["id"]) == ["user-rimpak-2012"]
    with TestClient(create_app(store)) as client:
        body = client.get("/api/engagements", params={"q": q}).json()
    assert [i["id"] for i in body["items"]] == ["user-rimpak-2012"] and body["total"] == 1


def test_one_folded_word_finds_every_spelling(store: Path) -> None:
    found = list(queries.engagements(EngagementFilter(text="rimpak"), store)["id"])
    assert "user-rimpak-2012" in found and "rimpac" in found  # the genealogy's RIMPAC record too


def test_a_query_in_no_title_finds_nothing_and_an_id_finds_itself(store: Path) -> None:
    assert queries.engagements(EngagementFilter(text="Kakadu"), store).empty
    assert list(queries.engagements(EngagementFilter(text="user-malabar-2012"), store)["id"]) == ["user-malabar-2012"]


def test_the_cli_twin_takes_the_same_query(store: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "defdip", "engagements", "-q", "Rimpac 2012", "--format", "json",
                          "--store", str(store)], capture_output=True, text=True, check=True).stdout
    assert [r["id"] for r in json.loads(out)] == ["user-rimpak-2012"]
