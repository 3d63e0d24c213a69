"""Every CLI command and option has help text and a line in docs/reference.md; every route of the dashboard is
in docs/reference.md too, and every API route has a summary. A command, option or route added without its
documentation fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from typer.main import get_command

from defdip.cli import app
from defdip.present.web import create_app

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "reference.md"


def commands(command: Any = None, path: str = "defdip") -> Iterator[tuple[str, Any]]:
    """(path, click command) for every leaf command and every group, walking the tree from the root."""
    command = command or get_command(app)
    for name, sub in command.commands.items():
        yield f"{path} {name}", sub
        if hasattr(sub, "commands"):
            yield from commands(sub, f"{path} {name}")


def routes(items: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) for every route, descending into included routers (FastAPI keeps them nested)."""
    for item in items:
        inner = getattr(item, "original_router", None)
        if inner is not None:
            yield from routes(inner.routes, prefix + item.include_context.prefix)
        elif isinstance(item, APIRoute):
            yield prefix + item.path, item


def reference_line(name: str) -> str:
    """The one table row of docs/reference.md that names ``name`` (a command or a route) in its first cell."""
    found = [line for line in REFERENCE.read_text(encoding="utf-8").splitlines()
             if re.match(rf"\| `{re.escape(name)}[ `]", line)]
    assert len(found) == 1, f"docs/reference.md needs exactly one row for {name!r}, has {len(found)}"
    return found[0]


CLI = list(commands())
LEAVES = [(path, cmd) for path, cmd in CLI if not hasattr(cmd, "commands")]


def test_the_tree_is_walked() -> None:
    names = {path for path, _ in CLI}
    assert {"defdip build", "defdip panel", "defdip panel state-year", "defdip events fetch", "defdip cite"} <= names


@pytest.mark.parametrize(("path", "command"), CLI, ids=[p for p, _ in CLI])
def test_command_has_help(path: str, command: Any) -> None:
    assert (command.help or "").strip(), f"{path} has no help text (its docstring)"


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=[p for p, _ in LEAVES])
def test_command_and_its_options_are_in_the_reference(path: str, command: Any) -> None:
    row = reference_line(path).split(" | ")
    synopsis, options = row[0], row[1]
    for param in command.params:
        if param.name == "help":
            continue
        assert (param.help or "").strip(), f"{path}: {param.name} has no help text"
        if param.param_type_name == "argument":
            assert param.name.upper() in synopsis, f"{path}: argument {param.name.upper()} missing in reference.md"
        else:
            for name in param.opts + param.secondary_opts:
                assert f"{name}" in options, f"{path}: option {name} missing from its row in docs/reference.md"


def test_root_options_are_documented() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    root = get_command(app)
    for param in root.params:
        assert (param.help or "").strip(), f"defdip {param.opts} has no help text"
        for name in param.opts:
            assert f"`defdip {name}" in text or f"`{name}`" in text or f"{name}/" in text, name


ROUTES = list(routes(create_app(Path("/nonexistent/defdip.duckdb")).routes))


def test_routes_are_walked() -> None:
    paths = {path for path, _ in ROUTES}
    assert {"/api/engagements", "/api/network", "/", "/country/{name}", "/docs"} <= paths


@pytest.mark.parametrize(("path", "route"), ROUTES, ids=[p for p, _ in ROUTES])
def test_route_is_in_the_reference(path: str, route: APIRoute) -> None:
    for method in sorted(route.methods - {"HEAD"}):
        row = reference_line(f"{method} {path}")
        assert (route.summary or route.description or (route.endpoint.__doc__ or "")).strip(), \
            f"{path} says nothing about itself (summary or docstring)"
        if route.include_in_schema:  # an API route: its summary for /docs, and its query parameters listed here
            assert (route.summary or route.description or "").strip(), f"{path} has no summary or description"
            for param in route.dependant.query_params + route.dependant.path_params:
                assert f"`{param.alias}`" in row, f"{path}: parameter {param.alias} missing in docs/reference.md"


def test_the_reference_names_nothing_that_is_gone() -> None:
    """Every command and route row of docs/reference.md still exists (a renamed one leaves no stale row)."""
    text = REFERENCE.read_text(encoding="utf-8")
    leaves = {path for path, _ in LEAVES}
    for row in re.findall(r"^\| `(defdip [a-z][a-z -]*?)(?: [A-Z\[]|`)", text, re.M):
        assert row in leaves, f"docs/reference.md lists {row!r}, which is no command"
    paths = {f"GET {path}" for path, _ in ROUTES} | {"GET /openapi.json"}
    for row in re.findall(r"^\| `(GET /[^`]*)`", text, re.M):
        assert row in paths, f"docs/reference.md lists {row!r}, which is no route"
