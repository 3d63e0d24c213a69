"""Exercise sources: MME v7, JME v3 and the unofficial list of Russia's exercises.

Unit tests read the small hand-written fixtures in tests/fixtures/exercises (official layouts; the MME fixture mixes
UTF-8 and Windows-1252 lines as the real file is said to). JME is an Excel 97 workbook and no .xls writer is
installed, so its fixture is Sheet1_2 saved as CSV and fed to ``JMESource.load_frame``; the .xls reader itself is
covered by the integration tests on the real file.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from defdip.errors import SourceFormatError
from defdip.sources.base import IngestContext
from defdip.sources.exercises import (
    JME_FILE,
    MME_FILE,
    RU_FILE,
    SOURCES,
    Candidate,
    JMESource,
    MMESource,
    RussiaExercisesSource,
    clean_date,
    decode_mixed,
    match_keys,
    name_variants,
    normalise_name,
    pair_mme_jme,
    split_date_text,
)

FIX = Path(__file__).resolve().parent / "fixtures" / "exercises"


def _jme_frame() -> pd.DataFrame:
    return pd.read_csv(FIX / "jme_v3_sheet1_2.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def mme_fixture():
    ctx = IngestContext("mme")
    result = MMESource().load(FIX, ctx)
    return result, ctx, {e.id: e for e in result.engagements}


@pytest.fixture(scope="module")
def jme_fixture():
    ctx = IngestContext("jme")
    result = JMESource().load_frame(_jme_frame(), ctx)
    return result, ctx, {e.id: e for e in result.engagements}


@pytest.fixture(scope="module")
def ru_fixture():
    ctx = IngestContext("ru_exercises")
    result = RussiaExercisesSource().load(FIX, ctx)
    return result, ctx, {e.id: e for e in result.engagements}


# --- source metadata ---------------------------------------------------------------------------------------------

def test_sources_declared():
    assert [s.id for s in SOURCES] == ["mme", "jme", "ru_exercises"]
    for s in SOURCES:
        assert s.folder == "military_exercises"
        assert s.bibtex.lstrip().startswith("@") and "{" + s.citation_keys[0] + "," in s.bibtex
        assert s.files and s.title and s.citation and s.version
    assert "10.7910/DVN/KHFODX" in MMESource.downloads[0].url


# --- helpers -----------------------------------------------------------------------------------------------------

def test_decode_mixed_keeps_utf8_and_reads_cp1252_lines():
    raw = "Côte d’Ivoire\n".encode() + "Libavá ’\n".encode("cp1252")
    assert decode_mixed(raw) == "Côte d’Ivoire\nLibavá ’\n"
    assert decode_mixed(b"\xef\xbb\xbfplain") == "plain"


@pytest.mark.parametrize("name,year,expected", [
    ("Cobra Gold 2005", 2005, "cobragold"),
    ("Cobra Gold 05", 2005, "cobragold"),
    ("COBRA-GOLD '05", 2005, "cobragold"),
    ("Exercise Cobra Gold", 2005, "cobragold"),
    ("Readex 1-80", 1980, "readex1"),
    ("Tamex 09-1", 2009, "tamex1"),
    ("Darhan-2", 2002, "darhan2"),  # a one-digit series number is not read as the year
    ("Unitas XXIV", 1983, "unitas24"),
    ("Ulchi-Focus Lens", 1990, "ulchifocuslens"),
    ("Bersama Lima 04", 2004, "bersamalima"),
    ("Opération Épée", 2000, "epee"),
    ("-9", 2000, None),
    ("", 2000, None),
])
def test_normalise_name(name, year, expected):
    assert normalise_name(name, year) == expected


def test_name_variants_split_translations():
    assert name_variants("Druzhba (Friendship) 1982", 1982) == {"druzhbafriendship", "druzhba", "friendship"}
    assert name_variants("-9") == set()


@pytest.mark.parametrize("text,expected", [
    ("11/xx/1974", ("1974", "11", "xx")),
    ("7/7/05", ("2005", "7", "7")),
    ("2002-08-01 00:00:00", ("2002", "08", "01")),
    ("1980-01-xx", ("1980", "01", "xx")),
    ("11xx/2002", ("2002", "11", "xx")),
    ("08/xx2002", ("2002", "08", "xx")),
    ("10/xx/007", (None, None, None)),
    ("-9", (None, None, None)),
])
def test_split_date_text(text, expected):
    assert split_date_text(text) == expected


def test_clean_date_lowers_precision_with_reason():
    d = clean_date("1996", "9", "31", "start")
    assert (d.year, d.month, d.day, d.precision) == (1996, 9, None, "month")
    assert d.notes == ["start day 31 does not exist in month 9 of 1996; kept month precision"]
    d = clean_date("2004", "13", "2", "start")
    assert (d.year, d.month, d.day, d.precision) == (2004, None, None, "year")
    assert clean_date("1980", "1", "xx", "start").precision == "month"
    assert clean_date("2000", "2", "29", "start").day == 29  # a leap day is real
    assert clean_date("3009", "3", "5", "start").year is None


def test_pairing_rules():
    usa_tha = frozenset({"USA", "THI"})
    mme = [Candidate("mme-1", "cobragold", 2005, 5, usa_tha, frozenset({"cobragold"})),
           Candidate("mme-2", "cobragold", 2005, 5, frozenset({"FRN"}), frozenset({"cobragold"})),
           Candidate("mme-3", "druzhbafriendship", 1982, 1, frozenset({"RUS", "HUN"}),
                     frozenset({"druzhbafriendship", "druzhba", "friendship"})),
           Candidate("mme-4", None, 1990, 3, usa_tha, day=12),
           Candidate("mme-5", "edgedmallet", 2002, 2, frozenset({"USA", "KEN"}), frozenset({"edgedmallet"}))]
    jme = [Candidate("jme-2", "cobragold", 2005, 6, usa_tha | {"SIN"}, frozenset({"cobragold"})),
           Candidate("jme-3", "druzhba", 1982, 1, frozenset({"RUS", "HUN", "CZE"}), frozenset({"druzhba"})),
           Candidate("jme-4", None, 1990, 3, usa_tha, day=12),
           Candidate("jme-5", None, 1990, 3, usa_tha, day=13),
           Candidate("jme-6", "edgedmallet", 2002, 12, frozenset({"USA", "KEN"}), frozenset({"edgedmallet"})),
           Candidate("jme-7", "cobragold", 2006, 5, usa_tha, frozenset({"cobragold"}))]
    assert sorted(pair_mme_jme(mme, jme)) == [("jme-2", "mme-1"), ("jme-3", "mme-3"), ("jme-4", "mme-4"),
                                              ("jme-6", "mme-5")]
    # no participant in common: never paired, even with the same name, year and month
    assert pair_mme_jme(mme[1:2], jme[:1]) == []


# --- MME ---------------------------------------------------------------------------------------------------------

def test_mme_fixture_counts(mme_fixture):
    result, ctx, by_id = mme_fixture
    assert result.rows_read == 11
    assert sorted(by_id) == ["mme-87", "mme-88", "mme-90", "mme-91", "mme-94", "mme-96", "mme-98"]
    reasons = {(r.row, r.field): r.reason for r in ctx.rejections}
    assert reasons == {
        (6, "MMEID"): "duplicate of row 2",
        (11, "s.year"): "missing start year",
        ("7", "participants"): "no participant could be identified",
        ("9", "participants"): "no participants listed (all blank or coded -9)",
    }
    assert all(r.file == MME_FILE for r in ctx.rejections)


def test_mme_record_fields(mme_fixture):
    _, _, by_id = mme_fixture
    e = by_id["mme-87"]
    assert (e.title, e.activity, e.instrument) == ("Readex 1-80", "exercises", "exercise")
    assert (e.start_year, e.start_month, e.start_day, e.end_year, e.end_month, e.end_day, e.precision) == (
        1980, 1, 14, 1980, 1, 21, "day")
    assert [(p.id, p.role) for p in e.participants] == [("USA", "participant"), ("UKG", "participant"),
                                                         ("NTH", "participant")]
    assert e.sub_activities == ["interoperability"]  # FocusDescription says so
    assert e.attributes["domains"] == ["Sea"] and e.attributes["format"] == "multilateral"
    assert (e.attributes["lat"], e.attributes["series"]) == (18.1262854, "Readex")
    assert e.provenance[0].model_dump() == {"source": "mme", "version": "7", "record_id": "mme87",
                                            "citations": ["dorazio_galambos_2021"]}
    cobra = by_id["mme-90"]
    assert cobra.sub_activities == ["peacekeeping"] and cobra.attributes["format"] == "bilateral"
    assert cobra.attributes["purposes"] == ["Warfighting", "Peacekeeping"]


def test_mme_unknown_day_gives_month_precision_and_unnamed_title(mme_fixture):
    e = mme_fixture[2]["mme-88"]
    assert (e.start_year, e.start_month, e.start_day, e.precision) == (1980, 1, None, "month")
    assert e.title == "Unnamed exercise (United States of America, Egypt), 1980"
    assert e.sub_activities == ["hadr"] and "name" not in e.attributes


def test_mme_cp1252_line_and_impossible_day(mme_fixture):
    e = mme_fixture[2]["mme-91"]
    assert e.attributes["location"] == "Libavá, Czech Republic"
    assert [p.id for p in e.participants] == ["CZR", "CDI"]
    assert e.participants[1].attributes == {"source_name": "Côte d’Ivoire"}
    assert (e.start_month, e.start_day, e.precision) == (9, None, "month")
    assert e.attributes["date_notes"] == ["start day 31 does not exist in month 9 of 1996; kept month precision"]
    assert e.attributes["participants_incomplete"] is True  # a "-9" slot


def test_mme_bad_end_and_month(mme_fixture):
    _, _, by_id = mme_fixture
    late = by_id["mme-96"]
    assert late.end_year is None and late.attributes["date_notes"] == [
        "end (2003-6-1) is before the start; end dropped"]
    odd = by_id["mme-98"]
    assert (odd.start_year, odd.start_month, odd.precision) == (2004, None, "year")


def test_mme_unknown_names_counted_blank_slots_ignored(mme_fixture):
    _, ctx, by_id = mme_fixture
    assert dict(ctx.unresolved) == {"Atlantis": 2, "Freedonia": 1}
    harbour = by_id["mme-94"]
    assert [p.id for p in harbour.participants] == ["FRN"]
    assert harbour.attributes["unidentified_participants"] == 1
    # mentions: every non-blank, non "-9" name once; blank columns are not mentions
    assert ctx.mentions == 3 + 2 + 2 + 2 + 2 + 2 + 2 + 2


def test_mme_header_errors(tmp_path):
    (tmp_path / MME_FILE).write_text("MMEID,Name,s.year\nmme1,x,1990\n", encoding="utf-8")
    with pytest.raises(SourceFormatError) as err:
        MMESource().load(tmp_path, IngestContext("mme"))
    assert MME_FILE in str(err.value) and "Ex_Name" in str(err.value) and "StateA" in str(err.value)


def test_mme_alone_has_no_match_keys(mme_fixture):
    assert all(e.match_key is None for e in mme_fixture[0].engagements)
    assert match_keys(FIX) == {}  # the JME workbook is not in the fixture folder


# --- JME ---------------------------------------------------------------------------------------------------------

def test_jme_collapses_reports(jme_fixture):
    result, ctx, by_id = jme_fixture
    assert result.rows_read == 8
    assert sorted(by_id) == ["jme-2", "jme-4", "jme-5", "jme-8", "jme-9"]
    cobra = by_id["jme-2"]  # "Cobra Gold 05" and "Cobra Gold 2005", both May 2005
    assert cobra.attributes["reports"] == 2 and cobra.attributes["rows"] == [2, 3]
    assert cobra.provenance[0].record_id == "2;3"
    assert [p.id for p in cobra.participants] == ["USA", "THI", "SIN"]
    assert (cobra.start_day, cobra.end_day, cobra.precision) == (2, 20, "day")  # the sharper report wins
    assert cobra.attributes["types"] == ["FTX", "CPX"]
    assert cobra.sub_activities == ["interoperability"]


def test_jme_dates_from_text_host_and_codes(jme_fixture):
    _, ctx, by_id = jme_fixture
    unnamed = by_id["jme-4"]  # split date columns blank: read "11/xx/1974"
    assert (unnamed.start_year, unnamed.start_month, unnamed.precision) == (1974, 11, "month")
    assert unnamed.title.startswith("Unnamed exercise (")
    kangaroo = by_id["jme-5"]
    assert [(p.id, p.role) for p in kangaroo.participants] == [("AUL", "host"), ("NEW", "participant"),
                                                                ("USA", "participant")]  # "uSA" read as USA
    assert kangaroo.sub_activities == ["hadr"]
    reforger = by_id["jme-8"]
    assert reforger.attributes["reforger"] is True
    assert [p.id for p in reforger.participants] == ["USA", "GFR"]  # DEU in 1985 is West Germany
    assert dict(ctx.unresolved) == {"iso3:XXX": 1}
    assert by_id["jme-9"].start_month == 11  # "11xx/2002"


def test_jme_rejects(jme_fixture):
    _, ctx, _ = jme_fixture
    assert [(r.row, r.field, r.reason) for r in ctx.rejections] == [
        (6, "Exercise Name", "duplicate of row 5"),  # same report coded twice
        (7, "Start Date", "start year 3009 is impossible"),
    ]


def test_jme_header_and_file_errors(tmp_path):
    with pytest.raises(SourceFormatError, match="State A"):
        JMESource().load_frame(_jme_frame().drop(columns=["State A"]), IngestContext("jme"))
    (tmp_path / JME_FILE).write_text("not a workbook", encoding="utf-8")
    with pytest.raises(SourceFormatError, match=JME_FILE):
        JMESource().load(tmp_path, IngestContext("jme"))


# --- Russia (unofficial) -----------------------------------------------------------------------------------------

def test_ru_fixture(ru_fixture):
    result, ctx, by_id = ru_fixture
    assert result.rows_read == 7  # three padding rows of empty cells are not rows
    assert sorted(by_id) == ["ru_exercises-1", "ru_exercises-2", "ru_exercises-3", "ru_exercises-7"]
    indra = by_id["ru_exercises-1"]
    assert indra.title == "Индра-2018" and indra.precision == "year" and indra.start_year == 2018
    assert [(p.id, p.role) for p in indra.participants] == [("RUS", "participant"), ("IND", "participant")]
    assert indra.attributes["sources"] == ["https://structure.mil.ru/a"] and indra.attributes["format"] == "bilateral"
    barents = by_id["ru_exercises-3"]
    assert barents.sub_activities == ["hadr"] and len(barents.attributes["sources"]) == 2
    assert dict(ctx.unresolved) == {"Narnia": 2}
    assert [(r.row, r.field, r.reason) for r in ctx.rejections] == [
        (5, "name", "duplicate of row 2"),
        (6, "yr", "missing year"),
        ("7", "participants", "no participant could be identified"),
    ]


def test_ru_header_error(tmp_path):
    shutil.copy(FIX / RU_FILE, tmp_path / RU_FILE)
    text = (tmp_path / RU_FILE).read_text(encoding="utf-8").replace("yr,", "year,", 1)
    (tmp_path / RU_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(SourceFormatError, match="yr"):
        RussiaExercisesSource().load(tmp_path, IngestContext("ru_exercises"))


# --- real data ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real(shared_data):
    folder = shared_data / "military_exercises"
    out = {}
    for source in SOURCES:
        ctx = IngestContext(source.id)
        out[source.id] = (source.load(folder, ctx), ctx)
    return out


@pytest.mark.shared
def test_real_mme(real, shared_data):
    result, ctx = real["mme"]
    frame = pd.read_csv(shared_data / "military_exercises" / MME_FILE, dtype=str, keep_default_na=False,
                        encoding="utf-8", encoding_errors="replace")
    assert result.rows_read == len(frame) == 3707
    ids = [e.id for e in result.engagements]
    assert len(ids) == len(set(ids))
    # every row is an engagement except the 91 whose participants are all coded -9; three MMEIDs are used twice
    # in v7 for different exercises, so engagements outnumber distinct MMEIDs minus rejects by three
    assert Counter(r.reason for r in ctx.rejections) == {"no participants listed (all blank or coded -9)": 91}
    assert len(result.engagements) == 3707 - 91 == frame["MMEID"].nunique() - 91 + 3
    assert sum(ctx.unresolved.values()) < 0.01 * ctx.mentions
    assert any("’" in (e.attributes.get("focus") or "") for e in result.engagements)  # no mojibake


@pytest.mark.shared
def test_real_jme(real):
    result, ctx = real["jme"]
    assert result.rows_read == 1790
    reports = sum(e.attributes["reports"] for e in result.engagements)
    assert reports + len(ctx.rejections) == 1790
    assert len(result.engagements) < 1790 - len(ctx.rejections)  # some reports collapse
    assert len(ctx.rejections) <= 12
    assert sum(ctx.unresolved.values()) < 0.01 * ctx.mentions


@pytest.mark.shared
def test_real_ru(real):
    result, ctx = real["ru_exercises"]
    # the file has 991 lines of data but only 99 exercises: the rest are padding rows of empty cells
    assert result.rows_read == 99 and len(result.engagements) == 99 and not ctx.rejections
    assert all(e.participants[0].id == "RUS" for e in result.engagements)
    assert {e.start_year for e in result.engagements} == set(range(2009, 2019))
    print(f"ru_exercises: {sum(ctx.unresolved.values())} of {ctx.mentions} mentions unresolved",
          dict(ctx.unresolved))


@pytest.mark.shared
def test_real_mme_jme_merge(real):
    from defdip.store import merge_duplicates

    mme, jme = real["mme"][0].engagements, real["jme"][0].engagements
    copies = [e.model_copy(deep=True) for e in jme + mme]  # the build loads jme before mme
    originals = {e.id: e for e in jme + mme}
    keyed = Counter(e.match_key for e in copies if e.match_key)
    assert set(keyed.values()) == {2}  # every key joins exactly one JME and one MME engagement
    pairs = len(keyed)
    merged = merge_duplicates(copies)
    assert len(merged) == len(mme) + len(jme) - pairs
    both = [e for e in merged if e.sources == ["jme", "mme"]]
    assert len(both) == pairs >= 1000
    for e in both:
        other = originals[e.attributes["merged_ids"][0]]
        first = originals[e.id]
        assert e.id.startswith("jme-") and other.id.startswith("mme-")
        assert first.start_year == other.start_year
        assert {p.id for p in first.participants} & {p.id for p in other.participants}
    print(f"MME {len(mme)}, JME {len(jme)}, pairs merged {pairs}, after merge {len(merged)}")
