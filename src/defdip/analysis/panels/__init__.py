"""State-year and dyad-year panels with defence-diplomacy layers, in peacesciencer's conventions.

One layer registry (:mod:`.registry`): each layer family declares its layers -- columns, coverage, the
store tables it needs, its role (tie, node attribute, control, derived), its state-year aggregation,
description and citation keys -- next to the SQL that computes it, in its own module below. The panel
assembly (state-system nodes, tie tables, joins, :func:`dyad_year`, :func:`state_year`) is in
:mod:`.assembly`. Every caller asks the registry which layers exist (:func:`layers`) and resolves names
through :func:`resolve`, so a layer is available wherever it makes sense and an unknown one gets one message.

Adding a layer: a new module here that builds its :class:`Tie` (the SQL) and :class:`Layer` and calls
:func:`register`, an import line below (its place sets the layer's place in listings and default panels),
and its test; ``tests/test_layer_contract.py`` checks its metadata and its NA outside coverage. The newest
module, :mod:`.attaches`, is the worked example: one :class:`Tie` whose SQL counts the posts of the
``attache_postings`` table per directed dyad-year and whose coverage is the list's sending states and years,
two :class:`Layer` declarations, one import line below, and ``tests/test_layer_attaches.py``.

Every panel, ``defdip panel layers``, ``defdip cite --layers``, the API and the model then know it.
"""

from __future__ import annotations

# family modules register their layers on import: this order is the listing order
# isort: off
from defdip.analysis.panels import atop, cow_alliance, dca, exercises, arms, peacekeeping, visits, attaches, records
from defdip.analysis.panels import index, controls, events, mids, distance, derived
# isort: on
from defdip.analysis.panels.assembly import (
    available_layers,
    dyad_year,
    layer_available,
    source_records,
    state_year,
)
from defdip.analysis.panels.atop import ATOP_DERIVED_SQL, ATOP_TIE_SQL
from defdip.analysis.panels.derived import REGIONS, peace_years, region_of
from defdip.analysis.panels.registry import (
    ATOP_END,
    COW_END,
    LAYERS,
    ROLES,
    UNITS,
    Layer,
    Tie,
    families,
    layers,
    layers_table,
    register,
    resolve,
)

DERIVED = tuple(name for name, lay in LAYERS.items() if lay.derive is not None)
"""Layers computed from the panel's own rows after its SQL; left out of the default (every-layer) selection."""

__all__ = [
    "ATOP_DERIVED_SQL", "ATOP_END", "ATOP_TIE_SQL", "COW_END", "DERIVED", "LAYERS", "REGIONS", "ROLES", "UNITS",
    "Layer", "Tie", "arms", "atop", "attaches", "available_layers", "controls", "cow_alliance", "dca", "derived",
    "distance", "dyad_year", "events", "exercises", "families", "index", "layer_available", "layers", "layers_table",
    "mids", "peace_years", "peacekeeping", "records", "region_of", "register", "resolve", "source_records",
    "state_year", "visits",
]
