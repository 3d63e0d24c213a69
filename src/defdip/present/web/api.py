"""The JSON API under ``/api/``: read-only, every parameter typed and bounded, every query parameterised."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

import numpy as np
import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from defdip import __version__
from defdip.analysis import network as net
from defdip.analysis import panels
from defdip.core import citations as cit
from defdip.core import dates
from defdip.core.actors import KINDS, registry
from defdip.core.codebook import codebook
from defdip.present.web import data as D
from defdip.present.web.data import YEAR_MAX, YEAR_MIN, ApiError, WebStore, jsonable
from defdip.store import queries
from defdip.store.queries import EngagementFilter


class FieldError(BaseModel):
    """What was wrong with one parameter."""

    loc: list[str | int] = Field(description="Where: e.g. [\"query\", \"from_year\"].")
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer of the API."""

    detail: str = Field(description="One line saying what was wrong and how to fix it.")
    suggestions: list[str] | None = Field(None, description="Close matches for an unknown name (404).")
    errors: list[FieldError] | None = Field(None, description="Per parameter, when a type or bound is wrong (422).")


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Unknown record, polity, citation key or path (with suggestions)."},
    422: {"model": ErrorBody, "description": "A bad parameter: wrong type or bound, a reversed year range, a "
                                             "range over its limit, an unknown name in a list."},
    503: {"model": ErrorBody, "description": "No store has been built (run `defdip build`)."},
}

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)

PANEL_MAX_SPAN = 10
PANEL_MAX_ROWS = 20_000


def _enum(name: str, values: list[str]) -> type[Enum]:
    return Enum(name, {v: v for v in values}, type=str)  # type: ignore[return-value]


Activity = _enum("Activity", codebook().activity_ids)
SubActivity = _enum("SubActivity", codebook().sub_activity_ids)
Instrument = _enum("Instrument", codebook().instrument_ids)
Kind = _enum("Kind", list(KINDS))


class By(str, Enum):
    year = "year"
    decade = "decade"
    era = "era"


class System(str, Enum):
    cow = "cow"
    gw = "gw"


NETWORK_LAYERS = list(net.layers())
"""Every layer the CLI's network command accepts: the engagement layers and the registry's panel ties."""

NO_YEAR_ZERO = {"not": {"const": 0}}
"""JSON Schema for a signed historical year: there is no year 0."""

FromYear = Annotated[int | None, Query(ge=YEAR_MIN, le=YEAR_MAX, json_schema_extra=NO_YEAR_ZERO,
                                       description="First year (negative = BCE; there is no year 0). At most "
                                                   "to_year: a reversed range is answered 422.")]
ToYear = Annotated[int | None, Query(ge=YEAR_MIN, le=YEAR_MAX, json_schema_extra=NO_YEAR_ZERO,
                                     description="Last year (negative = BCE; there is no year 0). At least "
                                                 "from_year: a reversed range is answered 422.")]
Name = Annotated[str | None, Query(min_length=1, max_length=120,
                                   description="A polity id, name, variant, COW abbreviation or ISO3 code.")]


def ws_of(request: Request) -> WebStore:
    store: WebStore = request.app.state.store
    return store


def _value(e: Enum | None) -> str | None:
    return None if e is None else e.value


class Answer(JSONResponse):
    """An answer already made of plain JSON values (:func:`defdip.present.web.data.jsonable`), encoded by orjson:
    the standard library's encoder takes milliseconds of the interpreter per large answer (a panel slice, a
    network), which under load stall every other request. The same compact UTF-8 JSON."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def _sent(answer: dict[str, Any]) -> JSONResponse:
    """``answer`` sent as it is: FastAPI would walk every value of it again to encode it. The route's
    ``response_model`` still documents it."""
    return Answer(answer)


# ----------------------------------------------------------------------------------------------- engagements

@router.get("/engagements", response_model=dict[str, Any],
            summary="Engagements, filtered and paginated")
def engagements(
    request: Request,
    country: Name = None,
    partner: Annotated[str | None, Query(min_length=1, max_length=120,
                                         description="A second polity taking part in the same engagements.")] = None,
    activity: Annotated[Activity | None, Query(description="Core activity (codebook).")] = None,  # type: ignore[valid-type]
    sub_activity: Annotated[SubActivity | None, Query(description="Sub-activity (codebook).")] = None,  # type: ignore[valid-type]
    instrument: Annotated[Instrument | None, Query(description="Instrument (codebook).")] = None,  # type: ignore[valid-type]
    source: Annotated[str | None, Query(min_length=1, max_length=60,
                                        description="A source id, e.g. atop, dcad, genealogy.")] = None,
    from_year: FromYear = None,
    to_year: ToYear = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="Text in the title.")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")] = 1,
    page_size: Annotated[int, Query(ge=1, le=D.MAX_PAGE_SIZE,
                                    description=f"Rows per page (at most {D.MAX_PAGE_SIZE}).")] = 50,
) -> JSONResponse:
    """Engagements in force at some time in ``from_year..to_year`` that match every filter given.

    Returns ``total`` (matches), ``items`` (id, title, activity, instrument, start_year, end_year, participants,
    datasets, citations, ...) and paging fields.
    """
    ws = ws_of(request)
    D.check_years(from_year, to_year)
    cid = queries.resolve_polity(country).polity.id if country else None
    pid = queries.resolve_polity(partner).polity.id if partner else None
    queries.check_source(source, ws.db())  # a DefdipError: 422
    f = EngagementFilter(country=cid, partner=pid, activity=_value(activity), sub_activity=_value(sub_activity),
                         instrument=_value(instrument), source=source, from_year=from_year, to_year=to_year, text=q)
    out = D.find_engagements(ws, f, page=page, page_size=page_size)
    out["filters"] = {"country": cid, "partner": pid, "activity": _value(activity),
                      "sub_activity": _value(sub_activity), "instrument": _value(instrument), "source": source,
                      "from_year": from_year, "to_year": to_year, "q": q}
    return _sent(out)


@router.get("/engagements/{engagement_id}", summary="One engagement with participants, provenance, references")
def engagement(request: Request,
               engagement_id: Annotated[str, Path(min_length=1, max_length=200)]) -> dict[str, Any]:
    return D.engagement(ws_of(request), engagement_id)


# ----------------------------------------------------------------------------------------------- polities

@router.get("/polities", summary="Search polities (states, historical polities, organisations)")
def polities(request: Request,
             q: Annotated[str | None, Query(min_length=1, max_length=120,
                                            description="Search text: name, variant, code.")] = None,
             kind: Annotated[Kind | None, Query(description="Only polities of this kind.")] = None,  # type: ignore[valid-type]
             limit: Annotated[int, Query(ge=1, le=200)] = 20) -> dict[str, Any]:
    ws = ws_of(request)
    reg = registry()
    if q:
        found = reg.search(q, limit=limit * 3 if kind else limit)
    else:
        found = reg.polities()
    if kind is not None:
        found = [p for p in found if p.kind == kind.value]
    counts = D.polity_counts(ws)
    total = len(found)
    items = [{**D.polity_json(p), "engagements": counts.get(p.id, 0)} for p in found[:limit]]
    return {"q": q, "total": total, "items": items}


@router.get("/polities/{polity_id}", summary="One polity with its engagement counts")
def polity(request: Request, polity_id: Annotated[str, Path(min_length=1, max_length=120)]) -> dict[str, Any]:
    ws = ws_of(request)
    p = queries.resolve_polity(polity_id).polity
    per_activity, first_year, last_year = queries.polity_activity(p.id, ws.db())
    links = {"profile": f"/api/profile/{p.id}", "page": f"/country/{p.id}",
             "engagements": f"/api/engagements?country={p.id}"}
    answer: dict[str, Any] = jsonable({**D.polity_json(p), "engagements": sum(per_activity.values()),
                                       "per_activity": per_activity, "first_year": first_year,
                                       "last_year": last_year, "links": links})
    return answer


# ----------------------------------------------------------------------------------------------- genealogy

@router.get("/genealogy", summary="The curated historical record, with its sources")
def genealogy(request: Request,
              activity: Annotated[Activity | None, Query()] = None,  # type: ignore[valid-type]
              from_year: FromYear = None, to_year: ToYear = None,
              references: Annotated[bool, Query(description="Include formatted references.")] = True,
              ) -> dict[str, Any]:
    ws = ws_of(request)
    D.check_years(from_year, to_year)
    frame = D.select_genealogy(ws, _value(activity), from_year, to_year)
    items = jsonable(frame)
    keys = sorted({k for ks in frame["citations"] if ks is not None for k in ks})
    out: dict[str, Any] = {"total": len(items), "items": items}
    if references:
        out["references"] = cit.references(keys, D.all_source_bibtex(ws))  # datasets' keys too
    return out


# ----------------------------------------------------------------------------------------------- panels

def _panel(request: Request, kind: str, country: str | None, from_year: int | None, to_year: int | None,
           layers: str | None, system: System, limit: int, directed: bool = False) -> dict[str, Any]:
    ws = ws_of(request)
    ws.version()
    D.check_years(from_year, to_year, max_span=None if country else PANEL_MAX_SPAN)
    # the registry splits the list and gives its one message for an empty or unknown selection (422)
    names = [lay.name for lay in panels.resolve(layers)] if layers is not None else None
    if country:
        queries.resolve_polity(country)  # unknown names get a 404 with suggestions
    key = ("panel", kind, country, from_year, to_year, tuple(names or ()), system.value, directed, limit)
    return ws.cached(key, lambda: _panel_answer(ws, kind, country, from_year, to_year, names, system, limit,
                                                directed))


def _panel_answer(ws: WebStore, kind: str, country: str | None, from_year: int | None, to_year: int | None,
                  names: list[str] | None, system: System, limit: int, directed: bool) -> dict[str, Any]:
    countries = [country] if country else None
    if kind == "dyad":
        frame = D.dyad_slice(ws, country, from_year, to_year, names, system.value, directed)
    else:
        frame = panels.state_year(ws.db(), from_year=from_year, to_year=to_year, system=system.value, layers=names,
                                  countries=countries)
    used = names or [n for n in panels.LAYERS if any(c in frame.columns for c in panels.LAYERS[n].columns)
                     or any(c in frame.columns for c in panels.LAYERS[n].state_cols)]
    meta = [{"layer": n, "columns": list(panels.LAYERS[n].columns), "source": panels.LAYERS[n].source,
             "first_year": panels.LAYERS[n].first_year, "last_year": panels.LAYERS[n].last_year,
             "citations": list(panels.LAYERS[n].citation_keys)} for n in used if n in panels.LAYERS]
    total = len(frame)
    return {"total": total, "returned": min(total, limit), "truncated": total > limit,
            "columns": list(frame.columns), "layers": meta, "rows": jsonable(frame.head(limit))}


@router.get("/panel/dyad-year", response_model=dict[str, Any],
            summary="A slice of the dyad-year panel (country or at most 10 years)")
def panel_dyad_year(request: Request, country: Name = None, from_year: FromYear = None, to_year: ToYear = None,
                    layers: Annotated[str | None, Query(max_length=400,
                                                        description="Comma-separated layer names.")] = None,
                    system: System = System.cow, directed: bool = False,
                    limit: Annotated[int, Query(ge=1, le=PANEL_MAX_ROWS)] = 1000) -> JSONResponse:
    """Dyad-years with layers. Give a ``country`` (its dyads), or a year range of at most 10 years."""
    return _sent(_panel(request, "dyad", country, from_year, to_year, layers, system, limit, directed))


@router.get("/panel/state-year", response_model=dict[str, Any],
            summary="A slice of the state-year panel (country or at most 10 years)")
def panel_state_year(request: Request, country: Name = None, from_year: FromYear = None, to_year: ToYear = None,
                     layers: Annotated[str | None, Query(max_length=400)] = None,
                     system: System = System.cow,
                     limit: Annotated[int, Query(ge=1, le=PANEL_MAX_ROWS)] = 1000) -> JSONResponse:
    return _sent(_panel(request, "state", country, from_year, to_year, layers, system, limit))


@router.get("/panel/layers", summary="Panel layers with columns, coverage and citations")
def panel_layers() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = jsonable(panels.layers_table())
    return rows


# ----------------------------------------------------------------------------------------------- analyses

@router.get("/evolution", summary="Engagements started and in force per period, activity and instrument")
def evolution(request: Request, by: By = By.decade,
              activity: Annotated[Activity | None, Query()] = None,  # type: ignore[valid-type]
              ) -> dict[str, Any]:
    frame = D.evolution_frame(ws_of(request), by.value)
    if activity is not None:
        frame = frame[frame["activity"] == activity.value]
    return {"by": by.value, "rows": jsonable(frame)}


@router.get("/partnership-index", summary="The alliance-to-partnership index per period")
def partnership_index(request: Request, by: By = By.decade) -> dict[str, Any]:
    return {"by": by.value, "rows": jsonable(D.partnership_frame(ws_of(request), by.value))}


NETWORK_MAX_SPAN = 200
"""Most years one network request may span."""


@dataclass(frozen=True)
class NetworkAnswer:
    """A network's measures in the order the API returns them (nodes by degree, edges by weight): what is
    cached, instead of the graph, so that a cached network costs a few lists."""

    summary: dict[str, Any]
    nodes: list[dict[str, Any]]
    edges: list[tuple[str, str, int | float]]
    """(source, target, weight), heaviest first: made into JSON objects per request, for the edges it returns."""


def network_answer(ws: WebStore, year: int, layer: str, to_year: int | None) -> NetworkAnswer:
    def compute() -> NetworkAnswer:
        panel = layer in net.panel_layers()
        data = None if panel else D.network_data(ws)
        ties = D.panel_ties(ws, layer) if panel else None
        # the server's handle: a panel layer's network reads through its cached lookups, no file opened
        result = net.network(year, layer=layer, store=ws.db(), to_year=to_year, data=data, ties=ties)
        # the nodes come most partners first; the edges (sorted by their ends) heaviest first, then by their ends
        weights = np.array([float(w) for _, _, w in result.edges])
        return NetworkAnswer(summary=jsonable(result.summary), nodes=jsonable(result.nodes),
                             edges=[result.edges[i] for i in np.argsort(-weights, kind="stable").tolist()])

    return ws.cached(("network", year, layer, to_year), compute)


@router.get("/network", response_model=dict[str, Any],
            summary="The network of polities tied in a year (or years), with measures")
def network(request: Request,
            year: Annotated[int, Query(ge=YEAR_MIN, le=YEAR_MAX, json_schema_extra=NO_YEAR_ZERO,
                                       description="The year, or the first year of a window.")],
            layer: Annotated[str, Query(min_length=1, max_length=60, json_schema_extra={"enum": NETWORK_LAYERS},
                                        description="A network layer, as `defdip network --list` lists them: "
                                                    "the engagement layers and the panel's ties.")] = "all",
            to_year: Annotated[int | None, Query(
                ge=YEAR_MIN, le=YEAR_MAX, json_schema_extra=NO_YEAR_ZERO,
                description=f"Last year of the window: not before year, and at most {NETWORK_MAX_SPAN} years "
                            "in all (else 422).")] = None,
            max_edges: Annotated[int, Query(ge=0, le=20_000)] = 2000,
            max_nodes: Annotated[int, Query(ge=1, le=5000)] = 1000) -> JSONResponse:
    """Nodes (most partners first) and edges (heaviest first) of one layer's network, with its summary.
    A layer without data in the window is answered 422 with the years it covers."""
    ws = ws_of(request)
    D.check_years(year, to_year)
    if to_year is not None and to_year - year + 1 > NETWORK_MAX_SPAN:
        raise ApiError(422, f"the year range of a network is at most {NETWORK_MAX_SPAN} years")
    if layer not in NETWORK_LAYERS:
        raise ApiError(422, f"unknown network layer {layer!r}; known layers: {', '.join(NETWORK_LAYERS)}")
    answer = network_answer(ws, year, layer, to_year)
    return _sent({"summary": answer.summary, "nodes_total": len(answer.nodes), "edges_total": len(answer.edges),
                  "nodes": answer.nodes[:max_nodes],
                  "edges": [{"source": u, "target": v, "weight": jsonable(w)} for u, v, w in answer.edges[:max_edges]]})


@router.get("/profile/{country}", response_model=dict[str, Any],
            summary="A polity's engagements over time, partners and timeline")
def profile(request: Request, country: Annotated[str, Path(min_length=1, max_length=120)],
            timeline_limit: Annotated[int, Query(ge=0, le=20_000)] = 1000) -> JSONResponse:
    """The profile's ``timeline`` holds its last ``timeline_limit`` engagements (``timeline_total`` counts all)."""
    p = queries.resolve_polity(country).polity
    out = dict(D.profile_answer(ws_of(request), p.id))
    timeline = out["timeline"]
    out["timeline_total"] = len(timeline)
    out["timeline"] = timeline[-timeline_limit:] if timeline_limit else []
    return _sent(out)


@router.get("/dyad/{a}/{b}", response_model=dict[str, Any],
            summary="The engagements two polities share")
def dyad(request: Request, a: Annotated[str, Path(min_length=1, max_length=120)],
         b: Annotated[str, Path(min_length=1, max_length=120)]) -> JSONResponse:
    pa, pb = queries.resolve_polity(a).polity, queries.resolve_polity(b).polity
    if pa.id == pb.id:
        raise ApiError(422, f"{a!r} and {b!r} are the same polity ({pa.name}); a dyad needs two")
    return _sent(D.dyad_answer(ws_of(request), pa.id, pb.id))


# ----------------------------------------------------------------------------------------------- sources

@router.get("/citations", summary="Formatted references and BibTeX for citation keys")
def citations(request: Request,
              keys: Annotated[str, Query(min_length=1, max_length=2000,
                                         description="Comma-separated BibTeX keys.")]) -> dict[str, Any]:
    wanted = [k.strip() for k in keys.split(",") if k.strip()]
    if not wanted:
        raise ApiError(422, "keys: give one or more comma-separated BibTeX keys")
    if len(wanted) > 200:
        raise ApiError(422, "keys: at most 200 keys per request")
    source_bibtex = D.all_source_bibtex(ws_of(request))
    refs = cit.references(wanted, source_bibtex)
    missing = [str(r["key"]) for r in refs if not r["found"]]
    if len(missing) == len(refs):
        known = list(cit.all_entries(source_bibtex))
        close = sorted({k for m in missing for k in difflib.get_close_matches(m, known, n=3, cutoff=0.6)})
        raise ApiError(404, f"unknown citation key(s) {', '.join(missing)}"
                            + (f"; did you mean {', '.join(close)}?" if close else ""), suggestions=close)
    return {"references": refs, "missing": missing,
            "bibtex": "\n\n".join(str(r["bibtex"]) for r in refs if r["bibtex"])}


@router.get("/sources", summary="Datasets in the store: versions, terms, citations and BibTeX")
def sources(request: Request) -> dict[str, Any]:
    return D.sources_answer(ws_of(request))


@router.get("/codebook", summary="Activities, sub-activities, Cottey & Forster's ten, instruments, roles")
def codebook_json() -> dict[str, Any]:
    cb = codebook()
    answer: dict[str, Any] = jsonable({"version": cb.version, "activities": cb.activities,
                                       "sub_activities": cb.sub_activities, "cottey_forster": cb.cottey_forster,
                                       "instruments": cb.instruments, "roles": cb.roles})
    return answer


@router.get("/status", summary="Store summary: counts per source and activity, span, versions")
def status(request: Request) -> dict[str, Any]:
    data = D.store_status(ws_of(request))
    span = f"{dates.format_year(data.get('first_year'))} - {dates.format_year(data.get('last_year'))}"
    answer: dict[str, Any] = jsonable({**data, "defdip_version": __version__, "span": span})
    return answer
