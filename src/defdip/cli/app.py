"""The shared Typer application and the output helpers every command uses."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(
    name="defdip",
    help="An observatory of defence diplomacy: a cited record from antiquity to today and the field's datasets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)
STATE = {"debug": False}
STORE_OPT = typer.Option(None, "--store", help="Store file (default: DEFDIP_STORE or the user data directory).")
"""The --store option every command that reads or writes the store takes."""


class Fmt(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show the full traceback on errors.")) -> None:
    STATE["debug"] = debug


@contextmanager
def step_progress(name: str, width: int, *, disable: bool = False) -> Iterator[Callable[[str, int, int], None]]:
    """A transient progress bar of named steps; yields the callback(step, done, total) that long jobs
    (`store.build`, `report.build_report`) take."""
    with Progress(TextColumn(f"[bold]{{task.description:<{width}}}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), console=console, transient=True,
                  disable=disable) as bar:
        task = bar.add_task(name, total=1)

        def tick(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        yield tick


@contextmanager
def download_progress() -> Iterator[Callable[[str, int, int | None], None]]:
    """A transient bar per file being downloaded; yields the callback(name, bytes done, total) fetchers take."""
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), console=console,
                  transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def tick(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done, total=total)

        yield tick


def emit(rows: list[dict[str, Any]] | pd.DataFrame, fmt: Fmt | str, title: str | None = None,
         columns: list[str] | None = None) -> None:
    """Print rows as a rich table, JSON or CSV on stdout."""
    fmt = Fmt(fmt)
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    if fmt is Fmt.json:
        records = frame.to_dict(orient="records") if isinstance(rows, pd.DataFrame) else rows
        sys.stdout.write(json.dumps(records, indent=2, ensure_ascii=False, default=_jsonable) + "\n")
        return
    if columns:
        frame = frame[[c for c in columns if c in frame.columns]]
    if fmt is Fmt.csv:
        sys.stdout.write(frame.to_csv(index=False))
        return
    table = Table(title=title, show_lines=False)
    for col in frame.columns:
        table.add_column(str(col), overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    console.print(table)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return str(value)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if pd.isna(value):
        return None
    return str(value)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=_jsonable) + "\n")
