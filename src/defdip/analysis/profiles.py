"""Country and dyad profiles: a polity's engagements over time across every activity.

COW alliance dyad spells (see :mod:`defdip.analysis.evolution`) are left out: they repeat ATOP's treaties pair by pair.
Names resolve through the read layer's one resolver, :func:`defdip.store.queries.resolve_polity` (a polity id
such as ``USA`` or ``athens`` works too); an unknown name raises :class:`defdip.core.actors.UnknownPolityError`
with suggestions. Every read of the store goes through :mod:`defdip.store.queries`. Years follow
:mod:`defdip.analysis.evolution` (``last_year`` is the last year an engagement was in force).

Peacekeeping is not a bilateral partnership: a UN deployment ties a contributor to its mission and host, not
to every other contributor (India and Pakistan share 171 UNMOGIP records as its two hosts). Partner rankings
and dyad profiles therefore leave peacekeeping deployments (:func:`defdip.analysis.evolution.is_peacekeeping`) out by
default and count them apart, in a ``peacekeeping`` column / entry; ``peacekeeping=True`` counts them in.
A polity's own profile still counts its own deployments among its engagements, and says how many.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from defdip.analysis.evolution import load_engagements
from defdip.core import dates
from defdip.core.actors import Polity, registry
from defdip.core.codebook import codebook
from defdip.core.errors import DefdipError
from defdip.store import queries
from defdip.store.queries import StoreLike, StoreReader, reading

TIMELINE_COLUMNS = ["date", "id", "title", "activity", "instrument", "start_year", "end_year", "ongoing", "role",
                    "n_participants", "datasets", "sources"]
"""``ongoing``: still in force at the end of its data (a DCA in force when DCAD ends in 2010 is right-censored
there, not ended: its ``end_year`` is NA)."""


def _polity_dict(p: Polity, name: str | None = None) -> dict[str, Any]:
    return {"id": p.id, "name": name or p.name, "kind": p.kind, "ccode": p.ccode, "years": p.years()}


def name_window(name: str) -> tuple[int, int, str, str] | None:
    """When ``name`` is a dated name of a polity (``USSR``: Russia in 1922-1991), the years it covers, the
    name to show and a note; a profile asked for by such a name covers those years only."""
    reg = registry()
    if not isinstance(name, str) or name in reg:
        return None
    dated = reg.dated_name(name)
    if dated is None or dated[0].id != queries.polity_id(name):
        return None
    polity, lo, hi, _ = dated
    shown = reg.display_name(polity.id, lo)
    note = (f"{name!r} is the registry's name for {polity.name} [{polity.id}] in {lo}-{hi}: this profile "
            f"covers those years (ask for {polity.id} for every year)")
    return lo, hi, shown, note


def _notes(name: str) -> list[str]:
    note = queries.resolve_polity(name).note
    window = name_window(name)
    return [n for n in (note, window[3] if window else None) if n]


def _in_window(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    window = name_window(name)
    if window is None or frame.empty:
        return frame
    lo, hi = window[0], window[1]
    return frame[(frame["start_year"] <= hi) & (frame["in_force_to"] >= lo)].reset_index(drop=True)


def _clipped(span: tuple[int | None, int | None], name: str) -> tuple[int | None, int | None]:
    window = name_window(name)
    first, last = span
    if window is None or first is None or last is None:
        return span
    return max(first, window[0]), min(last, window[1])


def _shown_name(name: str, polity: Polity) -> str:
    window = name_window(name)
    return window[2] if window else polity.name


@dataclass(frozen=True)
class ProfileData:
    """What every country profile of a store is cut from, read once: the engagements, every polity's roles in
    them and every polity's partners per activity (two queries for all polities, instead of two per profile).
    A server keeps one per store version (:mod:`defdip.present.web.data`); the profiles are the same."""

    frame: pd.DataFrame
    """:func:`defdip.analysis.evolution.load_engagements`, indexed by nothing (read-only, shared)."""
    positions: pd.Index
    """The engagement ids of ``frame`` in its order (an id's row position)."""
    roles: pd.DataFrame
    """:func:`defdip.store.queries.engagement_roles`, ordered by polity."""
    partners: pd.DataFrame
    """:func:`defdip.store.queries.partner_activity` of every polity (column ``self``), ordered by it."""
    role_rows: dict[str, tuple[int, int]]
    partner_rows: dict[str, tuple[int, int]]

    def roles_of(self, polity_id: str) -> pd.DataFrame:
        lo, hi = self.role_rows.get(polity_id, (0, 0))
        return self.roles.iloc[lo:hi][["id", "role"]].reset_index(drop=True)

    def partners_of(self, polity_id: str) -> pd.DataFrame:
        lo, hi = self.partner_rows.get(polity_id, (0, 0))
        return self.partners.iloc[lo:hi].drop(columns="self").reset_index(drop=True)

    def engagements_of(self, polity_id: str) -> pd.DataFrame:
        """What :func:`_engagements_of` gives for one polity, from the shared tables."""
        roles = self.roles_of(polity_id)
        rows = self.frame.iloc[np.sort(self.positions.get_indexer(roles["id"]))]
        return rows[~rows["dyad_spell"].to_numpy()].merge(roles, on="id", how="left")


def _row_ranges(keys: pd.Series) -> dict[str, tuple[int, int]]:
    """First and past-last row of each value of a sorted column."""
    values = keys.to_numpy()
    if not len(values):
        return {}
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    return {str(values[a]): (int(a), int(b)) for a, b in zip(starts, ends)}


def profile_data(store: StoreLike = None, frame: pd.DataFrame | None = None) -> ProfileData:
    """The shared tables of :class:`ProfileData` (``frame``: the store's engagements, when already loaded)."""
    with reading(store) as db:
        if frame is None:
            frame = load_engagements(db.con)
        roles = queries.engagement_roles(db)
        partners = queries.partner_activity(None, _partner_engagements(frame[~frame["dyad_spell"].to_numpy()]), db)
    return ProfileData(frame=frame, positions=pd.Index(frame["id"]), roles=roles, partners=partners,
                       role_rows=_row_ranges(roles["polity_id"]), partner_rows=_row_ranges(partners["self"]))


def _partner_engagements(frame: pd.DataFrame) -> pd.DataFrame:
    """Engagements as :func:`defdip.store.queries.partner_activity` reads them: peacekeeping deployments as an
    activity of their own (counted apart)."""
    eng = frame[["id", "activity", "start_year", "in_force_to"]].copy()
    eng.loc[frame["peacekeeping"].to_numpy(), "activity"] = "_peacekeeping"
    return eng


def _engagements_of(db: StoreReader, polity_ids: list[str], frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Engagements in which every polity of ``polity_ids`` takes part, with the first one's role (from
    ``frame``, the store's :func:`defdip.analysis.evolution.load_engagements`, when one is given)."""
    if frame is None:
        frame = load_engagements(db.con)
    roles = queries.shared_engagements(polity_ids, db)
    return frame[frame["id"].isin(set(roles["id"])) & ~frame["dyad_spell"]].merge(roles, on="id", how="left")


def _per_year(frame: pd.DataFrame) -> pd.DataFrame:
    activities = codebook().activity_ids
    if frame.empty:
        return pd.DataFrame(columns=["year", *activities, "total"])
    table = frame.groupby(["start_year", "activity"]).size().unstack(fill_value=0).reindex(
        columns=activities, fill_value=0)
    table["total"] = table.sum(axis=1)
    table = table.sort_index()
    table.index.name = "year"
    table.columns.name = None
    return table.reset_index()


def _timeline(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=TIMELINE_COLUMNS)
    kept = ["id", "title", "activity", "instrument", "start_year", "start_month", "start_day", "end_year",
            "censored", "n_participants", "datasets", "citations", *(["role"] if "role" in frame else [])]
    out = frame[kept].copy()
    # chronological whatever the precision (dates.sort_key: a year without a month comes first); there is no
    # year 0, so signed years order as astronomical ones do
    out["_month"] = out["start_month"].fillna(0)
    out["_day"] = out["start_day"].fillna(0)
    out = out.sort_values(["start_year", "_month", "_day", "id"]).reset_index(drop=True)
    out["date"] = _dates(out["start_year"].tolist(), out["start_month"].to_numpy(dtype=float, na_value=np.nan).tolist(),
                         out["start_day"].to_numpy(dtype=float, na_value=np.nan).tolist())
    out["ongoing"] = out["censored"].astype(bool)
    out["end_year"] = out["end_year"].astype("Int64").mask(out["ongoing"])
    out["datasets"] = [_as_list(v) for v in out["datasets"].tolist()]
    out["sources"] = [_as_list(v) for v in out["citations"].tolist()]
    if "role" not in out:
        out["role"] = None
    return out[TIMELINE_COLUMNS]


def _as_list(values: Any) -> list[Any]:
    """A list column's value (the store's lists arrive as numpy arrays) as a plain list; [] for none."""
    if values is None:
        return []
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def _dates(years: list[int], months: list[float], days: list[float]) -> list[str]:
    """Each start as the timeline shows it: ISO year-month(-day) where the month is known (common era), else
    the year as :func:`defdip.core.dates.format_year` writes it. Months and days: floats, NaN where unknown."""
    out = []
    for year, month, day in zip(years, months, days, strict=True):
        if month == month and year > 0:  # NaN is the one value unequal to itself
            out.append(f"{year:04d}-{int(month):02d}" + (f"-{int(day):02d}" if day == day else ""))
        else:
            out.append(dates.format_year(year))
    return out


def _per_activity(frame: pd.DataFrame) -> dict[str, int]:
    counts = frame["activity"].value_counts() if not frame.empty else pd.Series(dtype=int)
    return {a: int(counts.get(a, 0)) for a in codebook().activity_ids}


def _span(frame: pd.DataFrame) -> tuple[int | None, int | None]:
    if frame.empty:
        return None, None
    return int(frame["start_year"].min()), int(frame["in_force_to"].max())


def profile(country: str, store: StoreLike = None, *, peacekeeping: bool = False,
            frame: pd.DataFrame | None = None, data: ProfileData | None = None) -> dict[str, Any]:
    """A polity's engagements over time: ``polity`` (named as ``country`` names it: ``USSR`` gives the Soviet
    Union's years only, :func:`name_window`), ``notes`` (an ambiguous name: which polity was chosen and the
    alternatives), ``engagements``, ``first_year``, ``last_year``,
    ``per_activity`` (dict), ``peacekeeping`` (its peacekeeping deployments, among the engagements),
    ``per_year`` (DataFrame year x activity), ``partners`` (DataFrame: id, name, kind, engagements, one column
    per activity, peacekeeping, first_year, last_year; most engagements first; peacekeeping deployments only
    in their own column unless ``peacekeeping``) and ``timeline`` (DataFrame of engagements sorted by date with
    title, activity, datasets and sources).

    ``frame``: the store's :func:`defdip.analysis.evolution.load_engagements`, already loaded (a server keeps one per
    store version), so that a profile does not read every engagement again; ``data`` (:func:`profile_data`)
    the same for the roles and partners of every polity: the result is the same."""
    polity = queries.resolve_polity(country).polity
    shared = data if data is not None and name_window(country) is None else None  # a dated name: its years
    with reading(store) as db:
        if shared is not None:
            frame = shared.engagements_of(polity.id)
            partners = _partners(db, polity.id, frame, peacekeeping, shared.partners_of(polity.id))
        else:
            frame = _in_window(_engagements_of(db, [polity.id], frame), country)
            partners = _partners(db, polity.id, frame, peacekeeping)
    first, last = _clipped(_span(frame), country)
    return {
        "polity": _polity_dict(polity, _shown_name(country, polity)), "notes": _notes(country),
        "engagements": len(frame), "first_year": first, "last_year": last,
        "per_activity": _per_activity(frame), "peacekeeping": int(frame["peacekeeping"].sum()) if len(frame) else 0,
        "peacekeeping_in_partners": peacekeeping, "per_year": _per_year(frame), "partners": partners,
        "timeline": _timeline(frame),
    }


def _partners(db: StoreReader, polity_id: str, frame: pd.DataFrame, peacekeeping: bool,
              rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """``rows``: the polity's :func:`defdip.store.queries.partner_activity` over ``frame``, when read already."""
    activities = codebook().activity_ids
    columns = ["id", "name", "kind", "engagements", *activities, "peacekeeping", "first_year", "last_year"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    if rows is None:
        rows = queries.partner_activity(polity_id, _partner_engagements(frame), db)
    if rows.empty:
        return pd.DataFrame(columns=columns)
    # one pass over the partner-activity rows (a few hundred): pandas' groupby, pivot and joins cost more
    counts: dict[str, dict[str, int]] = {}
    meta: dict[str, list[Any]] = {}
    spans: dict[str, list[int]] = {}
    spans_all: dict[str, list[int]] = {}
    for pid, name, kind, activity, n, first, last in zip(
            *(rows[c].tolist() for c in ("id", "name", "kind", "activity", "n", "first_year", "last_year")),
            strict=True):
        per = counts.setdefault(pid, {})
        per[activity] = per.get(activity, 0) + int(n)
        seen = meta.setdefault(pid, [None, None])
        for i, value in enumerate((name, kind)):  # the first name and kind given
            if seen[i] is None and not pd.isna(value):
                seen[i] = value
        for table, counted in ((spans_all, True), (spans, peacekeeping or activity != "_peacekeeping")):
            if counted:
                span = table.setdefault(pid, [first, last])
                span[0], span[1] = min(span[0], first), max(span[1], last)
    if not spans:  # only peacekeeping rows: their years
        spans = spans_all
    pko = {pid: per.get("_peacekeeping", 0) for pid, per in counts.items()}
    wide = {pid: {a: per.get(a, 0) + (pko[pid] if peacekeeping and a == "contacts" else 0) for a in activities}
            for pid, per in counts.items()}
    total = {pid: sum(per.values()) for pid, per in wide.items()}  # distinct engagements with the partner
    order = sorted(counts, key=lambda pid: (-total[pid], -pko[pid], pid))
    return pd.DataFrame({
        "id": pd.array(order, dtype=rows["id"].dtype),
        "name": pd.array([meta[p][0] for p in order], dtype=rows["name"].dtype),
        "kind": pd.array([meta[p][1] for p in order], dtype=rows["kind"].dtype),
        "engagements": np.array([total[p] for p in order], dtype=np.int64),
        **{a: np.array([wide[p][a] for p in order], dtype=np.int64) for a in activities},
        "peacekeeping": np.array([pko[p] for p in order], dtype=np.int64),
        "first_year": pd.array([spans[p][0] if p in spans else None for p in order], dtype="Int64"),
        "last_year": pd.array([spans[p][1] if p in spans else None for p in order], dtype="Int64"),
    })


def dyad_profile(a: str, b: str, store: StoreLike = None, *, peacekeeping: bool = False,
                 frame: pd.DataFrame | None = None) -> dict[str, Any]:
    """The engagements two polities share: ``polities`` (two dicts), ``engagements``, ``first_year``,
    ``last_year``, ``per_activity``, ``per_instrument``, ``per_year`` and ``timeline`` (roles are ``a``'s);
    ``peacekeeping``: the peacekeeping deployments they share, left out of the rest unless ``peacekeeping``;
    ``frame`` as in :func:`profile`."""
    pa, pb = queries.resolve_polity(a).polity, queries.resolve_polity(b).polity
    if pa.id == pb.id:
        raise DefdipError(f"{a!r} and {b!r} are the same polity ({pa.name}); a dyad needs two")
    with reading(store) as db:
        frame = _in_window(_in_window(_engagements_of(db, [pa.id, pb.id], frame), a), b)
    shared_pko = int(frame["peacekeeping"].sum()) if len(frame) else 0
    if not peacekeeping and len(frame):
        frame = frame[~frame["peacekeeping"]].reset_index(drop=True)
    first, last = _clipped(_clipped(_span(frame), a), b)
    per_instrument = ({str(k): int(v) for k, v in frame["instrument"].value_counts().sort_index().items()}
                      if not frame.empty else {})
    return {
        "polities": [_polity_dict(pa, _shown_name(a, pa)), _polity_dict(pb, _shown_name(b, pb))],
        "notes": _notes(a) + _notes(b), "engagements": len(frame), "first_year": first,
        "last_year": last, "per_activity": _per_activity(frame), "per_instrument": per_instrument,
        "peacekeeping": shared_pko, "peacekeeping_included": peacekeeping,
        "per_year": _per_year(frame), "timeline": _timeline(frame),
    }
