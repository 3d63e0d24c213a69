"""ATOP 5.1: alliances, members, phases and tidy tables from the official CSV layout."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from defdip.analysis.validate import atop_file_parity
from defdip.core.errors import SourceFormatError
from defdip.ingest.sources.atop import ATOP, SOURCES
from defdip.ingest.sources.base import IngestContext, read_csv_checked

FIXTURE = Path(__file__).parent / "fixtures" / "atop"
FILES = ("atop5_1a.csv", "atop5_1aph.csv", "atop5_1m.csv", "atop5_1sy.csv", "atopinst5_1.csv")


def load(folder: Path):
    ctx = IngestContext("atop")
    result = SOURCES[0].load(folder, ctx)
    return result, ctx, {e.id: e for e in result.engagements}


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """A writable copy of the fixture folder, for the bad-input variants."""
    out = tmp_path / "atop_v5.1"
    shutil.copytree(FIXTURE, out)
    return out


def edit_row(path: Path, line: int, **changes) -> None:
    """Change named cells of one data line (1 = first data row) of a CSV fixture."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[line].split(",")
    for key, value in changes.items():
        cells[header.index(key)] = str(value)
    lines[line] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ----------------------------------------------------------------------------- metadata

def test_source_metadata():
    src = SOURCES[0]
    assert (src.id, src.folder, src.version, src.kind) == ("atop", "atop_v5.1", "5.1", "engagements")
    assert set(src.files) == set(FILES)
    assert src.citation_keys == ("leeds_atop_2002",)
    assert src.bibtex.startswith("@article{leeds_atop_2002,")
    assert src.downloads[0].url.startswith("http://www.atopdata.org/")
    assert set(src.downloads[0].members) == set(FILES)
    assert src.missing_files(FIXTURE) == []


# ----------------------------------------------------------------------------- the fixture, exactly

def test_fixture_engagements():
    result, ctx, engs = load(FIXTURE)
    assert sorted(engs) == ["atop-9001", "atop-9002", "atop-9003", "atop-9004"]
    assert result.rows_read == 5 + 13 + 6 + 4 + 6  # every row of the five files
    assert result.rows_read == sum(result.accounted.values()) + len({(r.file, r.row) for r in ctx.rejections})

    e = engs["atop-9001"]
    assert (e.activity, e.instrument) == ("agreements", "alliance_treaty")
    assert (e.start_year, e.start_month, e.start_day, e.precision) == (1950, 3, 15, "day")
    assert e.end_year is None and e.ongoing is True
    assert e.sub_activities == ["education_training", "interoperability"]  # milcon 3 / intcom 1; milaid 3
    assert [(p.id, p.ccode, p.role, p.start_year, p.end_year) for p in e.participants] == [
        ("USA", 2, "member", 1950, None), ("CAN", 20, "member", 1950, None)]
    assert e.participants[0].attributes["obligations"] == ["defense", "consul"]
    assert e.attributes["obligations"] == ["defense", "consul"]
    assert (e.attributes["milcon"], e.attributes["milaid"], e.attributes["intcom"], e.attributes["base"],
            e.attributes["organ1"], e.attributes["bilat"]) == (3, 3, 1, 3, 2, 1)
    assert (e.attributes["milinst"], e.attributes["formal"]) == (2, 2)
    assert e.provenance[0].record_id == "9001" and e.provenance[0].citations == ["leeds_atop_2002"]

    e = engs["atop-9002"]  # two phases; Spain leaves after phase 1; unknown begin day
    assert (e.start_year, e.start_month, e.start_day, e.precision) == (1925, 10, None, "month")
    assert (e.end_year, e.end_month, e.end_day, e.ongoing) == (1936, 3, 7, False)
    assert e.sub_activities == ["education_training"]  # milaid 4: grants/loans and training; milcon 1
    assert [(p.id, p.start_year, p.end_year) for p in e.participants] == [
        ("UKG", 1925, 1936), ("FRN", 1925, 1936), ("SPN", 1925, 1930)]
    ukg, frn, spn = e.participants
    assert [s["phase"] for s in ukg.attributes["spells"]] == [1, 2]
    assert ukg.attributes["spells"][0]["entry"] == "1925-10"
    assert frn.attributes["spells"][1]["nonagg"] == 0 and frn.attributes["nonagg"] == 1
    assert "spells" not in spn.attributes
    assert [(p["atopidphase"], p["start"], p["end"], p["milinst"], p["formal"]) for p in e.attributes["phases"]] == [
        ("9002.1", "1925-10", "1930-05-31", 0, 1), ("9002.2", "1930-05-31", "1936-03-07", 1, 1)]

    e = engs["atop-9003"]  # 1815: COW's state list starts in 1816
    assert [p.id for p in e.participants] == ["UKG", "AUH"]
    assert all(p.attributes["resolved_as_of"] == 1816 for p in e.participants)
    assert e.sub_activities == []

    e = engs["atop-9004"]  # one member is not a COW state
    assert [p.id for p in e.participants] == ["UKG"]
    assert e.attributes["unresolved_members"] == [8152]
    assert e.participants[0].attributes["asymm"] == 1 and e.participants[0].attributes["obvary"] == 1

    assert ctx.unresolved == {"ccode:8152": 1, "ccode:9999": 1, "ccode:9998": 1}
    assert ctx.mentions == 11
    [rej] = ctx.rejections  # 9005: no member resolves
    assert (rej.file, rej.row, rej.field) == ("atop5_1a.csv", 6, "member")
    assert "no member resolves" in rej.reason


def test_fixture_tables():
    result, _, _ = load(FIXTURE)
    tables = result.tables
    assert set(tables) == {"atop_alliance", "atop_phase", "atop_member", "atop_sy", "atop_inst", "atop_exception",
                           "atop_ddyr"}
    assert len(tables["atop_ddyr"]) == 0  # no atop5_1ddyr.csv in the folder
    assert tables["atop_alliance"].shape == (4, 134)  # 9005: no member resolves, quarantined
    assert tables["atop_member"].shape == (13, 105)
    assert tables["atop_sy"].shape == (4, 70)
    for name, frame in tables.items():
        assert all(c == c.lower() for c in frame.columns), name
    member = tables["atop_member"]
    assert str(member["member"].dtype) in ("int64", "Int64")
    assert member["dayent"].isna().sum() == 3  # blanks stay missing, not 0
    assert list(tables["atop_phase"]["atopidphase"]) == ["9001", "9002.1", "9002.2", "9003", "9004", "9005"]
    inst = tables["atop_inst"]
    assert list(inst["atopidphase"]) == ["9001", "9002.1", "9002.2", "9003", "9004", "9005"]  # 9002.1001 repaired
    assert inst["version"].iloc[0] == pytest.approx(5.1)
    assert int(tables["atop_sy"]["atopid1"].iloc[0]) == 9001
    con = duckdb.connect()
    for name, frame in tables.items():  # the store can hold every table as it is
        con.register("f", frame)
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM f')
        con.unregister("f")
    assert con.execute("SELECT count(*) FROM atop_member WHERE member = 200").fetchone()[0] == 4


# ----------------------------------------------------------------------------- bad input

def test_missing_column_names_file_and_column(folder):
    text = (folder / "atop5_1m.csv").read_text()
    (folder / "atop5_1m.csv").write_text(text.replace("yrent,", "year_entered,", 1))
    with pytest.raises(SourceFormatError, match=r"atop5_1m\.csv.*missing column\(s\) yrent"):
        load(folder)


def test_truncated_header_and_empty_file(folder):
    path = folder / "atop5_1a.csv"
    path.write_text(path.read_text()[:40])  # cut inside the header line
    with pytest.raises(SourceFormatError, match=r"atop5_1a\.csv.*missing column\(s\) .*endyr"):
        load(folder)
    path.write_text("")
    with pytest.raises(SourceFormatError, match=r"atop5_1a\.csv.*empty"):
        load(folder)


def test_truncated_last_row_is_quarantined(folder):
    path = folder / "atop5_1a.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-2] + [lines[-2][:60]]) + "\n")  # 9004 cut short, 9005 gone
    result, ctx, engs = load(folder)
    assert sorted(engs) == ["atop-9001", "atop-9002", "atop-9003"]
    reasons = {(r.file, r.row): r.reason for r in ctx.rejections}
    assert "truncated" in reasons[("atop5_1a.csv", 5)]
    assert any(r.file == "atop5_1m.csv" and "lacks" in r.reason for r in ctx.rejections)  # orphaned members


def test_duplicate_rows_are_quarantined_once(folder):
    for name in ("atop5_1a.csv", "atop5_1m.csv"):
        path = folder / name
        lines = path.read_text().splitlines()
        path.write_text("\n".join(lines + [lines[1]]) + "\n")
    result, ctx, engs = load(folder)
    assert len(engs) == 4 and len(engs["atop-9001"].participants) == 2
    dups = [r for r in ctx.rejections if "duplicate" in r.reason]
    assert [(r.file, r.row) for r in dups] == [("atop5_1a.csv", 7), ("atop5_1m.csv", 15)]
    assert len(result.tables["atop_alliance"]) == 4 and len(result.tables["atop_member"]) == 13  # 9005 quarantined


def test_conflicting_duplicate_id(folder):
    path = folder / "atop5_1a.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + [lines[1].replace(",1950,3,15,", ",1951,3,15,", 1)]) + "\n")
    _, ctx, engs = load(folder)
    assert engs["atop-9001"].start_year == 1950  # the first kept
    assert any("conflicting duplicate" in r.reason and r.value == "9001" for r in ctx.rejections)


def test_impossible_dates_lower_precision(folder):
    edit_row(folder / "atop5_1a.csv", 1, begmo=13)  # 9001: month 13
    edit_row(folder / "atop5_1a.csv", 2, endmo=2, endday=31)  # 9002: 31 February 1936
    edit_row(folder / "atop5_1m.csv", 1, dayent=30, moent=2)  # USA enters 30 February 1950
    _, ctx, engs = load(folder)
    e = engs["atop-9001"]
    assert (e.start_year, e.start_month, e.start_day, e.precision) == (1950, None, None, "year")
    assert "month 13" in e.attributes["date_notes"][0]
    assert "day 30" in e.participants[0].attributes["date_notes"][0]
    e = engs["atop-9002"]
    assert (e.end_year, e.end_month, e.end_day) == (1936, 2, None)
    assert "day 31" in e.attributes["date_notes"][0]
    assert len(engs) == 4 and len(ctx.rejections) == 1  # no good row lost


def test_missing_start_year_is_quarantined(folder):
    edit_row(folder / "atop5_1a.csv", 3, begyr="")
    _, ctx, engs = load(folder)
    assert "atop-9003" not in engs
    assert any(r.field == "begyr" and r.row == 4 for r in ctx.rejections)


def test_windows_1252_file_reads(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("atopid,note\n1005,Conf\xe9d\xe9ration\n".encode("cp1252"))
    frame = read_csv_checked(path, ("atopid", "note"))
    assert frame["note"].iloc[0] == "Confédération"


def test_windows_1252_fixture_loads(folder):
    """The ATOP files are numeric; re-encoded as cp1252 they load the same."""
    for name in FILES:
        path = folder / name
        path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    _, _, engs = load(folder)
    assert len(engs) == 4


def test_build_skips_incomplete_folder(folder):
    (folder / "atopinst5_1.csv").unlink()
    assert ATOP().missing_files(folder) == ["atopinst5_1.csv"]


# ----------------------------------------------------------------------------- the real data

@pytest.fixture(scope="module")
def real(shared_data):
    return load(shared_data / "atop_v5.1")


@pytest.mark.shared
def test_real_atop_counts(real, shared_data):
    result, ctx, engs = real
    assert len(engs) == 789
    assert all(e.instrument == "alliance_treaty" and e.activity == "agreements" for e in engs.values())
    assert ctx.rejections == []
    assert sum(ctx.unresolved.values()) / ctx.mentions < 0.01
    assert {k: v for k, v in ctx.unresolved.items()} == {"ccode:8152": 1}
    assert sum(len(e.participants) for e in engs.values()) == ctx.mentions - 1
    shapes = {k: v.shape for k, v in result.tables.items()}
    assert shapes == {"atop_alliance": (789, 134), "atop_phase": (849, 134), "atop_member": (2510, 105),
                      "atop_sy": (11923, 70), "atop_inst": (849, 5), "atop_exception": (59, 9),
                      "atop_ddyr": (0, 8)}
    assert set(result.tables["atop_inst"]["atopidphase"]) == set(result.tables["atop_phase"]["atopidphase"])
    ongoing = sum(e.ongoing for e in engs.values())
    assert ongoing == int((pd.read_csv(shared_data / "atop_v5.1" / "atop5_1a.csv")["ineffect"] == 1).sum())


@pytest.mark.shared
def test_real_atop_known_alliance(real):
    _, _, engs = real
    nato = next(e for e in engs.values() if e.start_year == 1949 and e.start_month == 4 and e.start_day == 4
                and len(e.participants) >= 12)
    ids = {p.id for p in nato.participants}
    assert {"USA", "CAN", "UKG", "FRN"} <= ids
    assert nato.ongoing and "defense" in nato.attributes["obligations"]
    assert nato.attributes["organ1"] == 3 and nato.attributes["base"] == 3
    assert nato.sub_activities == []  # ATOP codes the 1949 text with milcon 0, intcom 0, milaid 0
    for e in engs.values():  # the documented sub-activity rule, everywhere
        a = e.attributes
        assert ("interoperability" in e.sub_activities) == (a["intcom"] == 1 or (a["milcon"] or 0) >= 2)
        assert ("education_training" in e.sub_activities) == (a["milaid"] in (3, 4))
    subs = [s for e in engs.values() for s in e.sub_activities]
    assert subs.count("interoperability") > 50 and subs.count("education_training") > 30


# ----------------------------------------------------------------------------- directed dyad-years as ATOP codes them

def directed(folder: Path, extra_exceptions: list[tuple] = ()) -> pd.DataFrame:
    """The directed ATOP tie table the panels read, computed on the tables the loader gives."""
    from defdip.analysis.panels import ATOP_TIE_SQL

    result, _, _ = load(folder)
    con = duckdb.connect()
    for name in ("atop_member", "atop_exception", "atop_ddyr"):
        con.register("f", result.tables[name])
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM f")
        con.unregister("f")
    for row in extra_exceptions:
        con.execute("INSERT INTO atop_exception VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", list(row))
    return con.execute(ATOP_TIE_SQL).df().set_index(["c1", "c2", "year"]).sort_index()


def test_allied_only_when_spells_overlap_by_a_day(folder):
    edit_row(folder / "atop5_1m.csv", 1, yrexit=1960, moexit=10, dayexit=3, ineffect=0)  # the US leaves ...
    edit_row(folder / "atop5_1m.csv", 2, yrent=1960, moent=10, dayent=3)  # ... the day Canada enters
    ties = directed(folder)
    assert not ties.index.isin([(2, 20, y) for y in range(1950, 2019)]).any()
    edit_row(folder / "atop5_1m.csv", 2, dayent=2)  # one day together
    ties = directed(folder)
    assert list(ties.loc[(2, 20)].index) == [1960]


def test_obligations_from_the_overlapping_phase_at_year_end(folder):
    ties = directed(folder)
    # 9002: phase 1 (UK, France, Italy) ends 31 May 1930; phase 2 (UK, France): France drops non-aggression
    assert ties.loc[(220, 200, 1929), "atop_nonagg"] == 1
    assert ties.loc[(220, 200, 1930), "atop_nonagg"] == 0  # the phase in force at the end of 1930
    assert ties.loc[(200, 220, 1930), "atop_nonagg"] == 1
    assert (200, 230, 1930) in ties.index and (200, 230, 1931) not in ties.index  # Italy left with phase 1
    assert ties.loc[(200, 220, 1936), "atop_any"] == 1 and (200, 220, 1937) not in ties.index


def test_exceptions_override_the_member_file(folder):
    ties = directed(folder, [(9002, 200, 230, None, None, None, 0, None, "test")])
    assert ties.loc[(200, 230, 1927), "atop_nonagg"] == 0 and ties.loc[(230, 200, 1927), "atop_nonagg"] == 1
    assert ties.loc[(200, 220, 1927), "atop_nonagg"] == 1  # only the listed pair changes


def test_exceptions_table_is_cited():
    from defdip.ingest.sources.atop import exceptions

    table = exceptions()
    assert len(table) > 0 and table["citation"].str.len().min() > 20
    assert not table.duplicated(["atopid", "member", "partner"]).any()
    assert (table["member"] != table["partner"]).all()
    locarno = table[table["atopid"] == 2130].set_index(["member", "partner"])
    assert locarno.loc[(200, 325), "defense"] == 0 and locarno.loc[(211, 220), "nonagg"] == 0


# ----------------------------------------------------------------------------- impossible years

def test_impossible_years_quarantined(folder):
    edit_row(folder / "atop5_1m.csv", 1, yrexit=99999, ineffect=0)
    edit_row(folder / "atop5_1m.csv", 3, yrexit=1920, moexit=1, dayexit=1)  # exit before the 1925 entry
    edit_row(folder / "atop5_1a.csv", 3, begyr=99999)
    edit_row(folder / "atop5_1sy.csv", 1, year=99999)
    result, ctx, _ = load(folder)
    got = {(r.file, r.row, r.field) for r in ctx.rejections}
    assert {("atop5_1m.csv", 2, "yrexit"), ("atop5_1m.csv", 4, "yrexit"), ("atop5_1a.csv", 4, "begyr"),
            ("atop5_1sy.csv", 2, "year")} <= got
    assert any("before its entry" in r.reason for r in ctx.rejections)
    for table, cols in (("atop_member", ["yrent", "yrexit"]), ("atop_alliance", ["begyr", "endyr"]),
                        ("atop_sy", ["year"])):
        assert result.tables[table][cols].max().max() <= 2018
    assert result.rows_read == sum(result.accounted.values()) + len({(r.file, r.row) for r in ctx.rejections})


# ----------------------------------------------------------------------------- checks

def store_of(result) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE provenance AS SELECT 'atop' AS source, unnest(?) AS engagement_id",
                [[e.id for e in result.engagements]])
    for name, table in result.tables.items():
        con.register("f", table)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM f")
        con.unregister("f")
    return con


def test_checks_alliances_and_ddyr_parity(folder):
    result, _, _ = load(folder)
    con = store_of(result)
    count, asymmetric = SOURCES[0].checks(con)
    assert (count.expected, count.actual, count.ok) == (789, 4, False)
    # 9004 is coded asymm/obvary and has no exceptions row: the line says so and where ATOP's own coding goes
    assert (asymmetric.expected, asymmetric.actual) == (1, 0) and "9004" in asymmetric.note
    assert atop_file_parity(con) is None  # no ddyr file in the folder
    ties = directed(folder).reset_index()
    ddyr = ties.rename(columns={"c1": "stateA", "c2": "stateB", "atop_defense": "defense",
                                "atop_offense": "offense", "atop_neutral": "neutral", "atop_nonagg": "nonagg",
                                "atop_consul": "consul", "atop_any": "atopally"})
    ddyr.loc[0, "defense"] = 1 - ddyr.loc[0, "defense"]  # one dyad-year coded differently by ATOP
    extra = pd.DataFrame([{"stateA": 2, "stateB": 200, "year": 1990, "atopally": 0, "defense": 0, "offense": 0,
                           "neutral": 0, "nonagg": 0, "consul": 0}])  # an unallied row: not counted
    pd.concat([ddyr, extra]).to_csv(folder / "atop5_1ddyr.csv", index=False)
    result, ctx, _ = load(folder)
    assert len(result.tables["atop_ddyr"]) == len(ties)
    assert result.rows_read == sum(result.accounted.values()) + len({(r.file, r.row) for r in ctx.rejections})
    con = store_of(result)
    [count] = SOURCES[0].checks(con)  # with ATOP's own directed file, no exceptions are needed
    parity = atop_file_parity(con)
    assert parity is not None and parity.source == "atop"
    assert (parity.expected, parity.actual, parity.ok) == (0, 1, False)
    assert f"{len(ties)} allied" in parity.note
    official = directed(folder)  # with the file, the layers read ATOP's own coding
    flipped = ddyr.set_index(["stateA", "stateB", "year"]).index[0]
    assert official.loc[flipped, "atop_defense"] == 1 - ties.set_index(["c1", "c2", "year"]).loc[flipped,
                                                                                                  "atop_defense"]
    assert len(official) == len(ties)


@pytest.mark.shared
@pytest.mark.shared
def test_real_exceptions_change_only_the_pairs_their_treaties_name(shared_data):
    ties = directed(shared_data / "atop_v5.1")
    # London 1840: the four powers defend the Sultan, not one another; their offensive undertaking stays
    assert ties.loc[(200, 255, 1840), "atop_defense"] == 0 and ties.loc[(200, 255, 1840), "atop_offense"] == 1
    assert ties.loc[(200, 640, 1840), "atop_defense"] == 1
    # London 1847: Britain, France and Spain intervene for Portugal
    assert ties.loc[(220, 230, 1847), "atop_defense"] == 0 and ties.loc[(220, 235, 1847), "atop_defense"] == 1
    # Triple Alliance from 1887: Germany's offensive undertaking is owed to Italy, not to Austria-Hungary
    assert ties.loc[(255, 300, 1890), "atop_offense"] == 0 and ties.loc[(255, 325, 1890), "atop_offense"] == 1
    assert ties.loc[(255, 300, 1890), "atop_defense"] == 1  # the defence obligation to Austria is untouched
    # Rio de Janeiro 1859: Brazil and Argentina defend Uruguay, not each other
    assert ties.loc[(140, 160, 1860), "atop_defense"] == 0 and ties.loc[(140, 165, 1860), "atop_defense"] == 1
    # Quadruple Alliance 1834: Spain owes Portugal, nobody owes France
    assert ties.loc[(230, 235, 1835), "atop_defense"] == 1 and ties.loc[(200, 220, 1835), "atop_defense"] == 0
    # Sevres 1956: Britain's neutrality (towards Jordan's war on Israel) is owed to Israel
    assert ties.loc[(200, 666, 1956), "atop_neutral"] == 1 and ties.loc[(200, 220, 1956), "atop_neutral"] == 0
    # Cyprus 1960: the guarantors owe Cyprus; Greece and Turkey stay allied through NATO
    assert ties.loc[(350, 352, 1961), "atop_defense"] == 1 and ties.loc[(350, 640, 1961), "atop_defense"] == 1


@pytest.mark.shared
def test_real_asymmetric_alliances_are_reported_by_validate(real):
    from defdip.ingest.sources.atop import ATOP

    result, _, _ = real
    con = duckdb.connect()
    for name in ("atop_member", "atop_exception", "atop_ddyr"):
        con.register("f", result.tables[name])
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM f")
        con.unregister("f")
    con.execute("CREATE TABLE provenance (engagement_id VARCHAR, source VARCHAR)")
    [line] = [c for c in ATOP().checks(con) if "asymmetric" in c.name]
    assert (line.expected, line.actual) == (17, 14)
    assert "1227" in line.note and "1100" not in line.note and "2130" not in line.note
    assert "atop5_1ddyr.csv" in line.note


@pytest.mark.shared
def test_real_exceptions_name_members_of_their_alliance(real):
    result, _, _ = real
    members = result.tables["atop_member"]
    listed = set(zip(members["atopid"], members["member"]))
    table = result.tables["atop_exception"]
    assert all((a, m) in listed and (a, p) in listed for a, m, p in zip(table["atopid"], table["member"],
                                                                          table["partner"]))
    flagged = set(members.loc[members["asymm"] == 1, "atopid"])
    assert set(table["atopid"]) <= flagged  # only alliances ATOP codes as asymmetric
