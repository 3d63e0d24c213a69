"""DCAD 1.0: one engagement per defence cooperation agreement, and the dcad_agreement table."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from defdip.core.errors import SourceFormatError
from defdip.ingest.sources.base import IngestContext
from defdip.ingest.sources.dcad import SOURCES

FIXTURE = Path(__file__).parent / "fixtures" / "dcad"
MAIN = "DCAD-v1.0-main.csv"


def load(folder: Path):
    ctx = IngestContext("dcad")
    result = SOURCES[0].load(folder, ctx)
    return result, ctx, {e.id: e for e in result.engagements}


@pytest.fixture()
def path(tmp_path: Path) -> Path:
    out = tmp_path / "dcad_v1.0"
    shutil.copytree(FIXTURE, out)
    return out / MAIN


def edit_row(path: Path, line: int, **changes) -> None:
    import csv
    import io

    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    for key, value in changes.items():
        rows[line][rows[0].index(key)] = str(value)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def test_source_metadata():
    src = SOURCES[0]
    assert (src.id, src.folder, src.version, src.files) == ("dcad", "dcad_v1.0", "1.0", (MAIN,))
    assert src.citation_keys == ("kinne_dcad_2020",) and src.bibtex.startswith("@article{kinne_dcad_2020,")
    assert src.downloads[0].url == "https://correlatesofwar.org/wp-content/uploads/kinne_dca.zip"
    assert MAIN in src.downloads[0].members


def test_fixture_engagements():
    result, ctx, engs = load(FIXTURE)
    assert result.rows_read == 6
    assert sorted(engs) == ["dcad-DCADv1.0-0001", "dcad-DCADv1.0-0002", "dcad-DCADv1.0-0003",
                            "dcad-DCADv1.0-0004", "dcad-DCADv1.0-0006"]
    e = engs["dcad-DCADv1.0-0001"]
    assert (e.activity, e.instrument, e.sub_activities) == ("agreements", "defence_cooperation_agreement", [])
    # in force when DCAD ends: right-censored (ongoing, no end year), the estimate kept in the attributes
    assert (e.start_year, e.start_month, e.start_day, e.precision, e.end_year, e.ongoing) == (
        1984, 4, 1, "day", None, True)
    assert e.attributes["end_year_estimate"] == 2010
    assert [(p.id, p.role, p.ccode) for p in e.participants] == [("USA", "signatory", 2), ("CAN", "signatory", 20)]
    a = e.attributes
    assert (a["type"], a["categories"], a["entry_into_force"], a["in_force_2010"], a["terminated"],
            a["asymmetry"], a["source"]) == ("sector", ["procurement"], "1984-04-01", True, 0, 1, "US DOD")
    assert e.provenance[0].record_id == "DCADv1.0-0001"

    e = engs["dcad-DCADv1.0-0002"]  # general DCA with training: terminated 2003
    assert e.sub_activities == ["education_training"]
    assert (e.end_year, e.attributes["in_force_2010"], e.attributes["terminated"]) == (2003, False, 1)
    assert (e.attributes["span"], e.attributes["renew_type"], e.attributes["renew_years"]) == (5, -66, None)
    assert e.attributes["unts"] == 123456 and e.attributes["entry_into_force"] is None

    e = engs["dcad-DCADv1.0-0003"]  # no month/day; Czech Republic code for a 1991 agreement
    assert (e.start_year, e.start_month, e.precision) == (1991, None, "year")
    assert [(p.id, p.attributes.get("resolved_as_of")) for p in e.participants] == [("HUN", None), ("CZR", 1993)]
    assert e.attributes["terminated"] is None and e.attributes["terminated_code"] == -88

    e = engs["dcad-DCADv1.0-0004"]  # day -99 = missing; lowercase category; unknown partner
    assert (e.start_month, e.start_day, e.precision) == (6, None, "month")
    assert e.attributes["categories"] == ["research", "trex"] and e.sub_activities == ["education_training"]
    assert [p.id for p in e.participants] == ["USA"] and e.attributes["unresolved_signatories"] == [9999]

    e = engs["dcad-DCADv1.0-0006"]  # ends in its signature year
    assert (e.start_year, e.start_month, e.start_day, e.end_year, e.end_month) == (2005, 6, 5, 2005, None)

    assert ctx.unresolved == {"ccode:9999": 2, "ccode:9998": 1} and ctx.mentions == 12
    [rej] = ctx.rejections
    assert (rej.file, rej.row, rej.field) == (MAIN, 6, "ccode1+ccode2") and "neither signatory" in rej.reason


def test_fixture_table():
    result, _, _ = load(FIXTURE)
    table = result.tables["dcad_agreement"]
    assert list(table.columns) == [
        "dcaid", "ccode1", "ccode2", "sign_year", "sign_month", "sign_day", "eif_year", "end_year_estimate",
        "terminated", "in_force_2010", "type", "general", "categories", "cat_dca", "cat_dic", "cat_trex",
        "cat_procurement", "cat_research", "cat_commission", "asymmetry"]
    assert list(table["dcaid"]) == ["DCADv1.0-0001", "DCADv1.0-0002", "DCADv1.0-0003", "DCADv1.0-0004",
                                    "DCADv1.0-0006"]
    row = table.iloc[1].to_dict()
    assert (row["ccode1"], row["ccode2"], row["sign_year"], row["end_year_estimate"], row["terminated"],
            row["general"], row["categories"], row["cat_dca"], row["cat_trex"], row["in_force_2010"]) == (
        200, 640, 1997, 2003, 1, 1, "dca;trex", 1, 1, False)
    assert pd.isna(table["terminated"].iloc[2])  # -88 -> missing
    con = duckdb.connect()
    con.register("f", table)
    assert con.execute("SELECT sum(general), sum(in_force_2010::INT) FROM f").fetchone() == (2, 3)


# ----------------------------------------------------------------------------- bad input

def test_missing_column(path):
    path.write_text(path.read_text().replace(",DCAid", ",agreement_id"))
    with pytest.raises(SourceFormatError, match=rf"{MAIN}.*missing column\(s\) dcaid"):
        load(path.parent)


def test_truncated_file(path):
    text = path.read_text()
    path.write_text(text[:100])  # inside the header
    with pytest.raises(SourceFormatError, match=rf"{MAIN}.*missing column\(s\)"):
        load(path.parent)
    lines = text.splitlines()
    path.write_text("\n".join(lines[:-1] + [lines[-1][:25]]) + "\n")  # the last row cut short
    _, ctx, engs = load(path.parent)
    assert len(engs) == 4 and "dcad-DCADv1.0-0006" not in engs
    assert any(r.row == 7 and "truncated" in r.reason for r in ctx.rejections)


def test_windows_1252(path):
    edit_row(path, 1, source="Minist\u00e8re de la D\u00e9fense")
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    _, _, engs = load(path.parent)
    assert engs["dcad-DCADv1.0-0001"].attributes["source"] == "Ministère de la Défense"


def test_duplicate_rows(path):
    lines = path.read_text().splitlines()
    edited = lines[2].replace(",1997,", ",1998,", 1)
    path.write_text("\n".join(lines + [lines[1], edited]) + "\n")
    result, ctx, engs = load(path.parent)
    assert len(engs) == 5 and engs["dcad-DCADv1.0-0002"].start_year == 1997
    dups = [(r.row, r.reason.split(":")[0]) for r in ctx.rejections if "duplicate" in r.reason]
    assert dups == [(8, "duplicate row"), (9, "conflicting duplicate")]
    assert len(result.tables["dcad_agreement"]) == 5


def test_impossible_dates(path):
    edit_row(path, 1, signMonth=13)
    edit_row(path, 2, signMonth=2, signDay=30)
    _, ctx, engs = load(path.parent)
    e = engs["dcad-DCADv1.0-0001"]
    assert (e.start_year, e.start_month, e.precision) == (1984, None, "year")
    assert "month 13" in e.attributes["date_notes"][0]
    e = engs["dcad-DCADv1.0-0002"]
    assert (e.start_month, e.start_day, e.precision) == (2, None, "month")
    assert len(engs) == 5 and len(ctx.rejections) == 1


def test_missing_sign_year(path):
    edit_row(path, 1, signYear=-99)
    _, ctx, engs = load(path.parent)
    assert "dcad-DCADv1.0-0001" not in engs
    assert any(r.field == "signYear" and r.row == 2 for r in ctx.rejections)


# ----------------------------------------------------------------------------- the real data

@pytest.fixture(scope="module")
def real(shared_data):
    return load(shared_data / "dcad_v1.0")


@pytest.mark.shared
def test_real_dcad(real):
    result, ctx, engs = real
    assert len(engs) == 1869 and [r.row for r in ctx.rejections] == [1593, 1811]  # the two self-dyads
    assert result.rows_read == 1871 == sum(result.accounted.values()) + 2
    assert sum(ctx.unresolved.values()) / ctx.mentions < 0.01
    table = result.tables["dcad_agreement"]
    assert len(table) == 1869 and table["dcaid"].is_unique and not (table["ccode1"] == table["ccode2"]).any()
    assert (table["type"] == "general").sum() + (table["type"] == "sector").sum() == 1869
    assert int(table["in_force_2010"].sum()) == sum(e.attributes["in_force_2010"] for e in engs.values())
    assert all(e.end_year is None or e.end_year >= e.start_year for e in engs.values())
    trex = table["cat_trex"].sum()
    assert trex == sum("education_training" in e.sub_activities for e in engs.values()) > 250
    assert table["sign_year"].between(1980, 2010).all()


# ----------------------------------------------------------------------------- codes against names

def test_code_and_name_disagree_name_wins(path):
    edit_row(path, 1, ccode2=40)  # USA-CAN coded 40 (Cuba) but named CAN
    edit_row(path, 2, ccode2=200)  # UKG-TUR: the second code copies the first, the name says TUR
    result, _, engs = load(path.parent)
    e = engs["dcad-DCADv1.0-0001"]
    assert [(p.id, p.ccode) for p in e.participants] == [("USA", 2), ("CAN", 20)]
    assert e.attributes["code_corrections"] == ["ccode2 40 (CUB) disagrees with its name CAN; kept the name (20)"]
    e = engs["dcad-DCADv1.0-0002"]
    assert [p.id for p in e.participants] == ["UKG", "TUR"]
    table = result.tables["dcad_agreement"].set_index("dcaid")
    assert (table.at["DCADv1.0-0001", "ccode2"], table.at["DCADv1.0-0002", "ccode2"]) == (20, 640)
    assert "code_corrections" not in engs["dcad-DCADv1.0-0006"].attributes


def test_true_self_dyad_quarantined(path):
    edit_row(path, 2, ccode2=200, cowName2="UKG")  # code and name agree: the partner is unknown
    result, ctx, engs = load(path.parent)
    assert "dcad-DCADv1.0-0002" not in engs
    rej = [r for r in ctx.rejections if r.row == 3]
    assert len(rej) == 1 and rej[0].field == "ccode1+ccode2" and "both signatories are UKG" in rej[0].reason
    table = result.tables["dcad_agreement"]
    assert not (table["ccode1"] == table["ccode2"]).any()


def test_name_of_a_state_not_yet_existing_quarantined(path):
    edit_row(path, 6, cowName2="GDR")  # 2005: East Germany no longer exists, the code says Mexico
    _, ctx, engs = load(path.parent)
    assert "dcad-DCADv1.0-0006" not in engs
    [rej] = [r for r in ctx.rejections if r.row == 7]
    assert rej.field == "ccode2" and "cannot tell" in rej.reason


def test_impossible_years_quarantined(path):
    edit_row(path, 1, endYearEstimate=99999)
    edit_row(path, 2, signYear=1975)
    edit_row(path, 6, EIFYear=99999)
    result, ctx, engs = load(path.parent)
    assert {"dcad-DCADv1.0-0001", "dcad-DCADv1.0-0002", "dcad-DCADv1.0-0006"}.isdisjoint(engs)
    assert {(r.row, r.field) for r in ctx.rejections} >= {(2, "endYearEstimate"), (3, "signYear"), (7, "EIFYear")}
    assert result.tables["dcad_agreement"]["end_year_estimate"].max() <= 2010
    rejected = {(r.file, r.row) for r in ctx.rejections}
    assert result.rows_read == sum(result.accounted.values()) + len(rejected)


def test_checks(path):
    result, _, _ = load(path.parent)
    con = duckdb.connect()
    con.execute("CREATE TABLE ingest_report AS SELECT 'dcad' AS source, ? AS rows_read", [result.rows_read])
    con.register("kept", result.tables["dcad_agreement"])
    con.execute("CREATE TABLE dcad_agreement AS SELECT * FROM kept")
    file_rows, no_self = SOURCES[0].checks(con)
    assert (file_rows.expected, file_rows.actual, file_rows.ok) == (1871, 6, False)
    assert (no_self.kind, no_self.actual, no_self.ok) == ("invariant", 0, True)
    con.execute("UPDATE dcad_agreement SET ccode2 = ccode1 WHERE dcaid = 'DCADv1.0-0001'")
    assert SOURCES[0].checks(con)[1].actual == 1
