"""Explore: the codebook, the engagements (the CLI twin of ``/api/engagements``), the genealogy, and the
profiles of a polity and of a pair."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd
import typer

from defdip.analysis.profiles import dyad_profile
from defdip.analysis.profiles import profile as get_profile
from defdip.cli.app import (
    PANEL_EXPLORE,
    STORE_OPT,
    Fmt,
    ProfileFmt,
    QueryFmt,
    app,
    console,
    emit,
    format_option,
    output_option,
    print_json,
    records,
    year_option,
)
from defdip.core.codebook import codebook as get_codebook
from defdip.core.dates import decade_of, format_year
from defdip.events.mapping import VERSION as EVENT_MAPPING_VERSION
from defdip.events.mapping import mapping as event_mapping
from defdip.ingest.genealogy import select
from defdip.present.export import flat_frame, write_engagements
from defdip.store.queries import EngagementFilter, polity_id
from defdip.store.queries import engagements as select_engagements

PEACEKEEPING_OPT = typer.Option(False, "--peacekeeping/--no-peacekeeping",
                                help="Count peacekeeping co-deployment as partnership (default: shown apart).")


@app.command(rich_help_panel=PANEL_EXPLORE)
def codebook(fmt: Fmt = format_option(),
             events: bool = typer.Option(False, "--events", help="The event-data mapping instead: CAMEO and PLOVER "
                                         "codes to the codebook, with each row's rationale and citation (as "
                                         "`defdip events mapping`).")) -> None:
    """The codebook: Table 1's activities and sub-activities, Cottey & Forster's ten, instruments."""
    if events:
        emit(event_mapping(), fmt, title=f"event mapping v{EVENT_MAPPING_VERSION} (defence filter: a military/defence "
                                         "actor or context)")
        return
    cb = get_codebook()
    if fmt is Fmt.json:
        print_json({"version": cb.version, "activities": cb.activities, "sub_activities": cb.sub_activities,
                    "cottey_forster": cb.cottey_forster, "instruments": cb.instruments, "roles": cb.roles})
        return
    rows = [{"kind": r["kind"], "id": r["id"], "activity": r.get("activity", ""), "label": r["label"]}
            for r in cb.rows()]
    emit(rows, fmt, title=f"defdip codebook v{cb.version}")


@app.command(rich_help_panel=PANEL_EXPLORE)
def engagements(
    country: str | None = typer.Option(None, "--country", "-c", help="A polity taking part (name, id or code)."),
    partner: str | None = typer.Option(None, "--partner", "-p", help="A second polity in the same engagements."),
    activity: str | None = typer.Option(None, "--activity", "-a", help="Core activity (see `defdip codebook`)."),
    sub_activity: str | None = typer.Option(None, "--sub-activity", help="Sub-activity, e.g. peacekeeping."),
    instrument: str | None = typer.Option(None, "--instrument", "-i", help="Instrument (see `defdip codebook`)."),
    source: str | None = typer.Option(None, "--source", "-s", help="Only engagements with a provenance from S."),
    from_year: int | None = year_option("--from", help="In force in or after this year (negative = BCE)."),
    to_year: int | None = year_option("--to", help="Started in or before this year."),
    exclude: list[str] = typer.Option(None, "--exclude-sub-activity", help="Leave out a sub-activity (repeatable)."),
    text: str | None = typer.Option(None, "--q", "-q", help="Text in the title, in any script or spelling "
                                    "('Rimpac 2012' finds 'Римпак-2012'), or an engagement id."),
    long: bool = typer.Option(False, "--long", help="One row per engagement x participant, with ccode, gwcode, "
                              "iso3, role and the name as of the year (merges with panels)."),
    fmt: QueryFmt = format_option(QueryFmt.table, QueryFmt),
    output: Path | None = output_option("Write to this file (CITATION.bib beside it)."),
    store: Path | None = STORE_OPT,
) -> None:
    """Engagements matching every filter given, in force at some time in --from..--to."""
    if fmt is QueryFmt.parquet and output is None:
        raise typer.BadParameter("--format parquet needs -o FILE (parquet is not printed)")
    f = EngagementFilter(
        country=polity_id(country) if country else None, partner=polity_id(partner) if partner else None,
        activity=activity, sub_activity=sub_activity, instrument=instrument, source=source,
        from_year=from_year, to_year=to_year, exclude_sub_activities=tuple(exclude or ()), text=text)
    frame = select_engagements(f, store, long=long)
    if output is not None:
        written = "parquet" if fmt is QueryFmt.parquet else None if fmt is QueryFmt.table else fmt.value
        path, bib = write_engagements(frame, output, written, store)
        console.print(f"wrote {len(frame):,} rows to {path} and citations to {bib}", highlight=False)
        return
    if fmt is QueryFmt.table:
        cols = (["engagement_id", "start_year", "activity", "polity_id", "ccode", "role", "name", "title"] if long
                else ["id", "start_year", "end_year", "activity", "title", "participants"])
        emit(flat_frame(frame), "table", title=f"{len(frame):,} rows", columns=cols)
    elif fmt is QueryFmt.csv:
        sys.stdout.write(flat_frame(frame).to_csv(index=False))
    else:
        emit(frame, "json")


@app.command(rich_help_panel=PANEL_EXPLORE)
def genealogy(
    activity: str | None = typer.Option(None, "--activity", "-a", help="Only this activity or sub-activity."),
    from_year: int | None = year_option("--from", help="First year (negative = BCE)."),
    to_year: int | None = year_option("--to", help="Last year."),
    fmt: Fmt = format_option(),
) -> None:
    """The curated genealogy: cited historical instances of each activity."""
    found = select(activity=activity, from_year=from_year, to_year=to_year)
    if fmt is Fmt.json:
        print_json([e.as_record() for e in found])
        return
    rows = [{"start": format_year(e.start_year, e.circa), "activity": e.activity, "title": e.title,
             "participants": ", ".join(p.name or p.id for p in e.participants[:6])
             + (" ..." if len(e.participants) > 6 else ""), "sources": ", ".join(e.citations)} for e in found]
    emit(rows, fmt, title=f"{len(found)} genealogy records")


def profile_header(title: str, info: dict[str, Any], pko_note: str) -> None:
    """The one-line summary above a profile's tables, then the resolver's notes."""
    span = (f"{format_year(info['first_year'])} to {format_year(info['last_year'])}"
            if info["first_year"] is not None else "no engagements in the store")
    per = ", ".join(f"{k} {v}" for k, v in info["per_activity"].items())
    console.print(f"[bold]{title}[/]: {info['engagements']:,} engagements, {span} ({per}); {pko_note}",
                  highlight=False)
    for note in info.get("notes", []):
        console.print(f"note: {note}", highlight=False)


def json_profile(info: dict[str, Any]) -> dict[str, Any]:
    """A profile with its frames as records."""
    return {k: (records(v) if isinstance(v, pd.DataFrame) else v) for k, v in info.items()}


@app.command(rich_help_panel=PANEL_EXPLORE)
def profile(
    country: str = typer.Argument(..., help="A polity name, variant or code (e.g. 'United States', athens)."),
    top: int = typer.Option(15, "--top", help="How many partners and timeline rows a table shows."),
    peacekeeping: bool = PEACEKEEPING_OPT,
    store: Path | None = STORE_OPT,
    fmt: ProfileFmt = format_option(ProfileFmt.table, ProfileFmt),
) -> None:
    """A country's engagements over time across all activities: per year, partners, timeline."""
    info = get_profile(country, store, peacekeeping=peacekeeping)
    if fmt is ProfileFmt.json:
        print_json(json_profile(info))
        return
    pko = (f"{info['peacekeeping']:,} of them peacekeeping deployments, "
           + ("counted in the partners" if peacekeeping else "kept out of the partner ranking (--peacekeeping)"))
    profile_header(f"{info['polity']['name']} ({info['polity']['id']})", info, pko)
    per_decade = info["per_year"].assign(decade=info["per_year"]["year"].map(decade_of))
    if not per_decade.empty:
        emit(per_decade.drop(columns="year").groupby("decade", as_index=False).sum(), "table",
             title="engagements started per decade")
    emit(info["partners"].head(top), "table", title=f"top {top} partners")
    emit(info["timeline"].tail(top), "table", title=f"latest {top} engagements",
         columns=["date", "title", "activity", "instrument", "sources"])


@app.command(rich_help_panel=PANEL_EXPLORE)
def dyad(
    a: str = typer.Argument(..., help="The first polity (name, variant or code)."),
    b: str = typer.Argument(..., help="The second polity (name, variant or code)."),
    top: int = typer.Option(20, "--top", help="How many timeline rows a table shows."),
    peacekeeping: bool = PEACEKEEPING_OPT,
    store: Path | None = STORE_OPT,
    fmt: ProfileFmt = format_option(ProfileFmt.table, ProfileFmt),
) -> None:
    """The engagements two polities share, over time (peacekeeping deployments apart unless --peacekeeping)."""
    info = dyad_profile(a, b, store, peacekeeping=peacekeeping)
    if fmt is ProfileFmt.json:
        print_json(json_profile(info))
        return
    pa, pb = info["polities"]
    pko = (f"{info['peacekeeping']:,} shared peacekeeping deployments "
           + ("included" if peacekeeping else "not counted (--peacekeeping to include)"))
    profile_header(f"{pa['name']} - {pb['name']}", info, pko)
    if info["per_instrument"]:
        emit([{"instrument": k, "engagements": v} for k, v in info["per_instrument"].items()], "table",
             title="per instrument")
    emit(info["timeline"].tail(top), "table", title=f"latest {top} shared engagements",
         columns=["date", "title", "activity", "instrument", "sources"])
