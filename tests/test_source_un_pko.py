"""UN peacekeeping contributions (un_pko) and Geo-PKO location aggregates (geopko).

Fixtures under ``fixtures/un_pko/`` are written by hand in the files' layouts; the
contributions file is Windows-1252 (``Côte d’Ivoire`` with a cp1252 apostrophe).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from defdip.core.errors import SourceFormatError
from defdip.ingest.sources.base import IngestContext
from defdip.ingest.sources.un_pko import FRONT_FILE, MISSIONS, PKO_FILE, SOURCES, TCC_FILE, parse_overview

FIXTURE = Path(__file__).parent / "fixtures" / "un_pko"
PKO, GEO = SOURCES


def load(source, folder: Path):
    ctx = IngestContext(source.id)
    result = source.load(folder, ctx)
    return result, ctx, {e.id: e for e in result.engagements}


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "un_peacekeeping"
    shutil.copytree(FIXTURE, out)
    return out


def test_source_metadata():
    assert (PKO.id, PKO.folder, PKO.files) == ("un_pko", "un_peacekeeping", (PKO_FILE,))
    assert (GEO.id, GEO.folder, GEO.files) == ("geopko", "un_peacekeeping", (FRONT_FILE, TCC_FILE))
    assert PKO.bibtex.startswith("@misc{un_dpo_contributions,") and PKO.citation_keys == ("un_dpo_contributions",)
    assert GEO.bibtex.startswith("@article{cil_geopko_2020,") and "10.1177/0022343319871978" in GEO.bibtex
    assert "peacekeeping.un.org" in PKO.homepage and "pcr.uu.se" in GEO.homepage
    assert len(MISSIONS) == 36


# ----------------------------------------------------------------------------- un_pko

def test_contributions_fixture():
    result, ctx, engs = load(PKO, FIXTURE)
    assert result.rows_read == 12
    assert sorted(engs) == ["un_pko-minusca-2021-BNG", "un_pko-minusma-2021-CDI", "un_pko-unamid-2019-RWA",
                            "un_pko-undof-2021-IND", "un_pko-unifil-2020-GHA", "un_pko-unifil-2021-GHA"]
    e = engs["un_pko-minusca-2021-BNG"]
    assert (e.activity, e.instrument, e.sub_activities) == ("contacts", "deployment", ["peacekeeping"])
    assert (e.start_year, e.end_year, e.precision) == (2021, 2021, "year")
    assert [(p.id, p.role) for p in e.participants] == [("BNG", "contributor"), ("un", "organiser"), ("CEN", "host")]
    assert e.attributes["mission"] == "MINUSCA" and e.attributes["host"] == ["CEN"]
    assert (e.attributes["personnel_total"], e.attributes["personnel_female"],
            e.attributes["personnel_male"]) == (109, 3, 107)
    assert e.provenance[0].record_id == "2021/Bangladesh/MINUSCA"
    assert [(p.id, p.role) for p in engs["un_pko-undof-2021-IND"].participants][2:] == [("SYR", "host"),
                                                                                       ("ISR", "host")]
    assert [(p.id, p.role) for p in engs["un_pko-unamid-2019-RWA"].participants] == [
        ("RWA", "contributor"), ("un", "organiser"), ("au", "organiser"), ("SUD", "host")]
    # Windows-1252 bytes: the name is read and resolved
    assert engs["un_pko-minusma-2021-CDI"].participants[0].name == "Côte d\u2019Ivoire"


def test_zero_rows_are_read_but_not_deployments():
    result, ctx, engs = load(PKO, FIXTURE)
    assert not any("ALB" in k for k in engs)
    assert not any(r.value == "Albania" for r in ctx.rejections)  # not quarantined either


def test_contributions_bad_rows():
    _, ctx, _ = load(PKO, FIXTURE)
    by_row = {r.row: r for r in ctx.rejections}
    assert sorted(by_row) == [9, 10, 11, 12, 13]
    assert "duplicate row: identical to line 2" in by_row[9].reason
    assert "conflicting duplicate: line 2" in by_row[10].reason
    assert (by_row[11].field, by_row[11].value) == ("Country", "Atlantis")
    assert (by_row[12].field, by_row[12].value) == ("Year", "3021") and "impossible year" in by_row[12].reason
    assert "row has 4 fields, the header 6" in by_row[13].reason  # truncated last row
    assert dict(ctx.unresolved) == {"Atlantis": 1}
    assert ctx.mentions == 14  # 7 contributors read + 7 hosts


def test_pko_contributions_table():
    result, _, _ = load(PKO, FIXTURE)
    table = result.tables["pko_contributions"]
    assert list(table.columns) == ["ccode", "year", "mission", "host_ccode", "total", "female", "male"]
    assert len(table) == 6 and str(table["ccode"].dtype) == "Int64" and str(table["total"].dtype) == "float64"
    row = table[(table["ccode"] == 750)].iloc[0]
    assert (row["year"], row["mission"], row["host_ccode"], row["total"]) == (2021, "UNDOF", 652, 200.0)
    assert sorted(table[table["mission"] == "UNIFIL"]["year"]) == [2020, 2021]


def test_contributions_header_errors(folder):
    path = folder / PKO_FILE
    path.write_text("Year,Nation,Mission,Female,Male,Total\n2021,Ghana,UNIFIL,1,2,3\n", encoding="utf-8")
    with pytest.raises(SourceFormatError, match=r"un_pko_contributions_country_year_mission\.csv: header is "
                                                r"missing column\(s\) Country"):
        load(PKO, folder)
    path.write_text("", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="the file is empty"):
        load(PKO, folder)
    path.write_text("Year,Country,Miss", encoding="utf-8")  # truncated inside the header
    with pytest.raises(SourceFormatError, match="Mission, Female, Male, Total"):
        load(PKO, folder)


# ----------------------------------------------------------------------------- geopko

def test_parse_overview():
    assert parse_overview("Brazil (15), Korea (ROK) (150), Portugal (size unknown)") == [
        ("Brazil", 15), ("Korea (ROK)", 150), ("Portugal", None)]
    assert parse_overview("") == [] and parse_overview("Ghana") == [("Ghana", None)]


def test_geopko_fixture():
    result, ctx, engs = load(GEO, FIXTURE)
    assert result.rows_read == 11 and sorted(engs) == ["geopko-monusco-2015", "geopko-unmee-2001"]
    e = engs["geopko-monusco-2015"]
    assert (e.activity, e.instrument, e.sub_activities, e.start_year) == ("contacts", "deployment",
                                                                          ["peacekeeping"], 2015)
    assert [(p.id, p.role) for p in e.participants] == [("un", "organiser"), ("DRC", "host"), ("IND", "contributor"),
                                                        ("URU", "contributor"), ("USA", "contributor")]
    india = e.participants[2].attributes
    assert (india["locations"], india["listed_troops"], india["units_of_unknown_size"]) == (2, 1150, 0)
    a = e.attributes
    assert (a["n_locations"], a["troops_at_locations"], a["n_hq_locations"]) == (2, 1950, 1)
    assert a["max_tcc_at_location"] == 3
    assert (a["n_contributors_named"], a["unnamed_contingents"], a["locations_truncated"]) == (3, 1, False)
    # two report rows of Goma merged, its yearly mean kept; Beni has no mean: mean of its counts
    assert [(x["location"], x["troops"], x["lat"]) for x in a["locations"]] == [("Goma", 1100, -1.67),
                                                                                ("Beni", 850, 0.49)]
    u = engs["geopko-unmee-2001"]
    assert [(p.id, p.role) for p in u.participants] == [("un", "organiser"), ("ERI", "host"), ("ETH", "host"),
                                                        ("IND", "contributor"), ("ROK", "contributor")]
    assert u.participants[4].attributes["units_of_unknown_size"] == 1
    assert (u.attributes["n_locations"], u.attributes["troops_at_locations"], u.attributes["n_hq_locations"]) == (
        2, 150, 1)


def test_geopko_bad_rows():
    _, ctx, engs = load(GEO, FIXTURE)
    got = sorted((r.file, r.row, r.field) for r in ctx.rejections)
    assert got == [(FRONT_FILE, 4, "mission+year+location"), (FRONT_FILE, 8, "year"), (FRONT_FILE, 9, "country")]
    reasons = {r.row: r.reason for r in ctx.rejections}
    assert "duplicate row: identical to line 3" in reasons[4]
    assert "impossible year '1899'" in reasons[8]
    assert "UNXYZ 2005: no host or contributor resolves" in reasons[9]
    assert dict(ctx.unresolved) == {"Atlantis": 1}


def test_geopko_locations_table():
    result, _, _ = load(GEO, FIXTURE)
    table = result.tables["geopko_locations"]
    assert list(table.columns) == ["mission", "year", "host", "location", "latitude", "longitude", "troops"]
    assert len(table) == 5  # every distinct location of the valid rows, the unresolved UNXYZ included
    badme = table[table["location"] == "Badme"].iloc[0]
    assert (badme["mission"], badme["year"], badme["host"], badme["troops"]) == ("UNMEE", 2001, "Ethiopia/Eritrea",
                                                                                 150.0)


def test_geopko_truncated_and_bad_coordinates(folder):
    path = folder / FRONT_FILE
    text = path.read_text(encoding="utf-8").replace("Beni,0.49,29.47", "Beni,99.0,29.47")
    path.write_text(text + "MONUSCO,2015,DRC,Bunia,1.5", encoding="utf-8")
    _, ctx, engs = load(GEO, folder)
    reasons = {r.row: (r.field, r.reason) for r in ctx.rejections}
    assert reasons[7][0] == "latitude" and "impossible coordinates" in reasons[7][1]
    assert "row has 5 fields, the header 15" in reasons[10][1]
    assert engs["geopko-monusco-2015"].attributes["n_locations"] == 1


def test_geopko_missing_column(folder):
    path = folder / TCC_FILE
    path.write_text(path.read_text(encoding="utf-8").replace("year.overview", "overview"), encoding="utf-8")
    with pytest.raises(SourceFormatError, match=r"geopko_v2\.3_tccmap_location_year\.csv: header is missing "
                                                r"column\(s\) year\.overview"):
        load(GEO, folder)


# ----------------------------------------------------------------------------- the real data

@pytest.fixture(scope="module")
def real_pko(shared_data):
    return load(PKO, shared_data / "un_peacekeeping")


@pytest.fixture(scope="module")
def real_geo(shared_data):
    return load(GEO, shared_data / "un_peacekeeping")


@pytest.mark.shared
def test_real_contributions(real_pko):
    result, ctx, engs = real_pko
    assert result.rows_read == 57425 and len(engs) == 6215 and ctx.rejections == []
    assert ctx.mentions == 13672 and sum(ctx.unresolved.values()) == 0
    table = result.tables["pko_contributions"]
    assert len(table) == 6215 and table["ccode"].notna().all() and (table["total"] > 0).all()
    assert not table.duplicated(["ccode", "year", "mission"]).any()
    assert set(table["mission"]) <= set(MISSIONS) and len(set(table["mission"])) == 36
    assert table["host_ccode"].isna().sum() == len(table[table["mission"].isin(["UNOWAS", "MINURSO"])])
    assert table["year"].min() == 2010 and table["year"].max() == 2021
    assert all(any(p.role == "host" for p in e.participants)
               for e in engs.values() if e.attributes["mission"] not in ("UNOWAS",))


@pytest.mark.shared
def test_real_geopko(real_geo):
    result, ctx, engs = real_geo
    assert result.rows_read == 8783 + 4927 and len(engs) == 434 and ctx.rejections == []
    assert ctx.mentions == 3709 and dict(ctx.unresolved) == {"CARICOM": 1}
    table = result.tables["geopko_locations"]
    assert len(table) == 7376 and table["latitude"].between(-90, 90).all()
    assert table["year"].min() == 1994 and table["year"].max() == 2024
    assert sum(e.attributes["n_locations"] for e in engs.values()) == len(table)
    assert all(any(p.role == "host" for p in e.participants) for e in engs.values())
    assert isinstance(table, pd.DataFrame)
