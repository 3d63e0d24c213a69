"""Country and dyad profiles: exact on the hand-made store, across all activities on real data."""

from __future__ import annotations

import pytest

from defdip.core.errors import DefdipError


def test_country_profile_exact(synthetic_store):
    from defdip.analysis.profiles import profile

    p = profile("United States", synthetic_store)
    assert p["polity"]["id"] == "USA"
    assert p["engagements"] == 7
    assert p["per_activity"] == {"contacts": 1, "attaches": 1, "exercises": 2, "agreements": 3}
    assert (p["first_year"], p["last_year"]) == (1889, 2001)  # the ongoing pact runs to its data's last year
    partners = p["partners"]
    assert partners["id"].tolist() == ["UKG", "JPN", "FRN"]
    assert partners.set_index("id").loc["UKG", ["engagements", "agreements", "exercises", "attaches"]].tolist() == \
        [4, 2, 1, 1]
    assert p["timeline"]["id"].tolist()[:2] == ["s-09", "s-03"]
    assert p["timeline"].iloc[-1]["date"] == "2001-05"
    assert p["timeline"].iloc[0]["sources"] == ["khalid_ahmed_2024"]
    per_year = p["per_year"].set_index("year")
    assert per_year.loc[1995, "total"] == 1 and per_year.loc[1992, "agreements"] == 1
    assert per_year.index.tolist() == [1889, 1949, 1985, 1990, 1992, 1995, 2001]


def test_bce_profile(synthetic_store):
    from defdip.analysis.profiles import profile

    p = profile("Athens", synthetic_store)
    assert p["engagements"] == 2 and p["first_year"] == -481 and p["last_year"] == -404
    assert p["timeline"]["date"].tolist() == ["481 BCE", "446 BCE"]
    assert p["partners"]["id"].tolist() == ["sparta", "corinth"]


def test_dyad_profile(synthetic_store):
    from defdip.analysis.profiles import dyad_profile

    d = dyad_profile("USA", "Japan", synthetic_store)
    assert d["engagements"] == 3
    assert d["timeline"]["id"].tolist() == ["s-06", "s-05", "s-08"]
    assert d["per_instrument"] == {"defence_cooperation_agreement": 1, "exercise": 1, "visit": 1}
    assert (d["first_year"], d["last_year"]) == (1992, 2001)


def test_bad_names(synthetic_store):
    from defdip.analysis.profiles import dyad_profile, profile

    with pytest.raises(DefdipError, match="unknown polity 'Narnia'.*did you mean"):
        profile("Narnia", synthetic_store)
    with pytest.raises(DefdipError, match="same polity"):
        dyad_profile("USA", "United States", synthetic_store)


@pytest.mark.shared
def test_real_united_states_all_activities(full_store):
    from defdip.analysis.profiles import dyad_profile, profile

    p = profile("United States", full_store)
    assert all(n > 0 for n in p["per_activity"].values()), p["per_activity"]
    assert p["partners"].iloc[0]["engagements"] > 100
    assert p["timeline"]["start_year"].is_monotonic_increasing
    d = dyad_profile("United States", "Japan", full_store)
    assert d["per_activity"]["exercises"] > 50 and d["per_activity"]["agreements"] > 0


# ----------------------------------------------------------------------------- peacekeeping apart (issue 8.9)

def _deployment(id_, year, parts):
    from defdip.core.model import Engagement

    return Engagement.model_validate({
        "id": id_, "title": f"deployment {id_}", "activity": "contacts", "instrument": "deployment",
        "sub_activities": ["peacekeeping"], "start_year": year,
        "participants": [{"id": p, "name": p, "role": role, "ccode": c} for p, c, role in parts],
        "provenance": [{"source": "un_pko", "version": "1", "record_id": id_, "citations": ["khalid_ahmed_2024"]}],
    })


@pytest.fixture(scope="module")
def pko_store(tmp_path_factory):
    from conftest import _eng, write_store

    ind, pak, gha, leb, chl = ("IND", 750), ("PAK", 770), ("GHA", 452), ("LEB", 660), ("CHL", 155)
    recs = [
        # a mission in Lebanon with two contributors, and a mission in India and Pakistan (two hosts)
        _deployment("pko-1", 2012, [(*ind, "contributor"), (*gha, "contributor"), (*leb, "host"),
                                    ("un", None, "organiser")]),
        _deployment("pko-2", 2012, [(*chl, "contributor"), (*ind, "host"), (*pak, "host"),
                                    ("un", None, "organiser")]),
        _eng("x-1", "exercises", "exercise", 2012, [ind, gha]),
    ]
    return write_store(tmp_path_factory.mktemp("pko") / "p.duckdb", recs)


def test_peacekeeping_is_kept_out_of_partner_rankings(pko_store):
    from defdip.analysis.profiles import dyad_profile, profile

    p = profile("India", pko_store)
    assert p["engagements"] == 3 and p["peacekeeping"] == 2
    partners = p["partners"].set_index("id")
    assert partners["engagements"].idxmax() == "GHA" and partners.loc["GHA", "engagements"] == 1
    assert partners.loc["PAK", ["engagements", "peacekeeping"]].tolist() == [0, 1]
    assert partners.loc["GHA", "peacekeeping"] == 1
    included = profile("India", pko_store, peacekeeping=True)["partners"].set_index("id")
    assert included.loc["PAK", ["engagements", "contacts"]].tolist() == [1, 1]
    assert included.loc["GHA", "engagements"] == 2
    d = dyad_profile("India", "Pakistan", pko_store)
    assert (d["engagements"], d["peacekeeping"]) == (0, 1) and d["timeline"].empty
    assert dyad_profile("India", "Pakistan", pko_store, peacekeeping=True)["engagements"] == 1


def test_peacekeeping_ties_contributors_to_hosts_only(pko_store):
    from defdip.analysis.network import network

    edges = {tuple(sorted(e)) for e in network(2012, "all", pko_store).graph.edges}
    assert ("GHA", "LEB") in edges and ("IND", "LEB") in edges and ("CHL", "IND") in edges
    assert ("IND", "PAK") not in edges  # two hosts of one mission
    assert ("GHA", "IND") in edges  # through the exercise, not the co-deployment
    contacts = {tuple(sorted(e)) for e in network(2012, "contacts", pko_store).graph.edges}
    assert contacts == {("GHA", "LEB"), ("IND", "LEB"), ("CHL", "IND"), ("CHL", "PAK")}


# ----------------------------------------------------------------------------- names as of their year (8.11)

def test_dated_names_and_ambiguity_notes():
    from defdip.analysis.profiles import name_window
    from defdip.core.actors import registry

    reg = registry()
    assert reg.display_name("RUS", 1980) == "Soviet Union" and reg.display_name("RUS", 2000) == "Russia"
    assert reg.display_name("RUS", 1900) == "Russian Empire" and reg.display_name("RUS") == "Russia"
    assert reg.display_name("GFR", 1960) == "West Germany" and reg.display_name("DRC", 1980) == "Zaire"
    assert reg.display_name("AUH", 1900) == "Austria-Hungary"  # "Austria" is another state's own name
    note = reg.ambiguity_note("Germany", 1960)
    assert "chose West Germany [GFR]" in note and "GDR" in note and "GMY" not in note
    assert "North Korea [PRK]" in reg.ambiguity_note("Korea") and "[DRC]" in reg.ambiguity_note("Congo")
    assert reg.ambiguity_note("India") is None and reg.ambiguity_note("RUS") is None
    assert name_window("USSR")[:3] == (1922, 1991, "Soviet Union")
    assert name_window("Russia") is None and name_window("Korea") is None


@pytest.mark.shared
def test_real_profile_by_a_dated_name(full_store):
    from defdip.analysis.profiles import profile

    ussr, rus = profile("USSR", full_store), profile("RUS", full_store)
    assert ussr["polity"]["name"] == "Soviet Union" and rus["polity"]["name"] == "Russia"
    assert 1922 <= ussr["first_year"] and ussr["last_year"] <= 1991
    assert 0 < ussr["engagements"] < rus["engagements"]
    assert any("1922-1991" in n for n in ussr["notes"]) and rus["notes"] == []


@pytest.mark.shared
def test_real_india_partners_without_peacekeeping(full_store):
    from defdip.analysis.profiles import dyad_profile, profile

    partners = profile("India", full_store)["partners"]
    assert partners.iloc[0]["id"] != "PAK" and "un" not in partners.head(5)["id"].tolist()
    pak = partners.set_index("id").loc["PAK"]
    assert pak["peacekeeping"] > 100 and pak["engagements"] < 20
    d = dyad_profile("India", "Pakistan", full_store)
    assert d["peacekeeping"] == pak["peacekeeping"] and d["engagements"] == pak["engagements"]
