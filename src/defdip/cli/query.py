"""`defdip engagements`: the CLI twin of ``/api/engagements`` (same filters, same rows)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer

from defdip.cli.app import STORE_OPT, app, console, emit
from defdip.core.errors import DefdipError


class QueryFmt(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


@app.command()
def engagements(
    country: str | None = typer.Option(None, "--country", "-c", help="A polity taking part (name, id or code)."),
    partner: str | None = typer.Option(None, "--partner", "-p", help="A second polity in the same engagements."),
    activity: str | None = typer.Option(None, "--activity", "-a", help="Core activity (see `defdip codebook`)."),
    sub_activity: str | None = typer.Option(None, "--sub-activity", help="Sub-activity, e.g. peacekeeping."),
    instrument: str | None = typer.Option(None, "--instrument", "-i", help="Instrument (see `defdip codebook`)."),
    source: str | None = typer.Option(None, "--source", "-s", help="Only engagements with a provenance from S."),
    from_year: int | None = typer.Option(None, "--from", help="In force in or after this year (negative = BCE)."),
    to_year: int | None = typer.Option(None, "--to", help="Started in or before this year."),
    exclude: list[str] = typer.Option(None, "--exclude-sub-activity", help="Leave out a sub-activity (repeatable)."),
    long: bool = typer.Option(False, "--long", help="One row per engagement x participant, with ccode, gwcode, "
                              "iso3, role and the name as of the year (merges with panels)."),
    fmt: QueryFmt = typer.Option(QueryFmt.table, "--format", "-f", help="table, csv, json or parquet."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write to this file (CITATION.bib beside it)."),
    store: Path | None = STORE_OPT,
) -> None:
    """Engagements matching every filter given, in force at some time in --from..--to."""
    from defdip.present.export import flat_frame, write_engagements
    from defdip.store.queries import EngagementFilter, polity_id
    from defdip.store.queries import engagements as select

    f = EngagementFilter(
        country=polity_id(country) if country else None, partner=polity_id(partner) if partner else None,
        activity=activity, sub_activity=sub_activity, instrument=instrument, source=source,
        from_year=from_year, to_year=to_year, exclude_sub_activities=tuple(exclude or ()))
    frame = select(f, store, long=long)
    if output is not None:
        written = "parquet" if fmt is QueryFmt.parquet else None if fmt is QueryFmt.table else fmt.value
        path, bib = write_engagements(frame, output, written, store)
        console.print(f"wrote {len(frame):,} rows to {path} and citations to {bib}", highlight=False)
        return
    if fmt is QueryFmt.parquet:
        raise DefdipError("--format parquet needs -o FILE (parquet is not printed)")
    if fmt is QueryFmt.table:
        cols = (["engagement_id", "start_year", "activity", "polity_id", "ccode", "role", "name", "title"] if long
                else ["id", "start_year", "end_year", "activity", "title", "participants"])
        emit(flat_frame(frame), "table", title=f"{len(frame):,} rows", columns=cols)
    elif fmt is QueryFmt.csv:
        sys.stdout.write(flat_frame(frame).to_csv(index=False))
    else:
        emit(frame, "json")
