"""Build and check: download the datasets, build the store, see what it holds, reconcile it with its sources."""

from __future__ import annotations

from pathlib import Path

import typer

from defdip.analysis import validate as validation
from defdip.cli.app import (
    PANEL_BUILD,
    STORE_OPT,
    Fmt,
    app,
    console,
    download_progress,
    emit,
    format_option,
    print_json,
    step_progress,
)
from defdip.core.dates import format_year
from defdip.ingest import build as store_mod
from defdip.ingest.fetch import fetch as fetch_sources
from defdip.store.queries import quarantine as quarantined


@app.command(rich_help_panel=PANEL_BUILD)
def fetch(
    sources: list[str] = typer.Argument(None, help="Source ids (default: all)."),
    cache: Path | None = typer.Option(None, "--cache", help="Download folder (default: DEFDIP_CACHE or user cache)."),
) -> None:
    """Download datasets from their official addresses into the cache, checking checksums."""
    with download_progress() as tick:
        results = fetch_sources(sources or None, cache, tick)
    emit([vars(r) for r in results], Fmt.table, title="fetch")
    if any(r.status in ("offline", "failed") for r in results):
        raise typer.Exit(1)


@app.command(rich_help_panel=PANEL_BUILD)
def build(
    sources: Path | None = typer.Option(None, "--sources", help="Folder of source files laid out one folder per "
                                        "dataset (default: DEFDIP_SOURCES, else the `defdip fetch` cache)."),
    only: list[str] = typer.Option(None, "--only", help="Load only these sources (repeatable)."),
    records: list[Path] = typer.Option(None, "--records", help="Your own records: a YAML file or folder in the "
                                       "genealogy's format (repeatable; *.bib files beside them are read)."),
    replace: bool = typer.Option(False, "--replace", help="Build even if the new store lacks sources the current "
                                 "one holds (by default such a build refuses, naming them)."),
    store: Path | None = STORE_OPT,
    fmt: Fmt = format_option(),
) -> None:
    """Build the store from the genealogy and every available source (atomic; re-runs give the same store).

    One build of a store at a time; a build never drops a source the current store holds unless --replace.
    """
    own: list[str | Path] = [*records] if records else []
    with step_progress("build", 24, disable=fmt is Fmt.json) as tick:
        report = store_mod.build(store, sources, only=only or None, progress=tick, records=own or None,
                                 replace=replace)
    if fmt is Fmt.json:
        print_json(report.as_dict())
        return
    rows = [{"source": r.source, "status": r.status, "rows read": r.rows_read, "engagements": r.engagements,
             "rejected": r.rejected, "unresolved": f"{r.unresolved_mentions}/{r.mentions}" if r.mentions else "",
             "note": r.note} for r in report.sources]
    emit(rows, fmt, title=f"Built {report.store}: {report.engagements:,} engagements")


@app.command(rich_help_panel=PANEL_BUILD)
def status(store: Path | None = STORE_OPT, fmt: Fmt = format_option(),
           quarantine: bool = typer.Option(False, "--quarantine", help="List every quarantined row (file, row, "
                                           "field, value, reason) and every unresolved name instead."),
           source: str | None = typer.Option(None, "--source", "-s", help="With --quarantine: only this source.")
           ) -> None:
    """Counts per source and per activity in the store, and the last ingest report."""
    if quarantine:
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


@app.command(rich_help_panel=PANEL_BUILD)
def validate(store: Path | None = STORE_OPT, fmt: Fmt = format_option(),
             failed_only: bool = typer.Option(False, "--failed", help="Show only the checks that fail.")) -> None:
    """Reconcile the store with its sources: rows accounted for, published figures, invariants.

    Exits with status 1 when a check fails (a difference from the source that no note explains).
    """
    checks = validation.validate(store)
    failed = validation.failures(checks)
    shown = failed if failed_only else checks
    if fmt is Fmt.json:
        print_json([vars(c) for c in shown])
    else:
        frame = validation.as_frame(shown, pretty=fmt is Fmt.table)
        frame.insert(0, "", frame.pop("ok").map({True: "ok", False: "FAIL"}))
        if fmt is Fmt.table:
            for kind in validation.KINDS:
                part = frame[frame["kind"] == kind].drop(columns="kind")
                if len(part):
                    emit(part, fmt, title=kind)
        else:
            emit(frame, fmt)
    if fmt is Fmt.table:
        verdict = "[bold red]FAILED[/]" if failed else "[bold green]all passed[/]"
        console.print(f"{len(checks)} checks, {len(failed)} failed: {verdict}")
    if failed:
        raise typer.Exit(1)
