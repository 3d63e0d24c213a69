"""Control layers (MID onset/ongoing, capital distance) and the pipeline's peace years, region and names:
a hand-made store for the rules, the real store against values computed here from the shared files."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from defdip.analysis import panels
from defdip.analysis import pipeline as dp


def haversine_km(lat1, lng1, lat2, lng2):
    """Great-circle distance on a 6,371 km sphere, written out independently of the panel SQL."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlng = p2 - p1, np.radians(lng2) - np.radians(lng1)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlng / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory) -> str:
    """Three states 1990-2012; disputes between 2 and 365 in 1995 (two years) and 2003; Russia's capital
    unknown before 1992; the UK renamed in 2000 (a made-up spell to test names as of the year)."""
    path = tmp_path_factory.mktemp("controls") / "tiny.duckdb"
    system = pd.DataFrame([(c, y) for y in range(1990, 2017) for c in (2, 200, 365)], columns=["ccode", "year"])
    majors = pd.DataFrame({"ccode": [2], "styear": [1898], "endyear": [2016]})
    mids = pd.DataFrame({"dispnum": [1, 1, 2, 3], "ccode1": [2, 2, 2, 200], "ccode2": [365, 365, 365, 365],
                         "year": [1995, 1996, 2003, 2003], "gmlmidonset": [1, 0, 1, 1],
                         "gmlmidongoing": [1, 1, 1, 1]})
    caps = pd.DataFrame({"ccode": [2, 200, 365], "capital": ["Washington", "London", "Moscow"],
                         "stdate": ["1816-01-01", "1816-01-01", "1992-01-01"],
                         "enddate": ["2024-12-31", "2024-12-31", "2024-12-31"],
                         "lat": [38.895, 51.507, 55.756], "lng": [-77.037, -0.128, 37.617]})
    states = pd.DataFrame({"stateabb": ["USA", "UKG", "GBR", "RUS"], "ccode": [2, 200, 200, 365],
                           "statenme": ["United States", "United Kingdom", "Great Britain", "Russia"],
                           "styear": [1816, 1816, 2000, 1816], "endyear": [2016, 1999, 2016, 2016]})
    con = duckdb.connect(str(path))
    for name, frame in (("cow_system", system), ("cow_majors", majors), ("gml_mid_dyad_year", mids),
                        ("cow_capitals", caps), ("cow_states", states)):
        con.register("f", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM f")
        con.unregister("f")
    con.close()
    return str(path)


def test_mid_layer_and_coverage(tiny_store):
    p = panels.dyad_year(tiny_store, from_year=1990, to_year=2012, layers=["gml_mid"]).set_index(
        ["ccode1", "ccode2", "year"])
    assert p.loc[(2, 365, 1995), "gmlmidonset"] == 1 and p.loc[(2, 365, 1996), "gmlmidonset"] == 0
    assert p.loc[(2, 365, 1996), "gmlmidongoing"] == 1 and p.loc[(2, 365, 1997), "gmlmidongoing"] == 0
    assert p.loc[(2, 200, 2003), "gmlmidonset"] == 0 and p.loc[(200, 365, 2003), "gmlmidonset"] == 1
    assert pd.isna(p.loc[(2, 365, 2011), "gmlmidonset"])  # GML ends in 2010: NA, not 0
    d = panels.dyad_year(tiny_store, directed=True, from_year=1995, to_year=1995, layers=["gml_mid"])
    assert d.set_index(["ccode1", "ccode2"]).loc[(365, 2), "gmlmidonset"] == 1  # the same both ways


def test_capital_distance(tiny_store):
    p = panels.dyad_year(tiny_store, from_year=1990, to_year=1995, layers=["capdist"]).set_index(
        ["ccode1", "ccode2", "year"])
    assert p.loc[(2, 200, 1990), "capdist"] == pytest.approx(haversine_km(38.895, -77.037, 51.507, -0.128))
    assert 5800 < p.loc[(2, 200, 1990), "capdist"] < 6000  # Washington-London, about 5,900 km
    assert pd.isna(p.loc[(2, 365, 1991), "capdist"])  # Moscow unknown before 1992: NA, not 0
    assert p.loc[(200, 365, 1992), "capdist"] == pytest.approx(haversine_km(51.507, -0.128, 55.756, 37.617))


def test_peace_years(tiny_store):
    df = dp.add_peace_years(dp.create_dyadyears(tiny_store, directed=False, from_year=1990, to_year=2012))
    s = df.set_index(["ccode1", "ccode2", "year"])["gmlmidspell"]
    assert s.loc[(2, 365, 1990)] == 0 and s.loc[(2, 365, 1995)] == 5  # from the dyad's first year (1990)
    assert s.loc[(2, 365, 1996)] == 1 and s.loc[(2, 365, 2003)] == 8 and s.loc[(2, 365, 2004)] == 1
    assert s.loc[(2, 200, 2010)] == 20 and pd.isna(s.loc[(2, 200, 2011)])
    assert df.set_index(["ccode1", "ccode2", "year"]).loc[(2, 365, 2003), "gmlmidspell3"] == 512
    directed = dp.add_peace_years(dp.create_dyadyears(tiny_store, from_year=2003, to_year=2004))
    assert directed.set_index(["ccode1", "ccode2", "year"]).loc[(365, 2, 2003), "gmlmidspell"] == 8


def test_region_names_and_units(tiny_store):
    sy = dp.add_names(dp.add_region(dp.create_stateyears(tiny_store, from_year=1999, to_year=2000)))
    row = sy.set_index(["ccode", "year"])
    assert row.loc[(2, 1999), "region"] == 1 and row.loc[(365, 1999), "region"] == 2
    assert row.loc[(200, 1999), "stateabb"] == "UKG" and row.loc[(200, 2000), "stateabb"] == "GBR"
    assert sy.attrs["defdip"]["unit"] == "state_year"
    dy = dp.add_names(dp.create_dyadyears(tiny_store, from_year=2000, to_year=2000))
    assert dy.set_index(["ccode1", "ccode2"]).loc[(200, 2), "statename1"] == "Great Britain"
    with pytest.raises(Exception, match="add_peace_years adds dyad-year columns; this frame is state-year"):
        dp.add_peace_years(sy)
    with pytest.raises(Exception, match="carries no defdip unit"):
        dp.add_mids(pd.DataFrame({"ccode1": [2], "ccode2": [200], "year": [2000]}))
    with pytest.raises(Exception, match="already has gmlmidonset"):
        dp.add_mids(dp.add_mids(dp.create_dyadyears(tiny_store, from_year=2000, to_year=2000)))
    assert panels.region_of(pd.Series([2, 220, 475, 645, 740, 900, 1000])).tolist()[:6] == [1, 2, 3, 4, 5, 5]


def test_derived_layers_in_one_call_panels(tiny_store):
    p = panels.dyad_year(tiny_store, from_year=2003, to_year=2004, layers=["peace_years", "region", "names"])
    row = p.set_index(["ccode1", "ccode2", "year"]).loc[(2, 365, 2003)]
    assert row["gmlmidspell"] == 8 and row["region2"] == 2 and row["statename2"] == "Russia"
    assert str(p["gmlmidspell"].dtype) == "Int32" and str(p["region1"].dtype) == "Int32"
    with pytest.raises(Exception, match="peace_years' is dyadic"):
        panels.state_year(tiny_store, layers=["peace_years"])
    assert not set(panels.DERIVED) & set(panels.dyad_year(tiny_store, from_year=2003, to_year=2003).columns)


def test_layers_listed():
    table = panels.layers_table().set_index("layer")
    assert {"peace_years", "region", "names", "capdist", "gml_mid"} <= set(table.index)
    assert table.loc["gml_mid", "last_year"] == 2010 and "gibler_miller_little2016" in table.loc["gml_mid",
                                                                                                  "citations"]
    assert "capdist" in table.index and table.loc["capdist", "description"]


# ------------------------------------------------------------------------------------------------ real data

def test_real_mids_match_ddydisps(full_store, shared_data):
    raw = pd.read_csv(shared_data / "mid_conflict" / "gml_mid_ddydisps.csv")
    raw = raw.assign(c1=raw[["ccode1", "ccode2"]].min(axis=1), c2=raw[["ccode1", "ccode2"]].max(axis=1))
    raw = raw.groupby(["c1", "c2", "year"])[["gmlmidonset", "gmlmidongoing"]].max().astype(int).reset_index()
    p = panels.dyad_year(full_store, from_year=1816, to_year=2010, layers=["gml_mid"])
    p = p.astype({"ccode1": int, "ccode2": int, "year": int})
    mine = p[p.gmlmidongoing == 1].rename(columns={"ccode1": "c1", "ccode2": "c2"})
    merged = raw.merge(mine, on=["c1", "c2", "year"], how="outer", suffixes=("_raw", ""), indicator=True)
    assert not (merged["_merge"] == "right_only").any()  # nothing the file does not have
    # dyad-years of the file outside the COW state system (a state not yet or no longer a member)
    assert (merged["_merge"] == "left_only").mean() < 0.01
    both = merged[merged["_merge"] == "both"]
    assert (both["gmlmidonset_raw"] == both["gmlmidonset"]).all()
    assert p.gmlmidonset.notna().all() and p.gmlmidonset.sum() == both["gmlmidonset"].sum()


def test_real_capital_distance(full_store, shared_data):
    caps = pd.read_csv(shared_data / "state_system" / "cow_capitals.csv")
    caps = caps.assign(first=pd.to_datetime(caps.stdate).dt.year, last=pd.to_datetime(caps.enddate).dt.year)
    p = panels.dyad_year(full_store, from_year=2000, to_year=2000, layers=["capdist"])
    sample = p.sample(200, random_state=1)
    for row in sample.itertuples():
        a = caps[(caps.ccode == row.ccode1) & (caps["first"] <= 2000) & (caps["last"] >= 2000)]
        b = caps[(caps.ccode == row.ccode2) & (caps["first"] <= 2000) & (caps["last"] >= 2000)]
        if a.empty or b.empty:
            assert pd.isna(row.capdist)
            continue
        a, b = a.sort_values("stdate").iloc[-1], b.sort_values("stdate").iloc[-1]
        assert row.capdist == pytest.approx(haversine_km(a.lat, a.lng, b.lat, b.lng), rel=1e-9)
    assert p.capdist.notna().mean() > 0.95
    assert p.set_index(["ccode1", "ccode2"]).loc[(2, 20), "capdist"] == pytest.approx(735, abs=15)


def test_real_names_regions_majors(full_store):
    sy = dp.add_majors(dp.add_names(dp.add_region(dp.create_stateyears(full_store, from_year=1990,
                                                                        to_year=1990))))
    row = sy.set_index("ccode")
    assert row.loc[2, "stateabb"] == "USA" and row.loc[2, "cowmaj"] == 1 and row.loc[2, "region"] == 1
    assert row.loc[750, "statename"] == "India" and row.loc[750, "region"] == 5 and row.loc[750, "cowmaj"] == 0
    assert sy["statename"].notna().all() and sy["region"].notna().all()


def test_real_gw_system(full_store, shared_data):
    df = (dp.create_dyadyears(full_store, system="gw", from_year=2000, to_year=2000)
          .pipe(dp.add_capital_distance).pipe(dp.add_names).pipe(dp.add_peace_years))
    row = df.set_index(["gwcode1", "gwcode2"]).loc[(2, 260)]
    caps = pd.read_csv(shared_data / "state_system" / "cow_capitals.csv").set_index("ccode")
    usa, ger = caps.loc[2.0], caps.loc[255.0]  # G-W 260 after 1990 is COW 255, capital Berlin
    ger = ger[ger.capital == "Berlin"].iloc[0] if isinstance(ger, pd.DataFrame) else ger
    assert row["capdist"] == pytest.approx(haversine_km(usa.lat, usa.lng, ger.lat, ger.lng), rel=1e-9)
    assert row["stateabb1"] == "USA" and row["gmlmidspell"] > 0
    assert df.attrs["defdip"]["system"] == "gw" and df[["capdist", "statename2"]].notna().all().all()
