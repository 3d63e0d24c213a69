"""A dyad-year logit of militarized-dispute onset on defence-diplomacy ties: associations, not effects.

Unit: non-directed COW dyad-years (``panels.dyad_year``). Outcome: GML MID 2.2.1 onset
(``gmlmidonset`` in ``gml_mid_dyad_year``, 1 when a new dispute between the two begins that year).
Dyad-years in which a dispute that began in an earlier year is still going on (and no new one
begins) are dropped, as is usual for onset models.

Regressors, one per chosen layer of the registry's tie and derived roles (:data:`ROLES`; the controls are
the model's own): indicators stay as they are (``atop_defense``, ``dca_any`` ...); counts and values (the
layer's ``scale``) enter as "any" indicators (``exercises`` -> ``exercises_any`` = exercises > 0,
``arms_tiv`` -> ``arms_tiv_any``, ``visits`` -> ``visits_any``); ``dd_index`` enters as its count.
Controls: direct land/river contiguity (``contig_land``: COW conttype 1), a major-power dyad
(``major_dyad``: either state a COW major power) and peace years with Carter and Signorino's (2010)
cubic polynomial (``peaceyrs``, ``peaceyrs2``, ``peaceyrs3``): years since the dyad's last year with a
GML dispute (onset or ongoing), counted from the dyad's first year in the system when it has had
none (left-censored at 1816). Estimator: statsmodels ``Logit`` with standard errors clustered on the
dyad.

Years: the intersection of the GML data (1816-2010), COW contiguity/majors (to 2016) and the general
coverage of every included layer (``Layer.years``: the years it covers every dyad, so exercises to 2010);
with the default layers (ATOP defence pact, DCA, exercises, and arms transfers where the store has SIPRI's
full register) that is 1980-2010. ``--from``/``--to`` narrow it.

What the model uses is said in its text: ``arms_tiv`` enters the default model only when the store holds
SIPRI's full trade register (at least :data:`SIPRI_FULL_MIN` deals; the full register has about 29,000).
A store built from the 8% development sample would code nine in ten arms-transfer dyads as "no tie", so
the default leaves the layer out and says so; asking for it by name keeps it, with the same warning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from defdip.analysis import panels
from defdip.core.errors import DefdipError

GML_FIRST, GML_LAST = 1816, 2010
DEFAULT_LAYERS = ("atop_defense", "dca_any", "exercises", "arms_tiv")
ROLES = ("tie", "derived")
"""The layer roles that can be regressors: defence-diplomacy ties and the index (controls are the model's own)."""
SIPRI = "sipri"
SIPRI_FULL_MIN = 25_000
"""Fewest SIPRI deals a store must hold for ``arms_tiv`` to count as the full register (it has about 29,000
deals, 1950 on; the development sample about 2,300)."""
CONTROLS = ("contig_land", "major_dyad", "peaceyrs", "peaceyrs2", "peaceyrs3")
NOTE = ("These are associations between defence-diplomacy ties and the onset of militarized disputes, not causal "
        "effects: ties are chosen by states that already expect (or fear) conflict, and the model has no design "
        "that separates selection from consequence.")


@dataclass
class ModelResult:
    table: pd.DataFrame
    """term, coef, se, z, p, odds_ratio (dyad-clustered standard errors)."""
    rates: pd.DataFrame
    """Per regressor: onset rate per 1,000 dyad-years with and without the tie."""
    n: int
    text: str
    from_year: int = 0
    to_year: int = 0
    onsets: int = 0
    dyads: int = 0
    layers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Warnings about what the model uses or leaves out (also at the end of ``text``)."""


def _layer_list(layers: str | Iterable[str] | None) -> list[str]:
    """The regressor layers by name (the defaults when None), resolved through the layer registry."""
    if layers is None:
        return list(DEFAULT_LAYERS)
    return [lay.name for lay in panels.resolve(layers, unit="dyad_year", role=ROLES)]


def _term(lay: panels.Layer) -> str:
    """The regressor of a layer's headline column: counts and values enter as "any" indicators."""
    col = lay.columns[0]  # a layer's headline column (exercises: all exercises)
    return f"{col}_any" if lay.scale in ("count", "value") else col


def _model_years(names: list[str], from_year: int | None, to_year: int | None) -> tuple[int, int]:
    """GML's years narrowed to the years every regressor covers every dyad (an index adapts to its components)."""
    lo, hi = GML_FIRST, GML_LAST
    for name in names:
        lay = panels.LAYERS[name]
        if lay.components:
            continue
        first, last = lay.years
        lo, hi = max(lo, first), min(hi, last)
    if from_year is not None:
        lo = max(lo, int(from_year))
    if to_year is not None:
        hi = min(hi, int(to_year))
    if lo > hi:
        raise DefdipError(f"empty selection: the layers {', '.join(names)} and GML MID (1816-2010) share no years "
                          f"in the range asked for ({from_year}-{to_year})")
    return lo, hi


def sipri_deals(store: str | Path | None = None) -> int:
    """How many SIPRI deals the store holds (0 without SIPRI)."""
    return panels.source_records(store, SIPRI)


def _arms_note(deals: int) -> str:
    return (f"arms_tiv: the store holds {deals:,} SIPRI deals, fewer than the {SIPRI_FULL_MIN:,} of the full "
            "register (about 29,000): it is the development sample, so most arms-transfer dyads would read as "
            "no tie")


def model_layers(store: str | Path | None = None,
                 layers: str | Iterable[str] | None = None) -> tuple[list[str], list[str]]:
    """The layers the model uses and the notes on them: the defaults the store can supply (``arms_tiv`` only
    with SIPRI's full register), or the layers asked for (a warning when ``arms_tiv`` is the sample)."""
    names = _layer_list(layers)
    notes: list[str] = []
    if layers is None:  # defaults: those the store can supply
        names = panels.available_layers(store, names)
    arms = [n for n in names if panels.LAYERS[n].source == SIPRI]
    deals = sipri_deals(store) if arms else SIPRI_FULL_MIN
    if deals < SIPRI_FULL_MIN:
        if layers is None:
            names = [n for n in names if n not in arms]
            notes.append(_arms_note(deals) + "; left out of the default model (name it with --layers to force it)")
        else:
            notes.append(_arms_note(deals) + "; kept because it was asked for")
    return names, notes


def model_frame(store: str | Path | None = None, *, from_year: int | None = None, to_year: int | None = None,
                layers: str | Iterable[str] | None = None
                ) -> tuple[pd.DataFrame, list[str], tuple[int, int]]:
    """The estimation sample: non-directed dyad-years with onset, regressors and controls."""
    names, _ = model_layers(store, layers)
    lo, hi = _model_years(names, from_year, to_year)
    frame = panels.dyad_year(store, from_year=GML_FIRST, to_year=hi,
                             layers=[*names, "conttype", "cowmaj", "gml_mid"])
    frame = frame.rename(columns={"gmlmidonset": "onset", "gmlmidongoing": "ongoing"})
    frame["onset"] = frame["onset"].fillna(0).astype("int8")
    frame["ongoing"] = frame["ongoing"].fillna(0).astype("int8")
    frame["mid_year"] = ((frame["onset"] == 1) | (frame["ongoing"] == 1)).astype("int8")

    frame = frame.sort_values(["ccode1", "ccode2", "year"], kind="stable").reset_index(drop=True)
    frame["peaceyrs"] = panels.peace_years(frame, "mid_year")
    frame["peaceyrs2"] = frame["peaceyrs"] ** 2 / 100
    frame["peaceyrs3"] = frame["peaceyrs"] ** 3 / 1000
    frame = frame[(frame["year"] >= lo) & (frame["year"] <= hi)]
    frame = frame[~((frame["ongoing"] == 1) & (frame["onset"] == 0))]

    frame["contig_land"] = (frame["conttype"] == 1).astype("int8")
    frame["major_dyad"] = ((frame["cowmaj1"] == 1) | (frame["cowmaj2"] == 1)).astype("int8")
    terms = []
    for name in names:
        lay = panels.LAYERS[name]
        col, term = lay.columns[0], _term(lay)
        values = frame[col]
        frame[term] = (values > 0).astype("Float64").where(values.notna()) if term != col else values
        terms.append(term)
    needed = ["onset"] + terms + list(CONTROLS)
    frame = frame.dropna(subset=needed)
    return frame, terms, (lo, hi)


def mid_model(store: str | Path | None = None, *, from_year: int | None = None, to_year: int | None = None,
              layers: str | Iterable[str] | None = None) -> ModelResult:
    """Logit of GML MID onset on defence-diplomacy layers with controls (see the module docstring)."""
    import statsmodels.api as sm  # here, not at the top: it takes seconds to import and every CLI command would wait

    _, notes = model_layers(store, layers)
    frame, terms, (lo, hi) = model_frame(store, from_year=from_year, to_year=to_year, layers=layers)
    if frame.empty or frame["onset"].sum() == 0:
        raise DefdipError(f"empty selection: no dyad-years with an observed onset in {lo}-{hi}")
    dropped = [t for t in terms + list(CONTROLS) if frame[t].nunique() < 2]
    regs = [t for t in terms + list(CONTROLS) if t not in dropped]
    x = sm.add_constant(frame[regs].astype("float64"), has_constant="add")
    y = frame["onset"].astype("float64")
    groups = pd.factorize(frame["ccode1"].astype("int64") * 1000 + frame["ccode2"].astype("int64"))[0]
    fit = sm.Logit(y, x).fit(disp=0, maxiter=200, cov_type="cluster", cov_kwds={"groups": groups})
    table = pd.DataFrame({"term": x.columns, "coef": fit.params.to_numpy(), "se": fit.bse.to_numpy(),
                          "z": fit.tvalues.to_numpy(), "p": fit.pvalues.to_numpy()})
    table["odds_ratio"] = np.exp(table["coef"])
    table["term"] = table["term"].replace({"const": "(intercept)"})

    rate_rows = []
    for term in terms:
        for tie, part in ((1, frame[frame[term] > 0]), (0, frame[frame[term] == 0])):
            rate_rows.append({"term": term, "tie": "yes" if tie else "no", "dyad_years": len(part),
                              "onsets": int(part["onset"].sum()),
                              "rate_per_1000": 1000 * part["onset"].mean() if len(part) else np.nan})
    rates = pd.DataFrame(rate_rows)
    n, onsets = len(frame), int(frame["onset"].sum())
    dyads = int(frame.groupby(["ccode1", "ccode2"]).ngroups)
    text = _text(table, rates, n, onsets, dyads, lo, hi, dropped, fit, notes)
    return ModelResult(table=table, rates=rates, n=n, text=text, from_year=lo, to_year=hi, onsets=onsets,
                       dyads=dyads, layers=terms, notes=notes)


def _text(table: pd.DataFrame, rates: pd.DataFrame, n: int, onsets: int, dyads: int, lo: int, hi: int,
          dropped: list[str], fit: Any, notes: list[str]) -> str:
    lines = [f"GML MID onset, non-directed dyad-years {lo}-{hi}: logit, dyad-clustered standard errors",
             f"n = {n:,} dyad-years ({dyads:,} dyads), {onsets:,} onsets; pseudo R2 = {fit.prsquared:.3f}",
             "", f"{'term':<28}{'coef':>9}{'se':>9}{'z':>8}{'p':>8}{'odds ratio':>12}"]
    for r in table.itertuples():
        lines.append(f"{r.term:<28}{r.coef:>9.3f}{r.se:>9.3f}{r.z:>8.2f}{r.p:>8.3f}{r.odds_ratio:>12.3f}")
    lines += ["", "Onsets per 1,000 dyad-years with and without each tie:",
              f"{'term':<28}{'tie':>5}{'dyad-years':>12}{'onsets':>8}{'rate':>8}"]
    for r in rates.itertuples():
        lines.append(f"{r.term:<28}{r.tie:>5}{r.dyad_years:>12,}{r.onsets:>8,}{r.rate_per_1000:>8.2f}")
    if dropped:
        lines.append(f"\nDropped (no variation in the sample): {', '.join(dropped)}")
    if notes:
        lines += [""] + [f"Warning: {note}." for note in notes]
    lines += ["", ("Controls: contig_land = COW direct land/river contiguity; major_dyad = either state a COW major "
                   "power; peaceyrs, peaceyrs2 (/100), peaceyrs3 (/1000) = Carter-Signorino cubic in years since the "
                   "dyad's last dispute."), NOTE]
    return "\n".join(lines)
