"""The FastAPI application: JSON API, HTML pages, offline API docs and the app's own static assets.

Read-only: every route is a GET (a HEAD is answered like the GET, without the body) and the store is opened
read-only. There is no write endpoint.
Nothing is fetched from outside the app: FastAPI's CDN-based Swagger/ReDoc pages are disabled and ``/docs`` is
a small self-contained page that renders ``/openapi.json``; the Vega runtime is served at
``/static/vega-bundle.js`` (bundled by vl-convert via :func:`defdip.present.charts.vega_bundle`, as in the report).
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from defdip import __version__
from defdip.analysis.network import LAYERS, panel_layers
from defdip.core.actors import UnknownPolityError, registry
from defdip.core.errors import DefdipError, StoreError
from defdip.present import charts
from defdip.present.web import api, pages
from defdip.present.web.data import (
    ApiError,
    WebStore,
    engagement_index,
    network_data,
    panel_ties,
    profile_answer,
    profile_tables,
)
from defdip.present.web.render import fill, h, new_nonce, page, template

DESCRIPTION = """Read-only access to the defdip store: engagements with their participants, provenance and
citations; polities; the curated genealogy; state-year and dyad-year panels; evolution, partnership index,
networks and profiles; sources, citations and the codebook. Years are signed historical years (negative = BCE,
no year 0); a year range (``from_year``..``to_year``) runs forwards: a reversed one is answered 422. Errors are
JSON ``{"detail": ...}``: 404 for unknown records or polities (with ``suggestions``), 422 for bad parameters (with
``errors`` per parameter when the parameter's type or bounds are wrong), 503 when no store has been built (run
``defdip build``). Every route answers HEAD like GET."""


class HeadAsGet:
    """ASGI middleware: a HEAD request runs the GET route and its answer goes out without the body.

    FastAPI registers GET routes for GET only, so HEAD would answer 405; HTTP defines HEAD as GET without the
    body (same status and headers, Content-Length included).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


class SafetyHeaders:
    """ASGI middleware: every answer tells browsers not to sniff types, frame the page or send referrers, and
    carries a strict Content-Security-Policy unless its page set its own (with a nonce for its scripts).

    Plain ASGI rather than ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware`` streams each
    answer through a task group and memory streams, the largest single cost of the event loop's thread under
    load (py-spy, load benchmark).
    """

    DEFAULTS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                (b"x-frame-options", b"DENY"),
                (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"))

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(pair for pair in self.DEFAULTS if pair[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/api" or path == "/openapi.json"


def _error(request: Request, status: int, detail: str, **extra: Any) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": detail, **extra}, status_code=status)
    titles = {404: "Not found", 422: "Bad request", 503: "No store", 405: "Not allowed"}
    body = [f"<h1>{h(titles.get(status, 'Error'))}</h1>", f'<p class="error">{h(detail)}</p>']
    suggestions = extra.get("suggestions") or []
    if suggestions:
        items = "".join(f'<li><a href="/search?q={h(_q(s))}">{h(s)}</a></li>' for s in suggestions)
        body.append(f"<p>Did you mean:</p><ul class=\"results\">{items}</ul>")
    if status == 503:
        body.append("<p>Build the store with <span class=\"mono\">defdip build</span> (or start the server with "
                    "<span class=\"mono\">--store PATH</span>), then reload this page.</p>")
    return page(titles.get(status, "Error"), "\n".join(body), status=status)


def _q(text: str) -> str:
    name = text.split(" (")[0]
    return quote(name, safe="")


def _validation_message(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    messages, errors = [], []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ()) if x not in ("query", "path", "body")]
        name = ".".join(loc) or "request"
        msg = err.get("msg", "invalid value")
        value = err.get("input")
        if name == "page_size" and err.get("type") == "less_than_equal":
            msg = f"at most {err.get('ctx', {}).get('le', 500)} rows per page; use page= to walk through the results"
        if err.get("type") == "int_parsing":
            msg = "must be a whole number"
        text = f"{name}: {msg}"
        if value is not None and not isinstance(value, (dict, list)):
            text += f" (got {str(value)[:60]!r})"
        messages.append(text)
        errors.append({"loc": list(err.get("loc", ())), "msg": msg, "type": err.get("type")})
    return "; ".join(messages), errors


WARM_PROFILES = 48
"""Profiles of polities other than states computed at start-up: those with the most engagements (alliances and
organisations most asked for). Every state's profile is computed too."""

SWITCH_INTERVAL = 0.001
"""Seconds a thread holds the interpreter while another wants it, as long as the server runs (Python's default:
0.005). On the load benchmark's busy rounds this brought the mix's p99 from 337 to about 275 ms."""


def load_shared(ws: WebStore) -> None:
    """Read what every engagement page, network and profile is cut from, once per store version: the
    engagement index, the engagements with their pairs of polities, every polity's roles and partners, and
    the tied dyad-years of each panel tie layer the store has. Done before the server takes requests, so that
    no request waits seconds for them (a start-up of a few seconds instead). A missing or unreadable store is
    left to the requests to report."""
    try:
        engagement_index(ws)
        data = network_data(ws)
        for name in LAYERS:
            data.layer(name)
        profile_tables(ws)
        with ThreadPoolExecutor(max_workers=2) as pool:  # mostly DuckDB queries, which run beside each other
            # None (and nothing kept) for a layer the store has no data for
            list(pool.map(lambda layer: panel_ties(ws, layer), panel_layers()))
    except (DefdipError, duckdb.Error):
        pass


def warm_up(ws: WebStore) -> None:
    """What the first requests would otherwise wait for, computed before the server listens: the shared loads
    (:func:`load_shared`), then the profile of every state with engagements and of the ``WARM_PROFILES`` most
    engaged other polities, busiest first (about 6 s on the real store, which a server answering its first
    requests would otherwise spend beside them: a cold profile waited up to 480 ms there under load). A missing
    store is reported by the requests."""
    try:
        load_shared(ws)
        index = engagement_index(ws)
        known = registry()
        ranked = sorted((p for p in index.by_polity if p != "unknown" and p in known),
                        key=lambda p: (-len(index.by_polity[p]), p))
        states = {p for p in ranked if known.get(p).kind == "state"}
        warmed = states.union([p for p in ranked if p not in states][:WARM_PROFILES])
        for polity_id in ranked:
            if polity_id in warmed:
                profile_answer(ws, polity_id)
    except (DefdipError, duckdb.Error):
        pass


def server_config(store: str | Path | None, host: str, port: int) -> uvicorn.Config:
    """How ``defdip serve`` runs the app: HTTP parsed by httptools (C) and, where it is installed (not on
    Windows), the event loop run by uvloop. The event loop's one thread reads and writes every connection; with
    uvicorn's pure-Python fallbacks (h11 and asyncio's loop) it took as much of the interpreter as all the
    computations together under load (py-spy); with httptools and uvloop the load benchmark's cold-round p99
    went from about 255 to 170-220 ms."""
    return uvicorn.Config(create_app(store), host=host, port=port, log_level="warning", http="httptools",
                          loop="auto")


def create_app(store: str | Path | None = None) -> FastAPI:
    """The dashboard app serving ``store`` (default: ``DEFDIP_STORE`` or the user data directory)."""
    web_store = WebStore.at(store)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(warm_up, web_store)  # seconds on a large store; the server listens after
        # what the warm-up read lives as long as the server: kept out of the garbage collector's full passes,
        # which would otherwise walk its half a million objects (0.3 s, every request waiting) again and again
        gc.collect()
        gc.freeze()
        # threads computing answers hand the interpreter over every millisecond, not every 5: the event loop's
        # thread, which reads and writes every connection, otherwise waits 5 ms each time it needs it back
        switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        yield
        sys.setswitchinterval(switch)
        gc.unfreeze()

    app = FastAPI(title="defdip API", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None)
    app.state.store = web_store

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return _error(request, exc.status, exc.detail, **exc.extra)

    @app.exception_handler(UnknownPolityError)
    async def unknown_polity(request: Request, exc: UnknownPolityError) -> Response:
        return _error(request, 404, str(exc), suggestions=list(exc.suggestions))

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> Response:
        detail = str(exc)
        if "defdip build" not in detail:
            detail += " (run `defdip build` to build or rebuild the store)"
        return _error(request, 503, detail)

    @app.exception_handler(duckdb.CatalogException)
    async def missing_table(request: Request, exc: duckdb.CatalogException) -> Response:
        # a store built by an older defdip, or without the source a table comes from
        first = str(exc).splitlines()[0].removeprefix("Catalog Error: ")
        return _error(request, 503, f"the store lacks what this needs ({first}); rebuild it with `defdip build`")

    @app.exception_handler(DefdipError)
    async def defdip_error(request: Request, exc: DefdipError) -> Response:
        return _error(request, 422, str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        message, errors = _validation_message(exc)
        if _wants_json(request):
            return JSONResponse({"detail": message, "errors": errors}, status_code=422)
        return _error(request, 422, message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no page at {request.url.path}"
        response = _error(request, exc.status_code, detail)
        for k, v in (exc.headers or {}).items():
            response.headers[k] = v
        if exc.status_code == 405:
            response.headers["Allow"] = "GET, HEAD"
        return response

    app.include_router(api.router)
    app.include_router(pages.router)
    app.add_middleware(SafetyHeaders)
    app.add_middleware(HeadAsGet)

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs() -> HTMLResponse:
        """The API documentation, served from the package (the default docs page would load from a CDN)."""
        nonce = new_nonce()
        body = fill(template("docs.html"), nonce=h(nonce))
        return page("API documentation", body, nonce=nonce, active="docs")

    @app.get("/static/vega-bundle.js", include_in_schema=False)
    def vega_bundle() -> Response:
        """Vega, Vega-Lite and vega-embed in one script, so that the charts draw with no network."""
        return Response(charts.vega_bundle(), media_type="application/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    static_dir = Path(str(resources.files("defdip.present.web").joinpath("static")))
    app.mount("/static", StaticFiles(directory=static_dir), name="static")
    return app
