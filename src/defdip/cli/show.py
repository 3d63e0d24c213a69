"""Commands that show the store: the offline report (and, next to it, the web dashboard)."""

from __future__ import annotations

from pathlib import Path

import typer

from defdip.cli.app import STORE_OPT, app, console, step_progress


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
    from defdip.report import NETWORK_YEARS, build_report, sections_status

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
# `defdip serve` (the FastAPI dashboard, defdip.web) is added here by its own change.


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (default: this machine only)."),
    port: int = typer.Option(8000, "--port", "-p", min=1, max=65535, help="Port to listen on."),
    store: Path | None = STORE_OPT,
) -> None:
    """Serve the read-only web dashboard: HTML pages, the JSON API under /api/ and its offline docs at /docs."""
    import uvicorn

    from defdip import config
    from defdip.store import connect
    from defdip.web import create_app

    connect(store).close()  # a clear error now when there is no store
    console.print(f"[bold]defdip dashboard[/] serving {config.store_path(store)} at http://{host}:{port}/ "
                  f"(API docs: http://{host}:{port}/docs; Ctrl+C stops)", highlight=False, soft_wrap=True)
    uvicorn.run(create_app(store), host=host, port=port, log_level="warning")
