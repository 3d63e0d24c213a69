"""The shared Typer application: help panels, the options every command shares (store, format, output, years)
and the output helpers, so a command module declares only what is its own."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from defdip import __version__
from defdip.core.dates import check_year

PANEL_BUILD = "Build and check"
PANEL_EXPLORE = "Explore"
PANEL_ANALYSE = "Analyse"
PANEL_OUTPUTS = "Outputs"
PANEL_EVENTS = "Events"
PANEL_TEXT = "Text"
"""The help panels, in the order `defdip -h` lists them (commands register in this order too)."""

app = typer.Typer(
    name="defdip",
    help="An observatory of defence diplomacy: a cited record from antiquity to today and the field's datasets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console()
err_console = Console(stderr=True)
STATE = {"debug": False}
STORE_OPT = typer.Option(None, "--store", help="Store file (default: DEFDIP_STORE or the user data directory).")
"""The --store option every command that reads or writes the store takes."""


class Fmt(str, Enum):
    """What most commands print: a table for people, JSON or CSV for programs."""

    table = "table"
    json = "json"
    csv = "csv"


class ProfileFmt(str, Enum):
    """Profiles print as tables or JSON (their parts are of different shapes, so no single CSV)."""

    table = "table"
    json = "json"


class QueryFmt(str, Enum):
    """Engagement queries print as a table, CSV or JSON, or are written as parquet with -o."""

    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


def show_version(value: bool) -> None:
    """Print the version and stop before any command runs (an eager option)."""
    if value:
        typer.echo(f"defdip {__version__}")
        raise typer.Exit()


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show the full traceback on errors."),
          version: bool = typer.Option(False, "--version", callback=show_version, is_eager=True,
                                       help="Print defdip's version and exit.")) -> None:
    STATE["debug"] = debug


# --- the shared options ------------------------------------------------------------------------------------

def format_option(default: Enum | None = Fmt.table, choices: type[Enum] = Fmt, help: str | None = None) -> Any:
    """The --format/-f option; the choices come from the parameter's Enum annotation, named here in the help."""
    listed = ", ".join(str(c.value) for c in choices)
    return typer.Option(default, "--format", "-f", help=help or f"Output format: {listed}.")


def one_of(choices: tuple[str, ...], note: str = "") -> Callable[[str | None], str | None]:
    """A callback accepting one of the library's own ``choices`` (any case), so the CLI repeats no list."""
    def check(value: str | None) -> str | None:
        if value is None or value.lower() in choices:
            return value
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(choices)}{note}")

    return check


def file_format_option(formats: tuple[str, ...], help: str) -> Any:
    """The --format/-f option of a command that writes a file: one of the writer's formats, else from the
    file's suffix (None)."""
    return typer.Option(None, "--format", "-f", help=help, metavar="FORMAT",
                        callback=one_of(formats, " (or leave -f out and the file's suffix decides)"))


def check_year_text(text: str) -> int:
    """Parse a year given on the command line; a bad one is a usage error naming the convention."""
    try:
        number = int(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a year: give a whole number, negative for BCE "
                                 "(e.g. 1815 or -431)") from None
    try:
        return check_year(number)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def year_option(*names: str, help: str, required: bool = False) -> Any:
    """A year option (--from, --to, --year): whole numbers, negative = BCE, no year 0."""
    return typer.Option(... if required else None, *names, parser=check_year_text, metavar="YEAR", help=help)


def check_day_text(text: str) -> date:
    """Parse a day given as YYYY-MM-DD; a bad one is a usage error."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a day: give it as YYYY-MM-DD (e.g. 2015-02-18)") from None


def writable(path: Path, *, folder: bool) -> Path:
    """Refuse, before any work, an output that cannot be written: the nearest existing folder on the way must
    take a new file (probed with a temporary file, which also catches read-only mounts and root-owned folders).
    Missing folders are fine: the writers create them."""
    target = path.absolute() if folder else path.absolute().parent
    existing = target
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise typer.BadParameter(f"{existing} is a file, not a folder: give a path in a folder")
    if not folder and path.is_dir():
        raise typer.BadParameter(f"{path} is a folder: give a file name in it")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise typer.BadParameter(f"cannot write in {existing} ({exc.strerror or exc}): "
                                 "give a path in a folder you can write to") from None
    return path


def check_output_file(value: Path | None) -> Path | None:
    """The callback of every -o FILE option."""
    return None if value is None else writable(value, folder=False)


def check_output_folder(value: Path | None) -> Path | None:
    """The callback of every -o FOLDER option."""
    return None if value is None else writable(value, folder=True)


def output_option(help: str, *, required: bool = False, folder: bool = False,
                  names: tuple[str, ...] = ("-o", "--output")) -> Any:
    """The -o/--output option: a file (or a folder) checked to be writable while the arguments are read."""
    return typer.Option(... if required else None, *names, help=help, metavar="FOLDER" if folder else "FILE",
                        callback=check_output_folder if folder else check_output_file)


# --- output -------------------------------------------------------------------------------------------------

@contextmanager
def step_progress(name: str, width: int, *, disable: bool = False) -> Iterator[Callable[[str, int, int], None]]:
    """A transient progress bar of named steps; yields the callback(step, done, total) that long jobs
    (`ingest.build.build`, `report.build_report`) take."""
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


def emit(rows: list[dict[str, Any]] | pd.DataFrame, fmt: Enum | str, title: str | None = None,
         columns: list[str] | None = None) -> None:
    """Print rows as a rich table, JSON or CSV on stdout."""
    kind = Fmt(fmt.value if isinstance(fmt, Enum) else fmt)
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    if kind is Fmt.json:
        records = frame.to_dict(orient="records") if isinstance(rows, pd.DataFrame) else rows
        sys.stdout.write(json.dumps(records, indent=2, ensure_ascii=False, default=_jsonable) + "\n")
        return
    if columns:
        frame = frame[[c for c in columns if c in frame.columns]]
    if kind is Fmt.csv:
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
    """Print any JSON-able value (numpy and pandas scalars included) on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=_jsonable) + "\n")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-ready records: categories as plain values, NA as None."""
    out = frame.copy()
    for col in out.columns:
        if str(out[col].dtype) == "category":
            out[col] = out[col].astype(object)
    out = out.astype(object).where(out.notna(), None)
    rows: list[dict[str, Any]] = out.to_dict(orient="records")
    return rows
