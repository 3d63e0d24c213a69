"""Analysis commands: state-year and dyad-year panels with layers, and the MID onset model."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from defdip.cli.app import STORE_OPT, Fmt, app, console, emit, print_json

FROM_OPT = typer.Option(None, "--from", help="First year.")
TO_OPT = typer.Option(None, "--to", help="Last year.")
LAYERS_OPT = typer.Option(None, "--layers", "-l",
                          help="Comma-separated layers (default: every layer the store can supply); "
                               "see `defdip panel layers`.")
SYSTEM_OPT = typer.Option("cow", "--system", help="State system: cow (ccode, 1816-2018) or gw (gwcode).")
COUNTRY_OPT = typer.Option(None, "--country", "-c", help="Only this state's rows (name or code; repeatable).")
OUT_OPT = typer.Option(..., "-o", "--output", help="Output file (.csv, .parquet, .dta or .feather).")
PANEL_FMT_OPT = typer.Option(None, "--format", "-f", help="csv, parquet, dta or feather (default: from the suffix).")

panel_app = typer.Typer(help="State-year and dyad-year panels with defence-diplomacy layers (peacesciencer "
                             "conventions).", no_args_is_help=True)
app.add_typer(panel_app, name="panel")


@contextmanager
def _working(description: str, quiet: bool = False):
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True, disable=quiet) as bar:
        bar.add_task(description, total=None)
        yield


def _layers(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [s.strip() for s in value.split(",")]


def _write(frame, output: Path, fmt: str | None, kind: str, store: Path | None) -> None:
    """Write a panel with its CITATION.bib and CODEBOOK.md, and say what was written (NA counts too)."""
    from defdip.present.export import write_panel

    with _working(f"writing {output}"):
        path, bib, book = write_panel(frame, output, fmt, store=store,
                                      unit="state-year" if kind == "state-year" else "dyad-year")
    nas = {c: int(frame[c].isna().sum()) for c in frame.columns[3:] if frame[c].isna().any()}
    console.print(f"wrote {len(frame):,} {kind} rows x {frame.shape[1]} columns to [bold]{path}[/], "
                  f"citations to {bib.name} and the codebook to {book.name}", highlight=False)
    if nas:
        console.print("NA outside coverage: " + ", ".join(f"{c} {n:,}" for c, n in nas.items()), highlight=False)


@panel_app.command("dyad-year")
def dyad_year_cmd(
    output: Path = OUT_OPT,
    directed: bool = typer.Option(False, "--directed", help="Both orderings of each dyad (default: ccode1 < ccode2)."),
    from_year: int | None = FROM_OPT,
    to_year: int | None = TO_OPT,
    system: str = SYSTEM_OPT,
    layers: str | None = LAYERS_OPT,
    country: list[str] = COUNTRY_OPT,
    fmt: str | None = PANEL_FMT_OPT,
    store: Path | None = STORE_OPT,
) -> None:
    """Write a dyad-year panel: one row per dyad and year with one column per layer column."""
    from defdip.analysis import panels

    with _working("building the dyad-year panel"):
        frame = panels.dyad_year(store, directed=directed, from_year=from_year, to_year=to_year, system=system,
                                 layers=_layers(layers), countries=country or None)
    _write(frame, output, fmt, "directed dyad-year" if directed else "dyad-year", store)


@panel_app.command("state-year")
def state_year_cmd(
    output: Path = OUT_OPT,
    from_year: int | None = FROM_OPT,
    to_year: int | None = TO_OPT,
    system: str = SYSTEM_OPT,
    layers: str | None = LAYERS_OPT,
    country: list[str] = COUNTRY_OPT,
    fmt: str | None = PANEL_FMT_OPT,
    store: Path | None = STORE_OPT,
) -> None:
    """Write a state-year panel: each layer as the number of partners with that tie."""
    from defdip.analysis import panels

    with _working("building the state-year panel"):
        frame = panels.state_year(store, from_year=from_year, to_year=to_year, system=system,
                                  layers=_layers(layers), countries=country or None)
    _write(frame, output, fmt, "state-year", store)


@panel_app.command("layers")
def layers_cmd(fmt: Fmt = typer.Option(Fmt.table, "--format", "-f", help="table, json or csv")) -> None:
    """The panel layers: columns, source, coverage years and citation keys."""
    from defdip.analysis import panels

    frame = panels.layers_table()
    if fmt is Fmt.table:
        emit(frame, fmt, title="panel layers (NA outside coverage; `defdip cite KEY` for BibTeX)",
             columns=["layer", "columns", "source", "first_year", "last_year", "citations"])
        console.print("Descriptions: `defdip panel layers --format csv` (or json).")
    else:
        emit(frame, fmt)


@app.command()
def model(
    from_year: int | None = FROM_OPT,
    to_year: int | None = TO_OPT,
    layers: str | None = typer.Option(None, "--layers", "-l",
                                      help="Comma-separated layers (default: atop_defense,dca_any,exercises, "
                                           "and arms_tiv with SIPRI's full register)."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the coefficient table (csv)."),
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f", help="table (printed report), json or csv"),
    store: Path | None = STORE_OPT,
) -> None:
    """Logit of GML MID onset on defence-diplomacy ties with controls: associations, not causal effects."""
    from defdip.analysis.conflict import mid_model

    with _working("fitting the MID onset model", quiet=fmt is not Fmt.table):
        result = mid_model(store, from_year=from_year, to_year=to_year, layers=_layers(layers))
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        result.table.to_csv(output, index=False)
    if fmt is Fmt.json:
        print_json({"n": result.n, "onsets": result.onsets, "dyads": result.dyads, "from_year": result.from_year,
                    "to_year": result.to_year, "table": result.table.to_dict("records"),
                    "rates": result.rates.to_dict("records"), "warnings": result.notes,
                    "note": result.text.splitlines()[-1]})
    elif fmt is Fmt.csv:
        emit(result.table, fmt)
    else:
        typer.echo(result.text)
        if output:
            console.print(f"coefficient table written to {output}")
