"""Country and dyad profiles: exact on the hand-made store, across all activities on real data."""

from __future__ import annotations

import pytest

from defdip.errors import DefdipError


def test_country_profile_exact(synthetic_store):
    from defdip.profiles import profile

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
    from defdip.profiles import profile

    p = profile("Athens", synthetic_store)
    assert p["engagements"] == 2 and p["first_year"] == -481 and p["last_year"] == -404
    assert p["timeline"]["date"].tolist() == ["481 BCE", "446 BCE"]
    assert p["partners"]["id"].tolist() == ["sparta", "corinth"]


def test_dyad_profile(synthetic_store):
    from defdip.profiles import dyad_profile

    d = dyad_profile("USA", "Japan", synthetic_store)
    assert d["engagements"] == 3
    assert d["timeline"]["id"].tolist() == ["s-06", "s-05", "s-08"]
    assert d["per_instrument"] == {"defence_cooperation_agreement": 1, "exercise": 1, "visit": 1}
    assert (d["first_year"], d["last_year"]) == (1992, 2001)


def test_bad_names(synthetic_store):
    from defdip.profiles import dyad_profile, profile

    with pytest.raises(DefdipError, match="unknown polity 'Narnia'.*did you mean"):
        profile("Narnia", synthetic_store)
    with pytest.raises(DefdipError, match="same polity"):
        dyad_profile("USA", "United States", synthetic_store)


@pytest.mark.shared
def test_real_united_states_all_activities(full_store):
    from defdip.profiles import dyad_profile, profile

    p = profile("United States", full_store)
    assert all(n > 0 for n in p["per_activity"].values()), p["per_activity"]
    assert p["partners"].iloc[0]["engagements"] > 100
    assert p["timeline"]["start_year"].is_monotonic_increasing
    d = dyad_profile("United States", "Japan", full_store)
    assert d["per_activity"]["exercises"] > 50 and d["per_activity"]["agreements"] > 0
