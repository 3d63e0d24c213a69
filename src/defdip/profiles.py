"""Country and dyad profiles: a polity's engagements over time across every activity.

COW alliance dyad spells (see :mod:`defdip.evolution`) are left out: they repeat ATOP's treaties pair by pair.
Names resolve through ``actors.registry().resolve`` (a polity id such as ``USA`` or ``athens`` works too);
an unknown name raises :class:`defdip.actors.UnknownPolityError` with suggestions. Years follow
:mod:`defdip.evolution` (``last_year`` is the last year an engagement was in force).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from defdip import dates
from defdip.codebook import codebook
from defdip.evolution import StoreArg, connection, load_engagements

TIMELINE_COLUMNS = ["date", "id", "title", "activity", "instrument", "start_year", "end_year", "role",
                    "n_participants", "datasets", "sources"]


def resolve(name: str):
    """The polity ``name`` refers to (id, name, variant, alias, COW abbreviation or ISO3)."""
    from defdip.actors import registry

    reg = registry()
    if isinstance(name, str) and name in reg:
        return reg.get(name)
    return reg.resolve(name)


def _polity_dict(p) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "kind": p.kind, "ccode": p.ccode, "years": p.years()}


def _engagements_of(con, polity_ids: list[str]) -> pd.DataFrame:
    """Engagements in which every polity of ``polity_ids`` takes part, with the first one's role."""
    frame = load_engagements(con)
    sets = []
    roles = None
    for pid in polity_ids:
        rows = con.execute("SELECT engagement_id AS id, string_agg(DISTINCT role, ', ') AS role FROM participants "
                           "WHERE polity_id = ? GROUP BY 1", [pid]).df()
        sets.append(set(rows["id"]))
        if roles is None:
            roles = rows
    ids = set.intersection(*sets) if sets else set()
    out = frame[frame["id"].isin(ids) & ~frame["dyad_spell"]].merge(roles, on="id", how="left")
    return out


def _per_year(frame: pd.DataFrame) -> pd.DataFrame:
    activities = codebook().activity_ids
    if frame.empty:
        return pd.DataFrame(columns=["year", *activities, "total"])
    table = pd.crosstab(frame["start_year"], frame["activity"]).reindex(columns=activities, fill_value=0)
    table["total"] = table.sum(axis=1)
    table = table.sort_index()
    table.index.name = "year"
    table.columns.name = None
    return table.reset_index()


def _timeline(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=TIMELINE_COLUMNS)
    out = frame.copy()
    out["_key"] = [dates.sort_key(int(y), None if pd.isna(m) else int(m), None if pd.isna(d) else int(d))
                   for y, m, d in zip(out["start_year"], out["start_month"], out["start_day"])]
    out = out.sort_values(["_key", "id"]).reset_index(drop=True)
    out["date"] = [_date(int(y), m, d) for y, m, d in zip(out["start_year"], out["start_month"], out["start_day"])]
    out["end_year"] = out["end_year"].astype("Int64")
    out["datasets"] = out["datasets"].map(lambda v: list(v) if v is not None else [])
    out["sources"] = out["citations"].map(lambda v: list(v) if v is not None else [])
    if "role" not in out:
        out["role"] = None
    return out[TIMELINE_COLUMNS]


def _date(year: int, month: Any, day: Any) -> str:
    text = dates.format_year(year)
    if pd.notna(month) and year > 0:
        text = f"{year:04d}-{int(month):02d}" + (f"-{int(day):02d}" if pd.notna(day) else "")
    return text


def _per_activity(frame: pd.DataFrame) -> dict[str, int]:
    counts = frame["activity"].value_counts() if not frame.empty else pd.Series(dtype=int)
    return {a: int(counts.get(a, 0)) for a in codebook().activity_ids}


def _span(frame: pd.DataFrame) -> tuple[int | None, int | None]:
    if frame.empty:
        return None, None
    return int(frame["start_year"].min()), int(frame["in_force_to"].max())


def profile(country: str, store: StoreArg = None) -> dict[str, Any]:
    """A polity's engagements over time: ``polity``, ``engagements``, ``first_year``, ``last_year``,
    ``per_activity`` (dict), ``per_year`` (DataFrame year x activity), ``partners`` (DataFrame: id, name, kind,
    engagements, one column per activity, first_year, last_year; most engagements first) and ``timeline``
    (DataFrame of engagements sorted by date with title, activity, datasets and sources)."""
    polity = resolve(country)
    with connection(store) as con:
        frame = _engagements_of(con, [polity.id])
        partners = _partners(con, polity.id, frame)
    first, last = _span(frame)
    return {
        "polity": _polity_dict(polity), "engagements": len(frame), "first_year": first, "last_year": last,
        "per_activity": _per_activity(frame), "per_year": _per_year(frame), "partners": partners,
        "timeline": _timeline(frame),
    }


def _partners(con, polity_id: str, frame: pd.DataFrame) -> pd.DataFrame:
    activities = codebook().activity_ids
    columns = ["id", "name", "kind", "engagements", *activities, "first_year", "last_year"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    con.register("_profile_eng", frame[["id", "activity", "start_year", "in_force_to"]])
    try:
        rows = con.execute("""
            SELECT p.polity_id AS id, any_value(coalesce(pol.name, p.name)) AS name, any_value(pol.kind) AS kind,
                   e.activity, count(DISTINCT e.id) AS n, min(e.start_year) AS first_year,
                   max(e.in_force_to) AS last_year
            FROM _profile_eng e JOIN participants p ON p.engagement_id = e.id
            LEFT JOIN polities pol ON pol.id = p.polity_id
            WHERE p.polity_id <> ? AND p.polity_id <> 'unknown'
            GROUP BY p.polity_id, e.activity""", [polity_id]).df()
    finally:
        con.unregister("_profile_eng")
    if rows.empty:
        return pd.DataFrame(columns=columns)
    wide = rows.pivot_table(index="id", columns="activity", values="n", aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=activities, fill_value=0).astype(int)
    meta = rows.groupby("id").agg(name=("name", "first"), kind=("kind", "first"), first_year=("first_year", "min"),
                                  last_year=("last_year", "max"))
    # distinct engagements with the partner (an engagement counts once even across activities: it has one)
    wide["engagements"] = wide.sum(axis=1)
    out = meta.join(wide).reset_index()
    out = out.sort_values(["engagements", "id"], ascending=[False, True]).reset_index(drop=True)
    return out[columns]


def dyad_profile(a: str, b: str, store: StoreArg = None) -> dict[str, Any]:
    """The engagements two polities share: ``polities`` (two dicts), ``engagements``, ``first_year``,
    ``last_year``, ``per_activity``, ``per_instrument``, ``per_year`` and ``timeline`` (roles are ``a``'s)."""
    pa, pb = resolve(a), resolve(b)
    if pa.id == pb.id:
        from defdip.errors import DefdipError

        raise DefdipError(f"{a!r} and {b!r} are the same polity ({pa.name}); a dyad needs two")
    with connection(store) as con:
        frame = _engagements_of(con, [pa.id, pb.id])
    first, last = _span(frame)
    per_instrument = ({str(k): int(v) for k, v in frame["instrument"].value_counts().sort_index().items()}
                      if not frame.empty else {})
    return {
        "polities": [_polity_dict(pa), _polity_dict(pb)], "engagements": len(frame), "first_year": first,
        "last_year": last, "per_activity": _per_activity(frame), "per_instrument": per_instrument,
        "per_year": _per_year(frame), "timeline": _timeline(frame),
    }
