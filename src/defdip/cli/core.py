"""Commands for the codebook, the genealogy, citations, building and inspecting the store."""

from __future__ import annotations

from pathlib import Path

import typer

from defdip.cli.app import STORE_OPT, Fmt, app, console, emit, print_json, step_progress
from defdip.core.codebook import codebook as get_codebook
from defdip.core.dates import format_year
from defdip.store import build as store_mod


@app.command()
def codebook(fmt: Fmt = typer.Option(Fmt.table, "--format", "-f", help="table, json or csv")) -> None:
    """The codebook: Table 1's activities and sub-activities, Cottey & Forster's ten, instruments."""
    cb = get_codebook()
    if fmt is Fmt.json:
        print_json({"version": cb.version, "activities": cb.activities, "sub_activities": cb.sub_activities,
                    "cottey_forster": cb.cottey_forster, "instruments": cb.instruments, "roles": cb.roles})
        return
    rows = [{"kind": r["kind"], "id": r["id"], "activity": r.get("activity", ""), "label": r["label"]}
            for r in cb.rows()]
    emit(rows, fmt, title=f"defdip codebook v{cb.version}")


@app.command()
def genealogy(
    activity: str | None = typer.Option(None, "--activity", "-a", help="Only this activity or sub-activity."),
    from_year: int | None = typer.Option(None, "--from", help="First year (negative = BCE)."),
    to_year: int | None = typer.Option(None, "--to", help="Last year."),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
) -> None:
    """The curated genealogy: cited historical instances of each activity."""
    from defdip.ingest.genealogy import select

    records = select(activity=activity, from_year=from_year, to_year=to_year)
    if fmt is Fmt.json:
        print_json([e.as_record() for e in records])
        return
    rows = [{"start": format_year(e.start_year, e.circa), "activity": e.activity, "title": e.title,
             "participants": ", ".join(p.name or p.id for p in e.participants[:6])
             + (" ..." if len(e.participants) > 6 else ""), "sources": ", ".join(e.citations)} for e in records]
    emit(rows, fmt, title=f"{len(records)} genealogy records")


@app.command()
def cite(
    keys: list[str] = typer.Argument(None, help="Citation keys (see `defdip genealogy`)."),
    source: list[str] = typer.Option(None, "--source", "-s", help="A dataset id: print its BibTeX."),
    layers: str | None = typer.Option(None, "--layers", "-l", help="Comma-separated panel layers: print the "
                                      "BibTeX of the datasets behind them (like peacesciencer's ps_cite)."),
) -> None:
    """Print BibTeX for citation keys, datasets or panel layers."""
    from defdip.analysis.panels import resolve_layers
    from defdip.core.citations import cite as cite_keys
    from defdip.core.citations import cite_sources

    if not keys and not source and not layers:
        raise typer.BadParameter("give citation keys, --source S or --layers L1,L2")
    parts = []
    if layers:
        keys = [*(keys or []), *dict.fromkeys(k for lay in resolve_layers(layers) for k in lay.citation_keys)]
    if keys:
        parts.append(cite_keys(keys))
    if source:
        parts.append(cite_sources(source))
    typer.echo("\n\n".join(parts))


@app.command()
def build(
    sources: Path | None = typer.Option(None, "--sources", help="Folder of source files laid out one folder per "
                                        "dataset (default: DEFDIP_SOURCES, else the `defdip fetch` cache)."),
    only: list[str] = typer.Option(None, "--only", help="Load only these sources (repeatable)."),
    records: list[Path] = typer.Option(None, "--records", help="Your own records: a YAML file or folder in the "
                                       "genealogy's format (repeatable; *.bib files beside them are read)."),
    replace: bool = typer.Option(False, "--replace", help="Build even if the new store lacks sources the current "
                                 "one holds (by default such a build refuses, naming them)."),
    store: Path | None = STORE_OPT,
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
) -> None:
    """Build the store from the genealogy and every available source (atomic; re-runs give the same store).

    One build of a store at a time; a build never drops a source the current store holds unless --replace.
    """
    with step_progress("build", 24, disable=fmt is Fmt.json) as tick:
        report = store_mod.build(store, sources, only=only or None, progress=tick, records=records or None,
                                 replace=replace)
    if fmt is Fmt.json:
        print_json(report.as_dict())
        return
    rows = [{"source": r.source, "status": r.status, "rows read": r.rows_read, "engagements": r.engagements,
             "rejected": r.rejected, "unresolved": f"{r.unresolved_mentions}/{r.mentions}" if r.mentions else "",
             "note": r.note} for r in report.sources]
    emit(rows, fmt, title=f"Built {report.store}: {report.engagements:,} engagements")


@app.command()
def status(store: Path | None = STORE_OPT, fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
           quarantine: bool = typer.Option(False, "--quarantine", help="List every quarantined row (file, row, "
                                           "field, value, reason) and every unresolved name instead."),
           source: str | None = typer.Option(None, "--source", "-s", help="With --quarantine: only this source.")
           ) -> None:
    """Counts per source and per activity in the store, and the last ingest report."""
    if quarantine:
        from defdip.store.queries import quarantine as quarantined

        rows, names = quarantined(store, source)
        if fmt is Fmt.json:
            print_json({"quarantine": rows.to_dict("records"), "unresolved": names.to_dict("records")})
            return
        emit(rows, fmt, title=f"quarantined rows ({len(rows):,})")
        if fmt is Fmt.table:
            emit(names, fmt, title=f"unresolved names ({len(names):,})")
        return
    info = store_mod.status(store)
    if fmt is Fmt.json:
        print_json(info)
        return
    console.print(f"[bold]{info['store']}[/]: {info['engagements']:,} engagements, "
                  f"{format_year(info['first_year'])} to {format_year(info['last_year'])}")
    emit([{"activity": k, "engagements": v} for k, v in info["per_activity"].items()], fmt, title="per activity")
    emit([{"sub-activity": k, "engagements": v} for k, v in info["per_sub_activity"].items()], fmt,
         title="per sub-activity")
    emit([{"source": r["source"], "status": r["status"], "rows read": r["rows_read"],
           "engagements": info["per_source"].get(r["source"], 0), "rejected": r["rejected"],
           "unresolved mentions": r["unresolved_mentions"], "note": r["note"]} for r in info["ingest"]], fmt,
         title="per source")
    if info["unresolved"]:
        emit(info["unresolved"][:20], fmt, title=f"unresolved names ({len(info['unresolved'])}; top 20)")
    for item in info["debris"]:
        state = ("a build still running" if item["running"] else
                 "a build that died; the next `defdip build` removes it")
        console.print(f"[yellow]temporary file[/] {item['path']} ({item['bytes']:,} bytes): {state}",
                      highlight=False, soft_wrap=True)
