"""COW Formal Alliances 4.1: the official by-member layout and the peacesciencer dyad-year summary."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from defdip.core.errors import SourceFormatError
from defdip.ingest.sources.base import IngestContext
from defdip.ingest.sources.cow_alliance import MEMBER_FILE, SOURCES, SUMMARY_FILE

FIXTURES = Path(__file__).parent / "fixtures" / "cow_alliance"
OFFICIAL = FIXTURES / "official"
SUMMARY = FIXTURES / "summary"
TABLE_COLUMNS = ["ccode1", "ccode2", "year", "cow_defense", "cow_neutral", "cow_nonagg", "cow_entente"]


def load(folder: Path):
    ctx = IngestContext("cow_alliance")
    result = SOURCES[0].load(folder, ctx)
    return result, ctx, {e.id: e for e in result.engagements}


@pytest.fixture()
def official(tmp_path: Path) -> Path:
    out = tmp_path / "cow_alliance_v4.1"
    shutil.copytree(OFFICIAL, out)
    return out


@pytest.fixture()
def summary(tmp_path: Path) -> Path:
    out = tmp_path / "cow_alliance_v4.1"
    shutil.copytree(SUMMARY, out)
    return out


def test_source_metadata(tmp_path):
    src = SOURCES[0]
    assert (src.id, src.folder, src.version) == ("cow_alliance", "cow_alliance_v4.1", "4.1")
    assert src.citation_keys == ("gibler_alliances_2009",)
    assert src.bibtex.startswith("@book{gibler_alliances_2009,")
    assert src.downloads[0].url == "https://correlatesofwar.org/wp-content/uploads/version4.1_csv.zip"
    assert MEMBER_FILE in src.downloads[0].members
    assert src.missing_files(OFFICIAL) == [] and src.missing_files(SUMMARY) == []
    assert src.missing_files(tmp_path) == [f"{MEMBER_FILE} (or {SUMMARY_FILE})"]


# ----------------------------------------------------------------------------- official layout

def test_official_engagements():
    result, ctx, engs = load(OFFICIAL)
    assert result.rows_read == 12
    assert sorted(engs) == ["cow_alliance-901", "cow_alliance-902", "cow_alliance-903", "cow_alliance-904"]

    e = engs["cow_alliance-901"]
    assert (e.activity, e.instrument, e.precision) == ("agreements", "alliance_treaty", "day")
    assert (e.start_year, e.start_month, e.start_day, e.end_year, e.end_month, e.end_day) == (1904, 4, 8, 1914, 8, 4)
    assert (e.attributes["unit"], e.attributes["type"], e.attributes["types"]) == ("alliance", "entente", ["entente"])
    assert [(p.id, p.role, p.ccode, p.start_year, p.end_year) for p in e.participants] == [
        ("UKG", "member", 200, 1904, 1914), ("FRN", "member", 220, 1904, 1914)]

    e = engs["cow_alliance-902"]  # open-ended; the UK moves from entente to defence pact
    assert e.ongoing and e.end_year is None and e.attributes["right_censor"] == 1
    assert (e.attributes["type"], e.attributes["types"]) == ("defense", ["defense", "entente"])
    assert [(p.id, p.start_year, p.end_year) for p in e.participants] == [
        ("USA", 1949, None), ("CAN", 1949, None), ("UKG", 1949, None)]
    ukg = e.participants[2]
    assert [(s["start"], s["end"], s["defense"]) for s in ukg.attributes["spells"]] == [
        ("1949-04-04", "1950-12-31", 0), ("1951-01-01", None, 1)]
    assert ukg.attributes["defense"] == 1

    e = engs["cow_alliance-903"]  # -9 = unknown day / month
    assert (e.start_year, e.start_month, e.start_day, e.precision) == (1950, 2, None, "month")
    assert (e.end_year, e.end_month, e.end_day) == (1980, None, None)

    e = engs["cow_alliance-904"]
    assert [p.id for p in e.participants] == ["USA"] and e.attributes["unresolved_members"] == [9999]
    assert ctx.unresolved == {"ccode:9999": 2, "ccode:9998": 1}
    [rej] = ctx.rejections
    assert (rej.file, rej.row, rej.field) == (MEMBER_FILE, 12, "ccode") and "no member resolves" in rej.reason


def test_official_dyad_year_table_from_members():
    result, _, _ = load(OFFICIAL)
    table = result.tables["cow_alliance_dyad_year"]
    assert list(table.columns) == TABLE_COLUMNS
    # 901: 11 years; 902: three dyads 1949-2012; 903: 31 years; 904: 6 years; all directed (x2). 905 quarantined.
    assert len(table) == 2 * (11 + 3 * 64 + 31 + 6)
    both = table.set_index(["ccode1", "ccode2", "year"])
    assert both.loc[(2, 200, 1950)].tolist() == [0, 0, 0, 1]  # the UK's entente years: shared type only
    assert both.loc[(200, 2, 1951)].tolist() == [1, 0, 0, 1]
    assert both.loc[(20, 2, 2012)].tolist() == [1, 0, 0, 1]
    assert (2, 20, 2013) not in both.index
    assert both.loc[(9999, 2, 1995)].tolist() == [0, 0, 1, 0]
    assert not ((table["ccode1"] == 9998) | (table["ccode2"] == 9998)).any()


def test_official_prefers_dyad_yearly_file(official):
    (official / "alliance_v4.1_by_dyad_yearly.csv").write_text(
        "version4id,ccode1,state_name1,ccode2,state_name2,dyad_st_day,dyad_st_month,dyad_st_year,dyad_end_day,"
        "dyad_end_month,dyad_end_year,left_censor,right_censor,defense,neutrality,nonaggression,entente,version,year\n"
        "902,2,USA,20,CAN,4,4,1949,,,,0,1,1,0,0,1,4.1,1949\n"
        "906,2,USA,20,CAN,1,1,1949,,,,0,1,0,0,1,0,4.1,1949\n"
        "902,2,USA,20,CAN,4,4,1949,,,,0,1,1,0,0,1,4.1,0\n"
    )
    result, ctx, _ = load(official)
    table = result.tables["cow_alliance_dyad_year"]
    assert table.values.tolist() == [[2, 20, 1949, 1, 0, 1, 1], [20, 2, 1949, 1, 0, 1, 1]]
    assert any("year-0" in r.reason for r in ctx.rejections)


def test_official_missing_column(official):
    path = official / MEMBER_FILE
    path.write_text(path.read_text().replace("mem_st_year", "member_start_year"))
    with pytest.raises(SourceFormatError, match=rf"{MEMBER_FILE}.*missing column\(s\) mem_st_year"):
        load(official)


def test_official_truncated(official):
    path = official / MEMBER_FILE
    text = path.read_text()
    path.write_text(text[:30])
    with pytest.raises(SourceFormatError, match=rf"{MEMBER_FILE}.*missing column\(s\)"):
        load(official)
    lines = text.splitlines()
    path.write_text("\n".join(lines[:-1] + [lines[-1][:20]]) + "\n")  # 905's second row cut short
    _, ctx, engs = load(official)
    assert len(engs) == 4
    assert (13, "row has 5 fields, the header 23") in [(r.row, r.reason.split(" (")[0]) for r in ctx.rejections]


def test_official_windows_1252(official):
    path = official / MEMBER_FILE
    path.write_bytes(path.read_text().replace("France", "R\u00e9publique fran\u00e7aise").encode("cp1252"))
    _, _, engs = load(official)
    assert [p.id for p in engs["cow_alliance-901"].participants] == ["UKG", "FRN"]


def test_official_duplicate_rows(official):
    path = official / MEMBER_FILE
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + [lines[1]]) + "\n")
    result, ctx, engs = load(official)
    assert len(engs["cow_alliance-901"].participants) == 2
    assert "spells" not in engs["cow_alliance-901"].participants[0].attributes
    assert [(r.row, r.reason.split(":")[0]) for r in ctx.rejections if "duplicate" in r.reason] == [
        (14, "duplicate row")]
    assert len(result.tables["cow_alliance_dyad_year"]) == 2 * (11 + 3 * 64 + 31 + 6)


def test_official_impossible_dates(official):
    path = official / MEMBER_FILE
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace("8,4,1904,4,8,1914,Type", "8,13,1904,31,2,1914,Type")  # all_st month 13, 31 Feb
    path.write_text("\n".join(lines) + "\n")
    _, ctx, engs = load(official)
    e = engs["cow_alliance-901"]
    assert (e.start_year, e.start_month, e.start_day, e.precision) == (1904, None, None, "year")
    assert (e.end_year, e.end_month, e.end_day) == (1914, 2, None)
    assert len(e.attributes["date_notes"]) == 2
    assert len(engs) == 4 and len(ctx.rejections) == 1


# ----------------------------------------------------------------------------- summary layout

def test_summary_engagements_are_dyadic_spells():
    result, ctx, engs = load(SUMMARY)
    assert result.rows_read == 20
    assert sorted(engs) == [
        "cow_alliance-dyad-2-20-defense-1949", "cow_alliance-dyad-2-20-defense-1955",
        "cow_alliance-dyad-2-20-entente-1949", "cow_alliance-dyad-2-20-entente-1955",
        "cow_alliance-dyad-2-20-nonaggression-1949", "cow_alliance-dyad-2-20-nonaggression-1955",
        "cow_alliance-dyad-200-220-entente-2010",
        "cow_alliance-dyad-255-9999-neutrality-1930",
    ]
    e = engs["cow_alliance-dyad-2-20-defense-1949"]
    assert (e.start_year, e.end_year, e.precision, e.ongoing) == (1949, 1952, "year", False)
    assert (e.attributes["unit"], e.attributes["type"], e.attributes["years"]) == ("dyad_spell", "defense", 4)
    assert [(p.id, p.role, p.start_year, p.end_year) for p in e.participants] == [
        ("USA", "member", 1949, 1952), ("CAN", "member", 1949, 1952)]
    assert "not a single treaty" in e.summary
    e = engs["cow_alliance-dyad-200-220-entente-2010"]  # runs to the file's last year
    assert e.ongoing and e.end_year is None and e.attributes["right_censored"]
    e = engs["cow_alliance-dyad-255-9999-neutrality-1930"]
    assert [p.id for p in e.participants] == ["GMY"] and e.attributes["unresolved_members"] == [9999]
    assert ctx.unresolved == {"ccode:9999": 1} and ctx.rejections == []


def test_summary_table_is_the_file():
    result, _, _ = load(SUMMARY)
    table = result.tables["cow_alliance_dyad_year"]
    raw = pd.read_csv(SUMMARY / SUMMARY_FILE).astype(int)
    assert list(table.columns) == TABLE_COLUMNS
    assert table.astype(int).values.tolist() == raw.values.tolist()
    con = duckdb.connect()
    con.register("f", table)
    assert con.execute("SELECT count(*) FROM f WHERE cow_defense = 1").fetchone()[0] == 12


def test_summary_bad_rows(summary):
    path = summary / SUMMARY_FILE
    lines = path.read_text().splitlines()
    lines += [lines[1], "2.0,2.0,1950.0,1.0,0.0,0.0,0.0", "20.0,2.0,0.0,1.0,0.0,0.0,0.0", "200.0,220.0"]
    path.write_text("\n".join(lines) + "\n")
    result, ctx, engs = load(summary)
    assert len(engs) == 8 and len(result.tables["cow_alliance_dyad_year"]) == 20
    reasons = sorted((r.row, r.reason.split(" ")[0]) for r in ctx.rejections)
    assert reasons == [(22, "duplicate"), (23, "a"), (24, "impossible"), (25, "row")]


def test_summary_missing_column_and_encoding(summary):
    path = summary / SUMMARY_FILE
    text = path.read_text()
    path.write_text(text.replace("cow_nonagg", "nonagg"))
    with pytest.raises(SourceFormatError, match=rf"{SUMMARY_FILE}.*missing column\(s\) cow_nonagg"):
        load(summary)
    path.write_bytes(text.encode("cp1252"))
    _, _, engs = load(summary)
    assert len(engs) == 8


# ----------------------------------------------------------------------------- the real data

@pytest.fixture(scope="module")
def real(shared_data):
    return load(shared_data / "cow_alliance_v4.1")


@pytest.mark.shared
def test_real_summary(real, shared_data):
    result, ctx, engs = real
    table = result.tables["cow_alliance_dyad_year"]
    assert list(table.columns) == TABLE_COLUMNS
    assert len(table) == 120_784
    assert ctx.rejections == []
    assert sum(ctx.unresolved.values()) / ctx.mentions < 0.01
    assert all(e.id.startswith("cow_alliance-dyad-") and e.attributes["unit"] == "dyad_spell" for e in engs.values())
    assert len(engs) == 4943
    years = sum(e.attributes["years"] for e in engs.values())
    flags = table[table["ccode1"] < table["ccode2"]][["cow_defense", "cow_neutral", "cow_nonagg", "cow_entente"]]
    assert years == int(flags.sum().sum())  # every allied dyad-year of every type sits in exactly one spell
    nato = engs["cow_alliance-dyad-2-200-defense-1949"]
    assert nato.ongoing and {p.id for p in nato.participants} == {"USA", "UKG"}


def _identity(result, ctx) -> tuple[int, int]:
    quarantined = len({(r.file, str(r.row)) for r in ctx.rejections})
    return result.rows_read, sum(result.accounted.values()) + quarantined


def test_summary_impossible_years_and_short_rows_never_reach_the_data(summary):
    """Year 99999 rows and a truncated row (`92.0,40.0,1952.0`) are quarantined, and the ongoing spells are
    still those running in 2012, not in 99999."""
    path = summary / SUMMARY_FILE
    clean, clean_ctx, clean_engs = load(summary)
    lines = path.read_text().splitlines()
    lines += ["2.0,20.0,99999.0,1.0,0.0,0.0,0.0", "92.0,40.0,1952.0", "2.0,200.0,2031.0,1.0,0.0,0.0,0.0"]
    path.write_text("\n".join(lines) + "\n")
    result, ctx, engs = load(summary)
    reasons = [(r.row, r.reason.split(" ")[0]) for r in ctx.rejections]
    assert reasons == [(23, "row"), (22, "impossible"), (24, "impossible")]
    assert "99999" in ctx.rejections[1].reason and "coverage 1816-2012" in ctx.rejections[1].reason
    assert list(engs) == list(clean_engs)
    assert sum(e.ongoing for e in engs.values()) == sum(e.ongoing for e in clean_engs.values()) > 0
    assert result.tables["cow_alliance_dyad_year"]["year"].max() <= 2012
    assert _identity(result, ctx)[0] == _identity(result, ctx)[1] == len(lines) - 1
    assert _identity(clean, clean_ctx)[0] == _identity(clean, clean_ctx)[1]


def test_official_member_years_bounded_and_not_reversed(official):
    path = official / MEMBER_FILE
    lines = path.read_text().splitlines()
    cells = lines[1].split(",")
    cells[12] = "99999"  # mem_st_year
    lines[1] = ",".join(cells)
    cells = lines[2].split(",")
    cells[12], cells[15] = "1910", "1905"  # mem_st_year after mem_end_year
    lines[2] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    result, ctx, _ = load(official)
    assert [(r.row, r.field) for r in ctx.rejections][:2] == [(2, "mem_st_year"), (3, "mem_end_year")]
    assert "before it starts" in ctx.rejections[1].reason
    assert _identity(result, ctx)[0] == _identity(result, ctx)[1]
