"""Attaché postings from the researcher's CSV template (source ``attache_postings``).

``fixtures/attaches/attache_postings/postings.csv`` holds eight postings in the template's format:
five historical ones (Chadwick in London, Akashi in St Petersburg, Knox in Russia, Schwartzkoppen in
Paris, Yamamoto in Washington) and three illustrative modern ones exercising ISO3 and COW codes,
accredited-from states, an ongoing posting and the US spelling; ``sources.bib`` beside it defines the
one key defdip's bibliography lacks.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from defdip.analysis.validate import validate
from defdip.cli import app as cli
from defdip.core.errors import SourceFormatError
from defdip.ingest.build import build
from defdip.ingest.fetch import fetch_source
from defdip.ingest.sources import all_sources
from defdip.ingest.sources.attaches import COLUMNS, SOURCES, misc_entry, parse_date, reference_key
from defdip.ingest.sources.base import IngestContext

FIXTURE = Path(__file__).parent / "fixtures" / "attaches" / "attache_postings"
SOURCE = SOURCES[0]
HEADER = ",".join(COLUMNS)
GOOD_ROW = "United States,United Kingdom,navy,Lieutenant,naval attaché,,1882,,dorwart_1979,Chadwick"


def load(folder: Path):
    ctx = IngestContext(SOURCE.id)
    result = SOURCE.load(folder, ctx)
    return result, ctx, {e.id: e for e in result.engagements}


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "sources" / "attache_postings"
    shutil.copytree(FIXTURE, out)
    return out


def test_metadata_and_no_download(tmp_path: Path):
    assert all_sources()["attache_postings"] is SOURCE
    assert (SOURCE.folder, SOURCE.downloads, SOURCE.min_rows) == ("attache_postings", (), 1)
    assert "No official download" in SOURCE.terms
    fetched = fetch_source(SOURCE, cache=tmp_path)
    assert fetched.status == "manual" and "*.csv" in fetched.message
    assert SOURCE.missing_files(tmp_path / "attache_postings") and not SOURCE.missing_files(FIXTURE)


def test_fixture_postings():
    result, ctx, engs = load(FIXTURE)
    assert result.rows_read == 8 and result.accounted == {"kept": 8} and not ctx.rejections
    assert sorted(engs) == [f"attache_postings-postings-{n:04d}" for n in range(2, 10)]
    assert {(e.activity, e.instrument) for e in engs.values()} == {("attaches", "posting")}

    akashi = engs["attache_postings-postings-0003"]
    assert [(p.id, p.role) for p in akashi.participants] == [("JPN", "sender"), ("RUS", "receiver")]
    assert (akashi.start_year, akashi.start_month, akashi.end_year, akashi.end_month, akashi.precision) == (
        1902, None, 1904, 2, "year")
    assert akashi.attributes["service"] == "army" and akashi.attributes["post"] == "military_attache"
    assert akashi.attributes["rank"] == "Colonel"
    assert akashi.title == "Japan military attaché in Russia"

    # ISO3 codes (AUS is Australia, not COW's Austria), accredited-from states, an ongoing posting
    png = engs["attache_postings-postings-0007"]
    assert [(p.id, p.role, p.attributes["accreditation"]) for p in png.participants if p.role == "receiver"] == [
        ("PNG", "receiver", "resident"), ("SOL", "receiver", "non-resident"), ("VAN", "receiver", "non-resident")]
    assert png.participants[0].id == "AUL" and png.attributes["post"] == "defence_adviser"
    assert png.ongoing and png.end_year is None and (png.start_month, png.start_day, png.precision) == (1, 12, "day")
    assert png.attributes["accredited_from"] == ["SOL", "VAN"]
    assert "also accredited to Solomon Islands, Vanuatu" in png.summary

    yamamoto = engs["attache_postings-postings-0006"]  # a month start, a year end: compared at the year
    assert (yamamoto.start_year, yamamoto.start_month, yamamoto.end_year, yamamoto.end_month) == (1925, 12, 1928, None)
    assert yamamoto.precision == "month"
    cow = engs["attache_postings-postings-0008"]  # COW codes 2 and 365
    assert [p.id for p in cow.participants] == ["USA", "RUS"] and cow.attributes["post"] == "air_attache"
    assert (cow.end_year, cow.end_month, cow.end_day) == (1995, 7, 31) and cow.precision == "month"
    assert cow.summary.startswith("United States of America posts an air attaché (Colonel) to Russia")
    us_spelling = engs["attache_postings-postings-0009"]  # "Defense Attaché"
    assert us_spelling.attributes["post"] == "defence_attache" and us_spelling.attributes["service"] == "joint"
    # a blank end is not known, not ongoing
    chadwick = engs["attache_postings-postings-0002"]
    assert chadwick.end_year is None and not chadwick.ongoing


def test_citations(folder: Path):
    result, _, engs = load(folder)
    # a key of defdip's bibliography is a provenance citation as well
    assert engs["attache_postings-postings-0002"].citations == ["defdip_attache_postings", "dorwart_1979"]
    # a key from the .bib beside the CSV, and free text, are provenance citations too, with their BibTeX
    # in the references table and in what the load hands the build for the sources row
    schwartzkoppen = engs["attache_postings-postings-0005"]
    assert schwartzkoppen.citations == ["defdip_attache_postings", "schwartzkoppen_1930"]
    assert schwartzkoppen.attributes["citation"] == "schwartzkoppen_1930"
    yamamoto = engs["attache_postings-postings-0006"]
    text = yamamoto.attributes["source_text"]
    assert text.startswith("Agawa, Hiroyuki.") and yamamoto.attributes["citation"] == reference_key(text)
    refs = result.tables["attache_references"].set_index("key")["bibtex"]
    assert len(refs) == 7 and refs["schwartzkoppen_1930"].startswith("@book{schwartzkoppen_1930,")
    assert "howpublished = {Agawa, Hiroyuki." in refs[reference_key(text)]
    assert sorted(yamamoto.citations) == sorted(["defdip_attache_postings", reference_key(text)])
    assert "@book{schwartzkoppen_1930," in result.bibtex and f"{{{reference_key(text)}," in result.bibtex
    assert "@book{dorwart_1979" not in result.bibtex  # defdip's own entry stays in defdip's bibliography
    url_key = engs["attache_postings-postings-0007"].attributes["citation"]
    assert "url          = {https://history.state.gov/}" in refs[url_key]
    assert engs["attache_postings-postings-0008"].attributes["citation"] == url_key  # same text, same key
    assert misc_entry("k", "a {brace} \\x").count("{") == misc_entry("k", "").count("{")


def test_postings_table():
    result, _, _ = load(FIXTURE)
    table = result.tables["attache_postings"]
    assert len(table) == 11  # eight postings, three further accreditations
    png = table[table["engagement_id"] == "attache_postings-postings-0007"]
    assert list(zip(png["receiver_ccode"], png["resident"])) == [(910, True), (940, False), (935, False)]
    assert set(png["sender_ccode"]) == {900} and png["ongoing"].all() and png["end_year"].isna().all()


def test_template_is_a_valid_postings_file(tmp_path: Path):
    """The shipped template loads as it stands: its header is the loader's and its examples are real postings."""
    template = Path(str(resources.files("defdip").joinpath("data", "templates", "attache_postings.csv")))
    shutil.copy(template, tmp_path / "attache_postings.csv")
    result, ctx, engs = load(tmp_path)
    assert template.read_text(encoding="utf-8").splitlines()[0] == HEADER
    assert result.rows_read == 3 and len(engs) == 3 and not ctx.rejections
    assert all(e.attributes["note"].startswith("EXAMPLE row (delete before use)") for e in engs.values())
    yamamoto = engs["attache_postings-attache-postings-0004"]
    assert (yamamoto.start_year, yamamoto.start_month, yamamoto.end_year, yamamoto.precision) == (
        1925, None, 1928, "year")
    assert yamamoto.attributes["citation"].startswith("attache_ref_")


def test_parse_date():
    assert parse_date("1882") == (1882, None, None)
    assert parse_date("1904-02") == (1904, 2, None)
    assert parse_date("2016-02-29") == (2016, 2, 29)
    for bad in ("1902-13", "2015-02-29", "02/1904", "1904-2", "c. 1900", ""):
        assert parse_date(bad) is None, bad


BAD_ROWS = {
    "unknown state": ("United States,Atlantis,navy,,naval attaché,,1950,,dorwart_1979,", "receiving_state",
                      "unknown state"),
    "state not yet existing": ("United States,Slovakia,army,,military attaché,,1950,,dorwart_1979,",
                               "receiving_state", "existed in 1950"),
    "end before start": ("United States,France,army,,military attaché,,1890-05,1889,dorwart_1979,", "end_date",
                         "before it starts"),
    "end before start, same month": ("Japan,France,army,,military attaché,,1890-05-20,1890-05-02,vagts_1967,",
                                     "end_date", "before it starts"),
    "impossible year, early": ("United States,France,army,,military attaché,,1750,,dorwart_1979,", "start_date",
                               "impossible year 1750"),
    "impossible year, future": ("United States,France,army,,military attaché,,2015,2199,dorwart_1979,",
                                "end_date", "impossible year 2199"),
    "not a date": ("United States,France,army,,military attaché,,1889-13,,dorwart_1979,", "start_date",
                   "not a date"),
    "sending is receiving": ("France,FRA,army,,military attaché,,1900,,vagts_1967,", "receiving_state",
                             "is the sending state"),
    "sender in accredited_from": ("France,Italy,army,,military attaché,220,1900,,vagts_1967,", "accredited_from",
                                  "is the sending state"),
    "receiver twice": ("France,Italy,army,,military attaché,Italy,1900,,vagts_1967,", "accredited_from",
                       "already a receiving state"),
    "missing source": ("United States,France,army,,military attaché,,1889,,,", "source", "source is blank"),
    "undefined key": ("United States,France,army,,military attaché,,1889,,smith_1999,", "source",
                      "no .bib beside the CSV"),
    "unknown service": ("United States,France,marines,,military attaché,,1889,,dorwart_1979,", "service",
                        "unknown service"),
    "unknown post": ("United States,France,army,,military envoy,,1889,,dorwart_1979,", "post", "unknown post"),
    "missing start": ("United States,France,army,,military attaché,,,,dorwart_1979,", "start_date",
                      "start_date is blank"),
    "short row": ("United States,France,army,,military attaché,,1889", "start_date", "row has 7 fields"),
    "duplicate": (GOOD_ROW, "sending_state+start_date", "duplicate row: identical to line 2"),
}


@pytest.mark.parametrize("kind", sorted(BAD_ROWS))
def test_bad_row_quarantined(tmp_path: Path, kind: str):
    row, field, reason = BAD_ROWS[kind]
    (tmp_path / "list.csv").write_text(f"{HEADER}\n{GOOD_ROW}\n{row}\n", encoding="utf-8")
    result, ctx, engs = load(tmp_path)
    assert result.rows_read == 2 and list(engs) == ["attache_postings-list-0002"]
    (bad,) = ctx.rejections
    assert (bad.file, bad.row, bad.field) == ("list.csv", 3, field)
    assert reason in bad.reason, bad.reason
    assert result.accounted == {"kept": 1}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
def test_spreadsheet_encodings(tmp_path: Path, encoding: str):
    """Spreadsheets save CSV with a byte-order mark or in Windows-1252: both read, accents intact."""
    (tmp_path / "list.csv").write_bytes(f"{HEADER}\n{GOOD_ROW}é\n".encode(encoding))
    result, ctx, engs = load(tmp_path)
    assert not ctx.rejections and engs["attache_postings-list-0002"].attributes["note"] == "Chadwické"


def test_two_files_with_the_same_ids_refused(tmp_path: Path):
    for name in ("my list.csv", "my-list.csv"):
        (tmp_path / name).write_text(f"{HEADER}\n{GOOD_ROW}\n", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="same record ids"):
        load(tmp_path)


def test_a_key_redefined_beside_the_csv_is_the_researchers(tmp_path: Path):
    (tmp_path / "list.csv").write_text(f"{HEADER}\n{GOOD_ROW}\n", encoding="utf-8")
    (tmp_path / "mine.bib").write_text("@misc{dorwart_1979,\n  title = {My own notes}\n}\n", encoding="utf-8")
    result, _, engs = load(tmp_path)
    assert engs["attache_postings-list-0002"].citations == ["defdip_attache_postings", "dorwart_1979"]
    assert "My own notes" in result.tables["attache_references"].set_index("key").at["dorwart_1979", "bibtex"]
    assert "My own notes" in result.bibtex  # the researcher's entry, not defdip's, goes with the store


def test_unresolved_names_are_counted(tmp_path: Path):
    (tmp_path / "list.csv").write_text(f"{HEADER}\n{BAD_ROWS['unknown state'][0]}\n{GOOD_ROW}\n", encoding="utf-8")
    _, ctx, _ = load(tmp_path)
    assert ctx.unresolved["Atlantis"] == 1


def test_header_only_and_missing_column(tmp_path: Path):
    (tmp_path / "list.csv").write_text(HEADER + "\n", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="header but no data rows"):
        load(tmp_path)
    (tmp_path / "list.csv").write_text(HEADER.replace(",note", "") + f"\n{GOOD_ROW.rsplit(',', 1)[0]}\n",
                                       encoding="utf-8")
    with pytest.raises(SourceFormatError, match="missing column"):
        load(tmp_path)


def test_header_only_file_fails_the_build(tmp_path: Path):
    sources = tmp_path / "sources" / "attache_postings"
    sources.mkdir(parents=True)
    (sources / "list.csv").write_text(HEADER + "\n", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="list.csv"):
        build(tmp_path / "s.duckdb", tmp_path / "sources", only=["attache_postings"])
    assert not (tmp_path / "s.duckdb").exists()


def test_build_and_validate(folder: Path, tmp_path: Path):
    (folder / "more.csv").write_text(f"{HEADER}\n{BAD_ROWS['unknown state'][0]}\n"
                                     f"{BAD_ROWS['end before start'][0]}\n", encoding="utf-8")
    store = tmp_path / "s.duckdb"
    build(store, folder.parent, only=["attache_postings"])
    con = duckdb.connect(str(store), read_only=True)
    try:
        n, = con.execute("SELECT count(*) FROM engagements e JOIN provenance p ON p.engagement_id = e.id "
                         "WHERE p.source = 'attache_postings' AND e.activity = 'attaches'").fetchone()
        receivers, = con.execute("SELECT count(*) FROM participants WHERE role = 'receiver' AND engagement_id "
                                 "LIKE 'attache_postings-%'").fetchone()
        quarantined = con.execute("SELECT file, row, field FROM quarantine WHERE source = 'attache_postings' "
                                  "ORDER BY file, row").fetchall()
        report = con.execute("SELECT rows_read, engagements, accounted FROM ingest_report "
                             "WHERE source = 'attache_postings'").fetchone()
        refs, = con.execute("SELECT count(*) FROM attache_references").fetchone()
        bibtex, = con.execute("SELECT bibtex FROM sources WHERE id = 'attache_postings'").fetchone()
        attrs = json.loads(con.execute("SELECT attributes FROM engagements WHERE id = "
                                       "'attache_postings-postings-0007'").fetchone()[0])
    finally:
        con.close()
    assert (n, receivers, refs) == (8, 11, 7)
    assert bibtex.startswith("@misc{defdip_attache_postings") and "@book{schwartzkoppen_1930," in bibtex
    cited = CliRunner().invoke(cli, ["cite", "schwartzkoppen_1930", "--store", str(store)])
    assert cited.exit_code == 0 and cited.output.startswith("@book{schwartzkoppen_1930,")
    assert CliRunner().invoke(cli, ["cite", "schwartzkoppen_1930"], env={"DEFDIP_STORE": str(tmp_path / "none")}
                              ).exit_code != 0  # the researcher's key is known to the store that holds it
    assert quarantined == [("more.csv", "2", "receiving_state"), ("more.csv", "3", "end_date")]
    assert report[:2] == (10, 8) and json.loads(report[2]) == {"kept": 8}
    assert attrs["service"] == "defence" and attrs["accredited_from"] == ["SOL", "VAN"]
    checks = validate(store)
    (acc,) = [c for c in checks if c.kind == "accounting" and c.source == "attache_postings"]
    assert acc.ok and (acc.expected, acc.actual) == (10, 10)
    own = [c for c in checks if c.source == "attache_postings"]
    assert len(own) == 3 and all(c.ok for c in own)
    assert all(c.ok for c in checks if c.kind == "invariant"), [c for c in checks if not c.ok]


def test_a_missing_list_is_skipped_with_a_note_that_fits_a_manual_source(tmp_path: Path):
    report = build(tmp_path / "s.duckdb", tmp_path / "nothing-here")
    row = next(r for r in report.sources if r.source == "attache_postings")
    assert row.status == "skipped" and "manual source" in row.note and "defdip fetch" not in row.note
