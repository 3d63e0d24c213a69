"""A composable panel API in the spirit of peacesciencer: create a population, then add one family at a time.

```python
from defdip import pipeline as dp

df = dp.create_dyadyears(directed=False, from_year=1980, to_year=2010)
df = dp.add_mids(df)             # gmlmidonset, gmlmidongoing
df = dp.add_peace_years(df)      # gmlmidspell, gmlmidspell2, gmlmidspell3
df = dp.add_capital_distance(df) # capdist
```

A frame made here carries its unit and state system in ``df.attrs["defdip"]`` (unit, system, directed,
store); every ``add_*`` reads them, refuses a frame of the wrong unit with one clear line, and merges the
columns that :func:`defdip.panels.dyad_year` / :func:`defdip.panels.state_year` compute for the same
population -- the panel machinery is the one engine, this module only merges its layers. Outside a layer's
coverage its columns are NA. :func:`defdip.panels.dyad_year` stays the one-call form.

Peace years (``add_peace_years``): years since the dyad's last GML MID onset before the current year, counted
from the dyad's first year in the state system (left-censored at 1816) when it has had none, with its square
and cube (unscaled) for Carter and Signorino's (2010) cubic polynomial. peacesciencer's ``add_spells`` names
the spell ``gmlmidspell``; so does defdip. NA after 2010, where GML ends.

Region (``add_region``): COW's region of the state code: 1 Americas (2-165), 2 Europe (200-399),
3 Africa (400-626), 4 Middle East (630-698), 5 Asia and Oceania (700-999), as COW's MID and alliance files
code region.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from defdip import panels
from defdip.errors import DefdipError

ATTR = "defdip"
"""Key of ``DataFrame.attrs`` holding the frame's unit, system, direction and store."""

REGIONS = {1: "Americas", 2: "Europe", 3: "Africa", 4: "Middle East", 5: "Asia and Oceania"}
_REGION_BOUNDS = ((2, 165, 1), (200, 399, 2), (400, 626, 3), (630, 698, 4), (700, 999, 5))

FAMILIES: dict[str, tuple[str, ...]] = {
    "atop": ("atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul"),
    "cow_alliance": ("cow_defense", "cow_neutral", "cow_nonagg", "cow_entente"),
    "dca": ("dca_general", "dca_sector", "dca_any"),
    "exercises": ("exercises",),
    "arms": ("arms_tiv",),
    "peacekeeping": ("pko_codeployed",),
    "visits": ("visits",),
    "contiguity": ("conttype",),
    "majors": ("cowmaj",),
    "mids": ("gml_mid",),
    "capital_distance": ("capdist",),
}
"""Family name -> the panel layers its ``add_<family>`` merges."""


# ------------------------------------------------------------------------------------------------ populations

_BASE = ["cowmaj"]
"""A layer every state-system store has (COW majors), asked for only because a panel needs one; dropped."""


def _stamp(frame: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    frame.attrs[ATTR] = dict(meta)
    return frame


def create_dyadyears(store: str | Path | None = None, *, directed: bool = True, system: str = "cow",
                     from_year: int | None = None, to_year: int | None = None) -> pd.DataFrame:
    """The dyad-years of the state system (ccode1, ccode2, year; gwcode1, gwcode2 for ``system="gw"``).

    ``directed=True`` (peacesciencer's default) gives both orderings; False keeps ccode1 < ccode2.
    """
    frame = panels.dyad_year(store, directed=directed, from_year=from_year, to_year=to_year, system=system,
                             layers=_BASE)
    frame = frame.drop(columns=["cowmaj1", "cowmaj2"])
    return _stamp(frame, {"unit": "dyad_year", "system": system.lower(), "directed": directed,
                          "store": None if store is None else str(store)})


def create_stateyears(store: str | Path | None = None, *, system: str = "cow", from_year: int | None = None,
                      to_year: int | None = None) -> pd.DataFrame:
    """The state-years of the state system (ccode, year; gwcode for ``system="gw"``)."""
    frame = panels.state_year(store, from_year=from_year, to_year=to_year, system=system,
                              layers=_BASE)
    frame = frame.drop(columns=["cowmaj"])
    return _stamp(frame, {"unit": "state_year", "system": system.lower(), "directed": None,
                          "store": None if store is None else str(store)})


# ------------------------------------------------------------------------------------------------ helpers

def _meta(df: pd.DataFrame, adder: str, units: tuple[str, ...] = ("dyad_year", "state_year")) -> dict[str, Any]:
    """The frame's unit and system; a clear error for a frame not made here or of a unit ``adder`` refuses."""
    meta = df.attrs.get(ATTR) if isinstance(df, pd.DataFrame) else None
    if not meta:
        raise DefdipError(f"{adder}: the frame carries no defdip unit; start from create_dyadyears() or "
                          "create_stateyears()")
    if meta["unit"] not in units:
        raise DefdipError(f"{adder} adds {' or '.join(u.replace('_', '-') for u in units)} columns; this frame "
                          f"is {meta['unit'].replace('_', '-')} (unit {meta['unit']!r})")
    return meta


def _keys(meta: dict[str, Any]) -> tuple[str, list[str]]:
    """The code prefix (ccode/gwcode) and the merge keys of the frame's unit."""
    prefix = "ccode" if meta["system"] == "cow" else "gwcode"
    if meta["unit"] == "dyad_year":
        return prefix, [f"{prefix}1", f"{prefix}2", "year"]
    return prefix, [prefix, "year"]


def _years(df: pd.DataFrame, adder: str) -> tuple[int, int]:
    if df.empty:
        raise DefdipError(f"{adder}: the frame is empty")
    return int(df["year"].min()), int(df["year"].max())


def _merge(df: pd.DataFrame, extra: pd.DataFrame, keys: list[str], meta: dict[str, Any], adder: str) -> pd.DataFrame:
    """Left-merge ``extra`` on the unit's keys; a column the frame already has is an error, not a suffix."""
    new = [c for c in extra.columns if c not in keys]
    clash = [c for c in new if c in df.columns]
    if clash:
        raise DefdipError(f"{adder}: the frame already has {', '.join(clash)}")
    extra = extra.astype({k: df[k].dtype for k in keys})
    out = df.merge(extra, on=keys, how="left", validate="many_to_one")
    return _stamp(out, meta)


def add_layers(df: pd.DataFrame, layers: str | Iterable[str], store: str | Path | None = None) -> pd.DataFrame:
    """Merge the named panel layers onto a frame from :func:`create_dyadyears` or :func:`create_stateyears`.

    The layers are computed by :mod:`defdip.panels` for the frame's system, direction and years; a dyad or
    state the frame has dropped stays dropped. ``store`` defaults to the store the frame was made from.
    """
    meta = _meta(df, "add_layers")
    store = store if store is not None else meta["store"]
    lo, hi = _years(df, "add_layers")
    _, keys = _keys(meta)
    if meta["unit"] == "dyad_year":
        extra = panels.dyad_year(store, directed=meta["directed"], from_year=lo, to_year=hi,
                                 system=meta["system"], layers=layers)
    else:
        extra = panels.state_year(store, from_year=lo, to_year=hi, system=meta["system"], layers=layers)
    return _merge(df, extra, keys, meta, "add_layers")


def _family(name: str):
    def add(df: pd.DataFrame, store: str | Path | None = None) -> pd.DataFrame:
        _meta(df, f"add_{name}")
        return add_layers(df, FAMILIES[name], store)

    layers = FAMILIES[name]
    add.__name__ = f"add_{name}"
    add.__doc__ = (f"Add the {', '.join(layers)} layer{'s' if len(layers) > 1 else ''} (see "
                   "``defdip panel layers``) to a dyad-year or state-year frame.")
    return add


add_atop = _family("atop")
add_cow_alliance = _family("cow_alliance")
add_dca = _family("dca")
add_exercises = _family("exercises")
add_arms = _family("arms")
add_peacekeeping = _family("peacekeeping")
add_visits = _family("visits")
add_contiguity = _family("contiguity")
add_majors = _family("majors")
add_mids = _family("mids")
add_capital_distance = _family("capital_distance")


def add_peace_years(df: pd.DataFrame, store: str | Path | None = None) -> pd.DataFrame:
    """Add gmlmidspell (years since the dyad's last GML MID onset), gmlmidspell2 and gmlmidspell3.

    Counted over the dyad's whole history from 1816 whatever years the frame holds (see the module
    docstring); NA after 2010. Dyad-years only: a spell is a property of the pair.
    """
    meta = _meta(df, "add_peace_years", ("dyad_year",))
    store = store if store is not None else meta["store"]
    lo, hi = _years(df, "add_peace_years")
    _, keys = _keys(meta)
    last = min(hi, panels.LAYERS["gml_mid"].last_year)
    if last < lo:
        spells = df[keys].drop_duplicates().assign(gmlmidspell=np.nan)
    else:
        history = panels.dyad_year(store, directed=False, to_year=last, system=meta["system"], layers=["gml_mid"])
        history["gmlmidspell"] = panels.peace_years(history, "gmlmidonset", keys[:2])
        spells = history[keys + ["gmlmidspell"]]
        if meta["directed"]:
            flipped = spells.rename(columns={keys[0]: keys[1], keys[1]: keys[0]})
            spells = pd.concat([spells, flipped], ignore_index=True)
    spells = spells.assign(gmlmidspell2=spells["gmlmidspell"] ** 2, gmlmidspell3=spells["gmlmidspell"] ** 3)
    return _merge(df, spells, keys, meta, "add_peace_years")


def region_of(codes: pd.Series) -> pd.Series:
    """COW region (1-5, see :data:`REGIONS`) of each state code; NA for a code in no range."""
    values = pd.to_numeric(codes, errors="coerce")
    out = pd.Series(pd.NA, index=codes.index, dtype="Int8")
    for first, last, region in _REGION_BOUNDS:
        out[(values >= first) & (values <= last)] = region
    return out


def add_region(df: pd.DataFrame) -> pd.DataFrame:
    """Add the COW region code (region; region1 and region2 for dyads), from the state code's range."""
    meta = _meta(df, "add_region")
    prefix, _ = _keys(meta)
    out = df.copy()
    if meta["unit"] == "dyad_year":
        for i in (1, 2):
            if f"region{i}" in out:
                raise DefdipError(f"add_region: the frame already has region{i}")
            out[f"region{i}"] = region_of(out[f"{prefix}{i}"])
    else:
        if "region" in out:
            raise DefdipError("add_region: the frame already has region")
        out["region"] = region_of(out[prefix])
    return _stamp(out, meta)


def _names_table(store: str | Path | None, system: str) -> pd.DataFrame:
    """Name spells: code, stateabb, statename, first and last year (COW states2016 or the G-W list)."""
    from defdip.store import connect, require_table

    con = connect(store)
    try:
        if system == "cow":
            require_table(con, "cow_states", "state_system")
            return con.execute("SELECT ccode AS code, stateabb, statenme AS statename, styear AS first, "
                               "endyear AS last FROM cow_states").df()
        require_table(con, "gw_states", "state_system")
        return con.execute("SELECT gwcode AS code, stateabb, statename, start_year AS first, end_year AS last "
                           "FROM gw_states").df()
    finally:
        con.close()


def add_names(df: pd.DataFrame, store: str | Path | None = None) -> pd.DataFrame:
    """Add the state's abbreviation and name as of the year (stateabb, statename; ...1/...2 for dyads).

    The name is that of the membership spell in force in the year; past the list's last year (COW 2016, the
    panels run to 2018) the latest earlier spell's. A code the list lacks stays NA.
    """
    meta = _meta(df, "add_names")
    store = store if store is not None else meta["store"]
    prefix, _ = _keys(meta)
    spells = _names_table(store, meta["system"])
    ids = [f"{prefix}1", f"{prefix}2"] if meta["unit"] == "dyad_year" else [prefix]
    pairs = pd.concat([df[[c, "year"]].rename(columns={c: "code"}) for c in ids]).drop_duplicates()
    pairs = pairs.astype({"code": "int64", "year": "int64"})
    cand = pairs.merge(spells.astype({"code": "int64", "first": "int64", "last": "int64"}), on="code")
    cand = cand[cand["first"] <= cand["year"]]
    cand = cand.assign(inside=cand["year"] <= cand["last"]).sort_values(["inside", "first"])
    best = cand.drop_duplicates(["code", "year"], keep="last")[["code", "year", "stateabb", "statename"]]
    out = df
    for i, col in enumerate(ids):
        suffix = str(i + 1) if len(ids) > 1 else ""
        part = best.rename(columns={"code": col, "stateabb": f"stateabb{suffix}",
                                    "statename": f"statename{suffix}"})
        out = _merge(out, part, [col, "year"], meta, "add_names")
    return out
