"""Files for Stata, R and pandas users: panels with labels, compact types, citations and a codebook;
engagement queries that give the API's rows from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest
from conftest import tiny_panel_tables, write_tables
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from defdip.analysis import panels
from defdip.cli.app import app
from defdip.core.errors import DefdipError
from defdip.present.export import write_panel
from defdip.store.queries import EngagementFilter, engagements


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory) -> str:
    """The panel tests' three states (conftest.tiny_panel_tables) with contiguity added."""
    tables = tiny_panel_tables()
    tables["cow_contiguity"] = pd.DataFrame({"ccode1": [200], "ccode2": [220], "conttype": [2],
                                             "stdate": ["1816-01-01"], "enddate": ["2016-12-31"],
                                             "styear": [1816], "endyear": [2016]})
    return write_tables(tmp_path_factory.mktemp("tiny_export") / "tiny.duckdb", tables)


def _panel(tiny_store: str) -> pd.DataFrame:
    frame = panels.dyad_year(tiny_store, layers=["dca_any", "atop_defense", "cowmaj"])
    frame["a_rather_long_column_name_that_stata_cannot_hold"] = 1
    return frame


def test_dta_has_labels_compact_types_and_missing(tiny_store: str, tmp_path: Path) -> None:
    frame = _panel(tiny_store)
    path, bib, book = write_panel(frame, tmp_path / "panel.dta", store=tiny_store)
    data, meta = pyreadstat.read_dta(str(path))  # an independent reader (ReadStat)
    assert len(data) == len(frame)
    types = meta.readstat_variable_types
    assert types["dca_any"] == "int8" and types["atop_defense"] == "int8" and types["year"] == "int16"
    assert "double" not in types.values()
    labels = dict(zip(meta.column_names, meta.column_labels))
    assert labels["dca_any"].startswith("1 if any DCA is in force")
    assert labels["a_rather_long_column_name_that_s"].startswith("a_rather_long_column_name_that_stata_cannot_hold")
    assert meta.file_label.startswith("defdip ") and "dca_any" in meta.file_label
    assert all(len(c) <= 32 for c in meta.column_names)
    # NA outside coverage (DCAD starts 1980) is Stata missing, in the same rows
    na_years = set(data.loc[data["dca_any"].isna(), "year"].astype(int))
    assert na_years == set(frame.loc[frame["dca_any"].isna(), "year"]) == {1979}
    back = pd.read_stata(path, convert_categoricals=False)
    assert back["dca_any"].isna().sum() == frame["dca_any"].isna().sum() > 0
    assert bib.name == "CITATION.bib" and "kinne" in bib.read_text().lower()
    text = book.read_text()
    assert "| `dca_any` |" in text and "1980-2010" in text and "kinne_dcad_2020" in text


def test_dta_stores_flags_in_one_byte(tiny_store: str, tmp_path: Path) -> None:
    """Stata files are uncompressed: a row costs its storage types, so 0/1 flags must be bytes, not doubles."""
    frame = pd.concat([_panel(tiny_store)] * 200, ignore_index=True)
    dta, _, _ = write_panel(frame, tmp_path / "big.dta", store=tiny_store)
    row_bytes = 2 + 2 + 2 + 1 + 1 + 1 + 1 + 1  # ccode1 ccode2 year (int16), then five one-byte columns
    assert dta.stat().st_size <= len(frame) * row_bytes + 20_000
    assert dta.stat().st_size * 4 < len(frame) * 8 * frame.shape[1]  # what float64 storage would take


def test_value_labels_for_contiguity(tiny_store: str, tmp_path: Path) -> None:
    frame = panels.dyad_year(tiny_store, layers=["conttype"])
    path, _, _ = write_panel(frame, tmp_path / "contig.dta", store=tiny_store)
    _, meta = pyreadstat.read_dta(str(path))
    assert meta.variable_value_labels["conttype"][2] == "water, up to 12 miles"
    regions = panels.dyad_year(tiny_store, layers=["region"])
    path, _, _ = write_panel(regions, tmp_path / "regions.dta", store=tiny_store)
    _, meta = pyreadstat.read_dta(str(path))
    assert meta.variable_value_labels["region1"][1] == "Americas"  # ccode 2 (USA)


@pytest.mark.parametrize("suffix", ["parquet", "feather", "csv"])
def test_other_formats_round_trip(tiny_store: str, tmp_path: Path, suffix: str) -> None:
    frame = _panel(tiny_store)
    path, _, _ = write_panel(frame, tmp_path / f"panel.{suffix}", store=tiny_store)
    back = {"csv": pd.read_csv, "parquet": pd.read_parquet, "feather": pd.read_feather}[suffix](path)
    assert len(back) == len(frame)
    assert back["dca_any"].isna().sum() == frame["dca_any"].isna().sum() > 0
    if suffix == "parquet":
        field = pq.read_schema(path).field("dca_any")
        assert field.metadata[b"coverage"] == b"1980-2010" and field.metadata[b"layer"] == b"dca_any"


def test_bad_panel_format_and_folder(tiny_store: str, tmp_path: Path) -> None:
    frame = _panel(tiny_store)
    with pytest.raises(DefdipError, match="unknown panel format"):
        write_panel(frame, tmp_path / "panel.xlsx")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DefdipError, match="cannot create the folder"):
        write_panel(frame, blocker / "sub" / "panel.csv")


def test_cite_layers_prints_their_datasets() -> None:
    result = CliRunner().invoke(app, ["cite", "--layers", "dca_any,atop_defense"])
    assert result.exit_code == 0, result.output
    assert "kinne_dcad_2020" in result.output and "leeds_atop_2002" in result.output
    bad = CliRunner().invoke(app, ["cite", "--layers", "nope"])
    assert bad.exit_code != 0


@pytest.mark.shared
def test_engagements_command_matches_the_api(full_store: Path) -> None:
    from defdip.present.web import create_app

    args = ["engagements", "--store", str(full_store), "--country", "India", "--activity", "exercises",
            "--from", "2000", "--to", "2010", "-f", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    api = TestClient(create_app(full_store)).get(
        "/api/engagements", params={"country": "India", "activity": "exercises", "from_year": 2000,
                                    "to_year": 2010, "page_size": 500}).json()
    assert api["total"] == len(rows) > 50
    assert [r["id"] for r in rows] == [i["id"] for i in api["items"]]


@pytest.mark.shared
def test_long_form_has_codes_and_excludes(full_store: Path, tmp_path: Path) -> None:
    f = EngagementFilter(country="IND", from_year=2000, to_year=2010)
    wide = engagements(f, full_store)
    long = engagements(f, full_store, long=True)
    assert set(long["engagement_id"]) == set(wide["id"])
    assert len(long) == int(wide["n_participants"].sum())
    india = long[long["polity_id"] == "IND"]
    assert (india["ccode"] == 750).all() and (india["gwcode"] == 750).all() and (india["iso3"] == "IND").all()
    no_pko = engagements(EngagementFilter(country="IND", exclude_sub_activities=("peacekeeping",)), full_store)
    assert not any("peacekeeping" in list(s) for s in no_pko["sub_activities"] if s is not None)
    out = tmp_path / "india.csv"
    result = CliRunner().invoke(app, ["engagements", "--store", str(full_store), "-c", "India", "--from", "2000",
                                      "--to", "2010", "--long", "-o", str(out), "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out)) == len(long) and (tmp_path / "CITATION.bib").is_file()


def test_query_parameters_are_checked() -> None:
    with pytest.raises(DefdipError, match="unknown activity 'sports'"):
        EngagementFilter(activity="sports").check()
    with pytest.raises(DefdipError, match="reversed years"):
        EngagementFilter(from_year=2000, to_year=1990).check()
    with pytest.raises(DefdipError, match="no year 0"):
        EngagementFilter(from_year=0).check()
