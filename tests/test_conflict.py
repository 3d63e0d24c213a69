"""The MID onset model on the real store, and the analysis CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from defdip.analysis.conflict import CONTROLS, mid_model, model_frame
from defdip.core.errors import DefdipError


@pytest.fixture(scope="module")
def result(full_store):
    return mid_model(full_store)


def test_model_terms_and_table(result):
    table = result.table
    assert list(table.columns) == ["term", "coef", "se", "z", "p", "odds_ratio"]
    terms = set(table.term)
    assert {"(intercept)", "atop_defense", "dca_any", "exercises_any", *CONTROLS} <= terms
    assert np.allclose(table.odds_ratio, np.exp(table.coef))
    assert table[["coef", "se", "z", "p"]].notna().all().all() and (table.se > 0).all()
    assert (table.p.between(0, 1)).all()
    # the usual regularities hold: land contiguity and major-power dyads go with more onsets
    coef = table.set_index("term").coef
    assert coef["contig_land"] > 1 and coef["major_dyad"] > 0 and coef["peaceyrs"] < 0
    assert (result.from_year, result.to_year) == (1980, 2010)
    assert result.n > 400_000 and 500 < result.onsets < 3000


def test_model_rates_and_text(result):
    rates = result.rates
    assert list(rates.columns) == ["term", "tie", "dyad_years", "onsets", "rate_per_1000"]
    for _term, part in rates.groupby("term"):
        assert set(part.tie) == {"yes", "no"}
        assert part.dyad_years.sum() == result.n
        assert part.onsets.sum() == result.onsets
    assert rates.rate_per_1000.between(0, 1000).all()
    overall = 1000 * result.onsets / result.n
    assert 0.5 < overall < 20
    assert "associations" in result.text and "not causal" in result.text
    assert "contig_land" in result.text


def test_model_frame_peace_years(full_store):
    frame, terms, (lo, hi) = model_frame(full_store, layers=["atop_defense"], from_year=1990, to_year=1995)
    assert (lo, hi) == (1990, 1995) and terms == ["atop_defense"]
    assert (frame.peaceyrs >= 0).all()
    # no dyad-year with a dispute carried over from an earlier year stays in the sample
    assert not ((frame.ongoing == 1) & (frame.onset == 0)).any()
    # the year after a dispute year starts a new spell at 1
    usa_rus = frame[(frame.ccode1 == 2) & (frame.ccode2 == 365)].set_index("year")
    assert len(usa_rus) > 0


def test_model_errors(full_store):
    with pytest.raises(DefdipError, match=r"unknown layer\(s\) nope; valid layers: atop_defense"):
        mid_model(full_store, layers=["nope"])
    with pytest.raises(DefdipError, match="'conttype' is a control layer"):  # a control is the model's own
        mid_model(full_store, layers=["conttype"])
    with pytest.raises(DefdipError, match="empty"):
        mid_model(full_store, layers=["dca_any"], from_year=1950, to_year=1960)


def test_cli_panel_and_model(full_store, tmp_path):
    from defdip.cli.app import app

    runner = CliRunner()
    out = tmp_path / "dy.dta"
    res = runner.invoke(app, ["panel", "dyad-year", "--from", "1989", "--to", "1990", "--layers",
                              "atop_defense,dca_any", "-o", str(out), "--store", str(full_store)])
    assert res.exit_code == 0, res.output
    back = pd.read_stata(out)
    assert list(back.columns) == ["ccode1", "ccode2", "year", "atop_defense", "dca_any"]
    res = runner.invoke(app, ["panel", "state-year", "--system", "gw", "--from", "2000", "--to", "2000", "--layers",
                              "atop_defense", "-o", str(tmp_path / "sy.csv"), "--store", str(full_store)])
    assert res.exit_code == 0, res.output
    assert "gwcode" in pd.read_csv(tmp_path / "sy.csv").columns
    res = runner.invoke(app, ["panel", "layers", "--format", "csv"])
    assert res.exit_code == 0 and "atop_defense" in res.output and "dd_index" in res.output
    table = tmp_path / "model.csv"
    res = runner.invoke(app, ["model", "--layers", "atop_defense,dca_any", "-o", str(table),
                              "--store", str(full_store)])
    assert res.exit_code == 0, res.output
    assert "not causal" in res.output
    assert set(pd.read_csv(table).term) >= {"atop_defense", "dca_any", "contig_land"}


def test_arms_layer_only_with_the_full_register(full_store, monkeypatch):
    from defdip.analysis import conflict

    deals = conflict.sipri_deals(full_store)
    assert deals > 0
    names, notes = conflict.model_layers(full_store)
    asked, asked_notes = conflict.model_layers(full_store, ["atop_defense", "arms_tiv"])
    assert asked == ["atop_defense", "arms_tiv"]
    if deals < conflict.SIPRI_FULL_MIN:  # the development sample: left out by default, with a warning
        assert "arms_tiv" not in names and "atop_defense" in names
        assert len(notes) == 1 and f"{deals:,} SIPRI deals" in notes[0] and "left out" in notes[0]
        assert len(asked_notes) == 1 and "kept because it was asked for" in asked_notes[0]
    monkeypatch.setattr(conflict, "SIPRI_FULL_MIN", deals)  # a register of this size counts as full
    names, notes = conflict.model_layers(full_store)
    assert "arms_tiv" in names and notes == []


def test_default_model_says_what_it_leaves_out(result, full_store):
    from defdip.analysis import conflict

    if conflict.sipri_deals(full_store) < conflict.SIPRI_FULL_MIN:
        assert "arms_tiv_any" not in set(result.table.term)
        assert result.notes and "Warning: arms_tiv" in result.text
    else:
        assert "arms_tiv_any" in set(result.table.term) and not result.notes
