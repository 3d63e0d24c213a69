"""Analyse: state-year and dyad-year panels with layers, evolution over time, networks, the MID onset model."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path

import pandas as pd
import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from defdip.analysis import evolution as ev
from defdip.analysis import network as net
from defdip.analysis import panels
from defdip.analysis.conflict import DEFAULT_LAYERS, mid_model
from defdip.analysis.panels.assembly import SYSTEMS
from defdip.cli.app import (
    PANEL_ANALYSE,
    STORE_OPT,
    Fmt,
    app,
    console,
    emit,
    file_format_option,
    format_option,
    one_of,
    output_option,
    print_json,
    records,
    year_option,
)
from defdip.core.dates import format_year
from defdip.present import charts
from defdip.present.export import PANEL_FORMATS, write_panel

LAYERS_OPT = typer.Option(None, "--layers", "-l",
                          help="Comma-separated layers (default: every layer the store can supply); "
                               "see `defdip panel layers`.")
SYSTEM_OPT = typer.Option("cow", "--system", callback=one_of(SYSTEMS),
                          help="State system: cow (ccode, 1816-2018) or gw (gwcode).")
COUNTRY_OPT = typer.Option(None, "--country", "-c", help="Only this state's rows (name or code; repeatable).")
PANEL_OUT_OPT = output_option("The panel file to write (.csv, .parquet, .dta or .feather).", required=True)
PANEL_FMT_OPT = file_format_option(PANEL_FORMATS, f"{', '.join(PANEL_FORMATS)} (default: from the suffix).")

panel_app = typer.Typer(help="State-year and dyad-year panels with defence-diplomacy layers (peacesciencer "
                             "conventions).", no_args_is_help=True)
app.add_typer(panel_app, name="panel", rich_help_panel=PANEL_ANALYSE)


class By(str, Enum):
    """The periods of an evolution table."""

    year = "year"
    decade = "decade"
    era = "era"


@contextmanager
def working(description: str, quiet: bool = False) -> Iterator[None]:
    """A transient spinner while a long library call runs."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True, disable=quiet) as bar:
        bar.add_task(description, total=None)
        yield


def write(frame: pd.DataFrame, output: Path, fmt: str | None, kind: str, store: Path | None) -> None:
    """Write a panel with its CITATION.bib and CODEBOOK.md, and say what was written (NA counts too)."""
    with working(f"writing {output}"):
        path, bib, book = write_panel(frame, output, fmt, store=store,
                                      unit="state-year" if kind == "state-year" else "dyad-year")
    nas = {c: int(frame[c].isna().sum()) for c in frame.columns[3:] if frame[c].isna().any()}
    console.print(f"wrote {len(frame):,} {kind} rows x {frame.shape[1]} columns to [bold]{path}[/], "
                  f"citations to {bib.name} and the codebook to {book.name}", highlight=False)
    if nas:
        console.print("NA outside coverage: " + ", ".join(f"{c} {n:,}" for c, n in nas.items()), highlight=False)


@panel_app.command("dyad-year")
def dyad_year_cmd(
    output: Path = PANEL_OUT_OPT,
    directed: bool = typer.Option(False, "--directed", help="Both orderings of each dyad (default: ccode1 < ccode2)."),
    from_year: int | None = year_option("--from", help="First year."),
    to_year: int | None = year_option("--to", help="Last year."),
    system: str = SYSTEM_OPT,
    layers: str | None = LAYERS_OPT,
    country: list[str] = COUNTRY_OPT,
    fmt: str | None = PANEL_FMT_OPT,
    store: Path | None = STORE_OPT,
) -> None:
    """Write a dyad-year panel: one row per dyad and year with one column per layer column."""
    with working("building the dyad-year panel"):
        frame = panels.dyad_year(store, directed=directed, from_year=from_year, to_year=to_year, system=system,
                                 layers=layers, countries=country or None)
    write(frame, output, fmt, "directed dyad-year" if directed else "dyad-year", store)


@panel_app.command("state-year")
def state_year_cmd(
    output: Path = PANEL_OUT_OPT,
    from_year: int | None = year_option("--from", help="First year."),
    to_year: int | None = year_option("--to", help="Last year."),
    system: str = SYSTEM_OPT,
    layers: str | None = LAYERS_OPT,
    country: list[str] = COUNTRY_OPT,
    fmt: str | None = PANEL_FMT_OPT,
    store: Path | None = STORE_OPT,
) -> None:
    """Write a state-year panel: each layer as the number of partners with that tie."""
    with working("building the state-year panel"):
        frame = panels.state_year(store, from_year=from_year, to_year=to_year, system=system,
                                  layers=layers, countries=country or None)
    write(frame, output, fmt, "state-year", store)


@panel_app.command("layers")
def layers_cmd(fmt: Fmt = format_option()) -> None:
    """The panel layers: columns, source, coverage years and citation keys."""
    frame = panels.layers_table()
    if fmt is Fmt.table:
        emit(frame, fmt, title="panel layers (NA outside coverage; `defdip cite KEY` for BibTeX)",
             columns=["layer", "columns", "source", "first_year", "last_year", "citations"])
        console.print("Descriptions: `defdip panel layers --format csv` (or json).")
    else:
        emit(frame, fmt)


@app.command(rich_help_panel=PANEL_ANALYSE)
def evolution(
    by: By = typer.Option(By.decade, "--by", help="year, decade or era (dates.ERAS)."),
    index: bool = typer.Option(False, "--index", help="The alliance-to-partnership index instead."),
    output: Path | None = output_option("Write the table as CSV (a .csv file)."),
    chart: Path | None = output_option("Write a chart (.png, .svg or .html).", names=("--chart",)),
    store: Path | None = STORE_OPT,
    fmt: Fmt = format_option(),
) -> None:
    """Engagements started and in force per period, activity and instrument (or --index: pacts vs partnerships)."""
    if output is not None and output.suffix.lower() != ".csv":
        raise typer.BadParameter(f"-o writes CSV: give a .csv file, not {output.name!r}")
    frame = ev.partnership_index(store, by=by.value) if index else ev.evolution(store, by=by.value)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(output, index=False)
        console.print(f"wrote {len(frame)} rows to {output}", highlight=False)
    if chart is not None:
        # years on the axis: each dataset's coverage drawn beneath (eras are no years axis, so no strip there)
        coverage = ev.coverage_windows(store) if by is not By.era else None
        drawing = (charts.partnership_shift(frame, coverage=coverage) if index
                   else charts.activity_evolution(frame, coverage=coverage))
        charts.save_chart(drawing, chart)
        console.print(f"wrote chart {chart}", highlight=False)
    if output is None and chart is None or fmt is not Fmt.table:
        title = ("Alliance-to-partnership index" if index else "Evolution") + f" by {by.value}"
        shown = frame.drop(columns=["period", "period_start"]) if fmt is Fmt.table else frame
        emit(records(shown) if fmt is Fmt.json else shown, fmt, title=title)
        if fmt is Fmt.table:  # each dataset's window: a jump at its edge is coverage, not a trend
            console.print(ev.coverage_note(ev.coverage_windows(store)), highlight=False)


@app.command(rich_help_panel=PANEL_ANALYSE)
def network(
    year: int | None = year_option("--year", "-y", help="The year (negative = BCE); needed unless --list."),
    to_year: int | None = year_option("--to", help="Last year of a range."),
    layer: str = typer.Option("all", "--layer", "-l", help="Network layer (see --list)."),
    top: int = typer.Option(10, "--top", help="How many nodes the table shows."),
    output: Path | None = output_option("Export the graph (.graphml or .gexf)."),
    list_layers: bool = typer.Option(False, "--list", help="List the layers and exit."),
    store: Path | None = STORE_OPT,
    fmt: Fmt = format_option(),
) -> None:
    """The network of polities tied by a layer in a year (or range): density, components, centrality, brokers."""
    if list_layers:
        emit([{"layer": k, "description": v} for k, v in net.layers().items()], fmt, title="network layers")
        return
    if year is None:
        raise typer.BadParameter("give the year with -y/--year YEAR (negative = BCE), or --list for the layers")
    result = net.network(year, layer=layer, store=store, to_year=to_year)
    if output is not None:
        net.export_network(result, output)
    if fmt is Fmt.json:
        print_json({"summary": result.summary, "nodes": records(result.nodes.head(top))})
        return
    s = result.summary
    span = format_year(s["from_year"]) + ("" if s["to_year"] == s["from_year"] else f"-{format_year(s['to_year'])}")
    if fmt is Fmt.table:
        console.print(
            f"[bold]{s['layer']}[/] network, {span}: {s['nodes']} nodes, {s['edges']} ties, density "
            f"{s['density']:.3f}, {s['components']} component(s) (largest {s['largest_component_share']:.0%}), "
            f"clustering {s['average_clustering']:.3f}, {s['communities']} communities (modularity "
            f"{s['modularity']:.3f}); brokers: {', '.join(s['brokers'])}; eigenvector: {s['eigenvector']}",
            highlight=False)
    emit(result.nodes.head(top), fmt, title=f"top {top} by degree")
    if output is not None and fmt is Fmt.table:
        console.print(f"wrote {output}", highlight=False)


@app.command(rich_help_panel=PANEL_ANALYSE)
def model(
    from_year: int | None = year_option("--from", help="First year."),
    to_year: int | None = year_option("--to", help="Last year."),
    layers: str | None = typer.Option(None, "--layers", "-l",
                                      help=f"Comma-separated layers (default: {','.join(DEFAULT_LAYERS)}, "
                                           "arms_tiv only with SIPRI's full register); see `defdip panel layers`."),
    output: Path | None = output_option("Write the coefficient table (csv)."),
    fmt: Fmt = format_option(help="table (printed report), json or csv."),
    store: Path | None = STORE_OPT,
) -> None:
    """Logit of GML MID onset on defence-diplomacy ties with controls: associations, not causal effects."""
    with working("fitting the MID onset model", quiet=fmt is not Fmt.table):
        result = mid_model(store, from_year=from_year, to_year=to_year, layers=layers)
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
