"""Commands that move data in and out: fetch official downloads, export engagements."""

from __future__ import annotations

from pathlib import Path

import typer

from defdip.cli.app import Fmt, app, console, download_progress, emit


@app.command()
def fetch(
    sources: list[str] = typer.Argument(None, help="Source ids (default: all)."),
    cache: Path | None = typer.Option(None, "--cache", help="Download folder (default: DEFDIP_CACHE or user cache)."),
) -> None:
    """Download datasets from their official addresses into the cache, checking checksums."""
    from defdip.ingest.fetch import fetch as do_fetch

    with download_progress() as tick:
        results = do_fetch(sources or None, cache, tick)
    emit([vars(r) for r in results], Fmt.table, title="fetch")
    if any(r.status in ("offline", "failed") for r in results):
        raise typer.Exit(1)


@app.command()
def export(
    what: str = typer.Argument(..., help="What to export: engagements."),
    output: Path = typer.Option(..., "-o", "--output", help="Output file; CITATION.bib is written beside it."),
    fmt: str | None = typer.Option(None, "--format", "-f", help="csv, parquet or json (default: from the suffix)."),
    source: str | None = typer.Option(None, "--source", "-s", help="Only engagements with a provenance from S."),
    activity: str | None = typer.Option(None, "--activity", "-a", help="Only this activity or sub-activity."),
    store: Path | None = typer.Option(None, "--store"),
) -> None:
    """Export engagements (one row each) with their citations."""
    from defdip.core.errors import DefdipError
    from defdip.present.export import export_engagements

    if what != "engagements":
        raise DefdipError(f"cannot export {what!r}; available: engagements (panels: `defdip panel`)")
    path, bib, n = export_engagements(output, fmt, store, source, activity)
    console.print(f"wrote {n:,} engagements to {path} and citations to {bib}")
