"""A composable panel API in the spirit of peacesciencer: create a population, then add one family at a time.

```python
from defdip.analysis import pipeline as dp

df = dp.create_dyadyears(directed=False, from_year=1980, to_year=2010)
df = dp.add_mids(df)             # gmlmidonset, gmlmidongoing
df = dp.add_peace_years(df)      # gmlmidspell, gmlmidspell2, gmlmidspell3
df = dp.add_capital_distance(df)  # capdist
```

A frame made here carries its unit and state system in ``df.attrs["defdip"]`` (unit, system, directed,
store); every ``add_*`` reads them, refuses a frame of the wrong unit with one clear line, and merges the
columns that :func:`defdip.analysis.panels.dyad_year` / :func:`defdip.analysis.panels.state_year` compute for the same
population -- the panel machinery is the one engine, this module only merges its layers. Outside a layer's
coverage its columns are NA. :func:`defdip.analysis.panels.dyad_year` stays the one-call form.

Each family is one or more layers of :data:`defdip.analysis.panels.LAYERS` (:data:`FAMILIES`, from the
layers' ``family``); their conventions
(peace years' counting, the region ranges, names as of the year) are in the layers' descriptions, listed by
``defdip panel layers``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from defdip.analysis import panels
from defdip.core.errors import DefdipError

ATTR = "defdip"
"""Key of ``DataFrame.attrs`` holding the frame's unit, system, direction and store."""

FAMILIES: dict[str, tuple[str, ...]] = panels.families()
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
    meta: dict[str, Any] | None = df.attrs.get(ATTR) if isinstance(df, pd.DataFrame) else None
    if not meta:
        raise DefdipError(f"{adder}: the frame carries no defdip unit; start from create_dyadyears() or "
                          "create_stateyears()")
    if meta["unit"] not in units:
        raise DefdipError(f"{adder} adds {' or '.join(u.replace('_', '-') for u in units)} columns; this frame "
                          f"is {meta['unit'].replace('_', '-')} (unit {meta['unit']!r})")
    return meta


def _keys(meta: dict[str, Any]) -> list[str]:
    """The merge keys of the frame's unit and system."""
    prefix = "ccode" if meta["system"] == "cow" else "gwcode"
    if meta["unit"] == "dyad_year":
        return [f"{prefix}1", f"{prefix}2", "year"]
    return [prefix, "year"]


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

    The layers are computed by :mod:`defdip.analysis.panels` for the frame's system, direction and years; a dyad or
    state the frame has dropped stays dropped. ``store`` defaults to the store the frame was made from.
    """
    meta = _meta(df, "add_layers")
    store = store if store is not None else meta["store"]
    lo, hi = _years(df, "add_layers")
    keys = _keys(meta)
    if meta["unit"] == "dyad_year":
        extra = panels.dyad_year(store, directed=meta["directed"], from_year=lo, to_year=hi,
                                 system=meta["system"], layers=layers)
    else:
        extra = panels.state_year(store, from_year=lo, to_year=hi, system=meta["system"], layers=layers)
    return _merge(df, extra, keys, meta, "add_layers")


def _family(name: str) -> Callable[[pd.DataFrame, str | Path | None], pd.DataFrame]:
    """``add_<name>``: merges the family's layers onto a frame of a unit every one of them exists in."""
    units = tuple(u for u in panels.UNITS if all(u in panels.LAYERS[n].units for n in FAMILIES[name]))

    def add(df: pd.DataFrame, store: str | Path | None = None) -> pd.DataFrame:
        _meta(df, f"add_{name}", units)
        return add_layers(df, FAMILIES[name], store)

    layers = FAMILIES[name]
    add.__name__ = f"add_{name}"
    plural = "s" if len(layers) > 1 else ""
    add.__doc__ = (f"Add the {', '.join(layers)} layer{plural} (see ``defdip panel layers``) to a "
                   f"{' or '.join(u.replace('_', '-') for u in units)} frame.")
    return add


add_atop = _family("atop")
add_cow_alliance = _family("cow_alliance")
add_dca = _family("dca")
add_exercises = _family("exercises")
add_arms = _family("arms")
add_peacekeeping = _family("peacekeeping")
add_visits = _family("visits")
add_attaches = _family("attaches")
add_records = _family("records")
add_contiguity = _family("contiguity")
add_majors = _family("majors")
add_mids = _family("mids")
add_capital_distance = _family("capital_distance")


add_peace_years = _family("peace_years")
add_region = _family("region")
add_names = _family("names")
add_dd_index = _family("dd_index")
add_events = _family("events")
