"""Altair charts for the report, the web dashboard and the command line, rendered offline by vl-convert.

Every builder takes plain frames (or an analysis result) and returns an Altair chart
whose data is inlined in the spec, so a chart can be embedded in a page that never
touches the network. One palette colours the four activities everywhere. The charts of
change over time (:func:`activity_evolution`, :func:`partnership_shift`) draw the frames of
:mod:`defdip.analysis.evolution` by year, decade or era, each dataset's coverage window beneath.

``save_chart`` writes PNG, SVG, JSON or a self-contained HTML page; ``vega_bundle`` returns
the Vega, Vega-Lite and vega-embed JavaScript that pages inline instead of a CDN.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import altair as alt
import networkx as nx
import pandas as pd
import vl_convert as vlc

from defdip.core.actors import registry
from defdip.core.codebook import codebook
from defdip.core.dates import ERAS, format_year
from defdip.core.errors import DefdipError

# --- one palette ---------------------------------------------------------------------------------------------

ACTIVITY_COLORS: dict[str, str] = {
    "contacts": "#4C78A8",    # blue
    "attaches": "#F58518",    # orange
    "exercises": "#54A24B",   # green
    "agreements": "#E45756",  # red
}
"""The one colour of each core activity (Table 1), used by every chart, the report and the web pages."""

ACTIVITY_LABELS: dict[str, str] = {
    "contacts": "Contacts",
    "attaches": "Attachés & envoys",
    "exercises": "Joint exercises",
    "agreements": "Agreements & equipment",
}
"""Short legend labels of the activities."""

OTHER_COLORS = ["#72B7B2", "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC", "#EECA3B"]
SERIES_COLORS = ["#E45756", "#4C78A8", "#54A24B", "#F58518", "#B279A2", "#72B7B2", "#9D755D", "#EECA3B"]
NO_DATA = "#e6e6e6"
FOCUS = "#222222"
WIDTH = 760
SYMLOG_TICKS = [0, 1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000]
ERA_LABELS = {era: label for era, _, _, label in ERAS}
ERA_ORDER = [era for era, *_ in ERAS]


Drawing = alt.Chart | alt.LayerChart | alt.FacetChart | alt.VConcatChart | alt.HConcatChart
"""What the builders return: a chart, layered, faceted or concatenated (each can be saved or embedded)."""


def activity_color(activity: str) -> str:
    """The colour of an activity (a stable fallback colour for ids outside the codebook)."""
    if activity in ACTIVITY_COLORS:
        return ACTIVITY_COLORS[activity]
    return OTHER_COLORS[sum(map(ord, str(activity))) % len(OTHER_COLORS)]


def activity_label(activity: str) -> str:
    return ACTIVITY_LABELS.get(activity, str(activity).replace("_", " ").capitalize())


def activity_domain(extra: Iterable[str] = ()) -> list[str]:
    """Codebook activities in Table 1 order, then any others seen in the data."""
    domain = list(codebook().activity_ids)
    for a in extra:
        if a not in domain and a is not None:
            domain.append(a)
    return domain


def activity_scale(extra: Iterable[str] = ()) -> alt.Scale:
    domain = activity_domain(extra)
    return alt.Scale(domain=domain, range=[activity_color(a) for a in domain])


def activity_legend_expr(extra: Iterable[str] = ()) -> str:
    """A Vega expression mapping activity ids to their short labels (for legends and axes)."""
    parts = [f"datum.label == {json.dumps(a)} ? {json.dumps(activity_label(a))}" for a in activity_domain(extra)]
    return " : ".join(parts + ["datum.label"])


# --- data helpers --------------------------------------------------------------------------------------------

def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe records of a frame (NaN/NA become null, numpy scalars plain numbers)."""
    if frame is None or len(frame) == 0:
        return []
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", date_format="iso", default_handler=str))
    return rows


def inline(frame: pd.DataFrame | list[dict[str, Any]]) -> alt.Data:
    """Inline data for a spec (never a URL, never subject to Altair's row limit)."""
    values = records(frame) if isinstance(frame, pd.DataFrame) else frame
    return alt.Data(values=values)  # type: ignore[no-untyped-call]  # altair's generated Data class is untyped


def year_label_expr(field: str = "datum.value") -> str:
    return f"{field} < 0 ? format(-{field}, 'd') + ' BCE' : format({field}, 'd')"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    try:
        if pd.isna(value):
            return []
    except (TypeError, ValueError):
        pass
    return [str(v) for v in value]


# --- timeline ------------------------------------------------------------------------------------------------

def timeline(recs: pd.DataFrame, *, split_year: int = 1500, today: int | None = None,
             width: int = 820) -> alt.VConcatChart:
    """The genealogy as two linked panels: antiquity to ``split_year`` and ``split_year`` to today
    (one modern panel when no record starts before ``split_year``, as on most country pages).

    ``recs`` needs id, title, activity and start_year; optional: circa, end_year, citations
    (list or comma string), participants, href (default ``#rec-<id>``, the record's anchor).
    Each point links (href) to its record; the legend filters activities; both panels pan and zoom.
    """
    today = today or _dt.date.today().year
    data = recs.copy()
    if "href" not in data:
        data["href"] = "#rec-" + data["id"].astype(str)
    circa = data["circa"] if "circa" in data else pd.Series(False, index=data.index)
    data["year_label"] = [format_year(int(y), bool(c) if not pd.isna(c) else False)
                          for y, c in zip(data["start_year"], circa)]
    data["cites"] = [", ".join(_as_list(c)) for c in (data["citations"] if "citations" in data
                                                      else [None] * len(data))]
    if "participants" in data:
        data["participants"] = [", ".join(_as_list(p)) for p in data["participants"]]
    else:
        data["participants"] = ""
    data["activity_label"] = data["activity"].map(activity_label)
    data = data.sort_values(["activity", "start_year"]).reset_index(drop=True)
    data["lane"] = data.groupby("activity").cumcount() % 5  # spread crowded points within a row
    cols = ["id", "title", "activity", "activity_label", "start_year", "year_label", "cites", "participants",
            "href", "lane"]
    first = int(data["start_year"].min()) if len(data) else -2500
    first = min(-100, int(math.floor(first / 100.0) * 100))
    extra = sorted(set(data["activity"]) - set(codebook().activity_ids))
    pick = alt.selection_point(fields=["activity"], bind="legend", name="pick_activity")
    tooltip = [alt.Tooltip("title:N", title="record"), alt.Tooltip("year_label:N", title="year"),
               alt.Tooltip("activity_label:N", title="activity"), alt.Tooltip("participants:N"),
               alt.Tooltip("cites:N", title="sources (BibTeX keys)")]

    def panel(lo: int, hi: int, title: str, name: str, with_param: bool) -> alt.Chart:
        part = data[(data["start_year"] >= lo) & (data["start_year"] <= hi)][cols]
        zoom = alt.selection_interval(bind="scales", encodings=["x"], name=name)
        chart = alt.Chart(inline(part), title=title).mark_circle(size=110, stroke="white", strokeWidth=0.8).encode(
            x=alt.X("start_year:Q", title=None, scale=alt.Scale(domain=[lo, hi], nice=False),
                    axis=alt.Axis(labelExpr=year_label_expr(), tickCount=10, grid=True)),
            y=alt.Y("activity:N", title=None, sort=activity_domain(extra),
                    axis=alt.Axis(labelExpr=activity_legend_expr(extra), labelLimit=180)),
            yOffset=alt.YOffset("lane:O"),
            color=alt.Color("activity:N", scale=activity_scale(extra), title="activity",
                            legend=alt.Legend(labelExpr=activity_legend_expr(extra), orient="top")),
            opacity=alt.condition(pick, alt.value(0.9), alt.value(0.12)),
            href="href:N",
            tooltip=tooltip,
        ).properties(width=width, height=190)
        params = [zoom, pick] if with_param else [zoom]
        drawn: alt.Chart = chart.add_params(*params)
        return drawn

    if len(data) and int(data["start_year"].min()) >= split_year:  # nothing early: one modern panel
        start = int(math.floor(int(data["start_year"].min()) / 10.0) * 10)
        only = panel(start, today, f"{format_year(start)} to {today} (click a point for its record and sources)",
                     "zoom_modern", True)
        one: alt.VConcatChart = alt.vconcat(only).resolve_scale(color="shared")
        return one
    upper = panel(first, split_year, f"Antiquity to {split_year} (click a point for its record and sources)",
                  "zoom_early", True)
    lower = panel(split_year, today, f"{split_year} to {today}", "zoom_modern", False)
    two: alt.VConcatChart = alt.vconcat(upper, lower, spacing=24).resolve_scale(color="shared")
    return two


# --- evolution -----------------------------------------------------------------------------------------------

def coverage_strip(windows: pd.DataFrame, *, domain: tuple[float, float] | None = None,
                   width: int = WIDTH) -> alt.LayerChart | alt.FacetChart:
    """Each dataset's coverage window (``evolution.coverage_windows()``: source, first_year, last_year, scope)
    as a bar on the years axis, labelled, so that a series' jump where a dataset starts or ends reads as a
    coverage edge. ``domain`` (first, last year) aligns it with the chart above."""
    data = windows.copy()
    data["label"] = [f"{s} {format_year(int(a))}-{format_year(int(b))}" + ("" if sc == "all states" else f" ({sc})")
                     for s, a, b, sc in zip(data["source"], data["first_year"], data["last_year"], data["scope"])]
    data["end"] = data["last_year"] + 1  # a one-year window still has a width
    lo = domain[0] if domain else float(data["first_year"].min()) if len(data) else 1800.0
    hi = domain[1] if domain else float(data["end"].max()) if len(data) else 2000.0
    per_year = width / max(hi - lo, 1.0)  # pixels per year: a label that would run off the right moves left
    data["text_at"] = [max(lo, min(float(a), hi - (6.0 * len(t) + 8) / per_year))
                       for a, t in zip(data["first_year"], data["label"])]
    scale = alt.Scale(domain=list(domain), nice=False) if domain else alt.Scale(nice=False)
    x = alt.X("first_year:Q", title="coverage of each dataset", scale=scale,
              axis=alt.Axis(labelExpr=year_label_expr(), format="d"))
    y = alt.Y("source:N", sort=list(data["source"]), title=None, axis=None)
    base = alt.Chart(inline(data[["source", "first_year", "end", "text_at", "label", "records"]]))
    bars = base.mark_bar(color="#BAB0AC", height=10, clip=True).encode(
        x=x, x2="end:Q", y=y, tooltip=["label:N", alt.Tooltip("records:Q", format=",")])
    text = base.mark_text(align="left", dx=3, fontSize=10, color="#333", clip=True).encode(
        x=alt.X("text_at:Q", scale=scale), y=y, text="label:N")
    return alt.layer(bars, text).properties(width=width, height=14 * max(len(data), 1))


def _with_coverage(chart: Drawing, coverage: pd.DataFrame | None, domain: tuple[float, float],
                   width: int) -> Drawing:
    if coverage is None or not len(coverage):
        return chart
    shown = coverage[(coverage["last_year"] >= domain[0]) & (coverage["first_year"] <= domain[1])]
    if not len(shown):
        return chart
    stacked: alt.VConcatChart = alt.vconcat(chart, coverage_strip(shown, domain=domain, width=width),
                                            spacing=10).resolve_scale(color="independent")
    return stacked


def activity_evolution(frame: pd.DataFrame, *, value: str = "started", width: int = WIDTH,
                       coverage: pd.DataFrame | None = None) -> Drawing:
    """Activity over time from ``evolution.evolution()`` (``value``: started or in_force, per period).

    Numeric periods (years, decades): one small multiple per activity (independent y scales,
    as the activities differ by orders of magnitude), with each dataset's coverage window beneath when
    ``coverage`` (``evolution.coverage_windows()``) is given. Era periods: the mix of activities per era
    (normalised stacked bars, counts in the tooltip). Tooltips name periods by the frame's ``period_label``
    where it has one.
    """
    if value not in frame.columns:
        raise ValueError(f"activity_evolution: the frame has no {value!r} column ({', '.join(frame.columns)})")
    frame = frame.copy()
    if isinstance(frame["period"].dtype, pd.CategoricalDtype):  # eras come as an ordered categorical
        frame["period"] = frame["period"].astype(str)
    labels = dict(zip(frame["period"], frame["period_label"])) if "period_label" in frame else {}
    grouped = frame.groupby(["period", "activity"], as_index=False, dropna=False)[value].sum(min_count=1)
    grouped[value] = grouped[value].fillna(0)
    extra = sorted(set(grouped["activity"]) - set(codebook().activity_ids))
    color = alt.Color("activity:N", scale=activity_scale(extra), title="activity",
                      legend=alt.Legend(labelExpr=activity_legend_expr(extra), orient="top"))
    numeric = pd.api.types.is_numeric_dtype(grouped["period"])
    if numeric:
        grouped = _fill_periods(grouped, value)
        ending = "s" if _decades(grouped["period"]) else ""
        grouped["label"] = [labels.get(p) or (format_year(int(p)) + ending if p == p else "")
                            for p in grouped["period"]]
        grouped["activity_label"] = grouped["activity"].map(activity_label)
        base = alt.Chart(inline(grouped)).encode(
            x=alt.X("period:Q", title=None, axis=alt.Axis(labelExpr=year_label_expr(), format="d")),
            y=alt.Y(f"{value}:Q", title=value.replace("_", " "), axis=alt.Axis(tickCount=3)),
            color=color,
            tooltip=[alt.Tooltip("label:N", title="period"), alt.Tooltip("activity_label:N", title="activity"),
                     alt.Tooltip(f"{value}:Q", format=",")],
        ).properties(width=width, height=80)
        layered = alt.layer(base.mark_area(opacity=0.35),
                            base.mark_line(point=alt.OverlayMarkDef(size=12)))
        domain = (float(grouped["period"].min()), float(grouped["period"].max()) + 1)
        facets = layered.facet(
            row=alt.Row("activity_label:N", sort=[activity_label(a) for a in activity_domain(extra)], title=None,
                        header=alt.Header(labelAngle=0, labelAlign="left", labelOrient="top",
                                          labelFontWeight="bold", labelFontSize=12)),
            spacing=8,
        ).resolve_scale(y="independent")
        return _with_coverage(facets, coverage, domain, width)
    order = [e for e in ERA_ORDER if e in set(grouped["period"])] + sorted(
        set(grouped["period"].astype(str)) - set(ERA_ORDER))
    grouped["period"] = grouped["period"].astype(str)
    grouped["era_label"] = grouped["period"].map(lambda e: ERA_LABELS.get(e, e))
    grouped["activity_label"] = grouped["activity"].map(activity_label)
    label_expr = " : ".join([f"datum.label == {json.dumps(e)} ? {json.dumps(ERA_LABELS.get(e, e))}"
                             for e in order] + ["datum.label"])
    mix: alt.Chart = alt.Chart(inline(grouped)).mark_bar().encode(
        y=alt.Y("period:N", sort=order, title=None, axis=alt.Axis(labelExpr=label_expr, labelLimit=260)),
        x=alt.X(f"sum({value}):Q", stack="normalize", title=f"share of {value.replace('_', ' ')} records",
                axis=alt.Axis(format="%")),
        color=color,
        order=alt.Order("activity:N", sort="ascending"),
        tooltip=[alt.Tooltip("era_label:N", title="era"), alt.Tooltip("activity_label:N", title="activity"),
                 alt.Tooltip(f"sum({value}):Q", title=value.replace("_", " "), format=",")],
    ).properties(width=width - 260, height=28 * max(len(order), 1))
    return mix


def _decades(periods: pd.Series) -> bool:
    """Whether numeric periods are decades (every one a multiple of ten) rather than years."""
    return all(int(p) % 10 == 0 for p in periods.dropna().unique())


def _fill_periods(grouped: pd.DataFrame, value: str) -> pd.DataFrame:
    """Zeros for the periods an activity has no records in (so areas drop to 0 instead of bridging gaps)."""
    periods = sorted(int(p) for p in grouped["period"].dropna().unique())
    if len(periods) > 1:
        step = 10 if _decades(grouped["period"]) else 1
        if (periods[-1] - periods[0]) / step <= 5000:  # every period between, never a year 0
            periods = [p for p in range(periods[0], periods[-1] + 1, step) if step == 10 or p != 0]
    full = pd.MultiIndex.from_product([periods, sorted(grouped["activity"].dropna().unique())],
                                      names=["period", "activity"])
    return (grouped.set_index(["period", "activity"])[[value]].reindex(full, fill_value=0).reset_index())


def partnership_shift(frame: pd.DataFrame, *, width: int = WIDTH,
                      coverage: pd.DataFrame | None = None) -> alt.VConcatChart:
    """The alliance-to-partnership shift from ``evolution.partnership_index()``.

    Top: new instruments per period (defence pacts against DCAs and exercises, and any other
    ``new_*`` column); middle: allied against partnership dyads where given; then the ratio; at the foot,
    each dataset's coverage window when ``coverage`` is given (NA values, outside coverage, are not drawn).
    Years and decades run along a years axis; a frame of eras (no numeric period) has one point per era, in
    the frame's order, and no coverage strip (eras are not on a years axis).
    """
    data = frame.copy()
    if "period" not in data:
        raise ValueError("partnership_shift: the frame needs a 'period' column")
    numeric = pd.to_numeric(data["period"].astype(object), errors="coerce").notna()
    era = bool(len(data)) and not numeric.any()
    domain = (0.0, 1.0)
    if era:
        data["period"] = data["period"].astype(str)
        data["label"] = [ERA_LABELS.get(p, p) for p in data["period"]]
        x = alt.X("label:N", title=None, sort=list(dict.fromkeys(data["label"])),
                  axis=alt.Axis(labelAngle=-30, labelLimit=220))
    else:
        data = data[numeric].copy()
        data["period"] = data["period"].astype(int)
        data["label"] = [format_year(int(p)) for p in data["period"]]
        step = 10 if len(data) > 1 and all(int(p) % 10 == 0 for p in data["period"]) else 1
        if len(data):
            domain = (float(data["period"].min()), float(data["period"].max()) + step)
        x = alt.X("period:Q", title=None, scale=alt.Scale(domain=list(domain), nice=False),
                  axis=alt.Axis(labelExpr=year_label_expr(), format="d"))
    panels = []
    new_cols = [c for c in data.columns if c.startswith("new_")]
    if new_cols:
        long = data.melt(id_vars=["period", "label"], value_vars=new_cols, var_name="series", value_name="count")
        long["series"] = long["series"].str.replace("new_", "new ", regex=False).str.replace("_", " ")
        panels.append(alt.Chart(inline(long), title="New instruments per period").mark_line(point=True).encode(
            x=x, y=alt.Y("count:Q", title="new (symlog scale)", scale=alt.Scale(type="symlog"),
                         axis=alt.Axis(values=SYMLOG_TICKS)),
            color=alt.Color("series:N", title=None, scale=alt.Scale(range=SERIES_COLORS),
                            legend=alt.Legend(orient="top")),
            tooltip=["label:N", "series:N", alt.Tooltip("count:Q", format=",")],
        ).properties(width=width, height=180))
    dyad_cols = [c for c in ("allied_dyads", "partnership_dyads") if c in data.columns]
    if dyad_cols:
        long = data.melt(id_vars=["period", "label"], value_vars=dyad_cols, var_name="series", value_name="dyads")
        long["series"] = long["series"].str.replace("_", " ")
        panels.append(alt.Chart(inline(long), title="Dyads tied by alliances vs. by partnership instruments").mark_area(
            opacity=0.55).encode(
            x=x, y=alt.Y("dyads:Q", stack=None, title="dyads"),
            color=alt.Color("series:N", title=None, scale=alt.Scale(range=["#E45756", "#4C78A8"]),
                            legend=alt.Legend(orient="top")),
            tooltip=["label:N", "series:N", alt.Tooltip("dyads:Q", format=",")],
        ).properties(width=width, height=160))
    if "partnership_share" in data.columns:
        share = data[["period", "label", "partnership_share"]]
        panels.append(alt.Chart(inline(share), title="Share of tied dyads tied by partnership only (no defence pact)"
                                ).mark_line(point=True, color="#4C78A8").encode(
            x=x, y=alt.Y("partnership_share:Q", title="share", scale=alt.Scale(domain=[0, 1]),
                         axis=alt.Axis(format="%")),
            tooltip=["label:N", alt.Tooltip("partnership_share:Q", format=".1%")],
        ).properties(width=width, height=130))
    if "partnership_ratio" in data.columns:
        ratio = data[["period", "label", "partnership_ratio"]]
        panels.append(alt.Chart(inline(ratio), title="Partnership ratio: (new DCAs + new exercises) / new defence "
                                "pacts").mark_line(point=True, color="#54A24B").encode(
            x=x, y=alt.Y("partnership_ratio:Q", title="ratio (symlog scale)", scale=alt.Scale(type="symlog"),
                         axis=alt.Axis(values=SYMLOG_TICKS)),
            tooltip=["label:N", alt.Tooltip("partnership_ratio:Q", format=",.2f")],
        ).properties(width=width, height=130))
    if not panels:
        raise ValueError("partnership_shift: no new_* / *_dyads / partnership_ratio columns to draw")
    if coverage is not None and len(data) and not era:
        shown = coverage[(coverage["last_year"] >= domain[0]) & (coverage["first_year"] <= domain[1])]
        if len(shown):
            panels.append(coverage_strip(shown, domain=domain, width=width))
    shift: alt.VConcatChart = alt.vconcat(*panels, spacing=18).resolve_scale(color="independent")
    return shift


# --- network -------------------------------------------------------------------------------------------------

INTER_COMMUNITY_PULL = 0.05
"""How strongly a tie between two communities pulls its ends together in the layout (a tie inside one: 1)."""


def community_labels(communities: pd.Series) -> dict[Any, str]:
    """'community 1' for the largest community, 'community 2' for the next, ... up to eight, 'other' after:
    the names the network charts colour by, and the ones their tables print, so the two agree."""
    sizes = communities.dropna().value_counts(sort=False)
    order = sorted(sizes.index, key=lambda c: (-int(sizes[c]), 0 if isinstance(c, (int, float)) else 1,
                                               c if isinstance(c, (int, float)) else str(c)))
    return {c: (f"community {i + 1}" if i < 8 else "other") for i, c in enumerate(order)}


def network_layout(graph: Any, seed: int = 42,
                   communities: dict[Any, Any] | None = None) -> dict[Any, tuple[float, float]]:
    """A reproducible layout: networkx spring layout (fixed seed) per connected component.

    The largest component fills the unit square; smaller components are laid out on their own and
    lined up beneath it, so a detached pair is not flung to a corner. With ``communities`` (node ->
    community), a tie between two communities pulls only weakly, so each community gathers in its own area.
    """
    if graph.number_of_nodes() == 0:
        return {}
    comps = sorted((sorted(c, key=str) for c in nx.connected_components(graph)), key=lambda c: (-len(c), str(c[0])))

    def spring(nodes: list[Any]) -> dict[Any, tuple[float, float]]:
        if len(nodes) == 1:
            return {nodes[0]: (0.0, 0.0)}
        sub = nx.Graph()
        sub.add_nodes_from(nodes)
        group = communities or {}
        for u, v in graph.subgraph(nodes).edges():
            same = group.get(u) is None or group.get(u) == group.get(v)
            sub.add_edge(u, v, pull=1.0 if same else INTER_COMMUNITY_PULL)
        k = 2.0 / math.sqrt(len(nodes))
        pos = nx.spring_layout(sub, seed=seed, k=k, iterations=150, weight="pull")
        xs = [p[0] for p in pos.values()]
        ys = [p[1] for p in pos.values()]
        cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        span = max(max(xs) - min(xs), max(ys) - min(ys)) / 2 or 1.0
        return {n: ((float(x) - cx) / span, (float(y) - cy) / span) for n, (x, y) in pos.items()}

    out = spring(comps[0])
    rest = comps[1:]
    if rest:
        slot = 2.0 / max(len(rest), 6)
        for i, comp in enumerate(rest):
            radius = min(slot * 0.35, 0.06 * math.sqrt(len(comp)))
            cx, cy = -1.0 + slot * (i + 0.5), -1.25
            for n, (x, y) in spring(comp).items():
                out[n] = (cx + x * radius, cy + y * radius)
    return out


def _place_labels(nodes: pd.DataFrame, labels: int, width: int, height: int) -> None:
    """Name the most central nodes (eigenvector, then degree) where a label does not overlap another.

    Adds ``label`` ("" for unnamed nodes) and the label's position ``lx``, ``ly`` in layout units:
    above the node, else below, else to the right; a label that fits nowhere is left out.
    """
    nodes["label"], nodes["lx"], nodes["ly"] = "", nodes["x"], nodes["y"]
    if not len(nodes) or labels <= 0:
        return
    x0, x1 = float(nodes["x"].min()), float(nodes["x"].max())
    y0, y1 = float(nodes["y"].min()), float(nodes["y"].max())
    ux = width / ((x1 - x0) or 1.0)   # pixels per layout unit
    uy = height / ((y1 - y0) or 1.0)
    order = nodes.assign(_e=nodes["eigenvector"].fillna(0)).sort_values(["_e", "degree"], ascending=False).index
    placed: list[tuple[float, float, float, float]] = []
    named = 0
    for idx in order:
        if named >= labels:
            break
        name = str(nodes.at[idx, "name"])
        w, hh = 6.3 * len(name) + 4, 13.0
        px, py = (nodes.at[idx, "x"] - x0) * ux, (y1 - nodes.at[idx, "y"]) * uy  # y grows downwards on screen
        for dx, dy in ((0, -14), (0, 14), (w / 2 + 10, 0), (-(w / 2 + 10), 0)):
            cx, cy = px + dx, py + dy
            box = (cx - w / 2, cy - hh / 2, cx + w / 2, cy + hh / 2)
            if any(not (box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3]) for b in placed):
                continue
            placed.append(box)
            nodes.at[idx, "label"] = name
            nodes.at[idx, "lx"] = round(x0 + cx / ux, 4)
            nodes.at[idx, "ly"] = round(y1 - cy / uy, 4)
            named += 1
            break


def network_chart(result: Any, *, seed: int = 42, labels: int = 10, max_edges: int = 4000,
                  title: str | None = None, width: int = WIDTH, height: int = 520) -> alt.LayerChart | alt.FacetChart:
    """A node-link drawing of a ``network.network()`` result: spring layout (fixed seed).

    Nodes are sized by degree and coloured by community; the ``labels`` most central states
    (eigenvector) are named. At most ``max_edges`` ties are drawn (the heaviest first).
    """
    graph = result.graph
    nodes = result.nodes.copy() if getattr(result, "nodes", None) is not None else pd.DataFrame(
        {"id": list(graph.nodes)})
    # drop isolates from the drawing: they say nothing about ties
    connected = [n for n in graph.nodes if graph.degree(n) > 0]
    sub = graph.subgraph(connected)
    has_groups = "community" in nodes and nodes["community"].notna().any()
    groups = dict(zip(nodes["id"], nodes["community"])) if has_groups else None
    pos = network_layout(sub, seed=seed, communities=groups)
    nodes = nodes[nodes["id"].isin(list(pos))].copy()
    if "name" not in nodes:
        nodes["name"] = nodes["id"]
    for col in ("degree", "eigenvector", "betweenness"):
        if col not in nodes:
            nodes[col] = [float(sub.degree(n)) if col == "degree" else 0.0 for n in nodes["id"]]
    nodes["x"] = [pos[n][0] for n in nodes["id"]]
    nodes["y"] = [pos[n][1] for n in nodes["id"]]
    if has_groups:  # named as in the tables: by size among all the network's polities, isolates too
        names = community_labels(result.nodes["community"])
        nodes["group"] = [names.get(c, "other") for c in nodes["community"]]
    else:
        nodes["group"] = "all"
    _place_labels(nodes, labels, width, height)
    edges = []
    for u, v, d in sub.edges(data=True):
        w = d.get("weight", 1)
        try:
            w = float(w)
        except (TypeError, ValueError):
            w = 1.0
        edges.append({"x": pos[u][0], "y": pos[u][1], "x2": pos[v][0], "y2": pos[v][1], "weight": w})
    edges.sort(key=lambda e: -e["weight"])
    edges = edges[:max_edges]
    for e in edges:
        for key in ("x", "y", "x2", "y2"):
            e[key] = round(e[key], 4)
    nodes["x"] = nodes["x"].round(4)
    nodes["y"] = nodes["y"].round(4)
    summary = getattr(result, "summary", {}) or {}
    if title is None:
        year = summary.get("year", "")
        title = f"{year}: {len(nodes)} polities, {sub.number_of_edges():,} ties".strip(": ")
    axis = alt.Axis(title=None, labels=False, ticks=False, grid=False, domain=False)
    xs = alt.X("x:Q", axis=axis, scale=alt.Scale(zero=False, nice=False, padding=24))
    ys = alt.Y("y:Q", axis=axis, scale=alt.Scale(zero=False, nice=False, padding=18))
    n_edges = max(len(edges), 1)
    edge_opacity = max(0.15, min(0.6, 120.0 / n_edges))  # thousands of ties stay visible, a few stay light
    edge_layer = alt.Chart(inline(edges)).mark_rule(color="#6b7280", opacity=edge_opacity).encode(
        x=xs, y=ys, x2="x2:Q", y2="y2:Q",
        strokeWidth=alt.StrokeWidth("weight:Q", scale=alt.Scale(range=[0.6, 2.6]), legend=None))
    node_cols = ["id", "name", "degree", "eigenvector", "betweenness", "group", "x", "y"]
    node_base = alt.Chart(inline(nodes[node_cols]))
    node_layer = node_base.mark_circle(stroke="white", strokeWidth=0.7, opacity=0.95).encode(
        x=xs, y=ys,
        size=alt.Size("degree:Q", scale=alt.Scale(range=[25, 520]), title="degree"),
        color=alt.Color("group:N", title="community", scale=alt.Scale(scheme="tableau10"),
                        legend=alt.Legend(orient="right")),
        tooltip=[alt.Tooltip("name:N"), alt.Tooltip("id:N"), alt.Tooltip("degree:Q", format=","),
                 alt.Tooltip("eigenvector:Q", format=".3f"), alt.Tooltip("betweenness:Q", format=".3f"),
                 alt.Tooltip("group:N", title="community")],
    )
    text_layer = alt.Chart(inline(nodes.loc[nodes["label"] != "", ["label", "lx", "ly"]])).mark_text(
        fontSize=10.5, fontWeight="bold", color="#111", baseline="middle").encode(
        x=alt.X("lx:Q"), y=alt.Y("ly:Q"), text="label:N")
    return alt.layer(edge_layer, node_layer, text_layer, title=title).properties(width=width, height=height)


# --- maps ----------------------------------------------------------------------------------------------------

def _round_coords(coords: Any, digits: int = 2) -> Any:
    if isinstance(coords, (list, tuple)):
        if coords and isinstance(coords[0], (int, float)):
            return [round(float(c), digits) for c in coords]
        return [_round_coords(c, digits) for c in coords]
    return coords


def features_of(countries: pd.DataFrame | Sequence[dict[str, Any]], digits: int = 2,
                drop: Sequence[str] = ("ATA",)) -> list[dict[str, Any]]:
    """GeoJSON features (properties iso3, name) from the ``ne_countries`` table or a list of features.

    Coordinates are rounded to ``digits`` decimals (plenty at 1:110m); ``drop`` leaves out shapes
    (Antarctica by default, which takes a third of a world map and has no defence diplomacy).
    """
    out = []
    if isinstance(countries, pd.DataFrame):
        for row in countries.itertuples(index=False):
            geometry = json.loads(row.geometry) if isinstance(row.geometry, str) else row.geometry
            out.append({"type": "Feature", "properties": {"iso3": row.iso3, "name": row.name},
                        "geometry": geometry})
    else:
        for f in countries:
            props = dict(f.get("properties") or {})
            props.setdefault("iso3", props.get("ISO_A3_EH") or props.get("ISO_A3") or props.get("ADM0_A3"))
            props.setdefault("name", props.get("NAME") or props.get("ADMIN") or props["iso3"])
            out.append({"type": "Feature", "properties": {"iso3": props["iso3"], "name": props["name"]},
                        "geometry": f["geometry"]})
    out = [f for f in out if f["properties"]["iso3"] not in set(drop)]
    for f in out:
        f["geometry"] = {"type": f["geometry"]["type"], "coordinates": _round_coords(f["geometry"]["coordinates"],
                                                                                     digits)}
    return out


def iso3_values(per_polity: pd.DataFrame, countries: pd.DataFrame, agg: dict[str, str],
                year: int | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Per-polity values (column ``polity_id``) aggregated onto Natural Earth ISO3 codes via the actor registry.

    Each shape's ISO3 code is resolved with ``registry().by_iso3(code, year)``; a polity that code does
    not reach (a predecessor such as West Germany) joins through its own ISO3 or its successor's.
    Returns the values per ISO3 (``iso3`` and the ``agg`` columns) and the polities that found no shape.
    """
    reg = registry()
    shapes = set(countries["iso3"])
    to_iso: dict[str, str] = {}
    for code in sorted(shapes):
        try:
            to_iso.setdefault(reg.by_iso3(code, year).id, code)
        except DefdipError:
            continue
    missing: list[str] = []
    iso_col = []
    for pid in per_polity["polity_id"]:
        iso = to_iso.get(pid)
        seen: set[str] = set()
        p = reg.get(pid) if iso is None and pid in reg else None
        while p is not None and iso is None and p.id not in seen:
            seen.add(p.id)
            if p.iso3 and p.iso3 in shapes:
                iso = p.iso3
            elif p.successor and p.successor in reg:
                p = reg.get(p.successor)
            else:
                p = None
        if iso is None:
            missing.append(pid)
        iso_col.append(iso)
    frame = per_polity.assign(iso3=iso_col).dropna(subset=["iso3"])
    if frame.empty:
        return pd.DataFrame(columns=["iso3", *agg]), sorted(missing)
    return frame.groupby("iso3", as_index=False).agg(agg), sorted(missing)


def _joined(features: list[dict[str, Any]], values: pd.DataFrame, value: str) -> list[dict[str, Any]]:
    table = {str(r["iso3"]): r for r in records(values)} if len(values) else {}
    joined = []
    for f in features:
        props = dict(f["properties"])
        row = table.get(props["iso3"], {})
        for k, v in row.items():
            if k not in ("iso3",):
                props[k] = v
        props.setdefault(value, None)
        props["has_value"] = row.get(value) is not None
        joined.append({"type": "Feature", "properties": props, "geometry": f["geometry"]})
    return joined


def property_tooltip(column: str) -> alt.Tooltip:
    """A map tooltip for a shape property; a year column prints as '1913' (Vega's default would be '1,913')."""
    title = column.replace("_", " ")
    if column == "year" or column.endswith("_year"):
        return alt.Tooltip(f"properties.{column}:Q", title=title, format="d")
    return alt.Tooltip(f"properties.{column}:N", title=title)


def world_map(countries: pd.DataFrame | Sequence[dict[str, Any]], values: pd.DataFrame, *, value: str = "value",
              title: str = "", legend: str | None = None, tooltip: Sequence[str] = (),
              choices: dict[str, str] | None = None,
              width: int = WIDTH, height: int = 400) -> alt.LayerChart | alt.FacetChart:
    """A choropleth: ``values`` (iso3, ``value``, other tooltip columns) over country shapes.

    ``choices`` ({column: label}) adds a menu under the map to colour by another column; ``value``
    is the one shown first (and in PNG/SVG renderings).
    """
    columns = dict(choices or {})
    columns.setdefault(value, legend or value.replace("_", " "))
    feats = _joined(features_of(countries), values, value)
    base = alt.Chart().mark_geoshape(fill=NO_DATA, stroke="white", strokeWidth=0.4).encode(
        tooltip=[alt.Tooltip("properties.name:N", title="country"), alt.Tooltip("properties.iso3:N", title="ISO3")])
    tips = [alt.Tooltip("properties.name:N", title="country")]
    tips += [alt.Tooltip(f"properties.{c}:Q", title=label, format=",") for c, label in columns.items()]
    tips += [property_tooltip(t) for t in tooltip if t not in columns]
    top = alt.Chart().mark_geoshape(stroke="white", strokeWidth=0.4)
    if len(columns) > 1:
        options = [value] + [c for c in columns if c != value]
        metric = alt.param(name="map_measure", value=value, bind=alt.binding_select(
            options=options, labels=[columns[c] for c in options], name="Colour by: "))
        top = top.add_params(metric).transform_calculate(shown=f"datum.properties[{metric.name}]")
        color_field, color_title = "shown:Q", f"{columns[value]} (or the measure chosen below)"
    else:
        color_field, color_title = f"properties.{value}:Q", columns[value]
    top = top.encode(
        color=alt.Color(color_field, title=color_title, scale=alt.Scale(type="sqrt", scheme="yelloworangered"),
                        legend=alt.Legend(orient="bottom-left", direction="horizontal", gradientLength=180,
                                         titleLimit=420)),
        tooltip=tips,
    ).transform_filter("datum.properties.has_value")
    return alt.layer(base, top, data=inline(feats), title=title).project(
        type="equalEarth").properties(width=width, height=height)


def partners_map(countries: pd.DataFrame | Sequence[dict[str, Any]], partners: pd.DataFrame, focus: str, *,
                 focus_name: str | None = None, value: str = "engagements", title: str = "",
                 tooltip: Sequence[str] = (), width: int = WIDTH,
                 height: int = 400) -> alt.LayerChart | alt.FacetChart:
    """One country's partners: partners (iso3, ``value``, ...) coloured by shared engagements, ``focus`` (ISO3) dark."""
    feats = _joined(features_of(countries), partners[partners["iso3"] != focus], value)
    for f in feats:
        f["properties"]["is_focus"] = f["properties"]["iso3"] == focus
    name = focus_name or focus
    measure = f"shared {value} with {name}" if value == "engagements" else f"{value.replace('_', ' ')} with {name}"
    base = alt.Chart().mark_geoshape(fill=NO_DATA, stroke="white", strokeWidth=0.4).encode(
        tooltip=[alt.Tooltip("properties.name:N", title="country")])
    tips = [alt.Tooltip("properties.name:N", title="partner"),
            alt.Tooltip(f"properties.{value}:Q", title=measure, format=",")]
    tips += [property_tooltip(t) for t in tooltip]
    top = alt.Chart().mark_geoshape(stroke="white", strokeWidth=0.4).encode(
        color=alt.Color(f"properties.{value}:Q", title=measure,
                        scale=alt.Scale(type="log", scheme="blues"),
                        legend=alt.Legend(orient="bottom-left", direction="horizontal", gradientLength=180,
                                         titleLimit=420)),
        tooltip=tips,
    ).transform_filter("datum.properties.has_value")
    focus_layer = alt.Chart().mark_geoshape(fill=FOCUS, stroke="white", strokeWidth=0.6).encode(
        tooltip=[alt.Tooltip("properties.name:N", title="focus")]).transform_filter("datum.properties.is_focus")
    return alt.layer(base, top, focus_layer, data=inline(feats), title=title).project(
        type="equalEarth").properties(width=width, height=height)


def bar_table(frame: pd.DataFrame, *, category: str, value: str, color_by: str | None = None, title: str = "",
              width: int = 420) -> alt.Chart:
    """A horizontal bar chart (e.g. counts per activity); colours follow the activity palette."""
    enc: dict[str, Any] = {
        "y": alt.Y(f"{category}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
        "x": alt.X(f"{value}:Q", title=value.replace("_", " ")),
        "tooltip": [f"{category}:N", alt.Tooltip(f"{value}:Q", format=",")],
    }
    if color_by:
        extra = sorted(set(frame[color_by]) - set(codebook().activity_ids))
        enc["color"] = alt.Color(f"{color_by}:N", scale=activity_scale(extra), legend=None)
    bars: alt.Chart = alt.Chart(inline(frame), title=title).mark_bar().encode(**enc).properties(
        width=width, height=22 * max(len(frame), 1))
    return bars


# --- offline rendering ---------------------------------------------------------------------------------------

def vl_version() -> str | None:
    """The Vega-Lite version vl-convert should use: Altair's schema version when vl-convert knows it."""
    major_minor = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return major_minor if major_minor in vlc.get_vegalite_versions() else None


def spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec (validated by Altair), data inline."""
    return chart.to_dict()


@lru_cache(maxsize=1)
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script (globals vega, vegaLite, vegaEmbed), safe to inline.

    Bundled by vl-convert from the versions it ships, so a page needs no CDN.
    """
    # the stub makes ``snippet`` required; without one vl-convert exposes the three globals, which pages use
    code = vlc.javascript_bundle(vl_version=vl_version())  # type: ignore[call-arg]
    return code.replace("</script", "<\\/script").replace("<!--", "<\\!--")


CHART_FORMATS = ("png", "svg", "html", "json")
"""What :func:`save_chart` writes: PNG, SVG, a self-contained HTML page, or the Vega-Lite spec as JSON."""


class ChartFormatError(DefdipError, ValueError):
    """A chart file format :func:`save_chart` cannot write (a bad argument value, shown as one line)."""


def save_chart(chart: alt.TopLevelMixin | dict[str, Any], path: str | Path, formats: Sequence[str] | None = None,
               scale: float = 2.0) -> dict[str, Path]:
    """Write a chart offline (vl-convert; the HTML inlines its JavaScript) and return the paths by format.

    Without ``formats``, ``path``'s suffix names the one format (``chart.svg``), and a path without a suffix
    gets PNG, SVG and HTML beside each other (``chart.png``, ...); with ``formats``, ``path`` is the name each
    format's suffix is added to.
    """
    base = Path(path)
    if formats is None:
        suffix = base.suffix.lower().lstrip(".")
        if suffix and suffix not in CHART_FORMATS:
            raise ChartFormatError(f"cannot save a chart as {base.name!r}: use .png, .svg, .html or .json")
        targets = {suffix: base} if suffix else {f: base.with_name(f"{base.name}.{f}") for f in CHART_FORMATS[:3]}
    else:
        unknown = [f for f in formats if f not in CHART_FORMATS]
        if unknown:
            raise ChartFormatError(f"unknown chart format {unknown[0]!r}; expected {', '.join(CHART_FORMATS)}")
        targets = {f: base.with_name(f"{base.name}.{f}") for f in formats}
    base.parent.mkdir(parents=True, exist_ok=True)
    vl_spec = chart if isinstance(chart, dict) else spec(chart)
    version = vl_version()
    for fmt, target in targets.items():
        if fmt == "png":
            target.write_bytes(vlc.vegalite_to_png(vl_spec, vl_version=version, scale=scale))
        elif fmt == "svg":
            target.write_text(vlc.vegalite_to_svg(vl_spec, vl_version=version), encoding="utf-8")
        elif fmt == "html":
            target.write_text(vlc.vegalite_to_html(vl_spec, vl_version=version, bundle=True), encoding="utf-8")
        else:
            target.write_text(json.dumps(vl_spec, indent=1), encoding="utf-8")
    return targets
