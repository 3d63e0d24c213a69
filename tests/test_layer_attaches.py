"""The attaché layers from a researcher's posting list: counts worked out by hand from the fixture list."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from defdip.analysis import panels
from defdip.core.dates import present_year
from defdip.ingest import build as store_mod
from defdip.ingest.sources.attaches import AttachePostings

FIX = Path(__file__).resolve().parent / "fixtures" / "attaches"


@pytest.fixture(scope="module")
def attache_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("attaches") / "s.duckdb"
    store_mod.build(path, FIX, only=[AttachePostings.id])
    # a state system for the panel's nodes: the list's states in every year (a test store, not COW's dates)
    states = (2, 200, 255, 365, 710, 712, 740, 900, 910, 935, 940)
    system = pd.DataFrame([(c, y) for y in range(1850, present_year() + 1) for c in states], columns=["ccode", "year"])
    con = duckdb.connect(str(path))
    try:
        con.register("f", system)
        con.execute("CREATE TABLE cow_system AS SELECT * FROM f")
    finally:
        con.close()
    return path


def _cell(frame: pd.DataFrame, a: int, b: int, year: int, col: str) -> object:
    row = frame[(frame.ccode1 == a) & (frame.ccode2 == b) & (frame.year == year)]
    assert len(row) == 1, (a, b, year)
    return row[col].iloc[0]


def test_postings_count_in_each_year_they_were_held(attache_store: Path) -> None:
    d = panels.dyad_year(attache_store, directed=True, from_year=1850, to_year=2016,
                         layers=["attache_posts", "attache_posts_resident"])
    assert _cell(d, 2, 200, 1882, "attache_posts") == 1  # Chadwick: end not known, so his first year only
    assert _cell(d, 2, 200, 1883, "attache_posts") == 0
    assert [_cell(d, 740, 365, y, "attache_posts") for y in (1901, 1902, 1903, 1904, 1905)] == [0, 1, 1, 1, 0]
    assert _cell(d, 2, 365, 1993, "attache_posts") == 1 and _cell(d, 365, 2, 1993, "attache_posts") == 0
    # the Australian defence adviser in Port Moresby, accredited from there to Solomon Islands and Vanuatu
    assert (_cell(d, 900, 910, 2016, "attache_posts"), _cell(d, 900, 910, 2016, "attache_posts_resident")) == (1, 1)
    assert (_cell(d, 900, 940, 2016, "attache_posts"), _cell(d, 900, 940, 2016, "attache_posts_resident")) == (1, 0)
    assert pd.isna(_cell(d, 365, 710, 2011, "attache_posts"))  # neither state sends an attaché in the list
    assert pd.isna(_cell(d, 2, 200, 1860, "attache_posts"))  # before the list's first posting (1882)


def test_non_directed_panels_sum_both_directions_and_ongoing_posts_run_on(attache_store: Path) -> None:
    u = panels.dyad_year(attache_store, from_year=2017, to_year=2018, layers=["attache_posts"])  # (panels end 2018)
    assert _cell(u, 900, 910, 2018, "attache_posts") == 1  # 'ongoing' in the list
    assert _cell(u, 2, 710, 2018, "attache_posts") == 0  # the Beijing posting ended in 2012
    early = panels.dyad_year(attache_store, from_year=1993, to_year=1993, layers=["attache_posts"])
    assert _cell(early, 2, 365, 1993, "attache_posts") == 1


def test_the_layers_are_registered_for_networks_and_the_pipeline() -> None:
    assert panels.families()["attaches"] == ("attache_posts", "attache_posts_resident")
    assert {"attache_posts", "attache_posts_resident"} <= {lay.name for lay in panels.layers(role="tie")}
    assert panels.resolve(["attache_posts"])[0].source == AttachePostings.id
