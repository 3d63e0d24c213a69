"""Commands that show the store: the offline report (and, next to it, the web dashboard)."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import typer

from defdip.cli.app import STORE_OPT, app, console, step_progress
from defdip.core.errors import DefdipError


@app.command()
def report(
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the report into (index.html, charts/)."),
    country: str = typer.Option("USA", "--country", "-c",
                                help="Country whose partners are mapped: a name, COW abbreviation or ISO3 code."),
    year: list[int] = typer.Option(None, "--year", "-y",
                                   help="Network snapshot year (repeatable; default 1913, 1950, 1980, 2010)."),
    store: Path | None = STORE_OPT,
) -> None:
    """Write a static report that opens from disk with no network: codebook counts, the genealogy timeline,
    evolution and the alliance-to-partnership shift, networks, maps, the conflict model, sources and
    bibliography. Every chart is also saved as PNG and SVG under OUT/charts/."""
    from defdip.present.report import NETWORK_YEARS, build_report, sections_status

    with step_progress("report", 44) as tick:
        index = build_report(out, store=store, progress=tick, country=country, years=year or NETWORK_YEARS)
    status = sections_status(out)
    for s in status:
        mark = {"ok": "[green]ok[/]", "unavailable": "[yellow]unavailable[/]"}.get(s["status"], "[red]failed[/]")
        line = f"  {mark:<28} {s['title']}"
        if s["note"]:
            line += f" [dim]- {s['note']}[/]"
        console.print(line, highlight=False, soft_wrap=True)
    charts = sorted((Path(out) / "charts").glob("*.png"))
    console.print(f"[bold]Report:[/] {index} ({len(charts)} charts as PNG and SVG in {Path(out) / 'charts'})")


# --- web dashboard -------------------------------------------------------------------------------------------

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


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (default: this machine only)."),
    port: int = typer.Option(8000, "--port", "-p", min=1, max=65535, help="Port to listen on."),
    store: Path | None = STORE_OPT,
) -> None:
    """Serve the read-only web dashboard: HTML pages, the JSON API under /api/ and its offline docs at /docs."""
    import uvicorn

    from defdip.core import config
    from defdip.present.web import create_app
    from defdip.store.build import connect

    connect(store).close()  # a clear error now when there is no store
    check_port(host, port)
    console.print(f"[bold]defdip dashboard[/] serving {config.store_path(store)} at http://{host}:{port}/ "
                  f"(API docs: http://{host}:{port}/docs; Ctrl+C stops)", highlight=False, soft_wrap=True)
    uvicorn.run(create_app(store), host=host, port=port, log_level="warning")
