"""Server-side HTML for the dashboard: one page layout (package template), escaping and chart blocks.

Plain Python string templates: ``{{name}}`` placeholders in ``templates/*.html`` are replaced by already
escaped HTML. Every value that comes from a request or the store goes through :func:`h` (or ``jsonable`` and
:func:`script_json` for chart specs).
"""

from __future__ import annotations

import html
import json
import re
import secrets
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

import pandas as pd
from fastapi.responses import HTMLResponse

from defdip import __version__
from defdip.core.dates import format_year

h = html.escape


@cache
def template(name: str) -> str:
    return resources.files("defdip.present.web").joinpath("templates", name).read_text(encoding="utf-8")


_SLOT = re.compile(r"\{\{(\w+)\}\}")


def fill(text: str, **values: str) -> str:
    """Replace ``{{name}}`` slots in one pass (inserted values are never scanned again)."""
    return _SLOT.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def csp(nonce: str) -> str:
    """Content-Security-Policy: only this app; the vega runtime needs eval for its expressions."""
    return ("default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}' 'unsafe-eval'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def page(title: str, body: str, *, status: int = 200, charts: bool = False, nonce: str | None = None,
         q: str = "", active: str = "") -> HTMLResponse:
    """A full page in the site layout (search box in the header), with the Vega scripts when it has charts."""
    nonce = nonce or new_nonce()
    scripts = ""
    if charts:
        scripts = ('<script src="/static/vega-bundle.js"></script>\n'
                   '<script src="/static/embed.js"></script>')
    nav = []
    for href, label, key in (("/", "Overview", "home"), ("/genealogy", "Genealogy", "genealogy"),
                             ("/sources", "Sources", "sources"), ("/docs", "API", "docs")):
        cls = ' class="active"' if key == active else ""
        nav.append(f'<a href="{href}"{cls}>{label}</a>')
    text = fill(template("page.html"), title=h(title), body=body, scripts=scripts, nonce=h(nonce),
                nav="".join(nav), q=h(q), version=h(__version__))
    return HTMLResponse(text, status_code=status, headers={"Content-Security-Policy": csp(nonce)})


def script_json(data: Any) -> str:
    """JSON safe to place inside a ``<script type="application/json">`` element."""
    return (json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
            .replace("</", "<\\/").replace("<!--", "<\\!--"))


def chart_block(name: str, spec: dict[str, Any], caption: str = "") -> str:
    """A chart container (``data-chart``) and its Vega-Lite spec; /static/embed.js draws it."""
    cap = f'<figcaption class="note">{caption}</figcaption>' if caption else ""
    return (f'<figure class="chart-figure"><div class="chart" id="chart-{h(name)}" data-chart="{h(name)}"></div>'
            f'<script type="application/json" id="spec-{h(name)}">{script_json(spec)}</script>{cap}</figure>')


def notice(text: str, kind: str = "note") -> str:
    return f'<p class="{kind}">{text}</p>'


def link(href: str, text: str) -> str:
    return f'<a href="{h(href)}">{h(text)}</a>'


def path_part(value: str) -> str:
    return quote(str(value), safe="")


def country_href(pid: str) -> str:
    return f"/country/{path_part(pid)}"


def record_href(eid: str) -> str:
    return f"/record/{path_part(eid)}"


def query_href(path: str, **params: Any) -> str:
    clean = {k: v for k, v in params.items() if v is not None and v != ""}
    return path + ("?" + urlencode(clean) if clean else "")


def year(value: Any, circa: Any = False) -> str:
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return format_year(int(value), bool(circa) if circa is not None and not _na(circa) else False)


def _na(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def table(rows: Iterable[dict[str, str]], columns: list[tuple[str, str]], cls: str = "data",
          nowrap: Iterable[str] = ()) -> str:
    """An HTML table (scrolling sideways when wider than the page) from rows of already-escaped cell HTML;
    ``columns`` = (key, header); ``nowrap`` keys hold ids and versions, which must not break inside a word."""
    keep = set(nowrap)
    head = "".join(f"<th>{h(label)}</th>" for _, label in columns)
    body = "".join("<tr>" + "".join(f'<td class="id">{r.get(k, "")}</td>' if k in keep else f"<td>{r.get(k, '')}</td>"
                                    for k, _ in columns) + "</tr>" for r in rows)
    return (f'<div class="table-wrap"><table class="{cls}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def number(value: Any) -> str:
    if value is None or _na(value):
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def cite_links(keys: Iterable[str], base: str = "") -> str:
    return ", ".join(f'<a class="cite" href="{h(base)}#bib-{h(k)}">{h(k)}</a>' for k in keys)


def references_html(refs: list[dict[str, Any]]) -> str:
    """A bibliography list (entries' text is already HTML-escaped by the formatter)."""
    out = []
    for r in refs:
        key = h(r["key"])
        if r.get("found"):
            out.append(f'<li id="bib-{key}"><span class="key">[{key}]</span> {r["text"]}'
                       f'<details><summary>BibTeX</summary><pre>{h(r["bibtex"])}</pre></details></li>')
        else:
            out.append(f'<li id="bib-{key}"><span class="key">[{key}]</span> '
                       '<span class="note">no BibTeX entry for this key in this build</span></li>')
    return f'<ol class="bib">{"".join(out)}</ol>' if out else ""
