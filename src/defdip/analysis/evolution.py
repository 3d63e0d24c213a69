"""How defence diplomacy changed over time: activity evolution and the alliance-to-partnership index.

Definitions (used by every table, chart, report page and API route built on this module):

* **Period**: a year, a decade (``dates.decade_of``) or an era (``dates.ERAS``). ``period`` is the signed
  year / decade label, or the era id; ``period_start`` is the first year of the period (for sorting and
  charting; BCE years sort before CE years because years are signed) and ``period_label`` is for display.
* **Started**: engagements whose ``start_year`` falls in the period.
* **In force**: an engagement is in force in every year from ``start_year`` to ``end_year`` (a one-off event
  without an end year only in its start year). An ``ongoing`` engagement runs to the last year covered by its
  dataset(s) (the latest start or end year of any engagement of that dataset in the store), so "ongoing"
  never extends beyond what a source can see. ``in_force`` counts engagements in force in at least one year
  of the period.
* **Bilateral / multilateral**: two participants / three or more (an engagement with a single listed
  participant is neither). Shares are over the engagements *started* in the period.
* **Institutionalised** (:func:`is_institutionalised`): the engagement creates or is a standing body: an
  ``organisation`` instrument; an alliance treaty that sets up an organisation (ATOP ``organ1`` > 0), an
  integrated command (``intcom`` = 1) or is institutionalised in ATOP's measure (``milinst`` > 0); a framework
  defence cooperation agreement (DCAD ``type`` = general); or any record whose attributes say
  ``institutionalised: true`` (the curated genealogy may say so for standing councils and leagues).
* **Defence pact** (:func:`is_defence_pact`): an alliance treaty with a defence obligation (ATOP ``defense``,
  COW type I defence pact, or ``defence``/``defense`` among ``attributes["obligations"]``).

* **Each instance once**: a curated genealogy record that describes a record of a dataset (NATO, the Warsaw
  Pact, ANZUS, Lancaster House ...) is linked to it (``same_as``, :func:`link_curated`) and the instance counts
  once, as the dataset's record. The rule: same kind (defence pact, DCA or exercise), start years at most one
  apart, every state of the curated record among the dataset record's states, and for exercises every word
  of the dataset record's name in the curated title; the closest candidate wins (same year first, then the
  most similar participants). A curated record dated only to a decade or century within the years the
  datasets cover describes a development or a series ("the spread of DCAs after the Cold War", "Balikatan"),
  not one instance (``trend``): it counts as no instance and ties no dyad there.
* **Not counted**: dyad-year *spells* (``attributes["unit"] == "dyad_spell"``, what the COW alliance source
  makes from peacesciencer's dyad-year summary) are not treaties or events; they repeat, pair by pair, the
  alliances ATOP records as treaties, so evolution tables and pact counts leave them out.

The partnership index compares, per period, new defence pacts with new defence cooperation agreements and new
joint exercises, and counts allied dyads (a defence pact in force) against partnership dyads (a DCA in force or a
joint exercise in the past five years, without a defence pact) among polities that are not organisations.
Only dyad-years in which both polities exist count: the state system (the panel's base: COW system membership,
carried to 2018) in its years, the actor registry's spells outside them, so an exercise's five-year window
never makes a partner of a state that has ceased to exist. Counts are NA (never 0) for periods outside the
coverage of the data that could record them, and no series runs past the end of its data: a period that
begins after the alliance (ATOP), DCA or exercise data end is NA, and records after that end are not counted
(the curated records there are selective; Russia's own exercise list covers Russia only,
:data:`SINGLE_STATE_SOURCES`). :func:`coverage_windows` lists each dataset's window for charts and tables.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from defdip.analysis import panels
from defdip.core import dates
from defdip.core.actors import registry
from defdip.core.errors import DefdipError
from defdip.store import series
from defdip.store.series import StoreArg, connection

BY = ("year", "decade", "era")
ERA_IDS = [e[0] for e in dates.ERAS]
PARTNERSHIP_WINDOW = 5
"""A joint exercise makes a partnership dyad in its year and the four following years."""


# ----------------------------------------------------------------------------- engagements

def load_engagements(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every engagement with ``in_force_to`` (see the module docstring), parsed flags, its ``kind`` for the
    partnership index (pact, dca, exercise or None) and the curated links ``same_as`` and ``trend``."""
    frame = series.engagement_spans(con)
    attrs = [_attrs(a) for a in frame["attributes"]]
    frame["institutionalised"] = [is_institutionalised(i, a) for i, a in zip(frame["instrument"], attrs)]
    frame["defence_pact"] = [is_defence_pact(i, a) for i, a in zip(frame["instrument"], attrs)]
    frame["dyad_spell"] = [a.get("unit") == "dyad_spell" for a in attrs]
    # still in force when its dataset ends (DCAD's in_force_2010): ongoing, right-censored, not ended then
    frame["censored"] = frame["ongoing"].fillna(False).astype(bool) | pd.Series(
        [a.get("in_force_2010") is True for a in attrs], index=frame.index)
    frame["start_year"] = frame["start_year"].astype(int)
    frame["in_force_to"] = frame["in_force_to"].astype(int)
    frame["kind"] = index_kind(frame)
    frame["peacekeeping"] = is_peacekeeping(frame)
    frame["curated"] = frame["datasets"].map(lambda d: bool(len(d)) and set(d) <= CURATED if d is not None
                                             else False)
    same_as, trend = link_curated(con, frame)
    frame["same_as"] = same_as
    frame["trend"] = trend
    return frame


CURATED = {"genealogy", "user"}
"""Sources of curated records (the genealogy and a user's own records), as opposed to datasets."""

COARSE = ("decade", "century")
"""Date precisions too coarse for one instance: such a curated record describes a development or a series."""

_NAME_NOISE = frozenset({"exercise", "exercises", "unnamed", "joint", "military", "naval", "operation", "the",
                         "and", "of", "with", "between", "series", "annual", "multinational", "bilateral"})


def is_peacekeeping(frame: pd.DataFrame) -> pd.Series:
    """Peacekeeping deployments (instrument ``deployment`` with the ``peacekeeping`` sub-activity): a contributor
    tied to its mission and host, not a bilateral partnership with every other contributor or host."""
    subs = frame["sub_activities"].map(lambda v: "peacekeeping" in list(v) if v is not None else False)
    return (frame["instrument"] == "deployment") & subs.astype(bool)


def index_kind(frame: pd.DataFrame) -> pd.Series:
    """pact (a defence pact that is a treaty, not a dyad spell), dca, exercise or None, per engagement."""
    kind = pd.Series(None, index=frame.index, dtype=object)
    kind[frame["instrument"] == "exercise"] = "exercise"
    kind[frame["instrument"] == "defence_cooperation_agreement"] = "dca"
    kind[frame["defence_pact"] & ~frame["dyad_spell"]] = "pact"
    return kind


def _name_words(title: str) -> set[str]:
    words = {w for w in "".join(c.lower() if c.isalnum() else " " for c in str(title)).split()}
    return {w for w in words if len(w) >= 3 and not w.isdigit() and w not in _NAME_NOISE}


def link_curated(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """For each engagement: the id of the dataset record a curated record describes (``same_as``, else None),
    and whether it is a coarsely dated curated record inside the datasets' coverage (``trend``); see the
    module docstring for the rule."""
    same_as = pd.Series(None, index=frame.index, dtype=object)
    trend = pd.Series(False, index=frame.index)
    curated = frame["curated"] & frame["kind"].notna()
    if not curated.any():
        return same_as, trend
    data = frame[~frame["curated"] & frame["kind"].notna()]
    spans = {k: (int(g["start_year"].min()), int(g["in_force_to"].max())) for k, g in data.groupby("kind")}
    states = series.participant_states(con)
    for idx in frame.index[curated]:
        row = frame.loc[idx]
        kind, year = row["kind"], int(row["start_year"])
        lo, hi = spans.get(kind, (1, 0))
        if row["precision"] in COARSE and lo <= year <= hi:
            trend[idx] = True
            continue
        mine = states.get(row["id"], set())
        if not mine:
            continue
        near = data[(data["kind"] == kind) & ((data["start_year"] - year).abs() <= 1)]
        words = _name_words(row["title"]) if kind == "exercise" else set()
        best: tuple[int, float] | None = None
        for cand in near.itertuples():
            theirs = states.get(cand.id, set())
            named = _name_words(cand.title) if kind == "exercise" else set()
            if not mine <= theirs or (kind == "exercise" and not (named and named <= words)):
                continue
            score = (int(cand.start_year == year), len(mine) / len(theirs))
            if best is None or score > best:
                best, same_as[idx] = score, cand.id
    return same_as, trend


def _attrs(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return {}
    try:
        out = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return out if isinstance(out, dict) else {}


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def is_institutionalised(instrument: str, attributes: dict[str, Any]) -> bool:
    """Whether an engagement creates or is a standing body (see the module docstring)."""
    if attributes.get("institutionalised") is True or instrument == "organisation":
        return True
    if instrument == "alliance_treaty":
        return (_num(attributes.get("organ1")) > 0 or _num(attributes.get("milinst")) > 0
                or _num(attributes.get("intcom")) == 1)
    if instrument == "defence_cooperation_agreement":
        kind = str(attributes.get("type") or attributes.get("dca_type") or "").lower()
        return kind == "general" or _num(attributes.get("general")) == 1
    return False


def is_defence_pact(instrument: str, attributes: dict[str, Any]) -> bool:
    """Whether an engagement is an alliance treaty with a defence obligation."""
    if instrument != "alliance_treaty":
        return False
    if _num(attributes.get("defense")) == 1 or _num(attributes.get("defence")) == 1:
        return True
    obligations = attributes.get("obligations") or []
    if isinstance(obligations, str):
        obligations = [obligations]
    if any(str(o).lower() in ("defense", "defence", "defence pact", "defense pact", "mutual defence")
           for o in obligations):
        return True
    kind = str(attributes.get("cow_type") or attributes.get("alliance_type") or attributes.get("type") or "").lower()
    return kind in ("1", "i", "defense", "defence", "defense pact", "defence pact")


# ----------------------------------------------------------------------------- periods

def _check_by(by: str) -> str:
    if by not in BY:
        raise DefdipError(f"unknown period {by!r}; expected one of {', '.join(BY)}")
    return by


def ordinal(year: int, by: str) -> int:
    """An integer that orders periods and steps by one period (astronomical year, decade, era index)."""
    if by == "year":
        return dates.to_astronomical(year)
    if by == "decade":
        return dates.decade_of(year)
    return ERA_IDS.index(dates.era_of(year))


def _step(by: str) -> int:
    return 10 if by == "decade" else 1


def period_of_ordinal(value: int, by: str) -> int | str:
    if by == "year":
        return dates.from_astronomical(value)
    if by == "decade":
        return value
    return ERA_IDS[value]


def period_bounds(period: int | str, by: str) -> tuple[int | None, int | None]:
    """First and last year of a period (None for an open era bound)."""
    if by == "year":
        return int(period), int(period)
    if by == "decade":
        return _decade_years(int(period))
    _, first, last, _ = dates.ERAS[ERA_IDS.index(str(period))]
    return first, last


def _decade_years(decade: int) -> tuple[int, int]:
    """First and last year of a signed decade label (decade 0 spans 9 BCE to 9 CE: there is no year 0)."""
    if decade == 0:
        return -9, 9
    return (decade - 9, decade) if decade < 0 else (decade, decade + 9)


def period_label(period: int | str, by: str) -> str:
    if by == "year":
        return dates.format_year(int(period))
    if by == "decade":
        first, last = _decade_years(int(period))
        if int(period) >= 0 and first > 0:
            return f"{first}s"
        return f"{dates.format_year(first)} to {dates.format_year(last)}"
    return dates.ERAS[ERA_IDS.index(str(period))][3]


def _periods_of(frame: pd.DataFrame, by: str, start_col: str = "start_year",
                end_col: str = "in_force_to") -> pd.DataFrame:
    """One row per (engagement row, period) for every period the span touches: columns ``row``, ``ord``."""
    cache: dict[int, int] = {}

    def o(y: int) -> int:
        if y not in cache:
            cache[y] = ordinal(int(y), by)
        return cache[y]

    starts = np.array([o(y) for y in frame[start_col]], dtype=np.int64)
    ends = np.array([o(y) for y in frame[end_col]], dtype=np.int64)
    step = _step(by)
    counts = (ends - starts) // step + 1
    counts = np.maximum(counts, 1)
    rows = np.repeat(np.arange(len(frame)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return pd.DataFrame({"row": rows, "ord": np.repeat(starts, counts) + offsets * step})


def _decorate(out: pd.DataFrame, by: str) -> pd.DataFrame:
    """Add period, period_start and period_label from ``ord``; sort chronologically."""
    out = out.sort_values("ord", kind="stable").reset_index(drop=True)
    periods = {o: period_of_ordinal(int(o), by) for o in out["ord"].unique()}
    out.insert(0, "period", out["ord"].map(periods))
    if by == "era":
        out["period"] = pd.Categorical(out["period"], categories=ERA_IDS, ordered=True)
    starts = {o: period_bounds(p, by)[0] for o, p in periods.items()}
    out.insert(1, "period_start", out["ord"].map(starts).astype("Int64"))
    out.insert(2, "period_label", out["ord"].map({o: period_label(p, by) for o, p in periods.items()}))
    return out.drop(columns="ord")


# ----------------------------------------------------------------------------- evolution

def counted(frame: pd.DataFrame) -> pd.Series:
    """The engagements that count as instances: not dyad spells, not curated records of a dataset's record
    (``same_as``), not curated descriptions of a trend (see the module docstring)."""
    keep = pd.Series(True, index=frame.index)
    if "dyad_spell" in frame:
        keep &= ~frame["dyad_spell"].astype(bool)
    if "same_as" in frame:
        keep &= frame["same_as"].isna()
    if "trend" in frame:
        keep &= ~frame["trend"].astype(bool)
    return keep


EVOLUTION_COLUMNS = ["period", "period_start", "period_label", "activity", "instrument", "started", "in_force",
                     "bilateral", "multilateral", "institutionalised", "share_bilateral", "share_multilateral",
                     "share_institutionalised"]


def evolution(store: StoreArg = None, by: str = "decade") -> pd.DataFrame:
    """Engagements started and in force per period, activity and instrument, with bilateral and
    institutionalised shares (see the module docstring for every definition)."""
    _check_by(by)
    with connection(store) as con:
        frame = load_engagements(con)
    return evolution_from_frame(frame, by)


def evolution_from_frame(frame: pd.DataFrame, by: str = "decade") -> pd.DataFrame:
    """:func:`evolution` on a frame from :func:`load_engagements`."""
    _check_by(by)
    frame = frame[counted(frame)].reset_index(drop=True)
    if frame.empty:
        return pd.DataFrame(columns=EVOLUTION_COLUMNS)
    keys = ["ord", "activity", "instrument"]
    started = frame.assign(
        ord=[ordinal(int(y), by) for y in frame["start_year"]],
        bilateral=(frame["n_participants"] == 2).astype(int),
        multilateral=(frame["n_participants"] >= 3).astype(int),
        institutionalised=frame["institutionalised"].astype(int),
    ).groupby(keys, as_index=False).agg(started=("id", "size"), bilateral=("bilateral", "sum"),
                                        multilateral=("multilateral", "sum"),
                                        institutionalised=("institutionalised", "sum"))
    spans = _periods_of(frame, by)
    spans["activity"] = frame["activity"].to_numpy()[spans["row"]]
    spans["instrument"] = frame["instrument"].to_numpy()[spans["row"]]
    in_force = spans.groupby(keys, as_index=False).agg(in_force=("row", "nunique"))
    out = in_force.merge(started, on=keys, how="outer")
    for col in ("started", "in_force", "bilateral", "multilateral", "institutionalised"):
        out[col] = out[col].fillna(0).astype(int)
    denominator = out["started"].where(out["started"] > 0)
    for col in ("bilateral", "multilateral", "institutionalised"):
        out[f"share_{col}"] = (out[col] / denominator).astype("Float64")
    out = out.sort_values(keys).reset_index(drop=True)
    return _decorate(out, by)[EVOLUTION_COLUMNS]


# ----------------------------------------------------------------------------- dyads

def _dyad_years(pairs: pd.DataFrame, extend: int = 0) -> pd.DataFrame:
    """Distinct (a, b, year) for every year a pair is tied, each tie extended by ``extend`` later years."""
    if pairs.empty:
        return pd.DataFrame({"a": pd.Series(dtype=str), "b": pd.Series(dtype=str), "year": pd.Series(dtype=int)})
    first = np.array([dates.to_astronomical(int(y)) for y in pairs["first"]])
    last = np.array([dates.to_astronomical(int(y)) for y in pairs["last"]]) + extend
    counts = last - first + 1
    rows = np.repeat(np.arange(len(pairs)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    astro = np.repeat(first, counts) + offsets
    years = np.where(astro <= 0, astro - 1, astro)
    out = pd.DataFrame({"a": pairs["a"].to_numpy()[rows], "b": pairs["b"].to_numpy()[rows], "year": years})
    return out.drop_duplicates(ignore_index=True)


# ----------------------------------------------------------------------------- partnership index

INDEX_COLUMNS = ["period", "period_start", "period_label", "new_defence_pacts", "new_dcas", "new_exercises",
                 "partnership_ratio", "allied_dyads", "partnership_dyads", "partnership_share"]


SINGLE_STATE_SOURCES = {"ru_exercises": "RUS", "us_visits": "USA", "us_presence": "USA"}
"""Sources that record one state's ties only: they extend no dataset's general coverage (Russia's exercises
after MME and JME end in 2010 are Russia's, not the world's)."""


def _general(datasets: Any) -> bool:
    return any(d not in CURATED and d not in SINGLE_STATE_SOURCES for d in list(datasets))


def _coverage(frame: pd.DataFrame, mask: pd.Series) -> tuple[int, int] | None:
    """First and last year covered by the datasets recording ``mask`` for every state (not the curated
    records, not single-state sources such as Russia's exercise list)."""
    rows = frame[mask & frame["datasets"].map(_general)]
    if rows.empty:
        return None
    return int(rows["start_year"].min()), int(rows["in_force_to"].max())


def coverage_windows(store: StoreArg = None) -> pd.DataFrame:
    """Each dataset's coverage window in the store: source, first_year, last_year (its records' first start
    and last start or end year), records, activities (list) and scope ("all states", or the one state a
    single-state source follows). Charts and tables show these windows, so a jump where a dataset starts or
    ends reads as a coverage edge, not a trend. Curated sources (the genealogy) are selective and not listed."""
    with connection(store) as con:
        rows = series.source_windows(con)
    rows = rows[~rows["source"].isin(CURATED)].reset_index(drop=True)
    rows["scope"] = [f"{SINGLE_STATE_SOURCES[s]} only" if s in SINGLE_STATE_SOURCES else "all states"
                     for s in rows["source"]]
    rows["activities"] = rows["activities"].map(list)
    return rows.astype({"first_year": int, "last_year": int, "records": int})


def coverage_note(windows: pd.DataFrame, activities: Any = None) -> str:
    """One line listing the coverage windows (of the sources recording ``activities``, all when None)."""
    rows = windows if activities is None else windows[windows["activities"].map(
        lambda acts: bool(set(acts) & set(activities)))]
    parts = [f"{r.source} {dates.format_year(int(r.first_year))}-{dates.format_year(int(r.last_year))}"
             + ("" if r.scope == "all states" else f" ({r.scope})") for r in rows.itertuples()]
    return "Coverage: " + ", ".join(parts) + " (curated records outside them; series stop where data end)"


def partnership_index(store: StoreArg = None, by: str = "decade") -> pd.DataFrame:
    """New defence pacts vs new DCAs and exercises per period, and allied vs partnership dyads in force.

    * ``new_defence_pacts``, ``new_dcas``, ``new_exercises``: instances started in the period (pacts are
      treaties: ATOP, the genealogy, never COW dyad spells; a curated record of a dataset's record counts once,
      a curated trend not at all: :func:`counted`);
    * ``partnership_ratio``: (new DCAs + new exercises) / new defence pacts (NA without a new pact);
    * ``allied_dyads``: distinct pairs of polities with a defence pact in force in some year of the period;
    * ``partnership_dyads``: distinct pairs that in some year of the period had a DCA in force or a joint
      exercise in the past five years, and no defence pact in force that year;
    * ``partnership_share``: partnership / (allied + partnership) dyads.

    Dyads of states in the years of the state-system panel come from :func:`defdip.analysis.panels.dyad_year`
    (layers ``atop_defense``, ``dca_any``, ``exercises``; one home for who is tied to whom); other years (the
    genealogy's polities before 1816) and stores without the panel's tables use the engagements' participants.
    DCA, exercise and partnership columns are NA for periods outside the years covered by DCA and exercise
    data (unless the curated genealogy records one there).
    """
    _check_by(by)
    with connection(store) as con:
        frame = load_engagements(con)
        pact_years, partner_years, covered = index_dyads(con, frame)
    if frame.empty:
        return pd.DataFrame(columns=INDEX_COLUMNS)
    counts = {}
    for k in ("pact", "dca", "exercise"):
        mask = (frame["kind"] == k) & counted(frame)
        cov = _coverage(frame, mask)
        if cov is not None:  # nothing after the data end: curated records there are no series
            mask &= frame["start_year"] <= cov[1]
        counts[k] = mask
    return _partnership_from(frame, by, counts, pact_years, partner_years, covered)


def index_dyads(con: duckdb.DuckDBPyConnection,
                frame: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame, set[int]]:
    """The partnership index's dyad-years: allied (a, b, year), partnership-only (a, b, year) and the years
    the DCA and exercise data cover. ``frame`` is :func:`load_engagements`' (read again when None)."""
    if frame is None:
        frame = load_engagements(con)
    kinds = {k: frame["kind"] == k for k in ("pact", "dca", "exercise")}
    tying = frame["kind"].notna() & ~frame["trend"]
    wanted = frame.loc[tying, "id"].tolist()
    pairs = series.polity_pairs(con, ids=wanted or ["\0none"])
    panel = _panel_dyads(con)
    ids = {k: set(frame.loc[m, "id"]) for k, m in kinds.items()}
    pact_years = _dyad_years(pairs[pairs["engagement_id"].isin(ids["pact"])])
    dca_years = _dyad_years(pairs[pairs["engagement_id"].isin(ids["dca"])])
    ex_pairs = pairs[pairs["engagement_id"].isin(ids["exercise"])].copy()
    ex_pairs["last"] = ex_pairs["first"]  # an exercise counts from its start year ...
    ex_years = _dyad_years(ex_pairs, extend=PARTNERSHIP_WINDOW - 1)  # ... for five years
    ex_cov = _coverage(frame, kinds["exercise"])
    if ex_cov is not None:  # never beyond the last year the exercise data see
        ex_years = ex_years[ex_years["year"] <= max(ex_cov[1], int(frame.loc[kinds["exercise"], "in_force_to"].max()))]
    partner_years = pd.concat([dca_years, ex_years]).drop_duplicates()
    covered: set[int] = set()
    for cov in (_coverage(frame, kinds["dca"]), _coverage(frame, kinds["exercise"])):
        if cov:
            covered |= {y for y in range(cov[0], cov[1] + 1) if y != 0}
    general = set(covered)
    pact_years, partner_years = _existing(pact_years), _existing(partner_years)
    if panel is not None:
        lo, hi = panel["years"]
        def outside(f: pd.DataFrame) -> pd.DataFrame:
            return f[(f["year"] < lo) | (f["year"] > hi)]
        pact_years = pd.concat([outside(pact_years), panel["allied"]], ignore_index=True)
        partner_years = pd.concat([outside(partner_years), panel["partner"]], ignore_index=True)
        covered = {y for y in covered if y < lo or y > hi} | (panel["covered"] & general)
    if covered:  # partnership dyad-years stop where the DCA and exercise data end
        partner_years = partner_years[partner_years["year"] <= max(covered)]
    return pact_years, _without(partner_years, pact_years), covered


def _existing(dyads: pd.DataFrame) -> pd.DataFrame:
    """The dyad-years in which both polities existed (actor registry spells; unknown ids are kept)."""
    if dyads.empty:
        return dyads
    reg = registry()
    cache: dict[tuple[str, int], bool] = {}

    def alive(pid: str, year: int) -> bool:
        key = (pid, year)
        if key not in cache:
            cache[key] = reg.get(pid).existed(year) if pid in reg else True
        return cache[key]

    keep = [alive(a, int(y)) and alive(b, int(y)) for a, b, y in zip(dyads["a"], dyads["b"], dyads["year"])]
    return dyads[keep].reset_index(drop=True)


def _without(dyads: pd.DataFrame, remove: pd.DataFrame) -> pd.DataFrame:
    if dyads.empty or remove.empty:
        return dyads
    out = dyads.merge(remove[["a", "b", "year"]].drop_duplicates().assign(_x=1), on=["a", "b", "year"], how="left")
    return out[out["_x"].isna()].drop(columns="_x").reset_index(drop=True)


def _panel_dyads(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """Allied and partnership dyad-years of states from the panel layers, or None without them."""
    path = series.panel_store(con, con)  # (index_dyads is handed a connection: the panel reads its file)
    if path is None:
        return None
    wanted = ["atop_defense", "dca_any", "exercises"]
    try:
        panel = panels.dyad_year(path, layers=wanted)
    except DefdipError:
        return None
    ids = series.ccode_ids(con)

    def named(rows: pd.DataFrame) -> pd.DataFrame:
        a = rows["ccode1"].map(lambda c: ids.get(int(c), (str(c),))[0])
        b = rows["ccode2"].map(lambda c: ids.get(int(c), (str(c),))[0])
        out = pd.DataFrame({"a": a.where(a < b, b), "b": b.where(a < b, a), "year": rows["year"].astype(int)})
        return out.drop_duplicates(ignore_index=True)

    years = panel["year"].astype(int)
    lo, hi = int(years.min()), int(years.max())
    allied = named(panel[panel["atop_defense"].fillna(0) > 0])
    dca = named(panel[panel["dca_any"].fillna(0) > 0])
    ex = named(panel[panel["exercises"].fillna(0) > 0])
    ex = pd.concat([ex.assign(year=ex["year"] + k) for k in range(PARTNERSHIP_WINDOW)], ignore_index=True)
    system = named(panel[["ccode1", "ccode2", "year"]])  # the state system's dyad-years, no one after its end
    ex = ex.merge(system, on=["a", "b", "year"], how="inner")
    partner = pd.concat([dca, ex]).drop_duplicates(ignore_index=True)
    has = panel[["dca_any", "exercises"]].notna().any(axis=1)
    covered = set(years[has].unique().tolist())
    return {"years": (lo, hi), "allied": allied, "partner": partner, "covered": covered}


def _partnership_from(frame: pd.DataFrame, by: str, kinds: dict[str, pd.Series], pact_years: pd.DataFrame,
                      partner_years: pd.DataFrame, covered: set[int]) -> pd.DataFrame:
    starts = pd.DataFrame({"ord": [ordinal(int(y), by) for y in frame["start_year"]]})
    counts = pd.DataFrame({
        "new_defence_pacts": starts.assign(v=kinds["pact"].to_numpy()).groupby("ord")["v"].sum(),
        "new_dcas": starts.assign(v=kinds["dca"].to_numpy()).groupby("ord")["v"].sum(),
        "new_exercises": starts.assign(v=kinds["exercise"].to_numpy()).groupby("ord")["v"].sum(),
    })

    def per_period(dy: pd.DataFrame) -> pd.Series:
        if dy.empty:
            return pd.Series(dtype=int)
        yrs = {y: ordinal(int(y), by) for y in dy["year"].unique()}
        return dy.assign(ord=dy["year"].map(yrs)).drop_duplicates(["a", "b", "ord"]).groupby("ord").size()

    years = list(range(int(frame["start_year"].min()), int(frame["in_force_to"].max()) + 1))
    all_ords = sorted({ordinal(y, by) for y in years if y != 0})
    counts = counts.reindex(all_ords)
    counts["allied_dyads"] = per_period(pact_years)
    counts["partnership_dyads"] = per_period(partner_years)
    counts = counts.fillna(0).astype(int)
    out = counts.reset_index().rename(columns={"index": "ord"})
    out = out.astype({c: "Int64" for c in out.columns if c != "ord"})

    covered_ords = {ordinal(y, by) for y in covered}
    dca_cov, exercise_cov = _coverage(frame, kinds["dca"]), _coverage(frame, kinds["exercise"])

    def in_range(cov: tuple[int, int] | None, o: int) -> bool:
        return cov is not None and ordinal(cov[0], by) <= o <= ordinal(cov[1], by)

    ends = [c[1] for c in (dca_cov, exercise_cov) if c is not None]

    def after(o: int) -> bool:  # a period that begins after the partnership data end
        return bool(ends) and o > ordinal(max(ends), by)

    pact_cov = _coverage(frame, kinds["pact"])
    if pact_cov is not None:  # pacts and allied dyads stop where the alliance data end
        late = out["ord"].map(lambda o: o > ordinal(pact_cov[1], by))
        for col in ("new_defence_pacts", "allied_dyads"):
            out[col] = out[col].mask(late)
    tests: tuple[tuple[str, Callable[[int], bool]], ...] = (
        ("new_dcas", lambda o: in_range(dca_cov, o)), ("new_exercises", lambda o: in_range(exercise_cov, o)),
        ("partnership_dyads", lambda o: o in covered_ords))
    for col, test in tests:
        ok = [test(o) or (out.at[i, col] > 0 and not after(o)) for i, o in enumerate(out["ord"])]
        out[col] = out[col].where(pd.Series(ok))
    out = out[(out[["new_defence_pacts", "allied_dyads"]].fillna(0).sum(axis=1) > 0)
              | out[["new_dcas", "new_exercises", "partnership_dyads"]].notna().any(axis=1)]
    pacts = out["new_defence_pacts"].astype("Float64")
    out["partnership_ratio"] = ((out["new_dcas"].fillna(0) + out["new_exercises"].fillna(0)).astype("Float64")
                                / pacts.where(pacts > 0))
    out.loc[out["new_dcas"].isna() & out["new_exercises"].isna(), "partnership_ratio"] = pd.NA
    total = (out["allied_dyads"] + out["partnership_dyads"]).astype("Float64")
    out["partnership_share"] = out["partnership_dyads"].astype("Float64") / total.where(total > 0)
    return _decorate(out.reset_index(drop=True), by)[INDEX_COLUMNS]
