"""The curated genealogy: coverage, accuracy guards, and rejection of bad records."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import pytest

from defdip.core.actors import registry
from defdip.core.citations import bibliography
from defdip.core.codebook import codebook
from defdip.core.dates import present_year, years_between
from defdip.core.errors import DefdipError, RecordError
from defdip.ingest.genealogy import GENEALOGY_VERSION, load_genealogy, select

# Every instance Khalid & Ahmed (2024) name in sections 1-7, Table 1 and the literature review.
PAPER_INSTANCES = {
    "lagash-ur-alliance": "6.1",
    "new-kingdom-egypt-alliances": "6.1",
    "egyptian-hittite-treaty": "6.1",
    "hellenic-league": "3.1",
    "delian-league": "3.1",
    "peloponnesian-league": "3.1",
    "roman-italian-alliance-system": "6.1",
    "roman-client-kingdoms": "6.1",
    "roman-auxilia": "6.1",
    "rome-aetolian-alliance": "3.1",
    "macedon-carthage-treaty": "3.1",
    "medieval-feudal-alliances": "3.1",
    "greek-phalanx-training": "5.1",
    "roman-allied-joint-exercises": "5.1",
    "medieval-tournaments": "5.1",
    "achaemenid-army-training": "5.1",
    "laelius-embassy-to-syphax": "4.1",
    "frontinus-strategemata": "4.1",
    "safavid-generals-as-envoys": "4.1",
    "napoleonic-generals-as-ambassadors": "4.1",
    "european-military-attaches-mid-19c": "4.1",
    "military-attache-formalisation-1857": "4.1",
    "us-military-attaches-1889": "4.1",
    "triple-alliance-1882": "3.1",
    "triple-entente": "3.1",
    "north-atlantic-treaty": "3.1",
    "anzus": "3.1",
    "kfor": "3.1",
    "isaf": "3.1",
    "talisman-sabre": "3.1",
    "rimpac": "3.1",
    "unifil": "3.1",
    "unmiss": "3.1",
    "shangri-la-dialogue": "litreview",
    "admm": "litreview",
    "admm-plus": "litreview",
    "wpns": "litreview",
    "australia-thailand-defence-cooperation": "litreview",
    "interfet": "litreview",
    "uk-defence-diplomacy-outreach": "1",
    "dca-global-network": "6",
    "royal-edinburgh-military-tattoo": "table1",
    "covid19-military-assistance": "7",
    "exercise-fabius": "7",
    "aef-allied-training": "7",
}

# Instances the paper leaves out that the genealogy adds so every activity is traced to today.
ADDED_INSTANCES = [
    "lagash-umma-boundary-oath", "amarna-letters", "achaean-league", "foedus-cassianum", "auld-alliance",
    "treaty-of-windsor-1386", "holy-league-1571", "peace-of-westphalia", "grand-alliance-1701",
    "quadruple-alliance-1815", "congress-of-vienna", "dreikaiserbund", "anglo-japanese-alliance", "rio-pact",
    "brussels-treaty", "warsaw-pact", "seato", "baghdad-pact-cento", "us-japan-treaty-1960",
    "us-rok-mutual-defense-treaty", "five-power-defence-arrangements", "camp-david-security-assistance",
    "lend-lease", "mutual-defense-assistance-act", "imet-1976", "reforger", "malabar", "cobra-gold",
    "balikatan", "zapad-2017", "peace-mission-2005", "bright-star", "untso", "unef-i", "onuc", "unprofor",
    "unamsil", "monusco", "amisom", "us-india-defence-framework-2005", "us-india-lemoa",
    "indian-ocean-tsunami-relief", "operation-tomodachi", "haiti-earthquake-relief", "operation-sea-angel",
    "berlin-airlift", "aukus", "quad-security-dialogue", "munich-security-conference", "xiangshan-forum",
    "halifax-security-forum", "incsea-1972", "moscow-washington-hotline", "open-skies-treaty",
    "vienna-document", "nato-partnership-for-peace", "vienna-convention-service-attaches", "kiel-week",
    "diamond-jubilee-fleet-review", "sandhurst-international-cadets",
    "franco-russian-alliance", "entente-cordiale", "anglo-russian-convention", "uk-strategic-defence-review-1998",
]

@pytest.fixture(scope="module")
def records():
    return load_genealogy()


@pytest.fixture(scope="module")
def by_id(records):
    return {r.id: r for r in records}


def test_size_and_span(records):
    assert len(records) >= 170
    first = min(r.start_year for r in records)
    last = max(max(r.start_year, r.end_year or r.start_year) for r in records)
    assert first <= -2400 and last >= 2021
    assert years_between(first, last) >= 3000


def test_every_activity_and_sub_activity_is_covered(records):
    cb = codebook()
    activities = Counter(r.activity for r in records)
    subs = Counter(s for r in records for s in r.sub_activities)
    for activity in cb.activity_ids:
        assert activities[activity] >= 25, (activity, activities[activity])
    for sub in cb.sub_activity_ids:
        assert subs[sub] >= 8, (sub, subs[sub])


def test_every_activity_is_traced_from_antiquity_to_today(records):
    for activity in codebook().activity_ids:
        years = [r.start_year for r in records if r.activity == activity]
        assert min(years) < 0 and max(years) >= 2000, activity


@pytest.mark.parametrize("rid, section", sorted(PAPER_INSTANCES.items()))
def test_paper_instances_present_and_cited(by_id, rid, section):
    rec = by_id.get(rid)
    assert rec is not None, f"missing paper instance {rid}"
    assert "khalid_ahmed_2024" in rec.citations
    assert rec.attributes.get("paper_section") == section


def test_added_instances_present(by_id):
    missing = [rid for rid in ADDED_INSTANCES if rid not in by_id]
    assert not missing


def test_key_dates_and_participants(by_id):
    """Spot checks against the historical record."""
    kadesh = by_id["egyptian-hittite-treaty"]
    assert kadesh.start_year == -1259 and {p.id for p in kadesh.participants} == {"egypt-new-kingdom", "hittite-empire"}
    assert by_id["delian-league"].start_year == -478 and by_id["delian-league"].end_year == -404
    assert by_id["hellenic-league"].start_year == -481
    assert by_id["macedon-carthage-treaty"].start_year == -215
    assert by_id["rome-aetolian-alliance"].start_year == -211
    nato = by_id["north-atlantic-treaty"]
    assert (nato.start_year, nato.start_month, nato.start_day) == (1949, 4, 4) and nato.ongoing
    assert len([p for p in nato.participants if p.role == "signatory"]) == 12
    assert by_id["anzus"].start_year == 1951
    assert {p.id for p in by_id["anzus"].participants} == {"AUL", "NEW", "USA"}
    assert (by_id["triple-alliance-1882"].start_year, by_id["triple-alliance-1882"].start_month) == (1882, 5)
    assert (by_id["isaf"].start_year, by_id["isaf"].end_year) == (2003, 2014)
    assert by_id["unifil"].start_year == 1978 and by_id["unmiss"].start_year == 2011
    assert by_id["kfor"].start_year == 1999 and by_id["interfet"].start_year == 1999
    assert by_id["shangri-la-dialogue"].start_year == 2002
    assert by_id["admm"].start_year == 2006 and by_id["admm-plus"].start_year == 2010
    assert by_id["wpns"].start_year == 1988
    assert by_id["us-military-attaches-1889"].start_year == 1888
    assert by_id["military-attache-formalisation-1857"].start_year == 1857
    assert by_id["treaty-of-windsor-1386"].ongoing


def test_citations_resolve_and_provenance(records):
    bib = bibliography()
    for r in records:
        assert r.citations and set(r.citations) <= set(bib), r.id
        (prov,) = r.provenance
        assert prov.source == "genealogy" and prov.version == GENEALOGY_VERSION and prov.record_id == r.id


def test_participants_named_from_registry(records):
    reg = registry()
    for r in records:
        for p in r.participants:
            assert p.name == reg.get(p.id).name
    nato = next(r for r in records if r.id == "north-atlantic-treaty")
    usa = next(p for p in nato.participants if p.id == "USA")
    assert usa.ccode == 2


def test_audited_corrections(by_id):
    """Errors a record-by-record audit found stay fixed (issue 8, item 12)."""
    reg = registry()
    for rid in ("treaty-of-chaumont", "quadruple-alliance-1815", "congress-of-vienna"):
        ids = {p.id for p in by_id[rid].participants}
        assert "uk-great-britain-ireland" in ids and "great-britain-kingdom" not in ids, rid
    assert reg.get("great-britain-kingdom").end_year == 1800
    arthashastra = by_id["kautilya-arthashastra-envoys"]
    assert (arthashastra.start_year, arthashastra.end_year) == (-50, 125) and arthashastra.circa
    tashkent = by_id["collective-security-treaty-1992"]
    parts = {p.id: p for p in tashkent.participants}
    assert {"RUS", "ARM", "KZK", "KYR", "TAJ", "UZB"} <= set(parts)
    assert parts["csto"].start_year == 2002 and "aris_2011" not in tashkent.citations
    for rid in ("roman-allied-joint-exercises", "roman-client-kingdoms"):
        numidia = next(p for p in by_id[rid].participants if p.id == "numidia")
        assert numidia.end_year == -46, rid
    quake = by_id["turkey-syria-earthquake-relief"]
    assert {p.id for p in quake.participants if p.role == "receiver"} == {"TUR", "SYR"}


def test_every_participant_exists_throughout_its_part(records):
    """The loader's rule, restated: first and last year of each participant's part lie in its existence."""
    reg = registry()
    now = present_year()
    for r in records:
        last = r.end_year if r.end_year is not None else (now if r.ongoing else r.start_year)
        for p in r.participants:
            first, final = p.start_year or r.start_year, p.end_year or last
            assert r.start_year <= first <= final <= last, (r.id, p.id)
            assert reg.get(p.id).existed(first) and reg.get(p.id).existed(final), (r.id, p.id)


def test_records_are_well_formed(records):
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids))
    keys = [(r.start_year, r.start_month or 0, r.start_day or 0) for r in records]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)
    for r in records:
        assert r.title and 40 <= len(r.summary) <= 600, r.id
        assert not (r.ongoing and r.end_year is not None), r.id
        if r.precision in ("decade", "century"):
            assert r.start_month is None, r.id


# The attaché history from the first permanent military postings to today (issue 13, item 2): id -> (start year,
# start month, sending state, receiving state or None, citation key).
ATTACHE_MILESTONES = {
    "russian-military-agents-1810": (1810, None, "russian-tsardom", "napoleonic-france", "lieven_2009"),
    "prussian-military-attaches-1816": (1816, None, "GMY", None, "craig_1949"),
    "british-naval-attache-paris-1860": (1860, None, "UKG", "FRN", "vagts_1967"),
    "greene-with-the-russian-army-1877": (1877, None, "USA", "RUS", "greene_1879"),
    "schwartzkoppen-bordereau-1894": (1894, 9, "GMY", "FRN", "bredin_1986"),
    "british-service-attaches-berlin": (1904, None, "UKG", "GMY", "seligmann_2006"),
    "papen-boy-ed-recall-1915": (1915, 12, "GMY", "USA", "frus_lansing_1939"),
    "yamamoto-naval-attache-washington": (1925, None, "JPN", "USA", "agawa_1979"),
    "truman-smith-berlin": (1935, None, "USA", "GMY", "hessen_1984"),
    "ivanov-profumo-affair": (1960, 3, "RUS", "UKG", "andrew_2009"),
    "china-attache-network-2006": (2006, None, "CHN", None, "prc_national_defense_2006"),
    "uk-defence-attaches-advisers-2007": (2007, 5, "UKG", None, "hansard_2007_attaches"),
}


def test_attache_history(records, by_id):
    attaches = [r for r in records if r.activity == "attaches"]
    assert len(attaches) == 49  # 37 before the history was extended, 12 milestones added
    for rid, (year, month, sender, receiver, key) in ATTACHE_MILESTONES.items():
        rec = by_id[rid]
        assert (rec.activity, rec.instrument, rec.start_year, rec.start_month) == ("attaches", "posting", year,
                                                                                   month), rid
        roles = {(p.id, p.role) for p in rec.participants}
        assert (sender, "sender") in roles and (receiver is None or (receiver, "receiver") in roles), rid
        assert key in rec.citations, rid
    # the espionage cases are marked, and the counts the sources give are kept as attributes
    assert {r for r, rec in by_id.items() if rec.attributes.get("case") == "espionage"} == {
        "schwartzkoppen-bordereau-1894", "papen-boy-ed-recall-1915", "ivanov-profumo-affair"}
    assert by_id["china-attache-network-2006"].attributes["attache_offices_abroad"] == 107
    assert by_id["uk-defence-attaches-advisers-2007"].attributes["resident_posts"] == 79
    # one attaché record at least in every era of the office: forerunners, the 19th century, the world wars,
    # the Cold War and after
    years = sorted(r.start_year for r in attaches)
    for first, last in ((1800, 1850), (1850, 1900), (1900, 1945), (1946, 1990), (1991, present_year())):
        assert any(first <= y <= last for y in years), (first, last)


def test_select_filters_by_activity_sub_activity_and_years():
    early_attaches = select(activity="attaches", to_year=1900)
    assert early_attaches and all(e.activity == "attaches" and e.start_year <= 1900 for e in early_attaches)
    hadr = select(activity="hadr", from_year=2000)
    assert hadr and all("hadr" in e.sub_activities for e in hadr)
    assert all((e.end_year or (9999 if e.ongoing else e.start_year)) >= 2000 for e in hadr)
    with pytest.raises(DefdipError, match="unknown activity"):
        select(activity="espionage")


# ------------------------------------------------------------------------------------ bad records

GOOD = """\
- id: test-pact
  title: A test pact
  summary: A short summary of a test record.
  activity: agreements
  sub_activities: [interoperability]
  instrument: alliance_treaty
  start_year: -481
  end_year: -479
  precision: year
  participants:
    - {id: athens, role: member}
    - {id: sparta, role: leader}
  sources: [khalid_ahmed_2024]
  paper_section: "3.1"
"""


def write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_good_record_loads_from_one_file(tmp_path):
    (eng,) = load_genealogy(write(tmp_path, GOOD, "good.yaml"))
    assert eng.id == "test-pact" and eng.start_year == -481
    assert [p.name for p in eng.participants] == [registry().get("athens").name, registry().get("sparta").name]
    assert eng.attributes == {"paper_section": "3.1"}
    assert eng.provenance[0].citations == ["khalid_ahmed_2024"]


@pytest.mark.parametrize("old, new, field, needle", [
    ("activity: agreements", "activity: espionage", "activity", "unknown activity"),
    ("sub_activities: [interoperability]", "sub_activities: [bribery]", "sub_activities", "unknown sub-activity"),
    ("instrument: alliance_treaty", "instrument: handshake", "instrument", "unknown instrument"),
    ("end_year: -479", "end_year: -490", "end_year", "before start"),
    ("start_year: -481", "start_year: 0", "start_year", "no year 0"),
    ("end_year: -479", "end_year: 0", "end_year", "no year 0"),
    ("{id: sparta, role: leader}", "{id: atlantis, role: leader}", "participants.1.id", "atlantis"),
    ("{id: sparta, role: leader}", "{id: sparta, role: overlord}", "participants.1.role", "unknown role"),
    ("sources: [khalid_ahmed_2024]", "sources: [khalid_ahmed_2042]", "sources", "khalid_ahmed_2024"),
    ("sources: [khalid_ahmed_2024]", "sources: []", "sources", "at least one citation key"),
    ("precision: year", "precision: year\n  start_month: 13", "start_year", "month 13"),
    ("precision: year", "precision: year\n  ongoing: true", "ongoing", "cannot have an end_year"),
    ("precision: year", "precision: year\n  sourcez: [x]", "sourcez", "unknown field"),
])
def test_bad_record_names_file_record_and_field(tmp_path, old, new, field, needle):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(RecordError) as info:
        load_genealogy(path)
    err = info.value
    assert (err.file, err.record, err.field) == ("bad.yaml", "test-pact", field)
    assert needle in str(err)
    assert str(err).startswith(f"bad.yaml, record test-pact, field '{field}'")


def test_missing_sources_field(tmp_path):
    path = write(tmp_path, GOOD.replace("  sources: [khalid_ahmed_2024]\n", ""))
    with pytest.raises(RecordError) as info:
        load_genealogy(path)
    assert (info.value.file, info.value.record, info.value.field) == ("bad.yaml", "test-pact", "sources")


def test_missing_id_is_named_by_index(tmp_path):
    path = write(tmp_path, GOOD + GOOD.replace("- id: test-pact\n  title", "- title"))
    with pytest.raises(RecordError) as info:
        load_genealogy(path)
    assert (info.value.file, info.value.record, info.value.field) == ("bad.yaml", 1, "id")


def test_duplicate_ids_within_and_across_files(tmp_path):
    with pytest.raises(RecordError) as info:
        load_genealogy(write(tmp_path, GOOD + GOOD))
    assert (info.value.record, info.value.field) == ("test-pact", "id") and "duplicate" in str(info.value)

    folder = tmp_path / "folder"
    folder.mkdir()
    write(folder, GOOD, "a.yaml")
    write(folder, GOOD, "b.yaml")
    with pytest.raises(RecordError) as info:
        load_genealogy(folder)
    assert (info.value.file, info.value.record, info.value.field) == ("b.yaml", "test-pact", "id")
    assert "a.yaml" in str(info.value)


def test_file_must_hold_a_list(tmp_path):
    with pytest.raises(RecordError, match="list of records") as info:
        load_genealogy(write(tmp_path, "id: not-a-list\n"))
    assert info.value.file == "bad.yaml"


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(DefdipError, match="no genealogy file"):
        load_genealogy(tmp_path / "nowhere.yaml")


# ------------------------------------------------------------------------- existence and bounds

@pytest.mark.parametrize("old, new, field, needle", [
    # Sparta was gone by 100 CE: the record's years rule it out
    ("start_year: -481\n  end_year: -479", "start_year: 100\n  end_year: 120", "participants.0.id",
     "did not exist in 100"),
    # a participant's own years must lie inside the record's
    ("{id: athens, role: member}", "{id: athens, role: member, end_year: -470}", "participants.0.end_year",
     "outside the record's years"),
    ("{id: athens, role: member}", "{id: athens, role: member, start_year: -479, end_year: -480}",
     "participants.0.end_year", "before the participant's start"),
    ("{id: athens, role: member}", "{id: athens, role: member, start_year: 0}", "participants.0.start_year",
     "no year 0"),
    # no year after the present one
    ("end_year: -479", "end_year: 99999", "end_year", "after the present year"),
])
def test_participant_existence_and_year_bounds(tmp_path, old, new, field, needle):
    assert old in GOOD
    with pytest.raises(RecordError) as info:
        load_genealogy(write(tmp_path, GOOD.replace(old, new)))
    assert (info.value.file, info.value.record, info.value.field) == ("bad.yaml", "test-pact", field)
    assert needle in str(info.value)


TREATY = """\
- id: test-treaty
  title: A test treaty
  summary: A treaty whose organisation came later than the treaty itself.
  activity: agreements
  instrument: alliance_treaty
  start_year: 1992
  ongoing: true
  participants:
    - {id: RUS, role: signatory}
    - {id: csto, role: organiser}
  sources: [khalid_ahmed_2024]
"""


def test_an_organisation_must_be_founded_by_its_first_year(tmp_path):
    with pytest.raises(RecordError) as info:
        load_genealogy(write(tmp_path, TREATY))
    assert (info.value.record, info.value.field) == ("test-treaty", "participants.1.id")
    assert "was founded 2002" in str(info.value) and "did not exist in 1992" in str(info.value)
    (eng,) = load_genealogy(write(tmp_path, TREATY.replace("role: organiser}", "role: organiser, start_year: 2002}"),
                                  "ok.yaml"))
    assert [(p.id, p.start_year) for p in eng.participants] == [("RUS", None), ("csto", 2002)]


def test_a_participant_that_ceased_to_exist_needs_its_own_end(tmp_path):
    text = GOOD.replace("start_year: -481\n  end_year: -479", "start_year: -250\n  end_year: -100")
    with pytest.raises(RecordError, match=r"Sparta \[sparta\] did not exist in 100 BCE") as info:
        load_genealogy(write(tmp_path, text))
    assert info.value.field == "participants.1.id" and "its own start_year/end_year" in str(info.value)
    fixed = text.replace("{id: sparta, role: leader}", "{id: sparta, role: leader, end_year: -146}")
    (eng,) = load_genealogy(write(tmp_path, fixed, "fixed.yaml"))
    assert [(p.id, p.end_year) for p in eng.participants] == [("athens", None), ("sparta", -146)]


def test_bad_bytes_and_empty_files_name_the_file(tmp_path):
    (tmp_path / "latin1.yaml").write_bytes(GOOD.replace("A short", "Caf\xe9 short").encode("latin-1"))
    with pytest.raises(RecordError, match=r"^latin1.yaml: not UTF-8 text \(byte \d+") as info:
        load_genealogy(tmp_path / "latin1.yaml")
    assert info.value.record is None
    (tmp_path / "empty.yaml").write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(RecordError, match="^empty.yaml: holds no records"):
        load_genealogy(tmp_path / "empty.yaml")
    folder = tmp_path / "nothing"
    folder.mkdir()
    with pytest.raises(DefdipError, match="no \\*.yaml records files"):
        load_genealogy(folder)
