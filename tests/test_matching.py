"""Cross-source matching (defdip.ingest.matching): MME/JME pairing tiers and merges that keep every source's details.

Pairing rules are tested on hand-made candidates (names and dates from the audit's examples); the merge on the
exercise fixtures in tests/fixtures/exercises, loaded by the real loaders.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from defdip.core.model import make_engagement
from defdip.ingest.matching import (
    TIERS,
    Candidate,
    match_exercises,
    matches_frame,
    merge_duplicates,
    name_forms,
    pair_mme_jme,
)
from defdip.ingest.sources.base import IngestContext
from defdip.ingest.sources.exercises import (
    SOURCES,
    JMESource,
    MMESource,
    name_variants,
    normalise_name,
)

FIX = Path(__file__).resolve().parent / "fixtures" / "exercises"


def cand(cid: str, name: str | None, date: str, polities: str) -> Candidate:
    """A candidate from a name, an ISO date ('2003-05-20', '2003-05') and space-separated polity ids."""
    parts = [int(p) for p in date.split("-")]
    year, month, day = (parts + [None, None])[:3]
    return Candidate(cid, normalise_name(name, year), year, month, frozenset(polities.split()),
                     frozenset(name_variants(name, year)), day, name_forms(name, year))


def tiers(mme: list[Candidate], jme: list[Candidate]) -> dict[tuple[str, str], str]:
    return {(m.jme_id, m.mme_id): m.tier for m in pair_mme_jme(mme, jme)}


def test_name_tiers():
    mme = [cand("mme-1", "Cobra Gold 2005", "2005-05", "USA THI"),
           cand("mme-2", "Cobra Gold 2005", "2005-05", "FRN"),
           cand("mme-3", "Druzhba (Friendship) 82", "1982-01", "RUS HUN"),
           cand("mme-5", "Edged Mallet", "2002-02", "USA KEN")]
    jme = [cand("jme-2", "Cobra Gold 05", "2005-06", "USA THI SIN"),
           cand("jme-3", "Druzhba", "1982-01", "RUS HUN CZE"),
           cand("jme-6", "Edged Mallet 2002", "2002-12", "USA KEN"),
           cand("jme-7", "Cobra Gold 2006", "2006-05", "USA THI")]
    assert tiers(mme, jme) == {("jme-2", "mme-1"): "name", ("jme-3", "mme-3"): "name_variant",
                               ("jme-6", "mme-5"): "dating_slip"}
    # no participant in common: never paired, even with the same name, year and month
    assert pair_mme_jme(mme[1:2], jme[:1]) == []


@pytest.mark.parametrize("jme_name,mme_name", [
    ("Palm Exotic", "Exotic Palm"),
    ("Kakadu VI", "Kakadu Six"),
    ("West Pearl 2000", "Pearl of the West 2000"),
    ("Balikatan (Shoulder to Shoulder) 2002", "Balikatan 02-2"),
    ("Peninsula Shield Two", "Peninsula Shield II"),
])
def test_name_variants_pair(jme_name, mme_name):
    assert tiers([cand("m", mme_name, "2002-04-22", "PHI USA")],
                 [cand("j", jme_name, "2002-04-22", "PHI USA")]) == {("j", "m"): "name_variant"}


@pytest.mark.parametrize("jme_name,mme_name,jme_date,polities", [
    ("Kakadu VI", "Kakadu VII", "2002-04-22", "PHI USA"),  # different numbers
    ("Palm Exotic", "Exotic Pine", "2002-04-22", "PHI USA"),  # different words
    ("Palm Exotic", "Exotic Palm", "2002-07-01", "PHI USA"),  # months three apart
    ("Palm Exotic", "Exotic Palm", "2002-04-22", "PHI JPN"),  # one participant in common only
])
def test_name_variants_refused(jme_name, mme_name, jme_date, polities):
    assert pair_mme_jme([cand("m", mme_name, "2002-04-22", "PHI USA")], [cand("j", jme_name, jme_date, polities)]) \
        == []


def test_unnamed_tiers():
    mme = [cand("mme-indra", "Indra 2003", "2003-05-20", "IND RUS"),
           cand("mme-u1", None, "1990-03-12", "USA THI"),
           cand("mme-u2", None, "1998-03-29", "BAH KUW USA"),
           cand("mme-u3", None, "2002-06-02", "BNG USA")]
    jme = [cand("jme-indra", None, "2003-05-21", "IND RUS"),  # one side unnamed, one day apart
           cand("jme-u1", None, "1990-03-12", "USA THI"),
           cand("jme-u1b", None, "1990-03-13", "USA THI"),  # the same again a day later: used once only
           cand("jme-u2", None, "1998-03-29", "KUW USA"),  # a subset of the MME list
           cand("jme-u3", None, "2002-06-03", "BNG USA")]
    assert tiers(mme, jme) == {("jme-indra", "mme-indra"): "one_unnamed", ("jme-u1", "mme-u1"): "unnamed",
                               ("jme-u2", "mme-u2"): "unnamed_subset", ("jme-u3", "mme-u3"): "unnamed_subset"}


@pytest.mark.parametrize("jme", [
    cand("j", None, "2003-05-22", "IND RUS"),  # two days apart
    cand("j", None, "2003-05-20", "IND RUS USA"),  # one side named: participants must be the same
    cand("j", None, "2003-05", "IND RUS"),  # day unknown
])
def test_one_unnamed_refused(jme):
    assert pair_mme_jme([cand("m", "Indra 2003", "2003-05-20", "IND RUS")], [jme]) == []


def test_unnamed_subset_needs_two_in_common_and_half_the_longer_list():
    assert pair_mme_jme([cand("m", None, "1998-03-29", "USA")], [cand("j", None, "1998-03-29", "USA KUW")]) == []
    assert pair_mme_jme([cand("m", None, "2007-04-06", "IND USA")],
                        [cand("j", None, "2007-04-06", "CHN IND JPN RUS USA")]) == []


# --- on the fixtures: the build step and the merge --------------------------------------------------------------

@pytest.fixture()
def loaded():
    jme = JMESource().load_frame(pd.read_csv(FIX / "jme_v3_sheet1_2.csv", dtype=str, keep_default_na=False),
                                 IngestContext("jme")).engagements
    mme = MMESource().load(FIX, IngestContext("mme")).engagements
    return jme, mme


def test_match_and_merge_keep_every_source(loaded):
    jme, mme = loaded
    matches = match_exercises(jme + mme)
    assert [(m.jme_id, m.mme_id, m.tier) for m in matches] == [("jme-2", "mme-90", "name")]  # Cobra Gold 2005
    assert matches_frame(matches).to_dict("records") == [{"jme_id": "jme-2", "mme_id": "mme-90", "tier": "name"}]
    merged = merge_duplicates(jme + mme)
    assert len(merged) == len(jme) + len(mme) - 1
    cobra = next(e for e in merged if e.id == "jme-2")
    assert [p.source for p in cobra.provenance] == ["jme", "mme"]
    assert cobra.attributes["merged_ids"] == ["mme-90"] and cobra.attributes["match_tier"] == "name"
    # each source's details under its own name: MME's purpose flags survive, and each source's dates
    assert cobra.attributes["mme"]["purposes"] == ["Warfighting", "Peacekeeping"]
    assert cobra.attributes["jme"]["types"] == ["FTX", "CPX"]
    assert (cobra.attributes["jme"]["start"], cobra.attributes["mme"]["start"]) == ("2005-05-02", "2005-05-02")
    assert (cobra.attributes["jme"]["end"], cobra.attributes["mme"]["end"]) == ("2005-05-20", "2005-05-13")
    assert cobra.sub_activities == ["interoperability", "peacekeeping"]
    assert cobra.attributes["format"] == "multilateral"  # USA, Thailand, Singapore after the merge


def test_unpaired_records_never_merge(loaded):
    jme, mme = loaded
    merged = merge_duplicates(jme + mme)  # no pairing step: every record keeps its own key
    assert len(merged) == len(jme) + len(mme)
    assert all(len(e.provenance) == 1 for e in merged)


def test_merge_derives_format_and_drops_unknown():
    def ex(src, ids, fmt, incomplete=False):
        attrs = {src: {"name": "Bold Step", "purposes": ["Warfighting"] if src == "mme" else []}, "format": fmt}
        if incomplete:
            attrs["participants_incomplete"] = True
        return make_engagement({
            "id": f"{src}-1", "title": "Bold Step", "activity": "exercises", "instrument": "exercise",
            "start_year": 1995,
            "participants": [{"id": i, "role": "participant"} for i in ids], "attributes": attrs,
            "provenance": [{"source": src, "version": "1", "record_id": "1", "citations": [src]}],
            "match_key": "exercise:jme-1"}, "t", 1)

    nine = ["USA", "UKG", "FRN", "GMY", "ITA", "NTH", "BEL", "CAN", "NOR"]
    merged = merge_duplicates([ex("jme", nine[:2], "bilateral"), ex("mme", nine, "multilateral")])
    assert len(merged) == 1 and merged[0].attributes["format"] == "multilateral"
    assert [p.id for p in merged[0].participants] == nine
    merged = merge_duplicates([ex("jme", ["unknown"], None, incomplete=True), ex("mme", nine[:2], "bilateral")])
    assert [p.id for p in merged[0].participants] == ["USA", "UKG"]
    assert merged[0].attributes["participants_incomplete"] is True
    assert merged[0].attributes["format"] == "multilateral"  # two known and some unknown
    assert set(merged[0].attributes) >= {"jme", "mme"}


def test_tiers_are_ordered_by_strength():
    assert TIERS[0] == "name" and TIERS.index("one_unnamed") > TIERS.index("unnamed")


# --- real data -----------------------------------------------------------------------------------------------

@pytest.mark.shared
def test_real_pairs(shared_data):
    folder = shared_data / "military_exercises"
    loaded = {s.id: s.load(folder, IngestContext(s.id)).engagements for s in SOURCES if s.id in ("mme", "jme")}
    jme, mme = loaded["jme"], loaded["mme"]
    matches = match_exercises(jme + mme)
    per_tier = Counter(m.tier for m in matches)
    print("pairs per tier", dict(per_tier))
    assert len({m.jme_id for m in matches}) == len({m.mme_id for m in matches}) == len(matches)  # one-to-one
    assert len(matches) >= 1250 and per_tier["name"] >= 800
    assert min(per_tier[t] for t in ("name_variant", "one_unnamed", "unnamed_subset")) >= 5
    by_id = {e.id: e for e in jme + mme}
    indra = [m for m in matches if by_id[m.mme_id].attributes["mme"].get("name") == "Indra 2003"]
    assert [m.tier for m in indra] == ["one_unnamed"]
    for m in matches:  # every pair shares its start year and a participant
        j, k = by_id[m.jme_id], by_id[m.mme_id]
        assert j.start_year == k.start_year and {p.id for p in j.participants} & {p.id for p in k.participants}
    merged = merge_duplicates(jme + mme)
    assert len(merged) == len(jme) + len(mme) - len(matches)
    both = [e for e in merged if e.sources == ["jme", "mme"]]
    assert len(both) == len(matches)
    assert all("jme" in e.attributes and "mme" in e.attributes for e in both)
    flags = sum(len(e.attributes["mme"].get("purposes", [])) for e in both)
    assert flags >= len(both)  # MME's purpose flags survive on every merged record


@pytest.mark.shared
def test_real_build_step_and_checks(shared_data, tmp_path, monkeypatch):
    """The build pairs and merges, writes exercise_matches, and the sources' checks pass on the result."""
    import duckdb

    from defdip.ingest.build import build

    # this test is about the exercise sources alone: the build loads neither the genealogy nor user records
    monkeypatch.setattr("defdip.ingest.build.build_sources", lambda datasets, records: dict(datasets))
    store = tmp_path / "ex.duckdb"
    report = build(store, shared_data, only=["mme", "jme"])
    con = duckdb.connect(str(store), read_only=True)
    try:
        pairs = con.execute("SELECT count(*) FROM exercise_matches").fetchone()[0]
        both = con.execute("SELECT count(*) FROM engagements WHERE len(datasets) = 2").fetchone()[0]
        assert pairs == both >= 1250 and report.engagements == 3707 + 1742 - pairs
        checks = MMESource().checks(con) + JMESource().checks(con)
    finally:
        con.close()
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    tiers_seen = {c.name.rsplit(" ", 1)[-1] for c in checks if c.name.startswith("MME/JME pairs merged")}
    assert tiers_seen == set(TIERS)
