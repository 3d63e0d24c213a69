"""Commands that explore the store: evolution over time, networks, country and dyad profiles."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import pandas as pd
import typer

from defdip.cli.app import STORE_OPT, Fmt, app, console, emit, print_json
from defdip.core.dates import decade_of, format_year
from defdip.core.errors import DefdipError


class By(str, Enum):
    year = "year"
    decade = "decade"
    era = "era"


class ProfileFmt(str, Enum):
    table = "table"
    json = "json"


def _records(frame: pd.DataFrame) -> list[dict]:
    out = frame.copy()
    for col in out.columns:
        if str(out[col].dtype) == "category":
            out[col] = out[col].astype(object)
    out = out.astype(object).where(out.notna(), None)
    return out.to_dict(orient="records")


@app.command()
def evolution(
    by: By = typer.Option(By.decade, "--by", help="year, decade or era (dates.ERAS)."),
    index: bool = typer.Option(False, "--index", help="The alliance-to-partnership index instead."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the table as CSV."),
    chart: Path | None = typer.Option(None, "--chart", help="Write a chart (.png, .svg or .html)."),
    store: Path | None = STORE_OPT,
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
) -> None:
    """Engagements started and in force per period, activity and instrument (or --index: pacts vs partnerships)."""
    from defdip.analysis import evolution as ev

    if output is not None and output.suffix.lower() != ".csv":
        raise DefdipError(f"-o writes CSV: give a .csv file, not {output.name!r}")
    frame = ev.partnership_index(store, by=by.value) if index else ev.evolution(store, by=by.value)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(output, index=False)
        console.print(f"wrote {len(frame)} rows to {output}", highlight=False)
    if chart is not None:
        ev.save_chart(ev.partnership_chart(frame) if index else ev.evolution_chart(frame), chart)
        console.print(f"wrote chart {chart}", highlight=False)
    if output is None and chart is None or fmt is not Fmt.table:
        title = ("Alliance-to-partnership index" if index else "Evolution") + f" by {by.value}"
        shown = frame.drop(columns=["period", "period_start"]) if fmt is Fmt.table else frame
        emit(_records(shown) if fmt is Fmt.json else shown, fmt, title=title)
        if fmt is Fmt.table:  # each dataset's window: a jump at its edge is coverage, not a trend
            console.print(ev.coverage_note(ev.coverage_windows(store)), highlight=False)


@app.command()
def network(
    year: int = typer.Option(..., "--year", "-y", help="Year (negative = BCE)."),
    to_year: int | None = typer.Option(None, "--to", help="Last year of a range."),
    layer: str = typer.Option("all", "--layer", "-l", help="Network layer (see --list)."),
    top: int = typer.Option(10, "--top", help="Nodes to show."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Export the graph (.graphml or .gexf)."),
    list_layers: bool = typer.Option(False, "--list", help="List the layers and exit."),
    store: Path | None = STORE_OPT,
    fmt: Fmt = typer.Option(Fmt.table, "--format", "-f"),
) -> None:
    """The network of polities tied by a layer in a year (or range): density, components, centrality, brokers."""
    from defdip.analysis import network as net

    if list_layers:
        emit([{"layer": k, "description": v} for k, v in net.layers().items()], fmt, title="network layers")
        return
    result = net.network(year, layer=layer, store=store, to_year=to_year)
    if output is not None:
        net.export_network(result, output)
    if fmt is Fmt.json:
        print_json({"summary": result.summary, "nodes": _records(result.nodes.head(top))})
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


PEACEKEEPING_OPT = typer.Option(False, "--peacekeeping/--no-peacekeeping",
                                 help="Count peacekeeping co-deployment as partnership (default: shown apart).")


def _profile_header(title: str, info: dict, pko_note: str) -> None:
    span = (f"{format_year(info['first_year'])} to {format_year(info['last_year'])}"
            if info["first_year"] is not None else "no engagements in the store")
    per = ", ".join(f"{k} {v}" for k, v in info["per_activity"].items())
    console.print(f"[bold]{title}[/]: {info['engagements']:,} engagements, {span} ({per}); {pko_note}",
                  highlight=False)
    for note in info.get("notes", []):
        console.print(f"note: {note}", highlight=False)


def _json_profile(info: dict) -> dict:
    return {k: (_records(v) if isinstance(v, pd.DataFrame) else v) for k, v in info.items()}


@app.command()
def profile(
    country: str = typer.Argument(..., help="A polity name, variant or code (e.g. 'United States', athens)."),
    top: int = typer.Option(15, "--top", help="Partners and timeline rows to show in a table."),
    peacekeeping: bool = PEACEKEEPING_OPT,
    store: Path | None = STORE_OPT,
    fmt: ProfileFmt = typer.Option(ProfileFmt.table, "--format", "-f"),
) -> None:
    """A country's engagements over time across all activities: per year, partners, timeline."""
    from defdip.analysis.profiles import profile as get_profile

    info = get_profile(country, store, peacekeeping=peacekeeping)
    if fmt is ProfileFmt.json:
        print_json(_json_profile(info))
        return
    pko = (f"{info['peacekeeping']:,} of them peacekeeping deployments, "
           + ("counted in the partners" if peacekeeping else "kept out of the partner ranking (--peacekeeping)"))
    _profile_header(f"{info['polity']['name']} ({info['polity']['id']})", info, pko)
    per_decade = info["per_year"].assign(decade=info["per_year"]["year"].map(decade_of))
    if not per_decade.empty:
        emit(per_decade.drop(columns="year").groupby("decade", as_index=False).sum(), "table",
             title="engagements started per decade")
    emit(info["partners"].head(top), "table", title=f"top {top} partners")
    emit(info["timeline"].tail(top), "table", title=f"latest {top} engagements",
         columns=["date", "title", "activity", "instrument", "sources"])


@app.command()
def dyad(
    a: str = typer.Argument(..., help="First polity."),
    b: str = typer.Argument(..., help="Second polity."),
    top: int = typer.Option(20, "--top", help="Timeline rows to show in a table."),
    peacekeeping: bool = PEACEKEEPING_OPT,
    store: Path | None = STORE_OPT,
    fmt: ProfileFmt = typer.Option(ProfileFmt.table, "--format", "-f"),
) -> None:
    """The engagements two polities share, over time (peacekeeping deployments apart unless --peacekeeping)."""
    from defdip.analysis.profiles import dyad_profile

    info = dyad_profile(a, b, store, peacekeeping=peacekeeping)
    if fmt is ProfileFmt.json:
        print_json(_json_profile(info))
        return
    pa, pb = info["polities"]
    pko = (f"{info['peacekeeping']:,} shared peacekeeping deployments "
           + ("included" if peacekeeping else "not counted (--peacekeeping to include)"))
    _profile_header(f"{pa['name']} - {pb['name']}", info, pko)
    if info["per_instrument"]:
        emit([{"instrument": k, "engagements": v} for k, v in info["per_instrument"].items()], "table",
             title="per instrument")
    emit(info["timeline"].tail(top), "table", title=f"latest {top} shared engagements",
         columns=["date", "title", "activity", "instrument", "sources"])
