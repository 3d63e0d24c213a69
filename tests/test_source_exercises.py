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

from defdip.core.errors import SourceFormatError
from defdip.ingest.sources.base import IngestContext
from defdip.ingest.sources.exercises import (
    JME_FILE,
    MME_FILE,
    RU_FILE,
    SOURCES,
    DateParts,
    JMESource,
    MMESource,
    RussiaExercisesSource,
    clean_date,
    coverage,
    decode_mixed,
    name_variants,
    normalise_name,
    recover_start,
    split_date_text,
    year_in_name,
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


YEARS = (1970, 2010)


def test_clean_date_lowers_precision_with_reason():
    d = clean_date("1996", "9", "31", "start", YEARS)
    assert (d.year, d.month, d.day, d.precision) == (1996, 9, None, "month")
    assert d.notes == ["start day 31 does not exist in month 9 of 1996; kept month precision"]
    d = clean_date("2004", "13", "2", "start", YEARS)
    assert (d.year, d.month, d.day, d.precision) == (2004, None, None, "year")
    assert clean_date("1980", "1", "xx", "start", YEARS).precision == "month"
    assert clean_date("2000", "2", "29", "start", YEARS).day == 29  # a leap day is real


@pytest.mark.parametrize("year", ["3009", "1969", "2011", "99999"])
def test_clean_date_bounds_years_by_coverage(year):
    d = clean_date(year, "3", "5", "start", YEARS)
    assert d.year is None and d.notes == [f"start year {year} is outside 1970-2010, the years the source covers"]


def test_coverage_never_runs_past_the_present_year():
    import datetime

    assert coverage(1980, 2010) == (1980, 2010)
    assert coverage(2009, 3000) == (2009, datetime.date.today().year)


@pytest.mark.parametrize("name,expected", [
    ("Cobra Gold 2005", 2005), ("Passex 07", 2007), ("Readex 1-80", 1980), ("Balikatan 02-2", 2002),
    ("Peace 09", 2009), ("Kakadu VI", None), ("Tamex 1999/2000", None), ("-9", None),
])
def test_year_in_name(name, expected):
    assert year_in_name(name) == expected


def test_recover_start_needs_agreeing_evidence():
    end = clean_date("2007", "10", "xx", "end", YEARS)
    d = recover_start("10/xx/007", end, "Vigilant Pacific 07", YEARS)
    assert (d.year, d.month, d.day) == (2007, 10, None)
    assert d.notes == ["start date '10/xx/007' read as year 2007 (from the end date and the name)"]
    end09 = clean_date("2009", "3", "14", "end", YEARS)
    assert (recover_start("03/05/3009", end09, "Peace 09", YEARS).day) == 5
    assert recover_start("", DateParts(), "Passex 07", YEARS).year == 2007  # the name alone
    assert recover_start("03/05/3009", end09, "Peace 08", YEARS) is None  # end and name disagree
    assert recover_start("11/08/2015", clean_date("2010", "11", "15", "end", YEARS), None, YEARS) is None  # 15 != 10
    assert recover_start("", DateParts(), None, YEARS) is None


# --- MME ---------------------------------------------------------------------------------------------------------

def _identity(result, ctx):
    """rows read = rows accounted for + distinct rows quarantined (what `defdip validate` checks)."""
    return result.rows_read == sum(result.accounted.values()) + len({(r.file, str(r.row)) for r in ctx.rejections})


def test_mme_fixture_counts(mme_fixture):
    result, ctx, by_id = mme_fixture
    assert result.rows_read == 13
    assert sorted(by_id) == ["mme-87", "mme-88", "mme-90", "mme-91", "mme-93", "mme-94", "mme-95", "mme-96",
                             "mme-98"]
    reasons = {(r.row, r.field): r.reason for r in ctx.rejections}
    assert reasons == {
        (6, "MMEID"): "duplicate of row 2",
        (11, "s.year"): "missing start year",
        (14, "s.year"): "start year 1979 is outside 1980-2010, the years the source covers",
    }
    assert all(r.file == MME_FILE for r in ctx.rejections)
    assert result.accounted == {"kept": 9, "blank": 1} and _identity(result, ctx)
    assert MMESource.min_rows > 1000


def test_mme_record_fields(mme_fixture):
    _, _, by_id = mme_fixture
    e = by_id["mme-87"]
    assert (e.title, e.activity, e.instrument) == ("Readex 1-80", "exercises", "exercise")
    assert (e.start_year, e.start_month, e.start_day, e.end_year, e.end_month, e.end_day, e.precision) == (
        1980, 1, 14, 1980, 1, 21, "day")
    assert [(p.id, p.role) for p in e.participants] == [("USA", "participant"), ("UKG", "participant"),
                                                         ("NTH", "participant")]
    assert e.sub_activities == ["interoperability"]  # FocusDescription says so
    own = e.attributes["mme"]
    assert own["domains"] == ["Sea"] and e.attributes["format"] == "multilateral"
    assert (own["lat"], own["series"], own["start"], own["end"]) == (18.1262854, "Readex", "1980-01-14",
                                                                     "1980-01-21")
    assert e.provenance[0].model_dump() == {"source": "mme", "version": "7", "record_id": "mme87",
                                            "citations": ["dorazio_galambos_2021"]}
    assert e.match_key == "exercise:mme-87"  # mergeable until the build pairs it (or not)
    cobra = by_id["mme-90"]
    assert cobra.sub_activities == ["peacekeeping"] and cobra.attributes["format"] == "bilateral"
    assert cobra.attributes["mme"]["purposes"] == ["Warfighting", "Peacekeeping"]


def test_mme_unknown_day_gives_month_precision_and_unnamed_title(mme_fixture):
    e = mme_fixture[2]["mme-88"]
    assert (e.start_year, e.start_month, e.start_day, e.precision) == (1980, 1, None, "month")
    assert e.title == "Unnamed exercise (United States of America, Egypt), 1980"
    assert e.sub_activities == ["hadr"] and "name" not in e.attributes["mme"]
    assert e.attributes["mme"]["start"] == "1980-01"


def test_mme_cp1252_line_and_impossible_day(mme_fixture):
    e = mme_fixture[2]["mme-91"]
    assert e.attributes["mme"]["location"] == "Libavá, Czech Republic"
    assert [p.id for p in e.participants] == ["CZR", "CDI"]
    assert e.participants[1].attributes == {"source_name": "Côte d’Ivoire"}
    assert (e.start_month, e.start_day, e.precision) == (9, None, "month")
    assert e.attributes["mme"]["date_notes"] == [
        "start day 31 does not exist in month 9 of 1996; kept month precision"]
    assert e.attributes["participants_incomplete"] is True  # a "-9" slot
    assert e.attributes["format"] == "multilateral"  # two named and one unknown: more than two


def test_mme_bad_end_and_month(mme_fixture):
    _, _, by_id = mme_fixture
    late = by_id["mme-96"]
    assert late.end_year is None and late.attributes["mme"]["date_notes"] == [
        "end (2003-6-1) is before the start; end dropped"]
    odd = by_id["mme-98"]
    assert (odd.start_year, odd.start_month, odd.precision) == (2004, None, "year")


def test_mme_missing_participants_kept_with_unknown(mme_fixture):
    """-9 in every participant column: kept with the unknown participant, the flag and MME's free text."""
    e = mme_fixture[2]["mme-95"]
    assert [(p.id, p.ccode) for p in e.participants] == [("unknown", None)]
    assert e.attributes["participants_incomplete"] is True
    assert e.attributes["participants_text"] == "NATO countries"
    assert "format" not in e.attributes
    assert e.title.startswith("Unnamed exercise (") and e.start_year == 2002
    none_identified = mme_fixture[2]["mme-93"]  # "Atlantis", "Freedonia": named, but no such states
    assert [p.id for p in none_identified.participants] == ["unknown"]
    assert none_identified.attributes["participants_text"] == "Atlantis; Freedonia"
    assert none_identified.attributes["mme"]["unidentified_participants"] == 2


STATES = {"USA": (2, "United States of America"), "UKG": (200, "United Kingdom"), "NTH": (210, "Netherlands"),
          "FRN": (220, "France"), "EGY": (651, "Egypt")}


def _state_system(folder: Path) -> None:
    """A small COW state system (the official layout) for 1980-2005: the states of the MME fixture's records."""
    folder.mkdir()
    rows = [f"{abb},{code},{name},1816,1,1,2016,12,31,2016" for abb, (code, name) in STATES.items()]
    (folder / "cow_states2016.csv").write_text(
        "stateabb,ccode,statenme,styear,stmonth,stday,endyear,endmonth,endday,version\n" + "\n".join(rows) + "\n")
    years = [f"{abb},{code},{y},2016" for y in range(1980, 2006) for abb, (code, _) in STATES.items()]
    (folder / "system2016.csv").write_text("stateabb,ccode,year,version\n" + "\n".join(years) + "\n")
    (folder / "majors2016.csv").write_text("stateabb,ccode,styear,stmonth,stday,endyear,endmonth,endday,version\n"
                                           "USA,2,1898,8,13,2016,12,31,2016\n")


def test_unknown_participant_adds_no_dyad(tmp_path, monkeypatch):
    """A record whose only participant is unknown counts as an exercise and adds nothing to the dyad layer."""
    import duckdb

    from defdip.analysis import panels
    from defdip.ingest.build import build
    from defdip.ingest.sources.state_system import SOURCES as STATE_SOURCES

    monkeypatch.setattr(MMESource, "min_rows", 1)  # the fixtures are no full copies
    # this test is about the sources alone: the build loads neither the genealogy nor user records
    monkeypatch.setattr("defdip.ingest.build.build_sources", lambda datasets, records: dict(datasets))
    for source in STATE_SOURCES:
        monkeypatch.setattr(type(source), "min_rows", 1)
    (tmp_path / "military_exercises").mkdir()
    shutil.copy(FIX / MME_FILE, tmp_path / "military_exercises" / MME_FILE)
    _state_system(tmp_path / "state_system")
    store = tmp_path / "s.duckdb"
    build(store, tmp_path, only=["mme", "state_system"])
    con = duckdb.connect(str(store), read_only=True)
    try:
        per_year = dict(con.execute("SELECT start_year, count(*) FROM engagements WHERE activity = 'exercises' "
                                    "GROUP BY 1").fetchall())
        assert per_year[2002] == 1 and per_year[1999] == 1  # mme-95 and mme-93, participants unknown
        assert con.execute("SELECT count(*) FROM exercise_matches").fetchone()[0] == 0
        checks = {c.name: c for c in MMESource().checks(con)}
    finally:
        con.close()
    frame = panels.dyad_year(store, from_year=1980, to_year=2005, layers=["exercises"])
    with_ex = frame[frame["exercises"].fillna(0) > 0]
    # Readex 1980 (USA-UKG, USA-NTH, UKG-NTH) and the unnamed USA-Egypt exercise of 1980; France's 2001 record
    # has one identified participant and the 1999 and 2002 records none: no dyad from them
    assert sorted(zip(with_ex["ccode1"], with_ex["ccode2"], with_ex["year"])) == [
        (2, 200, 1980), (2, 210, 1980), (2, 651, 1980), (200, 210, 1980)]
    per_year = checks["per-year exercises (MME dates) vs the file's rows per year"]
    assert per_year.ok and per_year.actual == 0
    total = checks["exercises (distinct MMEIDs) vs the MME paper"]
    assert (total.expected, total.actual, total.ok) == (3704, 9, False)  # the fixture is no full copy
    kept = checks["records keep this source's attributes (merged records too)"]
    assert kept.ok and kept.kind == "invariant"


def test_mme_unknown_names_counted_blank_slots_ignored(mme_fixture):
    _, ctx, by_id = mme_fixture
    assert dict(ctx.unresolved) == {"Atlantis": 2, "Freedonia": 1}
    harbour = by_id["mme-94"]
    assert [p.id for p in harbour.participants] == ["FRN"]
    assert harbour.attributes["mme"]["unidentified_participants"] == 1
    assert harbour.attributes["participants_incomplete"] is True
    # mentions: every non-blank, non "-9" name once; blank columns are not mentions
    assert ctx.mentions == 3 + 2 + 2 + 2 + 2 + 2 + 2 + 2


def test_mme_truncated_row_quarantined(tmp_path):
    """A row with fewer fields than the header (a truncated file) is quarantined, never read as an exercise."""
    text = (FIX / MME_FILE).read_bytes() + b"mme200,Cut Short,,Poland,50.1,19.9,5/1/2000,2000,5\n"
    (tmp_path / MME_FILE).write_bytes(text)
    ctx = IngestContext("mme")
    result = MMESource().load(tmp_path, ctx)
    short = [r for r in ctx.rejections if r.row == 15]
    assert [r.reason for r in short] == ["row has 9 fields, the header 64 (truncated or malformed row)"]
    assert "mme-200" not in {e.id for e in result.engagements}
    assert result.rows_read == 14 and _identity(result, ctx)
    assert {(r.row, r.field) for r in ctx.rejections} >= {(6, "MMEID"), (14, "s.year")}  # numbering kept


def test_mme_header_errors(tmp_path):
    (tmp_path / MME_FILE).write_text("MMEID,Name,s.year\nmme1,x,1990\n", encoding="utf-8")
    with pytest.raises(SourceFormatError) as err:
        MMESource().load(tmp_path, IngestContext("mme"))
    assert MME_FILE in str(err.value) and "Ex_Name" in str(err.value) and "StateA" in str(err.value)


def test_mme_file_years_table(mme_fixture):
    years = mme_fixture[0].tables["mme_file_years"]
    # every distinct row with a readable s.year, out-of-coverage rows included (the file as is)
    assert dict(zip(years["year"], years["rows"])) == {1979: 1, 1980: 2, 1996: 1, 1999: 1, 2001: 1, 2002: 1,
                                                       2003: 1, 2004: 1, 2005: 1}


# --- JME ---------------------------------------------------------------------------------------------------------

def test_jme_collapses_reports(jme_fixture):
    result, ctx, by_id = jme_fixture
    assert result.rows_read == 13
    assert sorted(by_id, key=lambda i: int(i[4:])) == ["jme-2", "jme-4", "jme-5", "jme-7", "jme-8", "jme-9",
                                                        "jme-10", "jme-12", "jme-14"]
    cobra = by_id["jme-2"]  # "Cobra Gold 05" and "Cobra Gold 2005", both May 2005
    own = cobra.attributes["jme"]
    assert own["reports"] == 2 and own["rows"] == [2, 3]
    assert cobra.provenance[0].record_id == "2;3"
    assert [p.id for p in cobra.participants] == ["USA", "THI", "SIN"]
    assert (cobra.start_day, cobra.end_day, cobra.precision) == (2, 20, "day")  # the sharper report wins
    assert own["types"] == ["FTX", "CPX"] and own["start"] == "2005-05-02"
    assert cobra.sub_activities == ["interoperability"]
    assert result.accounted == {"kept": 9, "collapsed": 1, "blank": 1} and _identity(result, ctx)
    assert JMESource.min_rows > 1000


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
    assert reforger.attributes["jme"]["reforger"] is True
    assert [p.id for p in reforger.participants] == ["USA", "GFR"]  # DEU in 1985 is West Germany
    assert dict(ctx.unresolved) == {"iso3:XXX": 1, "8 NATO members": 1}
    assert by_id["jme-9"].start_month == 11  # "11xx/2002"


def test_jme_recovered_start_dates(jme_fixture):
    _, _, by_id = jme_fixture
    peace = by_id["jme-7"]  # '03/05/3009', end 03/14/2009, "Peace 09"
    assert (peace.start_year, peace.start_month, peace.start_day) == (2009, 3, 5)
    assert peace.attributes["jme"]["date_notes"] == [
        "start date '03/05/3009' read as year 2009 (from the end date and the name)"]
    vigilant = by_id["jme-10"]  # '10/xx/007', end 10/xx/2007
    assert (vigilant.start_year, vigilant.start_month, vigilant.precision) == (2007, 10, "month")
    passex = by_id["jme-12"]  # no date at all; "Passex 07"
    assert (passex.start_year, passex.precision) == (2007, "year")
    assert passex.attributes["jme"]["date_notes"] == ["start date '(blank)' read as year 2007 (from the name)"]


def test_jme_unidentified_participants_kept_with_unknown(jme_fixture):
    nato = jme_fixture[2]["jme-14"]
    assert [p.id for p in nato.participants] == ["unknown"]
    assert nato.attributes["participants_text"] == "8 NATO members"
    assert nato.attributes["participants_incomplete"] is True


def test_jme_rejects(jme_fixture):
    _, ctx, _ = jme_fixture
    assert [(r.row, r.field, r.reason) for r in ctx.rejections] == [
        (6, "Exercise Name", "duplicate of row 5"),  # same report coded twice
        (13, "Start Date", "start year 2015 is outside 1970-2010, the years the source covers"),
    ]


def test_jme_batches(jme_fixture):
    result, _, by_id = jme_fixture
    batches = result.tables["jme_batches"]
    assert batches.to_dict("records") == [
        {"batch": "release_2012", "first_row": 2, "last_row": 11, "rows": 9},  # row 11 is blank
        {"batch": "supplement_2015", "first_row": 12, "last_row": 14, "rows": 3}]
    assert by_id["jme-2"].attributes["jme"]["batches"] == {"release_2012": 2}
    assert by_id["jme-12"].attributes["jme"]["batches"] == {"supplement_2015": 1}


def test_jme_checks_on_a_store(jme_fixture, tmp_path):
    import duckdb

    from defdip.ingest.records import assemble, chunk

    result, ctx, _ = jme_fixture
    frames = assemble([chunk(e.model_copy(deep=True) for e in result.engagements)], by_id=True)
    con = duckdb.connect(str(tmp_path / "j.duckdb"))
    for name in ("engagements", "provenance"):
        con.register("f", frames[name])
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM f")
        con.unregister("f")
    con.register("f", result.tables["jme_batches"])
    con.execute("CREATE TABLE jme_batches AS SELECT * FROM f")
    con.unregister("f")
    con.register("f", pd.DataFrame([{"source": "jme", "file": r.file, "row": str(r.row), "field": r.field,
                                     "value": r.value, "reason": r.reason} for r in ctx.rejections]))
    con.execute("CREATE TABLE quarantine AS SELECT * FROM f")
    checks = {c.name: c for c in JMESource().checks(con)}
    release = checks["2012 release: report rows vs the JMEs D'Orazio (2012) records"]
    assert (release.expected, release.actual, release.ok) == (1479, 9, False)
    assert checks["release_2012: report rows stored or quarantined vs the sheet's"].actual == 9
    assert checks["supplement_2015: report rows stored or quarantined vs the sheet's"].actual == 3
    assert all(c.ok for c in checks.values() if c.kind == "invariant")
    con.execute("UPDATE engagements SET attributes = json_object('format', 'bilateral') WHERE id = 'jme-12'")
    checks = {c.name: c for c in JMESource().checks(con)}
    assert not checks["records keep this source's attributes (merged records too)"].ok
    assert not checks["supplement_2015: report rows stored or quarantined vs the sheet's"].ok
    con.close()


def test_jme_header_and_file_errors(tmp_path):
    with pytest.raises(SourceFormatError, match="State A"):
        JMESource().load_frame(_jme_frame().drop(columns=["State A"]), IngestContext("jme"))
    (tmp_path / JME_FILE).write_text("not a workbook", encoding="utf-8")
    with pytest.raises(SourceFormatError, match=JME_FILE):
        JMESource().load(tmp_path, IngestContext("jme"))


# --- Russia (unofficial) -----------------------------------------------------------------------------------------

def test_ru_fixture(ru_fixture):
    result, ctx, by_id = ru_fixture
    assert result.rows_read == 10 and result.accounted == {"kept": 5, "blank": 3}  # three padding rows
    assert _identity(result, ctx)
    assert sorted(by_id) == ["ru_exercises-1", "ru_exercises-2", "ru_exercises-3", "ru_exercises-6",
                             "ru_exercises-7"]
    indra = by_id["ru_exercises-1"]
    assert indra.title == "Индра-2018" and indra.precision == "year" and indra.start_year == 2018
    assert [(p.id, p.role) for p in indra.participants] == [("RUS", "participant"), ("IND", "participant")]
    own = indra.attributes["ru_exercises"]
    assert own["sources"] == ["https://structure.mil.ru/a"] and indra.attributes["format"] == "bilateral"
    assert indra.match_key is None  # not paired with MME/JME
    barents = by_id["ru_exercises-3"]
    assert barents.sub_activities == ["hadr"] and len(barents.attributes["ru_exercises"]["sources"]) == 2
    narnia = by_id["ru_exercises-6"]  # Russia and a partner nobody can identify
    assert [p.id for p in narnia.participants] == ["RUS", "unknown"]
    assert narnia.attributes["participants_text"] == "Narnia"
    assert dict(ctx.unresolved) == {"Narnia": 2}
    assert [(r.row, r.field, r.reason) for r in ctx.rejections] == [
        (5, "name", "duplicate of row 2"),
        (6, "yr", "missing year"),
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
    assert result.rows_read == len(frame) == 3707 >= MMESource.min_rows
    ids = [e.id for e in result.engagements]
    assert len(ids) == len(set(ids))
    # every row is an exercise: the 91 whose participants are all coded -9 are kept with the unknown participant
    assert not ctx.rejections and _identity(result, ctx)
    unknown = [e for e in result.engagements if [p.id for p in e.participants] == ["unknown"]]
    assert len(unknown) == 91 and all(e.attributes["participants_incomplete"] for e in unknown)
    assert sum(1 for e in unknown if e.attributes.get("participants_text")) >= 80  # most name them in free text
    # three MMEIDs are used twice in v7 for different exercises: 3,704 distinct, as the paper counts
    assert len({e.attributes["mme"]["mmeid"] for e in result.engagements}) == 3704
    assert sum(ctx.unresolved.values()) < 0.01 * ctx.mentions
    assert any("’" in (e.attributes["mme"].get("focus") or "") for e in result.engagements)  # no mojibake


@pytest.mark.shared
def test_real_jme(real):
    result, ctx = real["jme"]
    assert result.rows_read == 1790 >= JMESource.min_rows and _identity(result, ctx)
    reports = sum(e.attributes["jme"]["reports"] for e in result.engagements)
    assert reports + len(ctx.rejections) + result.accounted["blank"] == 1790
    assert len(result.engagements) < reports  # some reports collapse
    assert Counter(r.reason for r in ctx.rejections) == {
        "duplicate of row 148": 1, "duplicate of row 477": 1,
        "start year 2015 is outside 1970-2010, the years the source covers": 1}
    batches = {r["batch"]: r["rows"] for r in result.tables["jme_batches"].to_dict("records")}
    assert batches == {"release_2012": 1480, "supplement_2015": 309}
    assert sum(ctx.unresolved.values()) < 0.01 * ctx.mentions


@pytest.mark.shared
def test_real_ru(real):
    result, ctx = real["ru_exercises"]
    # the file has 991 lines of data but only 99 exercises: the rest are padding rows of empty cells
    assert result.accounted == {"kept": 99, "blank": result.rows_read - 99} and not ctx.rejections
    assert len(result.engagements) == 99 >= RussiaExercisesSource.min_rows
    assert all(e.participants[0].id == "RUS" for e in result.engagements)
    assert {e.start_year for e in result.engagements} == set(range(2009, 2019))
