"""The layer contract, checked for every registered layer: complete metadata, citations that resolve, one
resolver that finds it, and on the real store NA outside the layer's coverage (never 0)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from defdip.analysis import panels
from defdip.analysis.panels.registry import AGGREGATIONS, SCALES
from defdip.core.citations import unresolved_keys
from defdip.core.errors import DefdipError, StoreError
from defdip.ingest.sources import all_sources

LAYERS = list(panels.LAYERS.values())
FIRST, LAST = 1816, panels.ATOP_END
"""The years of the COW state-system panels."""


def _ids(lay: panels.Layer) -> str:
    return lay.name


@pytest.mark.parametrize("lay", LAYERS, ids=_ids)
def test_metadata_is_complete(lay: panels.Layer) -> None:
    assert lay.columns and all(c and c == c.strip() for c in lay.columns)
    assert lay.source and len(lay.description) > 40
    assert lay.role in panels.ROLES and lay.scale in SCALES and lay.aggregation in AGGREGATIONS
    assert lay.first_year <= lay.last_year
    first, last = lay.years
    assert lay.first_year <= first <= last <= lay.last_year
    assert lay.family_name in panels.families() and lay.name in panels.families()[lay.family_name]
    if "state_year" in lay.units and not lay.node_sql and lay.derive is None:
        assert len(lay.state_cols) == len(lay.columns)  # one state-year count per dyad-year column


@pytest.mark.parametrize("lay", LAYERS, ids=_ids)
def test_required_tables_are_named(lay: panels.Layer) -> None:
    if lay.components:  # an index reads its components' tables
        assert not lay.tables
        assert all(tie.tables for _, parts in lay.components for tie, _ in parts)
        return
    assert lay.tables
    if lay.tie is not None:
        assert set(lay.tie.tables) <= set(lay.tables)
        assert set(lay.columns) <= set(lay.tie.combine)  # every column is a value of the tie it reads
    assert lay.tie is not None or lay.node_sql or lay.derive is not None, "a layer needs SQL or a derivation"


@pytest.mark.parametrize("lay", LAYERS, ids=_ids)
def test_citations_resolve(lay: panels.Layer) -> None:
    texts = [source.bibtex for source in all_sources().values()]
    assert lay.citation_keys
    assert unresolved_keys(lay.citation_keys, texts) == []


@pytest.mark.parametrize("lay", LAYERS, ids=_ids)
def test_resolve_and_layers_find_it(lay: panels.Layer) -> None:
    assert panels.resolve(lay.name) == [lay]
    assert panels.resolve(f" {lay.name} ,{lay.name}") == [lay]  # a comma list, blanks and repeats
    for unit in panels.UNITS:
        listed = lay in panels.layers(unit=unit)
        assert listed == (unit in lay.units)
        if listed:
            assert panels.resolve([lay.name], unit=unit) == [lay]
        else:
            with pytest.raises(DefdipError, match=f"'{lay.name}' is dyadic"):
                panels.resolve([lay.name], unit=unit)
    assert lay in panels.layers(role=lay.role)
    other = [r for r in panels.ROLES if r != lay.role]
    assert lay not in panels.layers(role=other)
    with pytest.raises(DefdipError, match=f"'{lay.name}' is a {lay.role} layer"):
        panels.resolve(lay.name, role=other)


def test_unknown_layer_is_one_message_naming_the_valid_ones() -> None:
    with pytest.raises(DefdipError) as info:
        panels.resolve("atop_defence,dca_any")
    assert str(info.value) == f"unknown layer(s) atop_defence; valid layers: {', '.join(panels.LAYERS)}"
    with pytest.raises(DefdipError) as info:
        panels.resolve(["nope"], unit="state_year", role="tie")
    valid = [lay.name for lay in panels.layers(role="tie", unit="state_year")]
    assert str(info.value) == f"unknown layer(s) nope; valid layers: {', '.join(valid)}"
    with pytest.raises(DefdipError, match="empty layer selection"):
        panels.resolve(" , ")
    with pytest.raises(DefdipError, match="unknown layer role 'ties'"):
        panels.layers(role="ties")


def test_layers_are_hashable_values() -> None:
    """Callers keep layers in sets and as dict keys, as they could before the registry."""
    assert len(set(LAYERS)) == len(LAYERS) and {lay: lay.name for lay in LAYERS}[panels.LAYERS["dd_index"]]


def test_a_name_registered_twice_is_refused() -> None:
    with pytest.raises(DefdipError, match="layer 'dca_any' is registered twice"):
        panels.register(panels.LAYERS["dca_any"])


# ------------------------------------------------------------------------------------------------ real data

def _outside(lay: panels.Layer) -> list[int]:
    """Years of the state-system panels just outside the layer's coverage."""
    return [y for y in (lay.first_year - 1, lay.last_year + 1) if FIRST <= y <= LAST]


def _columns(frame: pd.DataFrame, lay: panels.Layer, unit: str) -> pd.DataFrame:
    return frame[list(lay.columns if unit == "dyad_year" else lay.state_cols)]


@pytest.mark.shared
@pytest.mark.parametrize("lay", LAYERS, ids=_ids)
def test_na_outside_coverage_on_the_real_store(lay: panels.Layer, full_store: Path) -> None:
    if not panels.available_layers(full_store, [lay.name]):
        # a source the development store lacks (event files): asking for it says so in one line
        with pytest.raises(StoreError, match=f"layer '{lay.name}'"):
            panels.dyad_year(full_store, from_year=2000, to_year=2000, layers=[lay.name])
        return
    for unit in lay.units:
        panel = panels.dyad_year if unit == "dyad_year" else panels.state_year
        for year in _outside(lay):
            frame = panel(full_store, from_year=year, to_year=year, layers=[lay.name])
            assert len(frame) and _columns(frame, lay, unit).isna().all().all(), (unit, year)
        inside = max(lay.years[0], FIRST)
        frame = panel(full_store, from_year=inside, to_year=inside, layers=[lay.name])
        assert _columns(frame, lay, unit).notna().any().any(), (unit, inside)
    partial = lay.years[1] + 1  # past the years every dyad is covered: only some dyads (Russia's exercises)
    if lay.general_coverage and partial <= min(lay.last_year, LAST):
        cols = _columns(panels.dyad_year(full_store, from_year=partial, to_year=partial, layers=[lay.name]), lay,
                        "dyad_year")
        assert cols.isna().any().any() and cols.notna().any().any()
