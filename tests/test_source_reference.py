"""Reference sources: state system, MIDs, contiguity (fixtures in the official layouts)."""

from __future__ import annotations

import re

import pytest
from conftest import FIXTURES

from defdip.ingest.sources.base import IngestContext
from defdip.ingest.sources.contiguity import Contiguity
from defdip.ingest.sources.mid import CowMid, GmlMid
from defdip.ingest.sources.state_system import StateSystem

REF = FIXTURES / "reference"


@pytest.mark.parametrize("source", [StateSystem(), GmlMid(), CowMid(), Contiguity()])
def test_metadata(source):
    assert source.kind == "reference"
    assert source.homepage.startswith("http")
    assert source.citation and source.citation_keys
    first = re.search(r"@\w+\{([^,]+),", source.bibtex)
    assert first and first.group(1) == source.citation_keys[0]
    for key in source.citation_keys:
        assert "{" + key + "," in source.bibtex


def test_state_system_tables():
    result = StateSystem().load(REF / "state_system", IngestContext("state_system"))
    assert not result.engagements
    t = result.tables
    assert set(t) >= {"cow_states", "cow_system", "gw_states", "cow_majors"}
    assert list(t["cow_system"].columns) == ["stateabb", "ccode", "year"]
    assert len(t["cow_system"]) == 5 and t["cow_system"]["ccode"].dtype == "Int32"
    assert t["cow_states"].loc[t["cow_states"].ccode == 220, "endyear"].tolist() == [1942, 2016]
    gw = t["gw_states"].set_index("gwcode")
    assert gw.loc[260, "start_year"] == 1949 and gw.loc[260, "end_year"] == 2017
    assert t["cow_majors"].loc[t["cow_majors"].ccode == 2, "styear"].item() == 1898


def test_state_system_missing_file(tmp_path):
    assert StateSystem().missing_files(tmp_path) == ["cow_states2016.csv", "system2016.csv", "majors2016.csv"]


def test_mid_tables_non_directed():
    ctx = IngestContext("gml_mid")
    gml = GmlMid().load(REF / "mid_conflict", ctx).tables
    dy = gml["gml_mid_dyad_year"]
    assert (dy["ccode1"] < dy["ccode2"]).all()
    swapped = dy[dy.dispnum == 3900].iloc[0]  # listed as 200-2 with the initiator first: swapped with its columns
    assert (swapped.ccode1, swapped.ccode2, swapped.sidea1, swapped.sidea2, swapped.hiact1) == (2, 200, 0, 1, 0)
    assert dy["gmlmidonset"].dtype == "Int32"
    assert len(gml["gml_mid_disps"]) == 2
    cow = CowMid().load(REF / "mid_conflict", IngestContext("cow_mid")).tables
    assert cow["cow_mid_dyad_year"]["cowmidonset"].tolist() == [1]


def test_contiguity_years_and_rejects():
    ctx = IngestContext("cow_contiguity")
    frame = Contiguity().load(REF / "cow_contiguity", ctx).tables["cow_contiguity"]
    assert len(frame) == 3 and len(ctx.rejections) == 1
    row = frame[(frame.ccode1 == 200) & (frame.ccode2 == 220)].iloc[0]  # reordered so ccode1 < ccode2
    assert (row.conttype, row.styear, row.endyear) == (2, 1816, 2016)
    assert Contiguity().missing_files(REF / "state_system")


def test_real_reference_sources_load(shared_data):
    st = StateSystem().load(shared_data / "state_system", IngestContext("state_system")).tables
    assert st["cow_system"]["year"].min() == 1816 and st["cow_system"]["year"].max() == 2016
    assert len(st["cow_system"]) == 15951
    assert st["gw_states"]["end_year"].max() == 2017
    gml = GmlMid().load(shared_data / "mid_conflict", IngestContext("gml_mid")).tables["gml_mid_dyad_year"]
    assert gml["year"].max() == 2010 and (gml["ccode1"] < gml["ccode2"]).all()
    ctx = IngestContext("cow_contiguity")
    cont = Contiguity().load(shared_data / "cow_contiguity", ctx).tables["cow_contiguity"]
    assert not ctx.rejections and cont["endyear"].max() == 2016
