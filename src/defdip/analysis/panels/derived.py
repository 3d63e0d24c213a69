"""Layers computed from a panel's own rows after its SQL: peace years since the last dispute, the COW region
of each state and each state's name as of the year. They are left out of the default (every-layer) selection
and named explicitly."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from defdip.analysis.panels import mids
from defdip.analysis.panels.registry import ATOP_END, DeriveContext, Layer, register

REGIONS = {1: "Americas", 2: "Europe", 3: "Africa", 4: "Middle East", 5: "Asia and Oceania"}
"""COW region codes and their names."""
REGION_BOUNDS = ((2, 165, 1), (200, 399, 2), (400, 626, 3), (630, 698, 4), (700, 999, 5))
"""(first code, last code, region): COW's ranges of state codes per region."""
NAME_SPELLS = {
    "cow": ("cow_states", "SELECT ccode AS code, stateabb, statenme AS statename, styear AS first, endyear AS last "
                          "FROM cow_states"),
    "gw": ("gw_states", "SELECT gwcode AS code, stateabb, statename, start_year AS first, end_year AS last "
                        "FROM gw_states"),
}
"""Per state system: the table and query of the membership spells that carry names."""


def peace_years(frame: pd.DataFrame, event: str, keys: Sequence[str] = ("ccode1", "ccode2")) -> pd.Series:
    """Years since the dyad's last year before this one with ``event`` == 1 (float; the model and the pipeline
    share it).

    A dyad with no earlier event counts from its first year in ``frame`` (left-censored: start the frame in
    1816 for the full history). An event year itself counts the years since the previous one, as Carter and
    Signorino's (2010) time-since-event polynomial and peacesciencer's spells do.
    """
    ordered = frame.sort_values([*keys, "year"], kind="stable")
    groups = [ordered[k] for k in keys]
    years = ordered["year"].astype("float64")
    last = years.where(ordered[event] == 1).groupby(groups, sort=False).ffill()
    last = last.groupby(groups, sort=False).shift(1)
    first = years.groupby(groups, sort=False).transform("min")
    return pd.Series(np.where(last.notna(), years - last, years - first), index=ordered.index).reindex(frame.index)


def region_of(codes: pd.Series) -> pd.Series:
    """COW region (1-5, see :data:`REGIONS`) of each state code; NA for a code in no range."""
    values = pd.to_numeric(codes, errors="coerce")
    out = pd.Series(pd.NA, index=codes.index, dtype="Int32")
    for first, last, region in REGION_BOUNDS:
        out[(values >= first) & (values <= last)] = region
    return out


def _add_regions(frame: pd.DataFrame, ctx: DeriveContext) -> pd.DataFrame:
    for col, suf in zip(ctx.ids, ctx.suffixes, strict=True):
        frame[f"region{suf}"] = region_of(frame[col])
    return frame


def _add_names(frame: pd.DataFrame, ctx: DeriveContext) -> pd.DataFrame:
    """Each state's abbreviation and name in the spell in force that year (past the list's end: the latest)."""
    table, sql = NAME_SPELLS[ctx.system]
    spells = ctx.read(table, sql).dropna(subset=["code", "first", "last"])
    spells = spells.astype({"code": "int64", "first": "int64", "last": "int64"})
    years = pd.concat([frame[[c, "year"]].rename(columns={c: "code"}) for c in ctx.ids]).drop_duplicates()
    cand = years.astype("int64").merge(spells, on="code")
    cand = cand[cand["first"] <= cand["year"]]
    cand = cand.assign(inside=cand["year"] <= cand["last"]).sort_values(["inside", "first"])
    best = cand.drop_duplicates(["code", "year"], keep="last")
    for col, suf in zip(ctx.ids, ctx.suffixes, strict=True):
        part = best.rename(columns={"code": col, "stateabb": f"stateabb{suf}", "statename": f"statename{suf}"})
        part = part[[col, "year", f"stateabb{suf}", f"statename{suf}"]].astype(
            {col: frame[col].dtype, "year": frame["year"].dtype})
        frame = frame.merge(part, on=[col, "year"], how="left")
    return frame


def _add_peace_years(frame: pd.DataFrame, ctx: DeriveContext) -> pd.DataFrame:
    """Peace years from the dyad's whole dispute history (from the system's first year), merged onto the frame."""
    cols = list(PEACE_YEARS.columns)
    ids = list(ctx.ids)
    first, last = (int(frame["year"].min()), int(frame["year"].max())) if len(frame) else (0, -1)
    last = min(last, mids.LAST_YEAR)
    if last < first:  # no year the dispute data cover
        for col in cols:
            frame[col] = pd.array([pd.NA] * len(frame), dtype="Int32")
        return frame
    history = ctx.history(last, ["gml_mid"])
    spell = peace_years(history, "gmlmidonset", ids).astype("int64")
    history = history[[*ids, "year"]].assign(**{cols[0]: spell, cols[1]: spell ** 2, cols[2]: spell ** 3})
    history = history.astype(dict.fromkeys(cols, "Int32"))
    if ctx.directed:
        history = pd.concat([history, history.rename(columns={ids[0]: ids[1], ids[1]: ids[0]})])
    return frame.merge(history, on=[*ids, "year"], how="left")


PEACE_YEARS = Layer(
    name="peace_years", columns=("gmlmidspell", "gmlmidspell2", "gmlmidspell3"), source="gml_mid",
    first_year=1816, last_year=mids.LAST_YEAR,
    description="Peace years: years since the dyad's last GML MID onset before this year (counted from the dyad's "
    "first year in the state system, left-censored at 1816, when it has had none; an onset year counts from the "
    "previous onset), with its square and cube (unscaled) for Carter and Signorino's (2010) cubic; "
    "peacesciencer's add_spells name. Dyad-years only; NA after 2010.",
    citation_keys=("gibler_miller_little2016",),
    role="control", scale="count", tables=("gml_mid_dyad_year",),
    aggregation="none", derive=_add_peace_years)

register(
    PEACE_YEARS,
    Layer(name="region", columns=("region1", "region2"), source="state_system", first_year=1816,
          last_year=ATOP_END,
          description="COW region of the state code: 1 Americas (2-165), 2 Europe (200-399), 3 Africa (400-626), 4 "
          "Middle East (630-698), 5 Asia and Oceania (700-999), as COW's MID and alliance files code region. "
          "State-year: region.",
          citation_keys=("cow_states2016",),
          role="node", scale="code", tables=("cow_system",),
          state_columns=("region",), aggregation="own", derive=_add_regions),
    Layer(name="names", columns=("stateabb1", "statename1", "stateabb2", "statename2"), source="state_system",
          first_year=1816, last_year=ATOP_END,
          description="The state's abbreviation and name in the membership spell in force that year (COW "
          "states2016; G-W list for system='gw'); past the list's last year the latest spell's. State-year: "
          "stateabb, statename.",
          citation_keys=("cow_states2016", "gleditsch_ward1999"),
          role="node", scale="label", tables=("cow_states",),
          state_columns=("stateabb", "statename"), aggregation="own", derive=_add_names),
)
