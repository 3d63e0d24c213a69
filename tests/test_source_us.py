"""US defence officials' visits (us_visits) and US military presence (us_presence).

``fixtures/us_visits/visits.xls`` is a small Excel 97 workbook written for these tests (data in
``Sheet1``, as in the real file); ``fixtures/us_presence`` holds hand-written troopdata and
basedata files (basedata in Windows-1252, as the real one).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from defdip.core.errors import SourceFormatError
from defdip.ingest.sources.base import IngestContext
from defdip.ingest.sources.us_presence import BASE_FILE, BASE_LIST_YEAR, TROOP_FILE
from defdip.ingest.sources.us_presence import SOURCES as PRESENCE_SOURCES
from defdip.ingest.sources.us_visits import SOURCES as VISIT_SOURCES
from defdip.ingest.sources.us_visits import VISITS_FILE

FIXTURES = Path(__file__).parent / "fixtures"
VISITS, PRESENCE = VISIT_SOURCES[0], PRESENCE_SOURCES[0]


def load(source, folder: Path):
    ctx = IngestContext(source.id)
    result = source.load(folder, ctx)
    return result, ctx, {e.id: e for e in result.engagements}


@pytest.fixture()
def visits_dir(tmp_path: Path) -> Path:
    out = tmp_path / "us_defense_visits"
    shutil.copytree(FIXTURES / "us_visits", out)
    return out


@pytest.fixture()
def presence_dir(tmp_path: Path) -> Path:
    out = tmp_path / "us_military_presence"
    shutil.copytree(FIXTURES / "us_presence", out)
    return out


def test_source_metadata():
    assert (VISITS.id, VISITS.folder, VISITS.files) == ("us_visits", "us_defense_visits", (VISITS_FILE,))
    assert "unattributed" in VISITS.terms.lower() and "troopdata" in VISITS.terms
    assert VISITS.bibtex.startswith("@misc{flynn_troopdata_visits,")
    assert (PRESENCE.id, PRESENCE.folder, PRESENCE.files) == ("us_presence", "us_military_presence",
                                                              (TROOP_FILE, BASE_FILE))
    assert PRESENCE.citation_keys == ("allen_flynn_machain_2022", "vine_2015_base_nation")
    assert PRESENCE.bibtex.startswith("@article{allen_flynn_machain_2022,") and "@book{vine_2015_base_nation," in (
        PRESENCE.bibtex)


# ----------------------------------------------------------------------------- us_visits

def test_visits_fixture():
    result, ctx, engs = load(VISITS, FIXTURES / "us_visits")
    assert result.rows_read == 10
    assert sorted(engs) == ["us_visits-0002", "us_visits-0003", "us_visits-0004", "us_visits-0007",
                            "us_visits-0008", "us_visits-0010", "us_visits-0011"]
    e = engs["us_visits-0004"]
    assert (e.activity, e.instrument) == ("contacts", "visit")
    assert (e.start_year, e.start_month, e.start_day, e.end_year, e.end_month, e.end_day, e.precision) == (
        2010, 8, 16, 2010, 8, 25, "day")
    assert [(p.id, p.role) for p in e.participants] == [("USA", "sender"), ("JPN", "host")]
    assert e.participants[0].attributes == {"official_title": "PACOM", "official_name": "Robert F. Willard"}
    assert e.title == "PACOM Robert F. Willard visits Japan" and e.provenance[0].record_id == "Sheet1!4"
    # Windows-1252 text in the workbook (BIFF stores it as 8-bit code page text)
    assert engs["us_visits-0011"].attributes["city"] == "Schöneck"


def test_visits_host_quirks():
    _, _, engs = load(VISITS, FIXTURES / "us_visits")
    greenland = engs["us_visits-0002"]  # GNL: a typo for GRL in the real file
    assert greenland.participants[1].id == "greenland" and greenland.attributes["city"] == "Narsaruaq"
    nassau = engs["us_visits-0003"]  # a city in the host column
    assert nassau.participants[1].id == "BHM" and nassau.attributes["city"] == "Nassau"
    assert engs["us_visits-0007"].participants[1].id == "kosovo-unmik"  # a name, before Kosovo's independence


def test_visits_dates_corrected_not_lost():
    _, _, engs = load(VISITS, FIXTURES / "us_visits")
    nassau = engs["us_visits-0003"]  # ends (30 Aug) before it starts (16 Sep)
    assert (nassau.start_month, nassau.start_day, nassau.end_year) == (9, 16, None)
    assert nassau.attributes["date_notes"] == ["end 1994-08-30 is before the start; end date dropped"]
    italy = engs["us_visits-0008"]  # 31 February
    assert (italy.start_month, italy.start_day, italy.precision) == (2, None, "month")
    assert "day 31 does not exist" in italy.attributes["date_notes"][0]


def test_visits_bad_rows_and_unknown_host():
    _, ctx, engs = load(VISITS, FIXTURES / "us_visits")
    by_row = {r.row: r for r in ctx.rejections}
    assert sorted(by_row) == [5, 6, 9]
    assert "duplicate row: identical to row 4" in by_row[5].reason
    assert (by_row[6].field, by_row[6].value) == ("State Visit", "GUM") and "not a foreign host" in by_row[6].reason
    assert (by_row[9].field, by_row[9].value) == ("Start Year", "2209") and "impossible year" in by_row[9].reason
    unknown = engs["us_visits-0010"]  # kept: the United States resolves
    assert [p.id for p in unknown.participants] == ["USA"] and unknown.attributes["unresolved"] == ["XXA"]
    assert dict(ctx.unresolved) == {"iso3:XXA": 1} and ctx.mentions == 8


def test_visits_format_errors(visits_dir):
    path = visits_dir / VISITS_FILE
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 3])  # a truncated download
    with pytest.raises(SourceFormatError, match="visits.xls"):
        load(VISITS, visits_dir)
    path.write_bytes(b"Title,Name\n")  # not a workbook
    with pytest.raises(SourceFormatError, match="visits.xls"):
        load(VISITS, visits_dir)


def test_visits_missing_column(visits_dir, monkeypatch):
    import pandas as pd

    real_read = pd.read_excel

    def without_city(*args, **kwargs):
        return real_read(*args, **kwargs).drop(columns=["City Visited"])

    monkeypatch.setattr(pd, "read_excel", without_city)
    with pytest.raises(SourceFormatError, match=r"visits\.xls: header is missing column\(s\) City Visited"):
        load(VISITS, visits_dir)


# ----------------------------------------------------------------------------- us_presence

def test_presence_spells():
    result, ctx, engs = load(PRESENCE, FIXTURES / "us_presence")
    assert result.rows_read == 26 + 6
    assert sorted(engs) == ["us_presence-bases-NOR", "us_presence-bases-atlantis", "us_presence-bases-greenland",
                            "us_presence-troops-MNG-2019", "us_presence-troops-NOR-1991", "us_presence-troops-NOR-1994",
                            "us_presence-troops-atlantis-2001", "us_presence-troops-greenland-2019"]
    e = engs["us_presence-troops-NOR-1994"]
    assert (e.activity, e.instrument, e.start_year, e.end_year, e.ongoing) == ("contacts", "military_presence",
                                                                              1994, 1996, False)
    assert [(p.id, p.role) for p in e.participants] == [("USA", "sender"), ("NOR", "host")]
    assert e.attributes["troops_by_year"] == {"1994": 50, "1995": 60, "1996": 70}
    assert (e.attributes["peak_troops"], e.attributes["peak_year"], e.attributes["mean_troops"]) == (70, 1996, 60.0)
    # a zero year (1993) splits the spells; the truncated 1997 row ends the second
    assert engs["us_presence-troops-NOR-1991"].attributes["troops_by_year"] == {"1991": 100, "1992": 120}
    # two codes of one state (341 with zeros, troopdata's own 1010) are added up
    mne = engs["us_presence-troops-MNG-2019"]
    assert mne.attributes["troops_by_year"] == {"2019": 9, "2020": 9} and mne.attributes["source_ccodes"] == [341,
                                                                                                             1010]
    assert mne.ongoing  # runs to the last year of the file
    gl = engs["us_presence-troops-greenland-2019"]
    assert gl.participants[1].attributes == {"administered_by": "DEN"}
    # the United States itself and Guam (a US territory) are not abroad
    assert not any("USA-" in k or "guam" in k for k in engs)


def test_presence_bases():
    _, _, engs = load(PRESENCE, FIXTURES / "us_presence")
    e = engs["us_presence-bases-NOR"]
    assert (e.start_year, e.circa, e.end_year) == (BASE_LIST_YEAR, True, None)
    a = e.attributes
    assert (a["n_sites"], a["n_bases"], a["n_lilypads"], a["n_funded_sites"]) == (2, 0, 1, 1)
    assert a["sites"] == [{"name": "Bodø Main Air Station", "lat": 67.269, "lon": 14.365, "type": "lilypad"},
                          {"name": "Værnes Air Station", "lat": 63.458, "lon": 10.924, "type": "funded_site"}]
    assert engs["us_presence-bases-greenland"].attributes["n_bases"] == 1


def test_presence_bad_rows_and_unknowns():
    _, ctx, engs = load(PRESENCE, FIXTURES / "us_presence")
    got = sorted((r.file, r.row, r.field) for r in ctx.rejections)
    assert got == [(BASE_FILE, 4, "countryname+ccode+iso3c+basename+lat+lon+base+lilypad+fundedsite"),
                   (TROOP_FILE, 14, "countryname"), (TROOP_FILE, 21, "countryname"),
                   (TROOP_FILE, 24, "ccode+countryname+year"), (TROOP_FILE, 25, "ccode+countryname+year"),
                   (TROOP_FILE, 26, "year"), (TROOP_FILE, 27, "year")]
    reasons = {(r.file, r.row): r.reason for r in ctx.rejections}
    assert "does not identify" in reasons[(TROOP_FILE, 14)]  # UNKNOWN, one rejection for its spell
    assert "afloat" in reasons[(TROOP_FILE, 21)]
    assert "duplicate row: identical to line 7" in reasons[(TROOP_FILE, 24)]
    assert "conflicting duplicate" in reasons[(TROOP_FILE, 25)]
    assert "impossible year '1850'" in reasons[(TROOP_FILE, 26)]
    assert "row has 4 fields, the header 12" in reasons[(TROOP_FILE, 27)]
    assert dict(ctx.unresolved) == {"Atlantis": 2} and ctx.mentions == 8
    atl = engs["us_presence-troops-atlantis-2001"]
    assert [p.id for p in atl.participants] == ["USA"] and atl.attributes["unresolved"] == ["Atlantis"]


def test_us_troops_table():
    result, _, _ = load(PRESENCE, FIXTURES / "us_presence")
    table = result.tables["us_troops"]
    assert list(table.columns) == ["ccode", "year", "troops", "army", "navy", "air_force", "marine_corps"]
    expected = [(341, 2019), (341, 2020)] + [(385, y) for y in range(1990, 1997)]
    assert list(zip(table["ccode"], table["year"])) == expected
    assert table[(table["ccode"] == 385) & (table["year"] == 1995)]["troops"].item() == 60
    assert table[table["ccode"] == 341]["marine_corps"].tolist() == [6, 6]


def test_presence_header_errors(presence_dir):
    path = presence_dir / TROOP_FILE
    path.write_text(path.read_text(encoding="utf-8").replace("troops,army", "personnel,army", 1), encoding="utf-8")
    with pytest.raises(SourceFormatError, match=r"troopdata\.csv: header is missing column\(s\) troops"):
        load(PRESENCE, presence_dir)
    (presence_dir / BASE_FILE).write_bytes(b"")
    shutil.copy(FIXTURES / "us_presence" / TROOP_FILE, path)
    with pytest.raises(SourceFormatError, match="basedata.csv: the file is empty"):
        load(PRESENCE, presence_dir)


# ----------------------------------------------------------------------------- the real data

@pytest.fixture(scope="module")
def real_visits(shared_data):
    return load(VISITS, shared_data / "us_defense_visits")


@pytest.fixture(scope="module")
def real_presence(shared_data):
    return load(PRESENCE, shared_data / "us_military_presence")


@pytest.mark.shared
def test_real_visits(real_visits):
    result, ctx, engs = real_visits
    assert result.rows_read == 377 and len(engs) == 369
    reasons = sorted(r.reason.split(" is the United States")[0] for r in ctx.rejections)
    assert len(ctx.rejections) == 8 and sum("duplicate row" in r for r in reasons) == 1
    assert sum(r == "Guam" for r in reasons) == 4  # plus the Virgin Islands twice and Wake Island
    assert ctx.mentions == 376 and sum(ctx.unresolved.values()) / ctx.mentions < 0.01
    assert min(e.start_year for e in engs.values()) == 1992 and max(e.start_year for e in engs.values()) == 2012
    assert sum(1 for e in engs.values() if "date_notes" in e.attributes) == 8
    hosts = [e.participants[1].id for e in engs.values() if len(e.participants) == 2]
    assert len(hosts) == 369 and hosts.count("GMY") == 35


@pytest.mark.shared
def test_real_presence(real_presence):
    result, ctx, engs = real_presence
    assert result.rows_read == 14792 + 414
    spells = [e for k, e in engs.items() if k.startswith("us_presence-troops-")]
    bases = [e for k, e in engs.items() if k.startswith("us_presence-bases-")]
    assert len(spells) == 392 and len(bases) == 80 and len(ctx.rejections) == 4
    assert ctx.mentions == 472 and dict(ctx.unresolved) == {"Seychelles Island": 2}
    assert sum(ctx.unresolved.values()) / ctx.mentions < 0.01
    germany = engs["us_presence-troops-GMY-1991"]
    assert (germany.start_year, germany.end_year, germany.ongoing) == (1991, 2023, True)
    assert germany.attributes["n_years"] == 33
    table = result.tables["us_troops"]
    assert len(table) == 11570 and not table.duplicated(["ccode", "year"]).any() and 2 not in set(table["ccode"])
    assert all(p.id != "USA" for e in engs.values() for p in e.participants if p.role == "host")
