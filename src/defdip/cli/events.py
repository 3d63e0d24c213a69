"""`defdip events ...`: machine-coded event data (GDELT, ICEWS, POLECAT) coded to the codebook."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from defdip.cli.app import STORE_OPT, Fmt, app, console, download_progress, emit
from defdip.core.errors import DefdipError

events_app = typer.Typer(help="Machine-coded event data (GDELT, ICEWS, POLECAT) coded to the codebook.",
                         no_args_is_help=True)
app.add_typer(events_app, name="events")


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DefdipError(f"{option} {text!r}: give a date as YYYY-MM-DD") from None


@events_app.command("ingest")
def ingest_cmd(path: Path = typer.Argument(..., help="An event file or a folder of them (GDELT, ICEWS, POLECAT)."),
               engine: str = typer.Option("duckdb", "--engine", help="duckdb (default) or spark."),
               master: str | None = typer.Option(None, "--master", help="Spark master URL or sc:// Connect address."),
               store: Path | None = STORE_OPT) -> None:
    """Code event files to the codebook: events as parquet beside the store, ev_* aggregates in it."""
    from defdip.events.ingest import ingest

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
def fetch_cmd(first: str = typer.Option(..., "--from", help="First day, YYYY-MM-DD."),
              last: str = typer.Option(..., "--to", help="Last day, YYYY-MM-DD."),
              gdelt: int = typer.Option(2, "--gdelt", help="GDELT version: 1 or 2."),
              folder: Path = typer.Option(Path("gdelt"), "--dir", help="Download folder.")) -> None:
    """Download GDELT event files from GDELT's own lists, checking size and MD5; reruns resume."""
    from defdip.events.fetch import MANUAL, fetch

    with download_progress() as tick:
        results = fetch(_date(first, "--from"), _date(last, "--to"), folder, version=gdelt, progress=tick)
    emit([vars(r) for r in results], Fmt.table, title=f"GDELT {gdelt} fetch")
    console.print(MANUAL)
    if any(r.status in ("offline", "failed") for r in results):
        raise typer.Exit(1)


@events_app.command("validate")
def validate_cmd(store: Path | None = STORE_OPT,
                 fmt: Fmt = typer.Option(Fmt.table, "--format", "-f", help="table, json or csv")) -> None:
    """Precision and recall of event layers' dyad-years against curated datasets, by year."""
    from defdip.events.validate import validate

    frame = validate(store)
    if frame.empty:
        console.print("no year is covered by both the event files loaded and a curated dataset")
        return
    emit(frame, fmt, title="event layers against curated dyad-years")


@events_app.command("mapping")
def mapping_cmd(fmt: Fmt = typer.Option(Fmt.table, "--format", "-f", help="table, json or csv")) -> None:
    """The CAMEO/PLOVER -> codebook mapping, with each row's rationale and citation."""
    from defdip.events.mapping import VERSION, mapping

    emit(mapping(), fmt, title=f"event mapping v{VERSION} (defence filter: a military/defence actor or context)")
