"""`defdip events ...`: machine-coded event data (GDELT, ICEWS, POLECAT) coded to the codebook."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from defdip.cli.app import (
    PANEL_EVENTS,
    STORE_OPT,
    Fmt,
    app,
    check_day_text,
    console,
    download_progress,
    emit,
    format_option,
)
from defdip.events.fetch import MANUAL
from defdip.events.fetch import fetch as fetch_days
from defdip.events.ingest import ingest
from defdip.events.mapping import VERSION, mapping
from defdip.events.validate import validate

events_app = typer.Typer(help="Machine-coded event data (GDELT, ICEWS, POLECAT) coded to the codebook.",
                         no_args_is_help=True)
app.add_typer(events_app, name="events", rich_help_panel=PANEL_EVENTS)


@events_app.command("ingest")
def ingest_cmd(path: Path = typer.Argument(..., help="An event file or a folder of them (GDELT, ICEWS, POLECAT)."),
               engine: str = typer.Option("duckdb", "--engine", help="duckdb (default) or spark."),
               master: str | None = typer.Option(None, "--master", help="Spark master URL or sc:// Connect address."),
               store: Path | None = STORE_OPT) -> None:
    """Code event files to the codebook: events as parquet beside the store, ev_* aggregates in it."""
    report = ingest(path, store, engine=engine, master=master)
    emit([{"rows read": report.rows_read, "kept": report.kept, "quarantined": report.quarantined,
           "qualifying events": report.qualifying_events, "dyad-days": report.event_days,
           "dyad-years": report.dyad_years, "formats": ", ".join(f"{k} ({v})" for k, v in report.formats.items())}],
         Fmt.table, title="events ingest")
    for failure in report.failed_files:
        console.print(f"[yellow]skipped:[/] {failure}", highlight=False)
    if report.unresolved:
        top = ", ".join(f"{u['code']} ({u['reason']}, {u['mentions']})" for u in report.unresolved[:10])
        console.print(f"unresolved actor codes: {len(report.unresolved)} ({top}); table ev_unresolved")
    console.print(f"events table: {report.events_path}")


@events_app.command("fetch")
def fetch_cmd(first: date = typer.Option(..., "--from", parser=check_day_text, metavar="DAY",
                                         help="The first day, YYYY-MM-DD."),
              last: date = typer.Option(..., "--to", parser=check_day_text, metavar="DAY",
                                        help="The last day, YYYY-MM-DD."),
              gdelt: int = typer.Option(2, "--gdelt", min=1, max=2, help="GDELT version: 1 or 2."),
              folder: Path = typer.Option(Path("gdelt"), "--dir", help="Download folder.")) -> None:
    """Download GDELT event files from GDELT's own lists, checking size and MD5; reruns resume."""
    with download_progress() as tick:
        results = fetch_days(first, last, folder, version=gdelt, progress=tick)
    emit([vars(r) for r in results], Fmt.table, title=f"GDELT {gdelt} fetch")
    console.print(MANUAL)
    if any(r.status in ("offline", "failed") for r in results):
        raise typer.Exit(1)


@events_app.command("validate")
def validate_cmd(store: Path | None = STORE_OPT, fmt: Fmt = format_option()) -> None:
    """Precision and recall of event layers' dyad-years against curated datasets, by year."""
    frame = validate(store)
    if frame.empty:
        console.print("no year is covered by both the event files loaded and a curated dataset")
        return
    emit(frame, fmt, title="event layers against curated dyad-years")


@events_app.command("mapping")
def mapping_cmd(fmt: Fmt = format_option()) -> None:
    """The CAMEO/PLOVER -> codebook mapping, with each row's rationale and citation."""
    emit(mapping(), fmt, title=f"event mapping v{VERSION} (defence filter: a military/defence actor or context)")
