"""Server-rendered HTML pages: overview, country, dyad, genealogy explorer, record, search, sources.

Charts come from :mod:`defdip.present.charts` (the same builders as the report); their specs are embedded in the page
and drawn by ``/static/embed.js`` with the Vega bundle this app serves itself. Each chart section is built on
its own: one that fails says why and the rest of the page is still shown.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from defdip.core import citations, dates, translit
from defdip.core.actors import normalize_name, registry
from defdip.core.codebook import codebook
from defdip.core.errors import DefdipError, StoreError
from defdip.present import charts
from defdip.present.web import data as D
from defdip.present.web.data import YEAR_MAX, YEAR_MIN, ApiError, WebStore
from defdip.present.web.render import (
    chart_block,
    cite_links,
    country_href,
    h,
    link,
    notice,
    number,
    page,
    path_part,
    query_href,
    record_href,
    references_html,
    table,
    year,
)
from defdip.store import queries

router = APIRouter(include_in_schema=False)

TIMELINE_MAX = 1200
"""Most points a timeline chart carries (a regular sample of a longer timeline)."""


def _ws(request: Request) -> WebStore:
    store: WebStore = request.app.state.store
    return store


def _aslist(value: Any) -> list[Any]:
    """A list from a list, tuple, numpy array or None/NA."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if hasattr(value, "tolist"):
        return list(value.tolist())
    try:
        if pd.isna(value):
            return []
    except (TypeError, ValueError):
        pass
    return [value]


def _swatch(activity: str) -> str:
    return (f'<span class="swatch" style="background:{h(charts.activity_color(activity))}"></span>'
            f"{h(charts.activity_label(activity))}")


def _section(title: str, build: Callable[[], str], sid: str = "") -> str:
    """A card with a title; a failure inside becomes a note (the page still renders)."""
    try:
        body = build()
    except (StoreError, DefdipError) as exc:
        body = notice(h(str(exc)))
    except Exception as exc:  # noqa: BLE001 - one failing chart must not take the page down
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        body = notice(h(f"This section could not be built: {detail}"), "error")
    ident = f' id="{h(sid)}"' if sid else ""
    return f'<section class="card"{ident}><h2>{h(title)}</h2>{body}</section>'


def _spec(ws: WebStore, key: tuple[Any, ...], build: Callable[[], Any]) -> dict[str, Any]:
    """A chart's Vega-Lite spec, cached per store version."""
    return ws.cached(("spec", *key), lambda: charts.spec(build()), size=128)


def _filters(frame: pd.DataFrame, col: str, lo: int) -> pd.DataFrame:
    return frame[pd.to_numeric(frame[col], errors="coerce") >= lo]


def _participants_links(parts: Any) -> str:
    out = []
    for p in _aslist(parts):
        pid, name = p.get("id"), p.get("name") or p.get("id")
        out.append(link(country_href(pid), name) if pid and pid in registry() else h(str(name)))
    return ", ".join(out)


# ----------------------------------------------------------------------------------------------- home

def _genealogy_chart_frame(frame: pd.DataFrame) -> pd.DataFrame:
    recs = frame.copy()
    recs["href"] = [record_href(i) for i in recs["id"]]
    recs["citations"] = [list(c) if c is not None else [] for c in recs["citations"]]
    recs["participants"] = [[p["name"] for p in ps] if ps is not None else [] for ps in recs["participants"]]
    return recs[["id", "title", "activity", "start_year", "circa", "citations", "participants", "href"]]


def _home_timeline(ws: WebStore) -> str:
    frame = D.genealogy_frame(ws)
    if not len(frame):
        return notice("The store holds no genealogy records.")
    spec = _spec(ws, ("home_timeline",), lambda: charts.timeline(_genealogy_chart_frame(frame)))
    first, last = int(frame["start_year"].min()), int(frame["start_year"].max())
    return (f"<p>{len(frame):,} curated, cited records from {h(dates.format_year(first))} to "
            f"{h(dates.format_year(last))}. Hover a point for its sources, click it for the record; "
            f'the <a href="/genealogy">genealogy explorer</a> filters them.</p>'
            + chart_block("genealogy_timeline", spec))


def _coverage_table(coverage: pd.DataFrame) -> str:
    rows = [{"source": h(r["source"]), "years": h(f"{year(r['first_year'])}–{year(r['last_year'])}"),
             "records": number(r["records"]), "activities": h(", ".join(r["activities"])), "scope": h(r["scope"])}
            for r in coverage.to_dict(orient="records")]
    return table(rows, [("source", "source"), ("years", "coverage"), ("records", "records"),
                        ("activities", "activities"), ("scope", "scope")])


def _home_evolution(ws: WebStore) -> str:
    decade = D.evolution_frame(ws, "decade")
    era = D.evolution_frame(ws, "era")
    coverage = D.coverage(ws)
    modern = _filters(decade, "period", 1800)
    parts = ["<p>Engagements of each activity begun per decade since 1800 (each on its own scale), and the mix "
             "of activities in each era. Each dataset's coverage is drawn beneath: a jump where a dataset starts "
             "or ends is a coverage edge, not a trend. Data: "
             '<a href="/api/evolution?by=decade">/api/evolution</a>.</p>']
    if len(modern):
        parts.append(chart_block("evolution_decades", _spec(
            ws, ("evo_dec",), lambda: charts.activity_evolution(modern, coverage=coverage))))
        parts.append("<details><summary>Coverage of each dataset</summary>" + _coverage_table(coverage)
                     + "</details>")
    if len(era):
        parts.append(chart_block("evolution_eras", _spec(ws, ("evo_era",), lambda: charts.activity_evolution(era))))
    return "".join(parts)


def _home_partnership(ws: WebStore) -> str:
    frame = _filters(D.partnership_frame(ws, "decade"), "period", 1815)
    if not len(frame):
        return notice("The partnership index has no periods since 1815 in this store.")
    coverage = D.coverage(ws)
    spec = _spec(ws, ("partnership",), lambda: charts.partnership_shift(frame, coverage=coverage))
    return ("<p>From alliance building to strategic partnerships: new defence pacts against defence cooperation "
            "agreements and joint exercises per decade, and the dyads each ties; no series runs past the end of "
            "its data (coverage at the foot). Data: "
            '<a href="/api/partnership-index">/api/partnership-index</a>.</p>' + chart_block("partnership_shift", spec))


def _home_map(ws: WebStore) -> str:
    shapes = D.countries(ws)
    if shapes is None:
        return notice("The store has no Natural Earth country shapes (table ne_countries): run "
                      "<span class=\"mono\">defdip fetch natural_earth</span> and rebuild the store for the maps.")
    lo, hi = D.map_window(ws)

    def build() -> Any:
        per = D.partner_counts(ws, lo, hi)[["polity_id", "partners", "engagements"]]
        values, _ = charts.iso3_values(per, shapes, {"partners": "max", "engagements": "sum"}, year=hi)
        return charts.world_map(shapes, values, value="partners", legend="state partners", tooltip=("engagements",),
                                title=f"State partners per country, engagements in force {lo}-{hi}")

    spec = _spec(ws, ("world_map",), build)
    return (f"<p>For each country, the number of different states it shared an engagement with (any activity in "
            f"force at some time in {lo}-{hi}, each member counted for the years it took part; peacekeeping "
            f"deployments left out: a mission ties contributors to hosts, not to each other). Shapes: Natural Earth "
            f"1:110m.</p>" + chart_block("world_map", spec))


def _home_stats(ws: WebStore) -> str:
    st = D.store_status(ws)
    loaded = len(st.get("per_source", {}))
    cells = [(number(st["engagements"]), "engagements"),
             (h(f"{dates.format_year(st['first_year'])} – {dates.format_year(st['last_year'])}"), "years covered"),
             (number(loaded), "sources with records")]
    cells += [(number(st["per_activity"].get(a, 0)), charts.activity_label(a)) for a in codebook().activity_ids]
    return '<div class="stats">' + "".join(f'<div class="stat"><b>{v}</b><span>{h(k)}</span></div>'
                                           for v, k in cells) + "</div>"


def _top_countries(ws: WebStore) -> str:
    rows = D.top_states(ws)
    reg = registry()
    items = [f'<li>{link(country_href(pid), reg.get(pid).name if pid in reg else pid)}'
             f' <span class="note">{number(n)}</span></li>' for pid, n in rows]
    return ("<p>The states with the most engagements in the store; search any other above.</p>"
            f'<ul class="results columns">{"".join(items)}</ul>')


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    """The overview: the store's figures, the activities over time and the most engaged states."""
    ws = _ws(request)
    ws.version()
    body = ["<h1>Defence diplomacy from antiquity to today</h1>",
            '<p class="lead">A cited historical record and the field\'s datasets in one store: contacts, attachés, '
            "joint exercises and agreements, from the earliest treaties to today's partnerships.</p>",
            _section("The store", lambda: _home_stats(ws)),
            _section("Genealogy: the curated record", lambda: _home_timeline(ws), "timeline"),
            _section("Evolution of the activities", lambda: _home_evolution(ws), "evolution"),
            _section("From alliances to partnerships", lambda: _home_partnership(ws), "partnership"),
            _section("Where defence diplomacy is dense", lambda: _home_map(ws), "map"),
            _section("Country profiles", lambda: _top_countries(ws), "countries")]
    return page("Overview", "\n".join(body), charts=True, active="home")


# ----------------------------------------------------------------------------------------------- country

def _per_year_long(per_year: pd.DataFrame) -> pd.DataFrame:
    """year x activity counts as (period, activity, started); decades when the span exceeds 40 years."""
    acts = [c for c in per_year.columns if c not in ("year", "total")]
    long = per_year.melt(id_vars=["year"], value_vars=acts, var_name="activity", value_name="started")
    span = int(per_year["year"].max()) - int(per_year["year"].min()) if len(per_year) else 0
    long["period"] = [dates.decade_of(int(y)) for y in long["year"]] if span > 40 else long["year"].astype(int)
    return long.groupby(["period", "activity"], as_index=False)["started"].sum()


def _timeline_recs(timeline: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    recs = timeline.copy()
    note = ""
    if len(recs) > TIMELINE_MAX:
        step = -(-len(recs) // TIMELINE_MAX)
        recs = recs.iloc[::step]
        note = f"The timeline shows every {step}th of {len(timeline):,} engagements (in date order)."
    recs = recs.assign(href=[record_href(i) for i in recs["id"]],
                       citations=[list(s) if s is not None else [] for s in recs["sources"]])
    return recs[["id", "title", "activity", "start_year", "citations", "href"]], note


def _split_year(timeline: pd.DataFrame) -> int:
    first = int(timeline["start_year"].min()) if len(timeline) else 1500
    return 1500 if first < 1500 else max(1500, min(1900, (first // 100) * 100))


def _country_charts(ws: WebStore, p: Any, prof: dict[str, Any]) -> str:
    per_year = prof["per_year"]
    if not len(per_year):
        return notice(f"{h(p.name)} takes part in no engagement in this store.")
    long = _per_year_long(per_year)
    coverage = D.coverage(ws)
    spec = _spec(ws, ("country_activity", p.id), lambda: charts.activity_evolution(long, coverage=coverage))
    return ("<p>Engagements begun per period, by activity (each activity on its own scale).</p>"
            + chart_block("country_activity", spec))


def _country_partners(ws: WebStore, p: Any, prof: dict[str, Any]) -> str:
    partners = prof["partners"]
    if not len(partners):
        return notice(f"{h(p.name)} shares no engagement with another polity in this store.")
    parts = []
    shapes = D.countries(ws)
    if shapes is None:
        parts.append(notice("No country shapes in this store (Natural Earth): the partners map is left out."))
    else:
        focus = D.iso3_of(p, shapes)

        def build() -> Any:
            tied = partners[partners["engagements"] > 0]  # peacekeeping-only partners are not drawn
            per = tied.rename(columns={"id": "polity_id"})[["polity_id", "engagements", "first_year", "last_year"]]
            values, _ = charts.iso3_values(per, shapes, {"engagements": "sum", "first_year": "min",
                                                         "last_year": "max"})
            return charts.partners_map(shapes, values, focus or "", focus_name=p.name, value="engagements",
                                       tooltip=("first_year", "last_year"),
                                       title=f"Partners of {p.name}: shared engagements, all years")

        parts.append(chart_block("partners_map", _spec(ws, ("partners_map", p.id), build)))
    acts = codebook().activity_ids
    rows = []
    for r in partners.head(30).to_dict(orient="records"):
        rows.append({"partner": link(country_href(r["id"]), r["name"] or r["id"]), "kind": h(str(r.get("kind") or "")),
                     "engagements": number(r["engagements"]),
                     **{a: number(r.get(a, 0)) for a in acts}, "peacekeeping": number(r.get("peacekeeping", 0)),
                     "years": h(f"{year(r.get('first_year'))}–{year(r.get('last_year'))}"),
                     "dyad": link(f"/dyad/{path_part(p.id)}/{path_part(r['id'])}", "dyad")})
    cols = [("partner", "partner"), ("kind", "kind"), ("engagements", "engagements")]
    cols += [(a, charts.activity_label(a)) for a in acts] + [("peacekeeping", "peacekeeping (apart)"),
                                                              ("years", "years"), ("dyad", "")]
    parts.append(f"<h3>Top partners ({len(partners):,} in all)</h3>"
                 "<p class=\"note\">Ranked by shared engagements without peacekeeping deployments: a UN mission "
                 "ties a contributor to its mission and host, not to every other contributor; shared deployments "
                 "are counted apart.</p>" + table(rows, cols))
    return "".join(parts)


def _timeline_table(timeline: pd.DataFrame, n: int = 40) -> str:
    rows = []
    for r in timeline.tail(n).iloc[::-1].to_dict(orient="records"):
        rows.append({"date": h(str(r["date"])), "title": link(record_href(r["id"]), r["title"]),
                     "activity": _swatch(r["activity"]), "instrument": h(str(r["instrument"])),
                     "datasets": h(", ".join(_aslist(r["datasets"]))), "sources": h(", ".join(_aslist(r["sources"])))})
    return table(rows, [("date", "date"), ("title", "engagement"), ("activity", "activity"),
                        ("instrument", "instrument"), ("datasets", "datasets"), ("sources", "sources")])


def _country_timeline(ws: WebStore, p: Any, prof: dict[str, Any]) -> str:
    timeline = prof["timeline"]
    if not len(timeline):
        return notice("No engagements.")
    recs, note = _timeline_recs(timeline)
    spec = _spec(ws, ("country_timeline", p.id),
                 lambda: charts.timeline(recs, split_year=_split_year(timeline)))
    api_link = query_href("/api/engagements", country=p.id)
    return (chart_block("country_timeline", spec, h(note) if note else "")
            + "<h3>Latest engagements</h3>" + _timeline_table(timeline)
            + f'<p class="note">All {len(timeline):,}: <a href="{h(api_link)}">{h(api_link)}</a> '
              "(JSON, paginated).</p>")


@router.get("/country/{name}", response_class=HTMLResponse)
def country(request: Request, name: str) -> Any:
    """One country: its engagements per year and activity, partners, timeline and map."""
    ws = _ws(request)
    ws.version()
    p = queries.resolve_polity(name).polity
    if p.id != name:
        return RedirectResponse(country_href(p.id), status_code=307)
    prof = D.profile_data(ws, p.id)
    per = prof["per_activity"]
    facts = {"id": h(p.id), "kind": h(p.kind), "existed": h(p.years()),
             "COW code": h(str(p.ccode or "")), "ISO3": h(p.iso3 or ""),
             "engagements": number(prof["engagements"]),
             "of them peacekeeping deployments": number(prof.get("peacekeeping", 0)),
             "first – last year": h(f"{year(prof['first_year'])} – {year(prof['last_year'])}"),
             **{charts.activity_label(a): number(per.get(a, 0)) for a in codebook().activity_ids}}
    kv = "".join(f"<dt>{h(k)}</dt><dd>{v}</dd>" for k, v in facts.items())
    body = [f"<h1>{h(p.name)}</h1>",
            f'<p class="lead">Profile of {h(p.name)}: its engagements over time, partners and timeline. JSON: '
            f'<a href="/api/profile/{h(path_part(p.id))}">/api/profile/{h(p.id)}</a>.</p>',
            f'<dl class="kv">{kv}</dl>',
            _section("Activity over time", lambda: _country_charts(ws, p, prof), "activity"),
            _section("Partners", lambda: _country_partners(ws, p, prof), "partners"),
            _section("Timeline", lambda: _country_timeline(ws, p, prof), "timeline")]
    return page(p.name, "\n".join(body), charts=True)


# ----------------------------------------------------------------------------------------------- dyad

@router.get("/dyad/{a}/{b}", response_class=HTMLResponse)
def dyad(request: Request, a: str, b: str) -> Any:
    """One dyad: the two states' shared engagements over time."""
    ws = _ws(request)
    ws.version()
    pa, pb = queries.resolve_polity(a).polity, queries.resolve_polity(b).polity
    if pa.id == pb.id:
        raise ApiError(422, f"{a!r} and {b!r} are the same polity ({pa.name}); a dyad needs two")
    if (pa.id, pb.id) != (a, b):
        return RedirectResponse(f"/dyad/{path_part(pa.id)}/{path_part(pb.id)}", status_code=307)
    prof = D.dyad_data(ws, pa.id, pb.id)
    title = f"{pa.name} and {pb.name}"

    def summary() -> str:
        rows = [{"activity": _swatch(k), "n": number(v)} for k, v in prof["per_activity"].items()]
        inst = [{"instrument": h(k), "n": number(v)} for k, v in prof["per_instrument"].items()]
        return (f"<p>{number(prof['engagements'])} shared engagements, "
                f"{h(year(prof['first_year']))} – {h(year(prof['last_year']))}; "
                f"{number(prof.get('peacekeeping', 0))} peacekeeping deployments shared, counted apart "
                "(co-deployment is not a bilateral partnership).</p>"
                + table(rows, [("activity", "activity"), ("n", "engagements")])
                + table(inst, [("instrument", "instrument"), ("n", "engagements")]))

    def over_time() -> str:
        if not len(prof["per_year"]):
            return notice("No shared engagements.")
        long = _per_year_long(prof["per_year"])
        coverage = D.coverage(ws)
        return chart_block("dyad_activity", _spec(ws, ("dyad_activity", pa.id, pb.id),
                                                   lambda: charts.activity_evolution(long, coverage=coverage)))

    def timeline() -> str:
        tl = prof["timeline"]
        if not len(tl):
            return notice("No shared engagements.")
        recs, note = _timeline_recs(tl)
        spec = _spec(ws, ("dyad_timeline", pa.id, pb.id), lambda: charts.timeline(recs, split_year=_split_year(tl)))
        return chart_block("dyad_timeline", spec, h(note) if note else "") + _timeline_table(tl, 100)

    body = [f"<h1>{h(title)}</h1>",
            f'<p class="lead">{link(country_href(pa.id), pa.name)} · {link(country_href(pb.id), pb.name)} · JSON: '
            f'<a href="/api/dyad/{h(path_part(pa.id))}/{h(path_part(pb.id))}">/api/dyad/{h(pa.id)}/{h(pb.id)}</a></p>',
            _section("Summary", summary), _section("Activity over time", over_time),
            _section("Shared engagements", timeline)]
    return page(title, "\n".join(body), charts=True)


# ----------------------------------------------------------------------------------------------- genealogy

def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, f"{name}: {raw[:40]!r} is not a whole year (use negative numbers for BCE)") from None
    if not YEAR_MIN <= value <= YEAR_MAX:
        raise ApiError(422, f"{name}: {value} is outside {YEAR_MIN}..{YEAR_MAX}")
    return value


@router.get("/genealogy", response_class=HTMLResponse)
def genealogy(request: Request) -> HTMLResponse:
    """The genealogy explorer: the curated record, filtered by activity and years, with its bibliography."""
    ws = _ws(request)
    ws.version()
    activity = request.query_params.get("activity", "").strip() or None
    D.check_activity(activity)
    lo, hi = _int_param(request, "from_year"), _int_param(request, "to_year")
    D.check_years(lo, hi)
    frame = D.select_genealogy(ws, activity, lo, hi)
    options = ['<option value="">all activities</option>'] + [
        f'<option value="{h(a)}"{" selected" if a == activity else ""}>{h(charts.activity_label(a))}</option>'
        for a in codebook().activity_ids]
    form = (f'<form class="filters" method="get" action="/genealogy">'
            f'<label>activity<select name="activity">{"".join(options)}</select></label>'
            f'<label>from year<input type="number" name="from_year" value="{"" if lo is None else lo}" '
            f'placeholder="e.g. -500"></label>'
            f'<label>to year<input type="number" name="to_year" value="{"" if hi is None else hi}" '
            f'placeholder="e.g. 1945"></label><button type="submit">Filter</button>'
            f'<a href="/genealogy">reset</a></form>')
    api_link = query_href("/api/genealogy", activity=activity, from_year=lo, to_year=hi)

    def chart() -> str:
        if not len(frame):
            return notice("No record matches these filters.")
        return chart_block("genealogy_timeline", _spec(ws, ("gen_timeline", activity, lo, hi),
                                                       lambda: charts.timeline(_genealogy_chart_frame(frame))))

    def records() -> str:
        rows = []
        for r in frame.to_dict(orient="records"):
            rows.append({"year": h(year(r["start_year"], r.get("circa"))),
                         "title": link(record_href(r["id"]), r["title"]), "activity": _swatch(r["activity"]),
                         "participants": _participants_links(r["participants"]),
                         "sources": cite_links(_aslist(r["citations"]))})
        return table(rows, [("year", "year"), ("title", "record"), ("activity", "activity"),
                            ("participants", "participants"), ("sources", "sources")])

    def bibliography() -> str:
        keys = sorted({k for ks in frame["citations"] if ks is not None for k in ks})
        return references_html(citations.references(keys, D.all_source_bibtex(ws))) or notice("No sources.")

    body = ["<h1>Genealogy explorer</h1>",
            f'<p class="lead">The curated historical record: {len(frame):,} records match. Each is cited; click a '
            f'record for its participants and provenance. JSON: <a href="{h(api_link)}">{h(api_link)}</a></p>',
            form, _section("Timeline", chart), _section("Records", records),
            _section("Sources", bibliography, "sources")]
    return page("Genealogy", "\n".join(body), charts=True, active="genealogy")


# ----------------------------------------------------------------------------------------------- record

@router.get("/record/{engagement_id}", response_class=HTMLResponse)
def record(request: Request, engagement_id: str) -> HTMLResponse:
    """One engagement: participants, dates, provenance and formatted references."""
    rec = D.engagement(_ws(request), engagement_id)
    when = year(rec["start_year"], rec.get("circa"))
    if rec.get("end_year") is not None and rec["end_year"] != rec["start_year"]:
        when += f" – {year(rec['end_year'])}"
    if rec.get("ongoing"):
        when += " (ongoing)"
    facts = {"id": h(rec["id"]), "activity": _swatch(rec["activity"]),
             "sub-activities": h(", ".join(rec.get("sub_activities") or [])),
             "instrument": h(rec["instrument"]), "when": h(when), "datasets": h(", ".join(rec.get("datasets") or []))}
    kv = "".join(f"<dt>{h(k)}</dt><dd>{v}</dd>" for k, v in facts.items())
    parts = [{"polity": link(country_href(p["id"]), p["name"] or p["id"]) if p["id"] in registry() else h(p["id"]),
              "role": h(p["role"] or ""), "years": h(f"{year(p.get('start_year'))}–{year(p.get('end_year'))}"
                                                     if p.get("start_year") else "")}
             for p in rec["participants"]]
    prov = [{"source": h(p["source"]), "version": h(p["version"]), "record": h(str(p["record_id"])),
             "cites": cite_links(p.get("citations") or [])} for p in rec["provenance"]]
    body = [f"<h1>{h(rec['title'])}</h1>",
            f'<p class="lead">{h(rec.get("summary") or "")}</p>' if rec.get("summary") else "",
            f'<dl class="kv">{kv}</dl>',
            "<h2>Participants</h2>" + table(parts, [("polity", "polity"), ("role", "role"), ("years", "years")]),
            "<h2>Provenance</h2>" + table(prov, [("source", "source"), ("version", "version"),
                                                 ("record", "record id"), ("cites", "citations")]),
            "<h2>Sources</h2>" + (references_html(rec["references"]) or notice("No citation keys.")),
            f'<p class="note">JSON: <a href="/api/engagements/{h(path_part(rec["id"]))}">'
            f'/api/engagements/{h(rec["id"])}</a></p>']
    return page(rec["title"], "\n".join(body))


# ----------------------------------------------------------------------------------------------- search

SEARCH_ROWS = 50
"""Most engagement titles a search page lists."""


def polity_matches(q: str, limit: int = 20) -> tuple[list[Any], list[Any]]:
    """(polities whose name, a variant or a code holds the query; close spellings of one), so that a search
    for an exercise title does not offer look-alike country names as matches."""
    key = normalize_name(q)
    raw = q.strip().upper()
    found = registry().search(q, limit=limit)
    if not key:
        return [], []

    def holds(p: Any) -> bool:
        codes = {p.id.upper(), (p.iso3 or "").upper(), str(p.ccode or "")}
        return raw in codes or any(key in normalize_name(n) for n in (p.name, *p.variants))

    return [p for p in found if holds(p)], [p for p in found if not holds(p)]


def _polity_items(found: list[Any], counts: dict[str, int]) -> str:
    return "".join(f'<li>{link(country_href(p.id), p.name)} <span class="note">{h(p.id)} · {h(p.kind)} · '
                   f'{h(p.years())} · {number(counts.get(p.id, 0))} engagements</span></li>' for p in found)


@router.get("/search", response_class=HTMLResponse)
def search(request: Request) -> HTMLResponse:
    """Search titles (any script or spelling) and polity names."""
    ws = _ws(request)
    q = request.query_params.get("q", "").strip()[:200]
    body = ["<h1>Search</h1>"]
    if not q:
        body.append(notice("Type a country, polity or organisation, or words of an engagement title, "
                           "in the box above."))
        return page("Search", "\n".join(body))
    counts = D.polity_counts(ws)
    polities, close = polity_matches(q)
    ids = queries.title_matches(q, ws.db())
    rows = []
    for r in D.search_engagements(ws, ids[:SEARCH_ROWS]):
        spelled = translit.latin(r["title"])
        title = link(record_href(r["id"]), r["title"]) + (
            f' <span class="note">({h(spelled)})</span>' if spelled != r["title"] else "")
        rows.append({"year": h(year(r["start_year"], r.get("circa"))), "title": title,
                     "activity": _swatch(r["activity"]), "datasets": h(", ".join(_aslist(r["datasets"])))})
    engagements = [f'<h2>Engagements and records ({len(ids):,})</h2>']
    if rows:
        more = query_href("/api/engagements", q=q)
        engagements.append(
            table(rows, [("year", "year"), ("title", "engagement"), ("activity", "activity"),
                         ("datasets", "datasets")], cls="data search-results")
            + (f'<p class="note">The {SEARCH_ROWS} best matches shown; the API\'s text filter: '
               f'<a href="{h(more)}">{h(more)}</a></p>' if len(ids) > SEARCH_ROWS else ""))
    else:
        engagements.append(notice("No engagement title matches."))
    shown = polities or ([] if ids else close)
    heading = "Polities" if polities or not shown else "Polities with a similar name"
    people = [f"<h2>{heading} ({len(shown)})</h2>",
              f'<ul class="results" id="polity-results">{_polity_items(shown, counts)}</ul>' if shown
              else notice("No polity matches.")]
    # a polity named exactly so comes first; otherwise exercise and record titles rank above polities
    exact = any(normalize_name(q) == normalize_name(p.name) or q.strip().upper() == p.id.upper() for p in polities)
    body += people + engagements if exact or not ids else engagements + people
    return page(f"Search: {q}", "\n".join(body), q=q)


# ----------------------------------------------------------------------------------------------- sources

@router.get("/sources", response_class=HTMLResponse)
def sources(request: Request) -> HTMLResponse:
    """The datasets in the store with versions, terms and citations."""
    data = D.sources_answer(_ws(request))
    rows = [{"id": h(s["id"]), "title": h(s.get("title") or ""), "version": h(str(s.get("version") or "")),
             "status": h(s.get("status") or ""), "engagements": number(s.get("engagements")),
             "terms": h(s.get("terms") or ""), "citation": h(s.get("citation") or "")} for s in data["sources"]]
    keys = sorted({k for ks in D.genealogy_frame(_ws(request))["citations"] if ks is not None for k in ks})
    body = ["<h1>Sources</h1>",
            f'<p class="lead">The datasets in this store with their versions, terms and citations. Store versions: '
            f'{h(", ".join(f"{k} {v}" for k, v in data["meta"].items()))}. '
            'JSON: <a href="/api/sources">/api/sources</a>'
            "</p>",
            table(rows, [("id", "source"), ("title", "dataset"), ("version", "version"), ("status", "status"),
                         ("engagements", "engagements"), ("terms", "terms"), ("citation", "cite as")],
                  nowrap=("id", "version", "status")),
            "<h2>Bibliography of the genealogy</h2>",
            references_html(citations.references(keys, D.all_source_bibtex(_ws(request))))]
    return page("Sources", "\n".join(body), active="sources")
