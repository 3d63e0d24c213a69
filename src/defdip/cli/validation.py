"""`defdip validate`: the store's proof of reconciliation with its sources."""

from __future__ import annotations

from pathlib import Path

import typer

from defdip.analysis import validate as validation
from defdip.cli.app import STORE_OPT, Fmt, app, console, emit, print_json


@app.command()
def validate(store: Path | None = STORE_OPT, fmt: Fmt = typer.Option(Fmt.table, "--format", "-f",
                                                                      help="table, json or csv"),
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
