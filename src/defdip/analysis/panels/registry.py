"""The layer registry: what every panel layer is, so that the CLI, the API, the model and the network code
ask one place which layers exist and which make sense for them.

A layer family module (``atop.py``, ``dca.py`` ...) declares its :class:`Layer` objects, and the
:class:`Tie` (the SQL) they read, and calls :func:`register`; the package ``__init__`` imports the family
modules in the order the layers are listed (the column order of a panel with every layer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from defdip.core.errors import DefdipError

ATOP_END = 2018
"""Last year of ATOP 5.1; member exit year 0 means in force through it."""
COW_END = 2016
"""Last year of COW system2016 (and of COW contiguity and majors)."""

ROLES = ("tie", "node", "control", "derived")
"""tie: a defence-diplomacy tie between two states; node: an attribute of each state; control: a covariate of
the dyad (contiguity, disputes, distance); derived: computed from other layers (the dd_index)."""
UNITS = ("dyad_year", "state_year")
AGGREGATIONS = ("partners", "land_partners", "own", "none")
"""How a layer becomes state-year columns: partners = the number of partners with a value above 0;
land_partners = the number with value 1 (land contiguity); own = the state's own value; none = dyad-years only."""
SCALES = ("indicator", "count", "value", "index", "code", "label")
"""What a layer's values are: 0/1, a count, a quantity (TIV, km), the 0-5 index, a category code, text."""


@dataclass(frozen=True, eq=False)
class Tie:
    """A directed tie table computed once per panel and shared by the layers that read it (compared and hashed
    by identity: one object per tie, so layers that hold one stay hashable)."""

    name: str
    tables: tuple[str, ...]
    """Store tables the SQL reads."""
    sql: str
    """SELECT ... AS c1, ... AS c2, ... AS year, value columns (COW codes; directed: both orderings where
    symmetric)."""
    combine: dict[str, str]
    """Per value column: how the two directions combine in non-directed panels (max, min or sum)."""
    coverage: str
    """SQL condition on d.year, d.c1, d.c2 (COW codes) for the years and dyads the source covers."""
    types: dict[str, str]
    """SQL type of a value column other than INTEGER."""
    fill: bool = True
    """Whether a dyad-year inside coverage without a row reads 0 (ties) or stays NA (measures such as distance)."""
    record_sources: tuple[str, ...] = ()
    """For ties read from the record tables: the sources whose provenance must be in the store."""
    load_hint: str = ""
    """How a user gets those sources' records into the store, for the message when the store has none
    (default: build with the source's files in the sources folder)."""


@dataclass(frozen=True)
class DeriveContext:
    """What a layer computed from a fetched panel's rows needs: the panel's keys and a way to read the store."""

    system: str
    """``cow`` or ``gw``."""
    ids: tuple[str, ...]
    """The state-code columns: (ccode,) for state-years, (ccode1, ccode2) for dyad-years (gwcode... for G-W)."""
    directed: bool | None
    """None for a state-year panel."""
    read: Callable[[str, str], pd.DataFrame]
    """read(table, sql): the rows of a query over the store; a clear error when ``table`` is missing."""
    history: Callable[[int, list[str]], pd.DataFrame]
    """history(to_year, layers): the non-directed dyad-year panel of the same system from its first year."""

    @property
    def suffixes(self) -> tuple[str, ...]:
        """Column suffixes of the states: ("",) for state-years, ("1", "2") for dyad-years."""
        return ("",) if self.directed is None else ("1", "2")


@dataclass(frozen=True)
class Layer:
    """One panel layer: its columns, role, the source and tables it needs, the years it covers and how to cite it."""

    name: str
    columns: tuple[str, ...]
    """Column names in dyad-year panels."""
    source: str
    first_year: int
    last_year: int
    description: str
    citation_keys: tuple[str, ...]
    role: str
    scale: str
    tables: tuple[str, ...]
    """Store tables the layer reads (empty for the dd_index, which reads its components')."""
    tie: Tie | None = None
    """The tie table the columns are read from (None for node attributes and derived layers)."""
    state_columns: tuple[str, ...] = ()
    """Column names in state-year panels (default: the same as ``columns``)."""
    aggregation: str = "partners"
    node_sql: str = ""
    """For a node attribute computed in SQL: SELECT ccode, year of the state-years that have it (a 0/1 flag)."""
    components: tuple[tuple[str, tuple[tuple[Tie, str], ...]], ...] = ()
    """For an index: (component, ((tie, column), ...)) -- a component is present when any of its columns is above
    0; the index counts the components present."""
    derive: Callable[[pd.DataFrame, DeriveContext], pd.DataFrame] | None = None
    """For a layer computed from a fetched panel's rows (peace years, region, names): adds its columns."""
    family: str = ""
    """The family the layer belongs to (the pipeline's ``add_<family>``; default: the layer's own name)."""
    general_coverage: tuple[int, int] | None = None
    """Years in which the layer covers every dyad, where that is narrower than first-last (exercises after
    2010 cover Russia's dyads only)."""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise DefdipError(f"layer {self.name!r}: unknown role {self.role!r}; use one of {', '.join(ROLES)}")
        if self.aggregation not in AGGREGATIONS:
            raise DefdipError(f"layer {self.name!r}: unknown aggregation {self.aggregation!r}; use one of "
                              f"{', '.join(AGGREGATIONS)}")
        if self.scale not in SCALES:
            raise DefdipError(f"layer {self.name!r}: unknown scale {self.scale!r}; use one of {', '.join(SCALES)}")
        if self.first_year > self.last_year:
            raise DefdipError(f"layer {self.name!r}: coverage {self.first_year}-{self.last_year} is empty")

    @property
    def state_cols(self) -> tuple[str, ...]:
        return self.state_columns or self.columns

    @property
    def units(self) -> tuple[str, ...]:
        """The panel units the layer exists in."""
        return ("dyad_year",) if self.aggregation == "none" else UNITS

    @property
    def family_name(self) -> str:
        return self.family or self.name

    @property
    def years(self) -> tuple[int, int]:
        """The years in which every dyad is covered (``general_coverage``, else first-last)."""
        return self.general_coverage or (self.first_year, self.last_year)


LAYERS: dict[str, Layer] = {}
"""Every registered layer by name, in listing order."""


def register(*new: Layer) -> None:
    """Add layers to the registry; a name registered twice is a programming error, said at import."""
    for lay in new:
        if lay.name in LAYERS:
            raise DefdipError(f"layer {lay.name!r} is registered twice")
        LAYERS[lay.name] = lay


def _check_choice(value: str | None, allowed: tuple[str, ...], what: str) -> None:
    if value is not None and value not in allowed:
        raise DefdipError(f"unknown layer {what} {value!r}; use one of {', '.join(allowed)}")


def _roles(role: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if role is None:
        return None
    roles = (role,) if isinstance(role, str) else tuple(role)
    for r in roles:
        _check_choice(r, ROLES, "role")
    return roles


def layers(role: str | Iterable[str] | None = None, unit: str | None = None) -> list[Layer]:
    """The registered layers of the given role(s) that exist in ``unit`` (None: any), in listing order.

    For example the network code asks for ``layers(role=("tie", "derived"))``; the state-year API for
    ``layers(unit="state_year")``.
    """
    roles = _roles(role)
    _check_choice(unit, UNITS, "unit")
    return [lay for lay in LAYERS.values()
            if (roles is None or lay.role in roles) and (unit is None or unit in lay.units)]


def families() -> dict[str, tuple[str, ...]]:
    """Family name -> its layers' names, in listing order."""
    out: dict[str, list[str]] = {}
    for lay in LAYERS.values():
        out.setdefault(lay.family_name, []).append(lay.name)
    return {k: tuple(v) for k, v in out.items()}


def split_names(names: str | Iterable[str]) -> list[str]:
    """Layer names from a comma-separated string or a list, stripped, blanks dropped, each once."""
    items = names.split(",") if isinstance(names, str) else [str(n) for n in names]
    return list(dict.fromkeys(n.strip() for n in items if n.strip()))


def resolve(names: str | Iterable[str], unit: str | None = None,
            role: str | Iterable[str] | None = None) -> list[Layer]:
    """Layers by name (comma-separated or a list), each once, in the order asked.

    One message for an unknown name wherever it is asked (CLI, API, model, network): it names the layer and
    lists the valid ones for ``unit`` and ``role``. A known layer of another unit or role is refused with
    what it is. An empty selection is an error too.
    """
    roles = _roles(role)
    _check_choice(unit, UNITS, "unit")
    valid = ", ".join(lay.name for lay in layers(roles, unit))
    wanted = split_names(names)
    if not wanted:
        raise DefdipError(f"empty layer selection; name one or more layers: {valid}")
    unknown = [n for n in wanted if n not in LAYERS]
    if unknown:
        raise DefdipError(f"unknown layer(s) {', '.join(unknown)}; valid layers: {valid}")
    out = [LAYERS[n] for n in wanted]
    for lay in out:
        if unit is not None and unit not in lay.units:
            raise DefdipError(f"layer {lay.name!r} is dyadic (a property of the pair, not of one state): use it in "
                              "dyad-year panels")
        if roles is not None and lay.role not in roles:
            raise DefdipError(f"layer {lay.name!r} is a {lay.role} layer, not one of {', '.join(roles)}; valid "
                              f"layers: {valid}")
    return out


def layers_table() -> pd.DataFrame:
    """The layers with their role, columns, source, coverage and citation keys (for `defdip panel layers`)."""
    return pd.DataFrame([{
        "layer": lay.name, "columns": ", ".join(lay.columns), "state_year_columns": ", ".join(lay.state_cols),
        "source": lay.source, "first_year": lay.first_year, "last_year": lay.last_year,
        "citations": ", ".join(lay.citation_keys), "description": lay.description, "role": lay.role,
        "units": ", ".join(lay.units)} for lay in LAYERS.values()])
