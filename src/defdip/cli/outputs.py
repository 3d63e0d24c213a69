"""Outputs: export engagements with their citations, write the offline report, serve the web dashboard, print
BibTeX."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import typer
import uvicorn

from defdip.analysis import panels
from defdip.cli.app import (
    PANEL_OUTPUTS,
    STORE_OPT,
    app,
    console,
    file_format_option,
    output_option,
    step_progress,
    year_option,
)
from defdip.core import config
from defdip.core.citations import cite as cite_keys
from defdip.core.errors import DefdipError
from defdip.present.export import FORMATS, bibtex_for_store, citable_texts, cite_sources, export_engagements
from defdip.present.report import NETWORK_YEARS, build_report, sections_status
from defdip.present.web import server_config
from defdip.store.queries import open_store

EXPORTABLE = ("engagements",)
"""What `defdip export` writes (panels are written by `defdip panel`)."""


@app.command(rich_help_panel=PANEL_OUTPUTS)
def export(
    what: str = typer.Argument(..., help="What to export: engagements."),
    output: Path = output_option("The file to write (.csv, .parquet or .json); CITATION.bib is written beside it.",
                                 required=True),
    fmt: str | None = file_format_option(FORMATS, f"{', '.join(FORMATS)} (default: from the suffix)."),
    source: str | None = typer.Option(None, "--source", "-s", help="Only engagements with a provenance from S."),
    activity: str | None = typer.Option(None, "--activity", "-a", help="Only this activity or sub-activity."),
    store: Path | None = STORE_OPT,
) -> None:
    """Export engagements (one row each) with their citations."""
    if what not in EXPORTABLE:
        raise typer.BadParameter(f"cannot export {what!r}; available: {', '.join(EXPORTABLE)} "
                                 "(panels: `defdip panel`)", param_hint="WHAT")
    path, bib, n = export_engagements(output, fmt, store, source, activity)
    console.print(f"wrote {n:,} engagements to {path} and citations to {bib}")


@app.command(rich_help_panel=PANEL_OUTPUTS)
def report(
    out: Path = output_option("The folder to write the report into (index.html, charts/).", required=True,
                              folder=True, names=("--out", "-o")),
    country: str = typer.Option("USA", "--country", "-c",
                                help="Country whose partners are mapped: a name, COW abbreviation or ISO3 code."),
    year: list[int] = year_option("--year", "-y",
                                  help="Network snapshot year (repeatable; default 1913, 1950, 1980, 2010)."),
    store: Path | None = STORE_OPT,
) -> None:
    """Write a static report that opens from disk with no network: codebook counts, the genealogy timeline,
    evolution and the alliance-to-partnership shift, networks, maps, the conflict model, sources and
    bibliography. Every chart is also saved as PNG and SVG under OUT/charts/."""
    with step_progress("report", 44) as tick:
        index = build_report(out, store=store, progress=tick, country=country, years=year or NETWORK_YEARS)
    for s in sections_status(out):
        mark = {"ok": "[green]ok[/]", "unavailable": "[yellow]unavailable[/]"}.get(s["status"], "[red]failed[/]")
        line = f"  {mark:<28} {s['title']}"
        if s["note"]:
            line += f" [dim]- {s['note']}[/]"
        console.print(line, highlight=False, soft_wrap=True)
    found = sorted((out / "charts").glob("*.png"))
    console.print(f"[bold]Report:[/] {index} ({len(found)} charts as PNG and SVG in {out / 'charts'})")


def check_port(host: str, port: int) -> None:
    """Bind ``host:port`` once and let it go, so a busy or forbidden port is one clear line before the
    dashboard says it serves (uvicorn would otherwise log its own error after our banner)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise DefdipError(f"--host {host!r}: cannot resolve this address ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no conflict
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise DefdipError(f"port {port} on {host} is already in use: stop the other server or pass "
                                  "--port with a free one") from None
            raise DefdipError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@app.command(rich_help_panel=PANEL_OUTPUTS)
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (default: this machine only)."),
    port: int = typer.Option(8000, "--port", "-p", min=1, max=65535, help="Port to listen on."),
    store: Path | None = STORE_OPT,
) -> None:
    """Serve the read-only web dashboard: HTML pages, the JSON API under /api/ and its offline docs at /docs."""
    open_store(store).close()  # a clear error now when there is no store
    check_port(host, port)
    console.print(f"[bold]defdip dashboard[/] serving {config.store_path(store)} at http://{host}:{port}/ "
                  f"(API docs: http://{host}:{port}/docs; Ctrl+C stops) once it has read what every answer is "
                  "cut from (a few seconds on a full store)", highlight=False, soft_wrap=True)
    uvicorn.Server(server_config(store, host, port)).run()


@app.command(rich_help_panel=PANEL_OUTPUTS)
def cite(
    keys: list[str] = typer.Argument(None, help="Citation keys (see `defdip genealogy`)."),
    source: list[str] = typer.Option(None, "--source", "-s", help="A dataset id: print its BibTeX."),
    layers: str | None = typer.Option(None, "--layers", "-l", help="Comma-separated panel layers: print the "
                                      "BibTeX of the datasets behind them (like peacesciencer's ps_cite)."),
    store: Path | None = STORE_OPT,
) -> None:
    """Print BibTeX for citation keys, datasets or panel layers."""
    if not keys and not source and not layers:
        raise typer.BadParameter("nothing to cite: give citation keys, --source DATASET or --layers L1,L2 "
                                 "(e.g. defdip cite --layers dca_any)")
    parts = []
    if layers:  # what a panel of these layers writes to its CITATION.bib (a user-records layer: the records' own)
        chosen = panels.resolve(layers)
        parts.append(bibtex_for_store(sorted({lay.source for lay in chosen}),
                                      dict.fromkeys(k for lay in chosen for k in lay.citation_keys),
                                      config.store_path(store)).rstrip("\n"))
    if keys:
        parts.append(cite_keys(keys, citable_texts(store)))  # a layer's keys may be defined by its dataset only
    if source:
        parts.append(cite_sources(source))
    typer.echo("\n\n".join(parts))
