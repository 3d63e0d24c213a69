"""Panels: a tiny hand-made store for the rules, the real store for agreement with the sources."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import tiny_panel_tables, write_tables

from defdip.analysis import panels
from defdip.core.errors import DefdipError, StoreError


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory) -> str:
    """Three states 1979-1991 with one asymmetric ATOP alliance and one DCA (in the store's table layouts)."""
    return write_tables(tmp_path_factory.mktemp("tiny") / "tiny.duckdb", tiny_panel_tables())


def test_base_and_asymmetric_atop(tiny_store):
    nd = panels.dyad_year(tiny_store, from_year=1979, to_year=1991, layers=["atop_defense", "atop_nonagg"])
    assert list(nd.columns[:3]) == ["ccode1", "ccode2", "year"]
    assert len(nd) == 3 * 13 and (nd.ccode1 < nd.ccode2).all()
    d = panels.dyad_year(tiny_store, directed=True, from_year=1979, to_year=1991, layers="atop_defense,atop_nonagg")
    assert len(d) == 6 * 13
    row = d.set_index(["ccode1", "ccode2", "year"])
    assert row.loc[(2, 200, 1990), "atop_defense"] == 1  # the US's obligation to the UK
    assert row.loc[(200, 2, 1990), "atop_defense"] == 0  # the UK has none to the US ...
    assert row.loc[(200, 2, 1990), "atop_nonagg"] == 1  # ... but a non-aggression promise
    assert row.loc[(2, 200, 1979), "atop_defense"] == 0  # before entry
    assert row.loc[(200, 220, 1985), "atop_defense"] == 1 and row.loc[(200, 220, 1986), "atop_defense"] == 0
    und = nd.set_index(["ccode1", "ccode2", "year"])
    assert und.loc[(2, 200, 1990), "atop_defense"] == 1 and und.loc[(2, 200, 1990), "atop_nonagg"] == 1


def test_na_outside_coverage_and_dd_index(tiny_store):
    p = panels.dyad_year(tiny_store, layers=["dca_any", "dca_general", "dca_sector", "dd_index", "cowmaj"])
    p = p.set_index(["ccode1", "ccode2", "year"])
    assert pd.isna(p.loc[(2, 220, 1979), "dca_any"])  # DCAD starts in 1980: NA, not 0
    assert p.loc[(2, 220, 1987), "dca_any"] == 0 and p.loc[(2, 220, 1988), "dca_any"] == 1
    assert p.loc[(2, 220, 1988), "dca_general"] == 1 and p.loc[(2, 220, 1988), "dca_sector"] == 0
    assert p.loc[(2, 200, 1979), "dd_index"] == 0 and p.loc[(2, 200, 1990), "dd_index"] == 1
    assert p.loc[(2, 220, 1990), "dd_index"] == 1  # a DCA counts as the agreements component
    assert p.loc[(2, 200, 1990), "cowmaj1"] == 1 and p.loc[(2, 200, 1990), "cowmaj2"] == 0
    assert str(p["dca_any"].dtype) == "Int32"


def test_state_year_counts_partners(tiny_store):
    s = panels.state_year(tiny_store, layers=["atop_defense", "dca_any", "cowmaj"]).set_index(["ccode", "year"])
    assert s.loc[(200, 1984), "atop_defense"] == 2  # the US (its guarantee) and France
    assert s.loc[(200, 1990), "atop_defense"] == 1
    assert pd.isna(s.loc[(2, 1979), "dca_any"]) and s.loc[(2, 1990), "dca_any"] == 1
    assert s.loc[(2, 1990), "cowmaj"] == 1 and s.loc[(220, 1990), "cowmaj"] == 0


def test_errors(tiny_store):
    with pytest.raises(DefdipError, match="unknown layer.*valid layers: atop_defense"):
        panels.dyad_year(tiny_store, layers=["atop_defence"])
    with pytest.raises(DefdipError, match="empty layer selection"):
        panels.dyad_year(tiny_store, layers=[])
    with pytest.raises(DefdipError, match="empty selection"):
        panels.dyad_year(tiny_store, from_year=1990, to_year=1980, layers=["atop_defense"])
    with pytest.raises(DefdipError, match="no COW state-system years"):
        panels.dyad_year(tiny_store, from_year=1700, to_year=1750, layers=["atop_defense"])
    with pytest.raises(DefdipError, match="empty selection: no states"):
        panels.dyad_year(tiny_store, from_year=1900, to_year=1901, layers=["atop_defense"])
    with pytest.raises(StoreError, match="cow_contiguity"):
        panels.dyad_year(tiny_store, layers=["conttype"])
    with pytest.raises(DefdipError, match="state system"):
        panels.dyad_year(tiny_store, system="xyz")


def test_gw_codes(tiny_store):
    g = panels.dyad_year(tiny_store, system="gw", from_year=1990, to_year=1992, layers=["atop_defense"])
    assert list(g.columns[:2]) == ["gwcode1", "gwcode2"]
    assert set(zip(g.gwcode1, g.gwcode2)) == {(2, 260)} and sorted(g.year) == [1990, 1991, 1992]


def test_gw_nodes_join_cow_codes_through_the_actor_registry(tmp_path):
    """G-W 260 is West Germany (COW 260) to 1990 and unified Germany (COW 255) from 1991: a DCA of COW 255
    shows on the G-W dyad (2, 260) from 1991 only; G-W 340, Serbia from 2006, is COW 345."""
    tables = tiny_panel_tables()
    tables["dcad_agreement"] = pd.DataFrame({"dcaid": ["d1", "d2"], "ccode1": [255, 345], "ccode2": [2, 2],
                                             "sign_year": [1989, 2007], "end_year_estimate": [2010, 2010],
                                             "type": ["general", "sector"]})
    tables["gw_states"] = pd.DataFrame({"gwcode": [2, 260, 340], "start_year": [1816, 1949, 2006],
                                        "end_year": [2017, 2017, 2017]})
    store = write_tables(tmp_path / "gw.duckdb", tables)
    g = panels.dyad_year(store, system="gw", from_year=1989, to_year=1992, layers=["dca_any"])
    dca = g.set_index(["gwcode1", "gwcode2", "year"])["dca_any"]
    assert [dca[(2, 260, y)] for y in (1989, 1990, 1991, 1992)] == [0, 0, 1, 1]
    g = panels.dyad_year(store, system="gw", from_year=2006, to_year=2007, layers=["dca_any"])
    serbia = g.set_index(["gwcode1", "gwcode2", "year"])["dca_any"]
    assert [serbia[(2, 340, 2006)], serbia[(2, 340, 2007)]] == [0, 1]
    s = panels.state_year(store, system="gw", from_year=2007, to_year=2007, layers=["dca_any"]).set_index("gwcode")
    assert s.loc[2, "dca_any"] == 2 and s.loc[260, "dca_any"] == 1 and s.loc[340, "dca_any"] == 1


def test_the_store_says_which_layers_it_can_supply(tiny_store):
    have = panels.available_layers(tiny_store)
    assert {"atop_defense", "dca_any", "cowmaj", "dd_index"} <= set(have)
    assert not {"exercises", "arms_tiv", "conttype", "visits"} & set(have)  # no such tables or records
    assert panels.available_layers(tiny_store, ["exercises", "dca_any"]) == ["dca_any"]
    assert panels.source_records(tiny_store, "sipri") == 0  # no provenance table at all
    default = panels.dyad_year(tiny_store, from_year=1990, to_year=1990)
    every = [c for name in have if name not in panels.DERIVED for c in panels.LAYERS[name].columns]
    assert list(default.columns) == ["ccode1", "ccode2", "year", *every]  # registry order


def test_layers_by_role_and_unit():
    ties = panels.layers(role="tie")
    assert ties and all(lay.role == "tie" for lay in ties) and panels.LAYERS["atop_defense"] in ties
    network = [lay.name for lay in panels.layers(role=("tie", "derived"), unit="dyad_year")]
    assert "dd_index" in network and "conttype" not in network and "cowmaj" not in network
    assert "peace_years" not in [lay.name for lay in panels.layers(unit="state_year")]
    assert panels.families()["dca"] == ("dca_general", "dca_sector", "dca_any")


def test_layers_table():
    table = panels.layers_table()
    assert {"atop_defense", "dca_any", "exercises", "arms_tiv", "pko_codeployed", "visits", "dd_index",
            "conttype", "cowmaj"} <= set(table.layer)
    assert (table.first_year <= table.last_year).all() and table.citations.str.len().gt(0).all()


def test_layer_citations_match_sources():
    from defdip.ingest.sources import all_sources

    sources = all_sources()
    for layer in panels.LAYERS.values():
        if layer.source in sources:
            assert set(sources[layer.source].citation_keys) & set(layer.citation_keys), layer.name


# ------------------------------------------------------------------------------------------------ real data

def test_cow_base_matches_system2016(full_store, shared_data):
    system = pd.read_csv(shared_data / "state_system" / "system2016.csv")
    n = system.groupby("year").ccode.nunique()
    expected = int((n * (n - 1) // 2).sum())
    base = panels.dyad_year(full_store, from_year=1816, to_year=2016, layers=["atop_defense"])
    assert len(base) == expected
    assert not base.duplicated(["ccode1", "ccode2", "year"]).any() and (base.ccode1 < base.ccode2).all()
    ext = panels.dyad_year(full_store, from_year=2017, to_year=2018, layers=["atop_defense"])
    n16 = n.loc[2016]
    assert len(ext[ext.year == 2017]) >= n16 * (n16 - 1) // 2  # carried forward (plus ATOP's state-years)


def test_atop_agrees_with_atop_state_years(full_store, shared_data):
    cols = ["atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul"]
    d = panels.dyad_year(full_store, directed=True, layers=cols)
    tied = d[d[cols].sum(axis=1) > 0]
    mine = tied.groupby(["ccode1", "year"])[cols].max().reset_index().rename(columns={"ccode1": "state"})
    sy = pd.read_csv(shared_data / "atop_v5.1" / "atop5_1sy.csv")
    base = d[["ccode1", "year"]].drop_duplicates().rename(columns={"ccode1": "state"})
    sy = sy.merge(base.astype("int64"), on=["state", "year"])  # ATOP's state-years inside the state system
    merged = sy.merge(mine.astype("int64"), on=["state", "year"], how="outer", indicator=True)
    # we find no allied state-year that ATOP does not list; ATOP lists a few more, where every ally of the
    # state was outside the COW system that year (so the dyad is not in a state-system panel)
    assert not (merged["_merge"] == "right_only").any()
    assert (merged["_merge"] == "left_only").mean() < 0.02
    merged = merged[merged["_merge"] == "both"]
    for ob in ("defense", "offense", "neutral", "nonagg", "consul"):
        agree = (merged[ob] == merged[f"atop_{ob}"]).mean()
        assert agree > 0.995, (ob, agree)  # differences: alliances entered/left within a year


def test_atop_known_asymmetric_cases(full_store):
    d = panels.dyad_year(full_store, directed=True, from_year=2000, to_year=2000,
                         layers=["atop_defense", "atop_consul"]).set_index(["ccode1", "ccode2"])
    # 1960 US-Japan treaty (ATOP 3375): the US promises defence, Japan does not; both consult
    assert d.loc[(2, 740), "atop_defense"] == 1 and d.loc[(740, 2), "atop_defense"] == 0
    assert d.loc[(740, 2), "atop_consul"] == 1
    # 1959 US-Pakistan agreement (ATOP 3355)
    assert d.loc[(2, 770), "atop_defense"] == 1 and d.loc[(770, 2), "atop_defense"] == 0
    # a symmetric pact: the UK and France in NATO
    assert d.loc[(200, 220), "atop_defense"] == 1 and d.loc[(220, 200), "atop_defense"] == 1
    nd = panels.dyad_year(full_store, from_year=2000, to_year=2000, layers=["atop_defense"])
    assert nd.set_index(["ccode1", "ccode2"]).loc[(2, 740), "atop_defense"] == 1


def test_real_coverage_na(full_store):
    p = panels.dyad_year(full_store, from_year=1975, to_year=1990, layers=["dca_any", "exercises", "pko_codeployed"])
    y75, y90 = p[p.year == 1975], p[p.year == 1990]
    assert y75["dca_any"].isna().all() and y75["exercises"].isna().all()
    assert y90["dca_any"].notna().all() and set(y90["dca_any"].unique()) == {0, 1}
    assert p["pko_codeployed"].isna().all()
    usa_gfr = p.set_index(["ccode1", "ccode2", "year"]).loc[(2, 260, 1990)]
    assert usa_gfr["exercises"] > 0


def test_real_gw_system(full_store):
    g = panels.dyad_year(full_store, system="gw", from_year=2000, to_year=2000, layers=["atop_defense"])
    codes = set(g.gwcode1) | set(g.gwcode2)
    assert 260 in codes and 255 not in codes and 340 not in codes and 345 in codes
    # GW 260 (Germany) maps to COW 255 after 1990: a NATO defence pact with the US
    assert g.set_index(["gwcode1", "gwcode2"]).loc[(2, 260), "atop_defense"] == 1


def test_real_state_year(full_store):
    s = panels.state_year(full_store, from_year=1990, to_year=1990, layers=["atop_defense", "dca_any", "cowmaj"])
    usa = s.set_index("ccode").loc[2]
    assert usa["atop_defense"] > 30 and usa["cowmaj"] == 1 and usa["dca_any"] >= 1


def test_country_selection(full_store):
    full = panels.dyad_year(full_store, from_year=1990, to_year=1992, layers=["atop_defense", "dca_any"])
    mine = panels.dyad_year(full_store, from_year=1990, to_year=1992, layers=["atop_defense", "dca_any"],
                            countries=["Philippines"])
    expected = full[(full["ccode1"] == 840) | (full["ccode2"] == 840)].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine.reset_index(drop=True), expected)
    sy = panels.state_year(full_store, from_year=1990, to_year=1990, layers=["atop_defense"], countries="USA")
    assert sy[["ccode", "year"]].values.tolist() == [[2, 1990]] and sy["atop_defense"].iloc[0] > 40
    with pytest.raises(DefdipError, match="Bangladesh .* was not in the COW state system in 1900-1950"):
        panels.dyad_year(full_store, from_year=1900, to_year=1950, layers=["atop_defense"], countries=["Bangladesh"])
    with pytest.raises(DefdipError, match="no COW code"):
        panels.dyad_year(full_store, from_year=1990, to_year=1990, layers=["atop_defense"], countries=["NATO"])


def test_real_selections_equal_the_whole_panel_cut(full_store):
    """A country selection is pushed into the pairing of states; the rows are those of the whole panel cut after."""
    layers = ["atop_defense", "exercises", "cowmaj"]
    for system, directed in (("cow", False), ("gw", True)):
        prefix = "ccode" if system == "cow" else "gwcode"
        full = panels.dyad_year(full_store, from_year=1995, to_year=2000, layers=layers, system=system,
                                directed=directed)
        mine = panels.dyad_year(full_store, from_year=1995, to_year=2000, layers=layers, system=system,
                                directed=directed, countries=["France", "Kenya"])
        codes = {220, 501}
        expected = full[full[f"{prefix}1"].isin(codes) | full[f"{prefix}2"].isin(codes)].reset_index(drop=True)
        assert len(expected) > 2000 and expected["atop_defense"].sum() > 0
        pd.testing.assert_frame_equal(mine, expected)
        whole = panels.state_year(full_store, from_year=1995, to_year=2000, layers=layers, system=system)
        some = panels.state_year(full_store, from_year=1995, to_year=2000, layers=layers, system=system,
                                 countries=["France", "Kenya"])
        pd.testing.assert_frame_equal(some, whole[whole[prefix].isin(codes)].reset_index(drop=True))


def test_real_unordered_panel_has_the_same_rows(full_store):
    ordered = panels.dyad_year(full_store, from_year=2000, to_year=2003, layers=["atop_defense", "dca_any"])
    loose = panels.dyad_year(full_store, from_year=2000, to_year=2003, layers=["atop_defense", "dca_any"],
                             ordered=False)
    assert len(loose) == len(ordered) > 50_000
    resorted = loose.sort_values(["year", "ccode1", "ccode2"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(resorted, ordered)
