"""The package's shape is part of its contract: stages import downward only, with no circle; SQL over the
record tables lives in the read layer and the layer registry; modules share public names, never private ones."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx
import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "defdip"

STAGE_RANK = {"core": 0, "store": 1, "ingest": 2, "events": 2, "analysis": 3, "text": 3, "present": 4, "cli": 5}
"""Lower stages never import higher ones: core < read layer (store) < ingest/events < analysis/text < present < cli."""

READ_LAYER = ("store/", "analysis/panels/")
"""Where SQL over the record tables may be written: the read layer and the layer registry."""

DEFERRED = {("defdip.cli.text", "defdip.text"): "the coder loads spaCy: importing it at the CLI's top would add "
                                               "0.4 s to every other command"}
"""The one place defdip imports its own modules inside a function, and why."""

RECORD_SQL = re.compile(r"\b(?:FROM|JOIN)\s+(?:engagements|participants|provenance)\b", re.IGNORECASE)


def _modules() -> dict[str, tuple[Path, ast.Module]]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = (path, ast.parse(path.read_text(encoding="utf-8")))
    return out


MODULES = _modules()


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGE_RANK else None


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The defdip modules an import statement binds (``from pkg import mod`` counts as importing ``pkg.mod``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "defdip"]
    base = node.module or ""
    if node.level:
        package = module.split(".") if MODULES[module][0].name == "__init__.py" else module.split(".")[:-1]
        base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
    if base.split(".")[0] != "defdip":
        return []
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    return [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]


def _graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for module, (_, tree) in MODULES.items():
        graph.add_node(module)
        for node in _top_level_imports(tree):
            for target in _imported(module, node):
                if target in MODULES and target != module:
                    graph.add_edge(module, target)
    return graph


def test_the_import_graph_has_no_circle() -> None:
    graph = _graph()
    # a package's __init__ importing its own submodules is how a package exposes them, not a circle
    graph.remove_edges_from([(a, b) for a, b in list(graph.edges) if b.startswith(a + ".")])
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, f"import circles: {cycles[:5]}"


def test_stages_import_downward_only() -> None:
    upward = []
    for module, (_, tree) in MODULES.items():
        here = _stage(module)
        if here is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _imported(module, node):
                    there = _stage(target)
                    if there is not None and STAGE_RANK[there] > STAGE_RANK[here]:
                        upward.append(f"{module} -> {target}")
    assert not upward, "imports from a higher stage: " + "; ".join(upward)


def test_the_core_imports_nothing_outside_the_core() -> None:
    outside = [f"{m} -> {t}" for m, (_, tree) in MODULES.items() if _stage(m) == "core"
               for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
               for t in _imported(m, node) if t not in ("defdip",) and _stage(t) not in ("core", None)]
    assert not outside, outside


def test_sql_over_the_record_tables_lives_in_the_read_layer() -> None:
    offenders = []
    for _module, (path, _) in MODULES.items():
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith(READ_LAYER):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if RECORD_SQL.search(line):
                offenders.append(f"{rel}:{number}")
    assert not offenders, "SQL over engagements/participants/provenance outside the read layer: " + ", ".join(offenders)


def test_no_private_name_is_used_across_modules() -> None:
    crossing = []
    for module, (_, tree) in MODULES.items():
        bound: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for target, alias in zip(_imported(module, node), node.names):
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        crossing.append(f"{module} imports {node.module}.{alias.name}")
                    if target in MODULES:
                        bound[alias.asname or alias.name] = target
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in MODULES and alias.asname:
                        bound[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                crossing.append(f"{module} uses {bound[node.value.id]}.{node.attr}")
    assert not crossing, crossing


def test_the_package_imports_itself_at_module_top_without_guards() -> None:
    late = []
    for module, (_, tree) in MODULES.items():
        top = {id(n) for n in _top_level_imports(tree)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in top and _imported(module, node):
                if all(any(t.startswith(p) for m, p in DEFERRED if m == module) for t in _imported(module, node)):
                    continue
                late.append(f"{module}:{node.lineno}")
            if isinstance(node, ast.Try) and any(isinstance(n, ast.Import | ast.ImportFrom) and _imported(module, n)
                                                 for n in node.body):
                late.append(f"{module}:{node.lineno} (import guard)")
    assert not late, "defdip imports inside functions or guarded by try: " + ", ".join(late)


@pytest.mark.parametrize("stage", sorted(STAGE_RANK))
def test_every_stage_is_a_package_with_a_docstring(stage: str) -> None:
    init = SRC / stage / "__init__.py"
    if stage == "text" and not init.exists():
        pytest.skip("the text stage is not in this checkout")
    assert init.is_file(), f"{stage}/ is not a package"
    assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), f"{stage}/__init__.py says nothing"
