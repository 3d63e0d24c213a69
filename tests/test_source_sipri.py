"""SIPRI trade register: one equipment-transfer engagement per deal.

The fixture ``fixtures/sipri/trade-register.csv`` is written by hand in the layout of SIPRI's
export (Windows-1252, CRLF, a title line above the header, blank-named flag columns) with
bad rows of every kind the loader must survive. No SIPRI data is copied into the repository.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from defdip.core.errors import SourceFormatError
from defdip.ingest.sources.base import IngestContext
from defdip.ingest.sources.sipri import REGISTER_FILE, SAMPLE_FILE, SOURCES, clean_name, parse_year

FIXTURE = Path(__file__).parent / "fixtures" / "sipri"
SRC = SOURCES[0]


def load(folder: Path):
    ctx = IngestContext("sipri")
    result = SRC.load(folder, ctx)
    by_title: dict = {}
    for e in result.engagements:  # the first deal of each title (identical-looking rows are kept apart)
        by_title.setdefault(e.title.split(":")[0], e)
    return result, ctx, by_title


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "sipri_arms_transfers"
    shutil.copytree(FIXTURE, out)
    return out


def test_source_metadata():
    assert (SRC.id, SRC.folder, SRC.files, SRC.kind) == ("sipri", "sipri_arms_transfers", (REGISTER_FILE,),
                                                          "engagements")
    assert SRC.citation_keys == ("sipri_arms_transfers",) and SRC.bibtex.startswith("@misc{sipri_arms_transfers,")
    assert "trade_register.php" in SRC.terms and "POST" in SRC.terms and "10%" in SRC.terms
    assert SRC.downloads == ()  # a form POST: fetch cannot download it (see the module docstring)


def test_helpers():
    assert parse_year("1964") == (1964, False) and parse_year("1964?") == (1964, True)
    assert parse_year("3.5")[0] is None and parse_year("1850")[0] is None and parse_year("")[0] is None
    assert clean_name("NATO**") == ("NATO", "organisation")
    assert clean_name("Contras (Nicaragua)*") == ("Contras (Nicaragua)", "non_state")
    assert clean_name(" France ") == ("France", None)


def test_fixture_engagements():
    result, ctx, engs = load(FIXTURE)
    assert result.rows_read == 12 and len(result.engagements) == 8
    e = engs["Soviet Union to Afghanistan"]
    assert (e.activity, e.instrument, e.sub_activities) == ("agreements", "equipment_transfer", [])
    assert (e.start_year, e.end_year, e.circa, e.ongoing, e.precision) == (1964, 1967, True, False, "year")
    assert [(p.id, p.role, p.ccode) for p in e.participants] == [("RUS", "supplier", 365), ("AFG", "recipient", 700)]
    a = e.attributes
    assert (a["weapon_designation"], a["weapon_description"]) == ("PRV-11", "height-finding radar")
    assert (a["number_ordered"], a["number_ordered_estimated"], a["number_delivered"]) == (9, True, 9)
    assert a["delivery_years"] == [1965, 1966, 1967] and a["status"] == "New"
    assert (a["tiv_per_unit"], a["tiv_total_order"], a["tiv_delivered"]) == (4.0, 36.0, 36.0)
    assert a["comments"] == "For use with S-75 SAM systems" and a["line"] == 3
    assert e.id.startswith("sipri-") and len(e.id) == 18 and e.provenance[0].record_id == e.id[6:]
    assert e.provenance[0].citations == ["sipri_arms_transfers"]
    # ids are stable from one load to the next
    assert e.id == load(FIXTURE)[2]["Soviet Union to Afghanistan"].id


def test_windows_1252_names_and_comments():
    _, _, engs = load(FIXTURE)
    e = engs["France to Côte d'Ivoire"]
    assert [p.id for p in e.participants] == ["FRN", "CDI"]
    assert e.attributes["comments"] == "Second-hand \u2013 ex-French army" and e.attributes["status"] == "Second hand"


def test_non_state_organisations_and_unknown():
    _, _, engs = load(FIXTURE)
    contras = engs["United States to Contras (Nicaragua)"]
    assert contras.participants[1].id == "contras"
    assert contras.participants[1].attributes == {"sipri_actor_type": "non_state"}
    nato = engs["United States to NATO"]
    assert (nato.participants[1].id, nato.participants[1].name) == ("nato", "NATO")
    assert nato.participants[1].attributes == {"sipri_actor_type": "organisation"}
    rebels = engs["unknown supplier(s) to Syria rebels"]
    assert [(p.id, p.role) for p in rebels.participants] == [("unknown", "supplier"), ("syria-rebels", "recipient")]


def test_pending_deliveries_are_ongoing():
    _, _, engs = load(FIXTURE)
    e = engs["France to India"]
    assert (e.start_year, e.end_year, e.ongoing) == (2022, None, True)
    assert e.attributes["delivery_years"] == [] and e.attributes["number_delivered"] is None
    assert e.attributes["tiv_delivered"] is None and e.attributes["tiv_total_order"] == 1430.0


def test_unknown_country_counted_and_kept_or_quarantined():
    _, ctx, engs = load(FIXTURE)
    assert dict(ctx.unresolved) == {"Atlantis": 2, "Lemuria": 1}
    assert ctx.mentions == 18
    kept = engs["France to Atlantis"]
    assert [p.id for p in kept.participants] == ["FRN"] and kept.attributes["unresolved"] == ["recipient: Atlantis"]
    assert "Lemuria to Atlantis" not in engs
    (rej,) = [r for r in ctx.rejections if r.row == 9]
    assert rej.field == "Supplier+Recipient" and "neither supplier 'Lemuria' nor recipient 'Atlantis'" in rej.reason


def test_bad_rows_quarantined_with_row_and_field():
    _, ctx, _ = load(FIXTURE)
    by_row = {r.row: r for r in ctx.rejections}
    assert sorted(by_row) == [9, 10, 13, 14]
    assert (by_row[10].field, by_row[10].value) == ("Year of order", "3.5")
    assert "impossible year of order '3.5'" in by_row[10].reason
    assert by_row[13].field == "Year(s) of delivery" and "before the year of order (2001)" in by_row[13].reason
    assert "row has 7 fields, the header 16" in by_row[14].reason  # the truncated last line


def test_impossible_delivery_year(folder):
    path = folder / REGISTER_FILE
    path.write_bytes(path.read_bytes().replace(b"1965; 1966; 1967,New", b"1965; 19666,New", 1))
    _, ctx, engs = load(folder)
    assert engs["Soviet Union to Afghanistan"].attributes["line"] == 11  # its identical twin is still read
    rej = [r for r in ctx.rejections if r.row == 3][0]
    assert rej.field == "Year(s) of delivery" and "impossible delivery year '19666'" in rej.reason


def test_missing_or_wrong_header(folder):
    path = folder / REGISTER_FILE
    text = path.read_bytes().decode("cp1252").replace("Supplier,Year of order", "Seller,Year of order", 1)
    path.write_bytes(text.encode("cp1252"))
    with pytest.raises(SourceFormatError, match=r"trade-register\.csv: header is missing column\(s\) .*Supplier"):
        load(folder)
    path.write_bytes(b"")
    with pytest.raises(SourceFormatError, match="trade-register.csv: the file is empty"):
        load(folder)


def test_truncated_inside_the_header(folder):
    path = folder / REGISTER_FILE
    raw = path.read_bytes()
    path.write_bytes(raw[: raw.index(b"Weapon designation")])
    with pytest.raises(SourceFormatError, match="Weapon designation"):
        load(folder)


def test_utf8_export_and_sample_file_accepted(folder, tmp_path):
    sample_dir = tmp_path / "sample"
    sample_dir.mkdir()
    text = (folder / REGISTER_FILE).read_bytes().decode("cp1252")
    (sample_dir / SAMPLE_FILE).write_text(text.split("\r\n", 1)[1], encoding="utf-8")  # no title line, UTF-8
    assert SRC.missing_files(sample_dir) == []
    assert SRC.missing_files(tmp_path / "nowhere") == [f"{REGISTER_FILE} (or {SAMPLE_FILE})"]
    result, _, engs = load(sample_dir)
    assert len(result.engagements) == 8 and "France to Côte d'Ivoire" in engs
    assert engs["Soviet Union to Afghanistan"].attributes["line"] == 2
    # the official file wins when both are present
    shutil.copy(folder / REGISTER_FILE, sample_dir / REGISTER_FILE)
    assert SRC.register_path(sample_dir).name == REGISTER_FILE


# ----------------------------------------------------------------------------- the real data (8% sample)

@pytest.fixture(scope="module")
def real(shared_data):
    return load(shared_data / "sipri_arms_transfers")


@pytest.mark.shared
def test_real_sample(real):
    result, ctx, _ = real
    assert result.rows_read == 2325 and len(result.engagements) == 2325 and ctx.rejections == []
    assert ctx.mentions == 4650
    # orders placed before the recipient's independence resolve whatever the year, and say so
    assert sum(ctx.unresolved.values()) == 0
    outside = [p for e in result.engagements for p in e.participants if p.attributes.get("resolved_outside_existence")]
    assert len(outside) == 11 and {p.role for p in outside} == {"recipient"}
    assert len({e.id for e in result.engagements}) == 2325
    assert sum(e.circa for e in result.engagements) == 1234
    assert min(e.start_year for e in result.engagements) == 1946
    assert max(e.end_year or e.start_year for e in result.engagements) == 2023
    ids = {p.id for e in result.engagements for p in e.participants}
    assert {"nato", "un", "contras", "unknown", "libya-hor"} <= ids


# ----------------------------------------------------------------------------- cases of the full register

REGISTER_CASES = Path(__file__).parent / "fixtures" / "sipri_register"


def test_line_break_in_comments_is_joined():
    result, ctx, engs = load(REGISTER_CASES)
    assert ctx.rejections == []
    e = engs["United States to Egypt"]
    assert e.attributes["comments"] == "Second-hand; aid\n(financed by US FMS credit)"
    assert (e.attributes["line"], e.attributes["tiv_delivered"]) == (3, 63.0)
    quoted = engs["France to Chile"]  # a quoted line break is read by the CSV reader itself
    assert quoted.attributes["comments"] == "Deal worth \u20ac400 m\r\n(incl. training)"
    assert result.rows_read == 7 and result.accounted == {"kept": 6, "line breaks joined": 1}
    assert result.rows_read == sum(result.accounted.values()) + len(ctx.rejections)


def test_identical_rows_kept_and_flagged():
    result, _, _ = load(REGISTER_CASES)
    tanks = [e for e in result.engagements if e.title.startswith("Germany to Poland")]
    assert len(tanks) == 3 and len({e.id for e in tanks}) == 3
    assert [e.attributes["copy"] for e in tanks] == [1, 2, 3]
    assert {e.attributes["identical_rows"] for e in tanks} == {3}
    assert [e.attributes.get("identical_to_line") for e in tanks] == [None, 5, 5]
    assert tanks[1].id == tanks[0].id + "-2" and tanks[1].provenance[0].record_id == tanks[1].id[6:]
    assert "identical_rows" not in next(e for e in result.engagements if "Egypt" in e.title).attributes


def test_supplier_resolved_in_first_delivery_year():
    _, ctx, engs = load(REGISTER_CASES)
    e = engs["Slovakia to India"]
    supplier = e.participants[0]
    assert (supplier.id, supplier.role, supplier.attributes["resolved_as_of"]) == ("SLO", "supplier", 1993)
    assert e.start_year == 1992 and "Slovakia" not in ctx.unresolved


def test_truncated_broken_line_not_joined(folder):
    path = folder / REGISTER_FILE
    raw = path.read_bytes()
    path.write_bytes(raw + b"Peru,Italy,1990,,6,,Aspide,SAM,6,,1990,New,Aspide\r\nfor\r\n")
    _, ctx, _ = load(folder)
    assert {r.row for r in ctx.rejections} >= {15, 16}  # neither fragment makes a deal


def test_checks_deals_in_file_vs_stored():
    import json

    import duckdb

    result, _, _ = load(REGISTER_CASES)
    con = duckdb.connect()
    con.execute("CREATE TABLE ingest_report AS SELECT 'sipri' AS source, ? AS rows_read, ? AS accounted",
                [result.rows_read, json.dumps(result.accounted)])
    con.execute("CREATE TABLE quarantine (source VARCHAR, file VARCHAR, row VARCHAR)")
    con.execute("CREATE TABLE engagements AS SELECT unnest(?) AS id, '{}'::JSON AS attributes",
                [[e.id for e in result.engagements]])
    con.execute("CREATE TABLE provenance AS SELECT 'sipri' AS source, id AS engagement_id FROM engagements")
    [check] = SRC.checks(con)
    assert (check.expected, check.actual, check.ok) == (6, 6, True)
    con.execute("DELETE FROM provenance WHERE engagement_id = ?", [result.engagements[-1].id])
    assert not SRC.checks(con)[0].ok
