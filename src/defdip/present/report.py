"""The offline report: one HTML page that answers the paper's question with the store's data.

``build_report(out_dir)`` writes ``out_dir/index.html`` and every chart as PNG and SVG under
``out_dir/charts/``. The page opens from disk with no network at all: the Vega, Vega-Lite and
vega-embed JavaScript is inlined (bundled by vl-convert), every chart's data is inlined in its
spec, and a Content-Security-Policy forbids any connection.

Each section is built on its own: a section whose data the store lacks (no Natural Earth shapes, no
genealogy), or that fails, says so in the page and the others are still written. Every read of the store goes
through the read layer (:mod:`defdip.store.queries`, :mod:`defdip.store.series`) on one handle per report.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import re
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import vl_convert as vlc

from defdip import __version__
from defdip.analysis import conflict, network
from defdip.analysis import evolution as evo
from defdip.core import citations as cit
from defdip.core.actors import registry
from defdip.core.codebook import codebook
from defdip.core.dates import ERAS, era_of, format_year
from defdip.core.errors import DefdipError, StoreError
from defdip.present import charts
from defdip.store import queries, series
from defdip.store.queries import StoreReader

Progress = Callable[[str, int, int], None]
"""Callback(step, done, total), as for `ingest.build.build`."""

NETWORK_YEARS = (1913, 1950, 1980, 2010)
DEFAULT_COUNTRY = "USA"
QUESTION = ("How have the activities in defence diplomacy shaped the landscape of international relations?")
PAPER_KEY = "khalid_ahmed_2024"
PAPER = ("Khalid, F. H. & Ahmed, N. (2024). From Alliance Building to Strategic Partnerships: a Historical Analysis "
         "of Defence Diplomacy. JANUS.NET e-journal of International Relations 15(1), 3-20.")
ERA_LABELS = {era: label for era, _, _, label in ERAS}

h = html.escape


class Unavailable(Exception):
    """A section that cannot be shown with this build or store; the message says why."""


@dataclass
class Section:
    id: str
    title: str
    body: str = ""
    status: str = "ok"  # ok | unavailable | failed
    note: str = ""


@dataclass
class _Ctx:
    db: StoreReader
    out: Path
    country: str
    years: tuple[int, ...]
    charts: dict[str, dict[str, Path]] = field(default_factory=dict)
    cite_keys: list[str] = field(default_factory=list)
    genealogy: pd.DataFrame | None = None

    @property
    def store(self) -> Path:
        return self.db.path

    def cite(self, keys: Iterable[str]) -> str:
        """Links to bibliography entries, remembering the keys for the bibliography."""
        out = []
        for key in keys:
            key = str(key)
            if key not in self.cite_keys:
                self.cite_keys.append(key)
            out.append(f'<a class="cite" href="#{_anchor("bib", key)}">{h(key)}</a>')
        return ", ".join(out)

    # -- charts -------------------------------------------------------------------------------------------------
    def chart(self, name: str, chart: Any, caption: str = "") -> str:
        """Write the chart's PNG and SVG, and return the HTML that embeds it (spec inline)."""
        if name in self.charts:
            raise ValueError(f"two charts are named {name!r}")
        spec = charts.spec(chart)
        paths = charts.save_chart(spec, self.out / "charts" / name, formats=("png", "svg"))
        self.charts[name] = paths
        data = json.dumps(spec, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")
        cap = f'<p class="note">{caption}</p>' if caption else ""
        return (f'<div class="chart" id="chart-{name}" data-chart="{name}"></div>'
                f'<script type="application/json" id="spec-{name}">{data}</script>'
                f'<noscript><img alt="{h(name)}" src="charts/{name}.svg"></noscript>'
                f'<div class="chart-links">{cap}Files: <a href="charts/{name}.png">PNG</a> · '
                f'<a href="charts/{name}.svg">SVG</a></div>')


# --- small HTML helpers ----------------------------------------------------------------------------------------

def _lst(value: Any) -> list[Any]:
    """A list from a list-valued cell (DuckDB gives numpy arrays or lists; NULL gives None)."""
    if value is None:
        return []
    if isinstance(value, float) and pd.isna(value):
        return []
    return list(value)


def _anchor(prefix: str, ident: Any) -> str:
    return f"{prefix}-" + re.sub(r"[^A-Za-z0-9_.-]", "-", str(ident))


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or (hasattr(value, "is_integer") and isinstance(value, float) and value.is_integer()
                                  and abs(value) >= 1000):
        return f"{int(value):,}"
    if isinstance(value, float):
        if value != 0 and abs(value) < 10 ** -digits:
            return f"{value:.2e}"
        return f"{value:,.{digits}f}"
    if hasattr(value, "item"):
        return _fmt(value.item(), digits)
    return str(value)


def is_year_column(name: str) -> bool:
    """Whether a column holds years (printed '1913', never '1,913'): year, period, decade, first_year, ..."""
    name = str(name).lower()
    return name in ("year", "period", "decade", "first", "last") or name.endswith("_year") or name.startswith("year_")


def _year_text(value: Any) -> str:
    """A year as the report prints it ('1913', '478 BCE'); a period that is no number (an era) unchanged."""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, (int, float)) or hasattr(value, "item"):
        number = float(value)
        if number.is_integer():
            return format_year(int(number))
    return _fmt(value)


def _table(frame: pd.DataFrame, columns: dict[str, str] | None = None, *, raw: Iterable[str] = (),
           digits: int = 3, cls: str = "", row_ids: list[str] | None = None, nowrap: Iterable[str] = ()) -> str:
    """An HTML table in a horizontally scrolling box; ``columns`` maps frame columns to headers; ``raw``
    columns hold HTML already; ``nowrap`` columns hold ids, versions and codes, which never break inside."""
    columns = columns or {c: c for c in frame.columns}
    columns = {k: v for k, v in columns.items() if k in frame.columns}
    raw = set(raw)
    numeric = {c for c in columns if c not in raw and pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])}
    head = "".join(f'<th class="num">{h(t)}</th>' if c in numeric else f"<th>{h(t)}</th>" for c, t in columns.items())
    rows = []
    for i, (_, row) in enumerate(frame.iterrows()):
        cells = []
        for c in columns:
            v = row[c]
            text = str(v) if c in raw else h(_year_text(v) if is_year_column(c) else _fmt(v, digits))
            kind = "num" if c in numeric else "id" if c in nowrap else ""
            cells.append(f'<td class="{kind}">{text}</td>' if kind else f"<td>{text}</td>")
        rid = f' id="{row_ids[i]}"' if row_ids else ""
        rows.append(f"<tr{rid}>{''.join(cells)}</tr>")
    return (f'<div class="table-scroll"><table class="{cls}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _swatch(activity: str) -> str:
    return (f'<span class="swatch" style="background:{charts.activity_color(activity)}"></span>'
            f"{h(charts.activity_label(activity))}")


def _kv(items: dict[str, Any]) -> str:
    return _table(pd.DataFrame([{"item": k, "value": _fmt(v)} for k, v in items.items()]), {"item": "", "value": ""})


# --- sections --------------------------------------------------------------------------------------------------

def _genealogy(ctx: _Ctx) -> pd.DataFrame:
    """The curated genealogy records in the store, with participants' names."""
    if ctx.genealogy is None:
        frame = queries.genealogy(ctx.db)
        frame["participants"] = [[p["name"] for p in ps] if ps is not None else None for ps in frame["participants"]]
        ctx.genealogy = frame
    return ctx.genealogy


def _sec_question(ctx: _Ctx) -> str:
    total, first, last = queries.span(ctx.db)
    if first is None or last is None:
        raise Unavailable("the store holds no engagements")
    gen = _genealogy(ctx)
    known = queries.sources(ctx.db)
    src = int(((known["status"] == "loaded") & (known["kind"] == "engagements")).sum())
    per_era = queries.start_years(ctx.db)
    era_counts = per_era.map(era_of).value_counts()
    roots = []
    for act in codebook().activity_ids:
        sub = gen[gen["activity"] == act]
        if len(sub):
            r = sub.iloc[0]
            roots.append({"activity": _swatch(act), "year": format_year(int(r["start_year"]), bool(r["circa"])),
                          "record": f'<a href="#{_anchor("rec", r["id"])}">{h(r["title"])}</a>',
                          "sources": ctx.cite(_lst(r["citations"]))})
    eras = pd.DataFrame([{"era": label, "engagements": int(era_counts.get(era, 0))} for era, _, _, label in ERAS])
    return f"""
<p class="lead">Khalid and Ahmed ask: <em>{h(QUESTION)}</em> ({ctx.cite([PAPER_KEY])}). They answer that
military exchanges, exercises and cooperation have roots in antiquity and adapted, from alliance building to
strategic partnerships. This report puts numbers and records behind that answer: the defdip store holds
<strong>{int(total):,}</strong> engagements from {format_year(first)} to {format_year(last)}:
{len(gen):,} curated, cited historical records and the rest from {int(src)} datasets.</p>
<p>Read it in order: the codebook (the paper's Table 1), the genealogy (roots in antiquity), the evolution of each
activity and the alliance-to-partnership shift, the networks these ties form, where in the world defence diplomacy
is dense, and how it relates to militarised disputes (associations only).</p>
<h3>The oldest record of each activity</h3>
{_table(pd.DataFrame(roots), {"activity": "activity", "year": "year", "record": "record", "sources": "sources"},
        raw=("activity", "record", "sources"))}
<h3>Engagements per era</h3>
{_table(eras)}
<p class="note">Dataset coverage differs by era and activity (see <a href="#methods">Methods and data</a>);
counts describe the record, not the whole of history.</p>"""


def _sec_codebook(ctx: _Ctx) -> str:
    cb = codebook()
    per_act = queries.activity_counts(ctx.db)
    gen = _genealogy(ctx)
    gen_act = gen["activity"].value_counts()
    per_sub = queries.sub_activity_counts(ctx.db)
    gen_sub = pd.Series([s for subs in gen["sub_activities"] for s in (subs if subs is not None else [])],
                        dtype=object).value_counts()
    rows = []
    for i, a in enumerate(cb.activities, start=1):
        rows.append({"sr": i, "activity": _swatch(a["id"]) + f'<br><span class="note">{h(a["label"])}</span>',
                     "definition": h(a.get("definition", "")), "engagements": int(per_act.get(a["id"], 0)),
                     "genealogy": int(gen_act.get(a["id"], 0)), "sources": ctx.cite(a.get("citations", []))})
    subs = []
    for s in cb.sub_activities:
        subs.append({"sub-activity": h(s["label"]), "id": f'<span class="mono">{h(s["id"])}</span>',
                     "engagements": int(per_sub.get(s["id"], 0)), "genealogy": int(gen_sub.get(s["id"], 0)),
                     "sources": ctx.cite(s.get("citations", []))})
    cf = [{"Cottey & Forster's activity": h(c["label"]), "placed under": _swatch(c["activity"]),
           "sub-activity": h(c.get("sub_activity", "") or "")} for c in cb.cottey_forster]
    src_act = queries.source_activity_counts(ctx.db)
    pivot = src_act.pivot_table(index="source", columns="activity", values="n", fill_value=0, aggfunc="sum")
    pivot = pivot[[a for a in cb.activity_ids if a in pivot.columns]].reset_index()
    bars = pd.DataFrame([{"activity": charts.activity_label(a), "activity_key": a,
                          "engagements": int(per_act.get(a, 0))} for a in cb.activity_ids])
    bar = charts.bar_table(bars, category="activity", value="engagements", color_by="activity_key",
                           title="Engagements per activity (all sources)")
    return f"""
<p>The four activities of Table 1 in Khalid and Ahmed ({ctx.cite([PAPER_KEY])}) are the codebook's core
activities (version {h(cb.version)}); its sub-activities are, in their words, the results and outcomes of the four.
Every engagement in the store is coded with one activity, any sub-activities and an instrument.</p>
{_table(pd.DataFrame(rows), {"sr": "Sr", "activity": "activity", "definition": "definition (defdip)",
                             "engagements": "engagements", "genealogy": "genealogy records", "sources": "sources"},
        raw=("activity", "definition", "sources"), cls="wide")}
{ctx.chart("codebook_activities", bar)}
<h3>Sub-activities</h3>
{_table(pd.DataFrame(subs), raw=("sub-activity", "id", "sources"), cls="wide")}
<h3>Engagements per source and activity</h3>
{_table(pivot)}
<details><summary>Cottey and Forster's ten activities, placed in the codebook ({ctx.cite(["forster_2004"])})</summary>
{_table(pd.DataFrame(cf), raw=("Cottey & Forster's activity", "placed under", "sub-activity"), cls="wide")}
</details>"""


def _sec_genealogy(ctx: _Ctx) -> str:
    gen = _genealogy(ctx)
    if not len(gen):
        raise Unavailable("the store holds no genealogy records")
    recs = gen.copy()
    recs["href"] = ["#" + _anchor("rec", i) for i in recs["id"]]
    recs["citations"] = [list(c) if c is not None else [] for c in recs["citations"]]
    recs["participants"] = [list(p) if p is not None else [] for p in recs["participants"]]
    chart = charts.timeline(recs[["id", "title", "activity", "start_year", "circa", "citations", "participants",
                                  "href"]])
    first, last = int(gen["start_year"].min()), int(gen["start_year"].max())
    return f"""
<p>{len(gen):,} curated records, each cited, from {format_year(first)} to {format_year(last)}. Two panels keep
antiquity and the modern era legible on one page: the upper runs from the earliest record to 1500, the lower from 1500
to today. Hover a point for the record and its sources; click it to jump to the record in
<a href="#records">the list of records</a>; click the legend to highlight one activity; drag or scroll to pan and
zoom.</p>
{ctx.chart("genealogy_timeline", chart)}"""


def _sec_evolution(ctx: _Ctx) -> str:
    decade = evo.evolution(ctx.store, by="decade")
    era = evo.evolution(ctx.store, by="era")
    coverage = evo.coverage_windows(ctx.store)
    modern = decade[pd.to_numeric(decade["period"], errors="coerce") >= 1800]
    parts = [
        "<p>How many engagements of each activity began per decade since 1800 (each activity on its own scale: they"
        " differ by orders of magnitude), and the mix of activities in each era. Counts follow the datasets'"
        " coverage, drawn beneath the chart: a jump where a dataset starts or ends (UN contributions from 2010,"
        " exercises after 2010) is a coverage edge, not a trend (see <a href=\"#methods\">Methods and data</a>).</p>",
        ctx.chart("evolution_decades", charts.activity_evolution(modern, coverage=coverage)),
        "<h3>Coverage of each dataset</h3>" + _coverage_table(coverage),
        ctx.chart("evolution_eras", charts.activity_evolution(era)),
    ]
    table = era.groupby(["period", "activity"], as_index=False)["started"].sum().pivot_table(
        index="period", columns="activity", values="started", fill_value=0, aggfunc="sum")
    order = [e for e, *_ in ERAS if e in table.index] + [p for p in table.index if p not in ERA_LABELS]
    table = table.reindex(order)
    table = table[[a for a in charts.activity_domain(table.columns) if a in table.columns]]
    table.index = [ERA_LABELS.get(p, p) for p in table.index]
    table = table.rename(columns=charts.activity_label).reset_index().rename(columns={"index": "era"})
    parts.append("<h3>Engagements started per era</h3>" + _table(table))
    if "share_institutionalised" in era.columns or "share_bilateral" in era.columns:
        cols = [c for c in ("share_bilateral", "share_institutionalised") if c in era.columns]
        weights = era.assign(_w=era["started"].clip(lower=0))
        rows = []
        for period, grp in weights.groupby("period", sort=False):
            row = {"era": ERA_LABELS.get(period, period)}
            for c in cols:
                ok = grp[c].notna() & (grp["_w"] > 0)
                row[c.replace("_", " ")] = (float((grp.loc[ok, c] * grp.loc[ok, "_w"]).sum() / grp.loc[ok, "_w"].sum())
                                            if ok.any() else None)
            rows.append(row)
        shares = pd.DataFrame(rows)
        shares["_o"] = [next((i for i, (e, *_r) in enumerate(ERAS) if ERA_LABELS[e] == r), 99) for r in shares["era"]]
        parts.append("<h3>Bilateral and institutionalised shares per era</h3>"
                     + _table(shares.sort_values("_o").drop(columns="_o"), digits=2)
                     + '<p class="note">Shares of engagements started, weighted by the number started.</p>')
    return "\n".join(parts)


def _coverage_table(coverage: pd.DataFrame) -> str:
    show = coverage.assign(activities=coverage["activities"].map(", ".join))
    return _table(show, {"source": "source", "first_year": "first year", "last_year": "last year",
                         "records": "records", "activities": "activities", "scope": "scope"})


def _sec_partnership(ctx: _Ctx) -> str:
    frame = evo.partnership_index(ctx.store, by="decade")
    coverage = evo.coverage_windows(ctx.store)
    frame = frame[pd.to_numeric(frame["period"], errors="coerce") >= 1815].copy()
    frame["period"] = frame["period"].astype(int)
    if not len(frame):
        raise Unavailable("the partnership index has no periods since 1815")
    text = ""
    if "partnership_share" in frame.columns:
        valid = frame.dropna(subset=["partnership_share"])
        valid = valid[valid["period"].astype(int) <= _dt.date.today().year - 5]
        if len(valid):
            first, last = valid.iloc[0], valid.iloc[-1]
            peak = valid.loc[valid["partnership_share"].astype(float).idxmax()]
            text = (f"<p>Of the pairs of states tied by a defence pact or a partnership instrument, "
                    f"{float(first['partnership_share']):.0%} were tied by partnership alone in the "
                    f"{int(first['period'])}s, the first decade the partnership data cover; the share peaks in the "
                    f"{int(peak['period'])}s at {float(peak['partnership_share']):.0%} and is "
                    f"{float(last['partnership_share']):.0%} in the {int(last['period'])}s, the last decade in the "
                    f"index (which the datasets may cover only in part).</p>")
    show = frame.drop(columns=[c for c in ("period_start", "period_label") if c in frame.columns]).copy()
    show["period"] = [f"{int(p)}s" for p in show["period"]]
    return f"""
<p>The paper's title claim, <em>from alliance building to strategic partnerships</em>, read off the data, per decade
since 1815: new defence pacts (alliance treaties with a defence obligation) against the instruments of partnership,
new defence cooperation agreements (DCAs) and joint exercises; pairs of states tied by a defence pact in force
(allied dyads) against pairs tied only by a DCA in force or a joint exercise in the past five years (partnership
dyads); the partnership share, partnership / (allied + partnership) dyads; and the partnership ratio,
(new DCAs + new exercises) / new defence pacts (definitions: <span class="mono">evolution.partnership_index</span>).
Partnership columns are empty outside the years the DCA and exercise datasets cover, and no series runs past
the end of its data (each dataset's window is drawn at the foot of the chart; Russia's own exercise list after
2010 covers Russia only). A curated record that describes a dataset's record (NATO, ANZUS, Lancaster House)
counts once, as the dataset's record.</p>
{text}
{ctx.chart("partnership_shift", charts.partnership_shift(frame, coverage=coverage))}
<details><summary>The index per decade (table)</summary>{_table(show, digits=2)}</details>"""


def _sec_networks(ctx: _Ctx) -> str:
    parts = ["<p>Snapshots of the network of defence-diplomacy ties (all activities in force in the year) at four "
             "moments: the eve of the First World War, the start of the Cold War, its late phase, and the "
             "post-Cold War world. Nodes are sized by degree and coloured by community (community 1 is the largest, "
             "as in the tables); the ten most central states (eigenvector centrality) are named. Layout: spring "
             "layout with a fixed seed (42), so it is the same on every build, in which a tie between two "
             "communities pulls weakly, so each community gathers in its own area.</p>"]
    summaries = []
    for year in ctx.years:
        result = network.network(year, layer="all", store=ctx.store)
        nodes = result.nodes
        summary = dict(result.summary or {})
        keep = ("nodes", "edges", "density", "components", "largest_component_share", "communities", "modularity",
                "most_central")
        summaries.append({"year": year, **{k: (", ".join(map(str, summary[k][:5])) if isinstance(summary[k], list)
                                               else summary[k]) for k in keep if k in summary}})
        parts.append(f"<h3>{year}</h3>")
        if result.graph.number_of_edges() == 0:
            parts.append(f'<p class="note">No ties in {year} in this store.</p>')
            continue
        parts.append(ctx.chart(f"network_{year}", charts.network_chart(result, seed=42, title=(
            f"{year}: {result.graph.number_of_nodes():,} polities, {result.graph.number_of_edges():,} ties"))))
        sort_col = "eigenvector" if "eigenvector" in nodes.columns else "degree"
        top = nodes.sort_values([sort_col, "degree"], ascending=False).head(10)
        if "community" in top.columns:  # named as the chart's legend names them
            top = top.assign(community=top["community"].map(charts.community_labels(nodes["community"])))
        cols = {c: c for c in ("name", "id", "degree", "eigenvector", "betweenness", "community") if c in top.columns}
        parts.append(f"<p>Most central in {year}:</p>" + _table(top, cols))
    if summaries:
        parts.insert(1, "<h3>Network summary</h3>" + _table(pd.DataFrame(summaries)))
    return "\n".join(parts)


def _sec_maps(ctx: _Ctx) -> str:
    countries = queries.country_shapes(ctx.db)
    if countries is None:
        raise Unavailable("The store has no Natural Earth country shapes (table ne_countries), so the maps are "
                          "left out. Put ne_110m_admin_0_countries.geojson in the natural_earth folder of the "
                          "sources (`defdip fetch natural_earth`) and rebuild the store.")
    lo, hi = series.map_window(ctx.db.con)
    per = queries.partner_counts(lo, hi, ctx.db)
    values, missing = charts.iso3_values(per, countries, {"partners": "max", "bilateral_partners": "max",
                                                          "engagements": "sum"}, hi)
    values = values.merge(countries[["iso3", "name"]], on="iso3", how="left")
    intensity = charts.world_map(
        countries, values[["iso3", "partners", "bilateral_partners", "engagements"]], value="partners",
        choices={"partners": "state partners", "bilateral_partners": "partners in bilateral engagements",
                 "engagements": "engagements"},
        title=f"Number of state partners per country, engagements active {lo}-{hi}")
    top = values.sort_values("partners", ascending=False).head(15)

    reg = registry()
    focus = queries.resolve_polity(ctx.country).polity
    focus_iso = focus.iso3 or next((c for c in countries["iso3"] if _safe_iso(c) == focus.id), None)
    mine = queries.state_partners(focus.id, ctx.db)
    if not len(mine):
        partners_html = f'<p class="note">{h(focus.name)} has no engagement with another state in this store.</p>'
    else:
        pv, _ = charts.iso3_values(mine, countries, {"engagements": "sum", "first_year": "min", "last_year": "max",
                                                     "main_activity": "first"})
        pv = pv.merge(countries[["iso3", "name"]], on="iso3", how="left")
        pv["main_activity"] = pv["main_activity"].map(charts.activity_label)
        chart = charts.partners_map(countries, pv, focus_iso or "", focus_name=focus.name, value="engagements",
                                    tooltip=("main_activity", "first_year", "last_year"),
                                    title=f"Partners of {focus.name}: shared engagements (no peacekeeping), all years")
        best = pv.sort_values("engagements", ascending=False).head(15)
        partners_html = (ctx.chart("map_partners", chart)
                         + f"<p>{h(focus.name)}'s {len(pv):,} state partners with a shape on the map; the 15 with "
                           "the most shared engagements:</p>"
                         + _table(best, {"name": "partner", "iso3": "ISO3", "engagements": "engagements",
                                         "main_activity": "main activity", "first_year": "first",
                                         "last_year": "last"}))
    note = ""
    if missing:
        names = [reg.get(p).name if p in reg else p for p in missing[:12]]
        note = (f'<p class="note">{len(missing)} states active in {lo}-{hi} have no shape on the 1:110m map (small '
                f"islands and states that no longer exist) and are not drawn: {h(', '.join(names))}"
                f"{' ...' if len(missing) > 12 else ''}.</p>")
    return f"""
<p>Where defence diplomacy is dense: for each country, the number of different states it shared an engagement with
(any activity in force at some time in {lo}-{hi}, the latest ten years that at least half the activity datasets
reach). Two states count as partners when both took part in the engagement in a common year of the window: a
member that left an alliance before the window is nobody's partner in it. Peacekeeping deployments are left out:
a UN mission ties a contributor to its mission and host, not to every other contributor. The menu under the map
switches to partners in bilateral engagements only or to the
number of engagements. Shapes: Natural Earth 1:110m ({ctx.cite(["natural_earth"])}), joined to polities by ISO3
code through the actor registry.</p>
{ctx.chart("map_intensity", intensity)}
{note}
<details><summary>The 15 countries with the most partners</summary>
{_table(top, {"name": "country", "iso3": "ISO3", "partners": "state partners",
              "bilateral_partners": "bilateral partners", "engagements": "engagements"})}
</details>
<h3>Partners of {h(focus.name)}</h3>
{partners_html}"""


def _safe_iso(code: str) -> str | None:
    try:
        return registry().by_iso3(code).id
    except DefdipError:
        return None


def _sec_conflict(ctx: _Ctx) -> str:
    result = conflict.mid_model(ctx.store)
    table = result.table.copy()
    cols = {c: c.replace("_", " ") for c in ("term", "coef", "se", "z", "p", "odds_ratio") if c in table.columns}
    rates = getattr(result, "rates", None)
    rates_html = ""
    if isinstance(rates, pd.DataFrame) and len(rates):
        rates_html = "<h3>Onset rates</h3>" + _table(rates)
    text = getattr(result, "text", "") or ""
    return f"""
<p><strong>These are associations, not causal effects.</strong> A logit model of the onset of a militarised
interstate dispute (MID) in a dyad-year, on the dyad's defence-diplomacy ties and the usual controls
(<span class="mono">conflict.mid_model</span>; n = {int(getattr(result, "n", 0)):,} dyad-years). Dyads that cooperate
differ from others in many ways the model does not measure, and ties and disputes can drive each other, so a
coefficient says how often disputes begin where ties exist, not what ties do.</p>
{_table(table, cols, digits=3)}
{rates_html}
<details><summary>Model summary</summary><pre>{h(text)}</pre></details>"""


def _sec_methods(ctx: _Ctx) -> str:
    sources = queries.sources(ctx.db)
    meta = queries.meta(ctx.db)
    ingest = queries.ingest_report(ctx.db)
    quarantine = queries.quarantine_counts(ctx.db)
    unresolved = queries.unresolved_counts(ctx.db)
    src = sources.copy()
    src["cite"] = [ctx.cite(cit.keys_in(b)) if isinstance(b, str) and b.strip() else "" for b in src["bibtex"]]
    versions = {"defdip": __version__, **{k.replace("_version", ""): v for k, v in meta.items()},
                "report built": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "store": str(ctx.store.name)}
    try:
        versions["Vega-Lite (charts)"] = charts.vl_version() or alt.SCHEMA_VERSION
        versions["Vega"] = vlc.get_vega_version()
        versions["vega-embed"] = vlc.get_vega_embed_version()
    except Exception:  # pragma: no cover - informational only
        pass
    return f"""
<h3>Methods</h3>
<ul>
<li><strong>Records.</strong> Every engagement is one instance of an activity coded with the codebook; it carries
its participants (resolved through the actor registry, year-aware), its instrument, dates (signed years, no year 0)
and provenance (source, version, the source's own record id, citation keys). Records that sources mark as the same
event are merged into one carrying every provenance.</li>
<li><strong>Genealogy.</strong> Curated historical records, each with its references; the timeline shows them all.</li>
<li><strong>Evolution.</strong> Engagements by start year, grouped by decade or era; eras: {h("; ".join(
        label for _, _, _, label in ERAS))}. The partnership ratio and dyad counts come from
<span class="mono">evolution.partnership_index</span>.</li>
<li><strong>Networks.</strong> Polities are nodes; two are tied in a year when they share an engagement in force that
year (<span class="mono">network.network(year, layer="all")</span>). Centrality: degree, eigenvector, betweenness;
communities as the network module computes them. Drawing: networkx spring layout, seed 42.</li>
<li><strong>Maps.</strong> Values per polity joined to Natural Earth shapes by ISO3 code through the registry;
polities without a shape are listed, not dropped silently.</li>
<li><strong>Conflict.</strong> Dyad-year logit of MID onset (<span class="mono">conflict.mid_model</span>):
associations only.</li>
<li><strong>Offline.</strong> This page loads nothing from the network: the charts' JavaScript (Vega, Vega-Lite,
vega-embed) and data are inline, and each chart is also under <span class="mono">charts/</span> as PNG and SVG.</li>
</ul>
<h3>Versions</h3>
{_kv(versions)}
<h3>Data sources and versions</h3>
{_table(src, {"id": "id", "title": "title", "version": "version", "kind": "kind", "status": "status",
              "citation": "citation", "terms": "terms", "cite": "BibTeX keys", "note": "note"}, raw=("cite",),
        cls="wide", nowrap=("id", "version", "kind", "status"))}
<h3>Last build</h3>
{_table(ingest)}
{_table(quarantine) if len(quarantine) else '<p class="note">No rows were quarantined.</p>'}
{("<p>Names no source could resolve (mentions kept in the unresolved table):</p>" + _table(unresolved))
 if len(unresolved) else ""}"""


def _sec_records(ctx: _Ctx) -> str:
    gen = _genealogy(ctx)
    if not len(gen):
        raise Unavailable("the store holds no genealogy records")
    rows = []
    for r in gen.itertuples(index=False):
        subs = list(r.sub_activities) if r.sub_activities is not None else []
        parts = list(r.participants) if r.participants is not None else []
        rows.append({
            "year": format_year(int(r.start_year), bool(r.circa))
            + (f"–{format_year(int(r.end_year))}" if pd.notna(r.end_year) and r.end_year != r.start_year else ""),
            "activity": _swatch(r.activity),
            "record": f"<strong>{h(r.title)}</strong><br><span class=\"note\">{h(r.summary or '')}</span>"
                      + (f"<br><span class=\"note\">sub-activities: {h(', '.join(subs))}</span>" if subs else ""),
            "participants": h(", ".join(map(str, parts))),
            "sources": ctx.cite(list(r.citations) if r.citations is not None else []),
            "id": f'<span class="mono">{h(r.id)}</span>',
        })
    ids = [_anchor("rec", i) for i in gen["id"]]
    return ("<p>Every genealogy record (the points of the timeline) with its sources; a key leads to the "
            "bibliography entry.</p>"
            + _table(pd.DataFrame(rows), raw=("activity", "record", "participants", "sources", "id"), cls="wide",
                     row_ids=ids))


# --- bibliography ----------------------------------------------------------------------------------------------

def _sec_bibliography(ctx: _Ctx) -> str:
    source_bibtex = queries.source_bibtex(ctx.db)
    entries = cit.all_entries(source_bibtex)
    for b in source_bibtex:  # every source loaded into the store is cited, used in a chart or not
        for key in cit.keys_in(b):
            if key not in ctx.cite_keys:
                ctx.cite_keys.append(key)
    if PAPER_KEY not in ctx.cite_keys:
        ctx.cite_keys.insert(0, PAPER_KEY)
    items, missing = [], []
    for key in sorted(set(ctx.cite_keys), key=lambda k: (cit.sort_key(k, entries.get(k)), k)):
        entry = entries.get(key)
        if entry is None:
            if key == PAPER_KEY:
                items.append(f'<div class="bib" id="{_anchor("bib", key)}"><span class="key">[{h(key)}]</span> '
                             f"{h(PAPER)}</div>")
            else:
                missing.append(key)
                items.append(f'<div class="bib" id="{_anchor("bib", key)}"><span class="key">[{h(key)}]</span> '
                             f'<span class="note">no BibTeX entry found for this key in this build</span></div>')
            continue
        items.append(f'<div class="bib" id="{_anchor("bib", key)}"><span class="key">[{h(key)}]</span> '
                     f"{cit.format_reference(entry)}<details><summary>BibTeX</summary><pre>{h(entry)}</pre>"
                     f"</details></div>")
    note = (f'<p class="note">{len(missing)} keys have no entry here: {h(", ".join(missing))}.</p>'
            if missing else "")
    return (f"<p>Every work and dataset this report cites or draws on ({len(items)} entries), by BibTeX key; "
            f"<span class=\"mono\">defdip cite KEY</span> prints an entry.</p>{note}" + "".join(items))


# --- assembly --------------------------------------------------------------------------------------------------

SECTIONS: list[tuple[str, str, Callable[[_Ctx], str]]] = [
    ("question", "The question", _sec_question),
    ("codebook", "Codebook: Table 1 with counts", _sec_codebook),
    ("genealogy", "Genealogy: from antiquity to today", _sec_genealogy),
    ("evolution", "Evolution of each activity", _sec_evolution),
    ("partnership", "From alliances to partnerships", _sec_partnership),
    ("networks", "Networks of defence diplomacy", _sec_networks),
    ("maps", "Maps", _sec_maps),
    ("conflict", "Defence diplomacy and militarised disputes", _sec_conflict),
    ("methods", "Methods and data", _sec_methods),
    ("records", "Records of the genealogy", _sec_records),
    ("bibliography", "Bibliography", _sec_bibliography),
]
"""Section id, title and builder, in page order (the bibliography last: it lists what the others cite)."""


def _build_section(ctx: _Ctx, sid: str, title: str, fn: Callable[[_Ctx], str]) -> Section:
    try:
        return Section(sid, title, fn(ctx))
    except Unavailable as exc:
        return Section(sid, title, status="unavailable", note=str(exc))
    except StoreError as exc:
        return Section(sid, title, status="unavailable", note=str(exc))
    except Exception as exc:  # noqa: BLE001 - one failing section must not stop the report
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return Section(sid, title, status="failed", note=f"This section could not be built: {detail}")


def _render(sections: list[Section], ctx: _Ctx) -> str:
    asset = resources.files("defdip").joinpath("data/report")
    css = asset.joinpath("report.css").read_text(encoding="utf-8")
    embed = asset.joinpath("embed.js").read_text(encoding="utf-8")
    toc = "\n".join(f'<a href="#{s.id}">{h(s.title.split(":")[0])}</a>' for s in sections)
    body = []
    for s in sections:
        status = "" if s.status == "ok" else f' <span class="status {s.status}">{h(s.status)}</span>'
        note = f'<p class="note">{h(s.note)}</p>' if s.note else ""
        body.append(f'<section id="{s.id}" class="{s.status}" data-status="{s.status}">'
                    f"<h2>{h(s.title)}{status}</h2>{note}{s.body}</section>")
    csp = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
           "img-src 'self' data: blob: file:; font-src data:; connect-src 'none'")
    built = _dt.date.today().isoformat()
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="defdip {h(__version__)}">
<title>defdip report: defence diplomacy from antiquity to today</title>
<style>{css}</style>
</head>
<body>
<header class="top">
<h1>Defence diplomacy from antiquity to today</h1>
<p>An offline report of the defdip observatory, built {built} from the store {h(ctx.store.name)}. It follows
Khalid and Ahmed (2024), <em>From Alliance Building to Strategic Partnerships</em>, and answers their question with
the store's records and datasets.</p>
</header>
<nav class="toc">{toc}</nav>
<main>
{"".join(body)}
</main>
<footer>defdip {h(__version__)} · charts: Vega-Lite via vl-convert, inlined · no network needed</footer>
<script>{charts.vega_bundle()}</script>
<script>{embed}</script>
</body>
</html>
"""


def build_report(out_dir: str | Path, store: str | Path | None = None, progress: Progress | None = None, *,
                 country: str = DEFAULT_COUNTRY, years: Iterable[int] = NETWORK_YEARS) -> Path:
    """Write the offline report into ``out_dir`` and return the path of its ``index.html``.

    ``country`` (a name, COW abbreviation or ISO3 code) is the country whose partners are mapped;
    ``years`` are the network snapshots. Raises StoreError when there is no store.
    """
    with queries.open_store(store) as db:  # a clear error now when there is no store
        out = Path(out_dir)
        (out / "charts").mkdir(parents=True, exist_ok=True)
        ctx = _Ctx(db=db, out=out, country=country, years=tuple(int(y) for y in years))
        tick = progress or (lambda *_: None)
        total = len(SECTIONS) + 1
        sections = []
        for i, (sid, title, fn) in enumerate(SECTIONS):
            tick(title, i, total)
            sections.append(_build_section(ctx, sid, title, fn))
        tick("writing index.html", total - 1, total)
        index = out / "index.html"
        tmp = index.with_name("index.html.tmp")
        tmp.write_text(_render(sections, ctx), encoding="utf-8")
        tmp.replace(index)
    (out / "sections.json").write_text(json.dumps(
        [{"id": s.id, "title": s.title, "status": s.status, "note": s.note} for s in sections]
        + [], indent=1), encoding="utf-8")
    tick("done", total, total)
    return index


def sections_status(out_dir: str | Path) -> list[dict[str, str]]:
    """The status of each section of a written report (from its sections.json)."""
    rows: list[dict[str, str]] = json.loads((Path(out_dir) / "sections.json").read_text(encoding="utf-8"))
    return rows
