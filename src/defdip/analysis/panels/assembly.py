"""State-year and dyad-year panels assembled from the registered layers, in peacesciencer's conventions.

The population is the state system:

* ``system="cow"`` (default): COW ``system2016`` state-years 1816-2016 (store table ``cow_system``),
  extended to 2018 so that the panels reach the end of ATOP 5.1: every state in the COW system at the
  end of 2016 (COW closes running spells on 31 Dec 2016) is carried into 2017 and 2018, together with
  any other state that ATOP's state-year file (``atop_sy``) lists in those years. Codes: ``ccode``.
* ``system="gw"``: Gleditsch-Ward states (``gw_states``), one row per year in which a state is
  independent at any time, 1816-2017; codes ``gwcode``. Layers are joined on COW codes through the actor
  registry's year-aware crosswalk (:meth:`defdip.core.actors.Registry.gwcode_to_ccode`: GW 260 from 1991 =
  COW 255 Germany; GW 340 Serbia = COW 345; GW 678 from 1991 = COW 679 Yemen); a G-W code the registry
  gives no COW code keeps its own number, so GW-only polities have no COW-coded ties (0 inside coverage).

Dyads: non-directed dyad-years have ``ccode1 < ccode2``; ``directed=True`` returns both orderings.
Every layer is a 0/1 indicator or a count per dyad-year; outside a layer's coverage its columns are
NA (never 0); inside coverage a dyad without a tie gets 0. The layers' SQL lives in the family modules
(:class:`~defdip.analysis.panels.registry.Tie`): a directed "tie table" (c1, c2, year, values) per
source, combined over the two directions for non-directed panels (max for indicators and symmetric
counts; sum for arms TIV and visits), left-joined onto the state-system dyads.

State-year panels aggregate the same layers over each state's partners: each column is the number of
partners with a tie (value > 0 in either direction) that year, counted over the dyads inside the
layer's coverage (NA when none of the state's dyads is covered). ``cowmaj`` becomes the state's own
major-power indicator and ``conttype`` the number of land/river neighbours (``land_contig``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from defdip.analysis.panels.registry import (
    ATOP_END,
    COW_END,
    LAYERS,
    DeriveContext,
    Layer,
    Tie,
    resolve,
)
from defdip.core.actors import registry
from defdip.core.errors import DefdipError, StoreError
from defdip.core.sql import quote_identifier
from defdip.store.queries import StoreLike, StoreReader, reading

SYSTEMS = ("cow", "gw")


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The first value of the first row of a query."""
    row = con.execute(sql, params or []).fetchone()
    return None if row is None else row[0]


def tie_available(db: StoreReader, tie: Tie) -> bool:
    """Whether the store has the tie's tables and, for ties read from the records, records of its sources."""
    if not all(db.has_table(t) for t in tie.tables):
        return False
    if tie.record_sources:
        marks = ", ".join("?" for _ in tie.record_sources)
        sql = f"SELECT count(*) > 0 FROM provenance WHERE source IN ({marks})"
        return bool(db.cached(("panels.tie_records", tie.record_sources),
                              lambda: _scalar(db.con, sql, list(tie.record_sources))))
    return True


def layer_available(db: StoreReader, lay: Layer) -> bool:
    """Whether the store can supply the layer (an index: any of its components)."""
    if lay.components:
        return any(tie_available(db, t) for _, parts in lay.components for t, _ in parts)
    if not all(db.has_table(t) for t in lay.tables):
        return False
    return lay.tie is None or tie_available(db, lay.tie)


def available_layers(store: StoreLike = None, names: Iterable[str] | None = None) -> list[str]:
    """The layers (of ``names``, default every layer) that the store can supply, in the order given."""
    wanted = list(LAYERS) if names is None else [lay.name for lay in resolve(list(names))]
    with reading(store) as db:
        return [n for n in wanted if layer_available(db, LAYERS[n])]


def source_records(store: StoreLike, source: str) -> int:
    """How many distinct records of ``source`` the store holds (the model asks how much of SIPRI it has)."""
    with reading(store) as db:
        if not db.has_table("provenance"):
            return 0
        return int(_scalar(db.con, "SELECT count(DISTINCT record_id) FROM provenance WHERE source = ?", [source]))


def _select_layers(layers: str | Iterable[str] | None, db: StoreReader, unit: str) -> list[Layer]:
    """The requested layers (None: every layer the store can supply, except those computed from the rows),
    each checked against the store."""
    if layers is None:
        return [lay for lay in LAYERS.values()
                if lay.derive is None and unit in lay.units and layer_available(db, lay)]
    chosen = resolve(layers, unit=unit)
    for lay in chosen:
        for table in lay.tables:
            if not db.has_table(table):
                raise StoreError(f"layer {lay.name!r} needs the {table!r} table: build the store with the "
                                 f"{lay.source!r} source available (`defdip build --sources DIR`)")
        if lay.tie is not None and not tie_available(db, lay.tie):
            hint = (lay.tie.load_hint
                    or f"build it with the {lay.source!r} source's files (`defdip build --sources DIR`)")
            raise StoreError(f"layer {lay.name!r} has no data: the store holds no records of the {lay.source!r} "
                             f"source; {hint}")
    return chosen


def _system_years(db: StoreReader, system: str) -> tuple[int, int]:
    if system == "cow":
        if not db.has_table("cow_system"):
            raise StoreError("the store has no 'cow_system' table: build it with the 'state_system' source")
        return 1816, ATOP_END
    if not db.has_table("gw_states"):
        raise StoreError("the store has no 'gw_states' table: build it with the 'state_system' source")
    lo, hi = db.con.execute("SELECT min(start_year), max(end_year) FROM gw_states").fetchall()[0]
    return int(lo), int(hi)


def _years(db: StoreReader, system: str, from_year: int | None, to_year: int | None) -> tuple[int, int]:
    lo, hi = _system_years(db, system)
    first = lo if from_year is None else int(from_year)
    last = hi if to_year is None else int(to_year)
    if first > last:
        raise DefdipError(f"empty selection: --from {first} is after --to {last}")
    if last < lo or first > hi:
        raise DefdipError(f"no {system.upper()} state-system years in {first}-{last}: the panels cover {lo}-{hi}")
    return max(first, lo), min(last, hi)


def _make_nodes(db: StoreReader, system: str, lo: int, hi: int) -> None:
    """TEMP table _nodes(code, ccode, year): the state-years, with the COW code layers join on."""
    con = db.con
    if system == "cow":
        extra = ""
        if db.has_table("atop_sy"):
            extra = f"UNION SELECT state, year FROM atop_sy WHERE year > {COW_END} AND year <= {ATOP_END}"
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _nodes AS
            SELECT code::INTEGER AS code, code::INTEGER AS ccode, year::INTEGER AS year FROM (
                SELECT ccode AS code, year FROM cow_system
                UNION SELECT s.ccode, y.year FROM cow_system s, range({COW_END} + 1, {ATOP_END} + 1) y(year)
                      WHERE s.year = {COW_END}
                {extra})
            WHERE year BETWEEN {lo} AND {hi}""")
    else:
        years = con.execute(f"""
            SELECT DISTINCT code, year FROM (
                SELECT gwcode AS code, unnest(range(start_year, end_year + 1)) AS year FROM gw_states)
            WHERE code IS NOT NULL AND year BETWEEN {lo} AND {hi}""").fetchall()
        reg = registry()
        ccodes = [reg.gwcode_to_ccode(int(code), int(year)) for code, year in years]
        con.execute("""CREATE OR REPLACE TEMP TABLE _nodes AS
                       SELECT unnest(?::INTEGER[]) AS code, unnest(?::INTEGER[]) AS ccode,
                              unnest(?::INTEGER[]) AS year""",
                    [[int(c) for c, _ in years], [int(c if cc is None else cc) for (c, _), cc in zip(years, ccodes,
                                                                                                   strict=True)],
                     [int(y) for _, y in years]])
    if not _scalar(db.con, "SELECT count(*) FROM _nodes"):
        raise DefdipError(f"empty selection: no states in the {system.upper()} system in {lo}-{hi}")


def _tie_table(db: StoreReader, tie: Tie, combined: bool) -> tuple[str, int, int]:
    """A table of the tie's rows of every year in the handle's own in-memory database (keys as INTEGER, the type
    of _nodes, so joins compare without casts; a code no INTEGER holds matched no state before either): directed
    values, or the two directions combined (c1 < c2). Returns its qualified name and first and last year.

    Made once per store handle and shared by its threads: the panels of many windows on one handle (a server's
    slices) read these rows instead of running the tie's query again (40-250 ms of an ATOP window went to it)."""
    def make() -> tuple[str, int, int]:
        name = f"memory.main.{quote_identifier(('tie_pairs_' if combined else 'tie_rows_') + tie.name)}"
        if combined:
            aggs = ", ".join(f"{how}({col}) AS {col}" for col, how in tie.combine.items())
            rows = (f"SELECT least(c1, c2) AS c1, greatest(c1, c2) AS c2, year, {aggs} "
                    f"FROM {_tie_table(db, tie, combined=False)[0]} GROUP BY ALL")
        else:
            rows = (f"SELECT * REPLACE (TRY_CAST(c1 AS INTEGER) AS c1, TRY_CAST(c2 AS INTEGER) AS c2, "
                    f"TRY_CAST(year AS INTEGER) AS year) FROM ({tie.sql})")
        db.con.execute(f"CREATE TABLE {name} AS {rows}")
        first, last = db.con.execute(f"SELECT min(year), max(year) FROM {name}").fetchall()[0]
        return name, (0 if first is None else int(first)), (0 if last is None else int(last))

    made: tuple[str, int, int] = db.cached(("panels.tie_table", tie.name, combined), make)
    return made


def _make_ties(db: StoreReader, lo: int, hi: int, *, directed: list[Tie],
               undirected: list[Tie]) -> dict[tuple[bool, str], str]:
    """The tables of the years ``lo``-``hi`` to join, by (combined, tie name): directed values of the ties in
    ``directed``, the two directions combined (c1 < c2) of those in ``undirected``. A window holding every year
    of a tie reads the handle's table itself; a shorter one a TEMP table of its years (_t_<tie>, _u_<tie>)."""
    tables = {}
    for ties, combined, prefix in ((directed, False, "_t_"), (undirected, True, "_u_")):
        for tie in _unique(ties):
            table, first, last = _tie_table(db, tie, combined)
            if not (lo <= first and last <= hi):
                window = quote_identifier(prefix + tie.name)
                db.con.execute(f"CREATE OR REPLACE TEMP TABLE {window} AS SELECT * FROM {table} "
                               f"WHERE year BETWEEN {lo} AND {hi}")
                table = window
            tables[(combined, tie.name)] = table
    return tables


def _value(tie: Tie, col: str, alias: str) -> str:
    """A layer column: NA outside the source's coverage, 0 inside it where no tie is recorded."""
    typ = tie.types.get(col, "INTEGER")
    value = f"coalesce({alias}.{col}, 0)" if tie.fill else f"{alias}.{col}"
    return f"CASE WHEN {tie.coverage} THEN {value}::{typ} END"


def _unique(ties: Iterable[Tie]) -> list[Tie]:
    return list({t.name: t for t in ties}.values())


def _index_flags(lay: Layer, ties: list[Tie], tables: dict[tuple[bool, str], str]) -> tuple[str, list[str]]:
    """SELECT of an index's non-directed component flags (f_<component> = 1 when a tie is present) and their
    names, over the available ``ties`` (their combined ``tables``)."""
    names = {t.name for t in ties}
    parts, flags = [], []
    for comp, members in lay.components:
        for tie, col in members:
            if tie.name in names:
                table = tables[(True, tie.name)]
                parts.append(f"SELECT c1, c2, year, ({col} > 0)::INTEGER AS f_{comp} FROM {table}")
                flags.append(f"f_{comp}")
    return " UNION ALL BY NAME ".join(parts), list(dict.fromkeys(flags))


def _index_expr(lay: Layer, ties: list[Tie], prefix: str) -> str:
    """SQL for an index from its component flags (columns ``<prefix>f_<component>``); coverage decides NA per
    component."""
    names = {t.name for t in ties}
    comps = []
    for comp, members in lay.components:
        covs = [tie.coverage for tie, _ in members if tie.name in names]
        if covs:
            cov = " OR ".join(f"({c})" for c in dict.fromkeys(covs))
            comps.append(f"CASE WHEN {cov} THEN coalesce({prefix}f_{comp}, 0) END")
    if not comps:
        return "NULL::INTEGER"
    return (f"CASE WHEN coalesce({', '.join(comps)}) IS NULL THEN NULL ELSE "
            + " + ".join(f"coalesce({c}, 0)" for c in comps) + " END")


def _node_table(db: StoreReader, lay: Layer) -> str:
    """TEMP table of the state-years that have a node attribute; returns its name."""
    table = quote_identifier(f"_node_{lay.name}")
    db.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {lay.node_sql}")
    return table


def _panel_sql(db: StoreReader, chosen: list[Layer], *, directed: bool, symmetric: bool, keep: str = "") -> str:
    """SELECT for the dyad-year panel over _nodes. symmetric: directed rows carrying non-directed values.

    ``keep`` (SQL over the pair's two state-years ``a`` and ``b``) restricts the dyads as they are formed,
    so a selection of countries never pairs every state with every other first.

    The sparse tie tables of every requested layer (each one row per dyad-year with a tie) are combined
    into one table ``t`` (one row per dyad-year with any tie, a column per tie value), which is
    left-joined once onto the state-system dyads. ``t`` is built on the union of the tie tables' keys,
    each tie table left-joined onto it: the joins probe the few hundred thousand tied dyad-years, not the
    millions of dyads. Directed panels read the directed tie tables; non-directed and symmetric ones the
    combined tables (c1 < c2). An index's component flags are a property of the pair (table ``_ix_<layer>``,
    c1 < c2), read in both directions for directed panels.
    """
    ties = _unique(lay.tie for lay in chosen if lay.tie is not None)
    indexes = [lay for lay in chosen if lay.components]
    index_ties = {lay.name: [t for _, parts in lay.components for t, _ in parts if tie_available(db, t)]
                  for lay in indexes}
    every_index_tie = _unique(t for ts in index_ties.values() for t in ts)
    lo, hi = db.con.execute("SELECT min(year), max(year) FROM _nodes").fetchall()[0]
    use_directed = directed and not symmetric
    tables = _make_ties(db, lo, hi, directed=ties if use_directed else [],
                        undirected=every_index_tie + ([] if use_directed else ties))
    keys: list[str] = []
    tie_joins: list[str] = []
    tie_cols: list[str] = []
    for i, tie in enumerate(ties):
        table = tables[(not use_directed, tie.name)]
        keys.append(f"SELECT c1, c2, year FROM {table}")
        tie_joins.append(f"LEFT JOIN {table} t{i} ON t{i}.c1 = k.c1 AND t{i}.c2 = k.c2 AND t{i}.year = k.year")
        tie_cols.extend(f"t{i}.{col}" for col in tie.combine)
    for j, lay in enumerate(indexes):
        if not index_ties[lay.name]:
            continue
        flags, flag_cols = _index_flags(lay, index_ties[lay.name], tables)
        aggs = ", ".join(f"max({c}) AS {c}" for c in flag_cols)
        table = quote_identifier(f"_ix_{lay.name}")
        db.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT c1, c2, year, {aggs} FROM ({flags}) "
                       "GROUP BY c1, c2, year")
        keys.append(f"SELECT c1, c2, year FROM {table}")
        if use_directed:  # the index is a property of the pair: the same in both directions
            keys.append(f"SELECT c2, c1, year FROM {table}")
        tie_joins.append(f"LEFT JOIN {table} f{j} ON f{j}.c1 = least(k.c1, k.c2) AND f{j}.c2 = greatest(k.c1, k.c2) "
                         f"AND f{j}.year = k.year")
        tie_cols.extend(f"f{j}.{col} AS {lay.name}_{col}" for col in flag_cols)
    ctes: list[str] = []
    joins: list[str] = []
    if keys:
        ctes.append(f"k AS ({' UNION '.join(keys)})")
        ctes.append(f"t AS (SELECT k.c1, k.c2, k.year, {', '.join(tie_cols)} FROM k {' '.join(tie_joins)})")
        if use_directed:
            joins.append("LEFT JOIN t ON t.c1 = d.c1 AND t.c2 = d.c2 AND t.year = d.year")
        else:
            joins.append("LEFT JOIN t ON t.c1 = least(d.c1, d.c2) AND t.c2 = greatest(d.c1, d.c2) AND t.year = d.year")
    cols: list[str] = []
    flagged: list[tuple[int, Layer]] = []
    for lay in chosen:
        if lay.components:
            cols.append(f"{_index_expr(lay, index_ties[lay.name], f't.{lay.name}_')} AS {lay.columns[0]}")
        elif lay.node_sql:  # a property of each state-year: flagged on the nodes, not joined per dyad
            j = len(flagged)
            flagged.append((j, lay))
            for i, col in enumerate(lay.columns[:2], start=1):
                cols.append(f"CASE WHEN d.year BETWEEN {lay.first_year} AND {lay.last_year} "
                            f"THEN d.n{j}_{i}::INTEGER END AS {col}")
        elif lay.tie is not None:
            cols.extend(f"{_value(lay.tie, col, 't')} AS {col}" for col in lay.columns)
    nodes, pair_flags = "_nodes", ""
    if flagged:
        node_joins = []
        for j, lay in flagged:
            table = _node_table(db, lay)
            node_joins.append((f"m{j}.ccode IS NOT NULL AS n{j}",
                               f"LEFT JOIN {table} m{j} ON m{j}.ccode = _nodes.ccode AND m{j}.year = _nodes.year"))
        ctes.insert(0, f"n AS (SELECT _nodes.*, {', '.join(f for f, _ in node_joins)} FROM _nodes "
                       f"{' '.join(j for _, j in node_joins)})")
        nodes = "n"
        pair_flags = "".join(f", a.n{j} AS n{j}_1, b.n{j} AS n{j}_2" for j, _ in flagged)
    pair = "a.code <> b.code" if directed else "a.code < b.code"
    ctes.insert(1 if flagged else 0, f"""d AS (SELECT a.code AS code1, b.code AS code2, a.ccode AS c1,
                   b.ccode AS c2, a.year{pair_flags} FROM {nodes} a JOIN {nodes} b ON a.year = b.year AND {pair}
                   {f"WHERE {keep}" if keep else ""})""")
    select = ", ".join(["d.code1", "d.code2", "d.year", *cols])
    return f"""
        WITH {', '.join(ctes)}
        SELECT {select} FROM d {' '.join(joins)}"""


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """Run the panel query; integer columns come back as nullable Int32 (NA outside coverage).

    DuckDB hands over Arrow. Each integer column is joined into one Arrow array (a copy the process
    owns) and becomes a pandas masked array over that memory plus its null mask -- what pyarrow's
    ``types_mapper`` path builds too, but without copying every chunk twice (fresh memory is much of
    the cost of a panel of millions of rows). Other columns go through ``to_pandas``.
    """
    table = con.sql(sql).to_arrow_table()
    ints = {pa.int8(): pa.int32(), pa.int16(): pa.int32(), pa.int32(): pa.int32(), pa.int64(): pa.int64()}
    others = [name for name, typ in zip(table.column_names, table.schema.types, strict=True) if typ not in ints]
    rest = table.select(others).to_pandas() if others else pd.DataFrame()
    columns: dict[str, Any] = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        target = ints.get(col.type)
        if target is None:
            columns[name] = rest[name]
            continue
        arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        if arr.type != target:
            arr = arr.cast(target)
        dtype = np.int32 if target == pa.int32() else np.int64
        if len(arr):
            values = np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr),
                                   offset=arr.offset * np.dtype(dtype).itemsize)
            if not values.flags.writeable:  # DuckDB's own buffer (a single chunk): pandas gets a copy it owns
                values = values.copy()
        else:
            values = np.empty(0, dtype=dtype)
        mask = (arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count
                else np.zeros(len(arr), dtype=bool))
        columns[name] = pd.arrays.IntegerArray(values, mask)
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows), copy=False)


# -------------------------------------------------------------------------------------------------------- API

@contextmanager
def _session(store: StoreLike, system: str, layers: str | Iterable[str] | None, unit: str,
             from_year: int | None, to_year: int | None,
             countries: str | Iterable[str] | None) -> Iterator[tuple[StoreReader, list[Layer], bool]]:
    """An open store with the selected layers, the state-years (_nodes) and the chosen countries (_pick)."""
    with reading(store) as db:
        chosen = _select_layers(layers, db, unit)
        lo, hi = _years(db, system, from_year, to_year)
        _make_nodes(db, system, lo, hi)
        yield db, chosen, _pick_countries(db, system, countries, lo, hi)


def _pick_countries(db: StoreReader, system: str, countries: str | Iterable[str] | None, lo: int, hi: int) -> bool:
    """TEMP table _pick(code) of the requested states; False when no selection was asked for.

    Each name goes through the actor registry; a state with no code in the system, or not in the
    system during the selected years, is a clear error rather than an empty panel.
    """
    if countries is None:
        return False
    names = [countries] if isinstance(countries, str) else list(countries)
    if not names:
        raise DefdipError("empty selection: no countries given")
    codes = []
    for name in names:
        polity = registry().resolve(str(name), strict=False)
        code = polity.ccode if system == "cow" else polity.gwcode
        if code is None:
            raise DefdipError(f"{polity.name} ({polity.id}) has no {system.upper()} code: panels cover states only")
        if _scalar(db.con, "SELECT min(year) FROM _nodes WHERE code = ?", [code]) is None:
            raise DefdipError(f"{polity.name} ({system.upper()} {code}) was not in the {system.upper()} state "
                              f"system in {lo}-{hi}")
        codes.append(int(code))
    db.con.execute("CREATE OR REPLACE TEMP TABLE _pick AS SELECT unnest(?::INTEGER[]) AS code", [codes])
    return True


def _derive(frame: pd.DataFrame, chosen: list[Layer], store: StoreLike, system: str,
            directed: bool | None) -> pd.DataFrame:
    """Add the columns of the layers computed from a fetched panel's rows (``directed`` None: state-years)."""
    prefix = "ccode" if system == "cow" else "gwcode"
    ids = (prefix,) if directed is None else (f"{prefix}1", f"{prefix}2")

    def history(to_year: int, names: list[str]) -> pd.DataFrame:
        return dyad_year(store, to_year=to_year, system=system, layers=names)

    for lay in chosen:
        if lay.derive is None:
            continue

        def read(table: str, sql: str, lay: Layer = lay) -> pd.DataFrame:
            with reading(store) as db:
                if not db.has_table(table):
                    raise StoreError(f"layer {lay.name!r} needs the {table!r} table: build the store with the "
                                     f"{lay.source!r} source available (`defdip build --sources DIR`)")
                return db.con.execute(sql).df()

        frame = lay.derive(frame, DeriveContext(system=system, ids=ids, directed=directed, read=read,
                                                history=history))
    return frame


def dyad_year(store: StoreLike = None, *, directed: bool = False, from_year: int | None = None,
              to_year: int | None = None, system: str = "cow",
              layers: str | Iterable[str] | None = None,
              countries: str | Iterable[str] | None = None, ordered: bool = True) -> pd.DataFrame:
    """Dyad-years of the state system with layers (None: every layer the store can supply).

    Columns: ccode1, ccode2, year (gwcode1, gwcode2 for ``system="gw"``), then each layer's columns, rows
    ordered by year and the two codes (``ordered=False``: in the engine's order, which saves about a third of
    the time of a panel that is aggregated or cut and sorted again anyway).
    Non-directed dyads have ccode1 < ccode2; ``directed=True`` gives both orderings. Outside a layer's
    coverage its columns are NA; inside it, 0 means no tie. ``countries`` keeps the dyads of those states
    (names or codes the registry resolves). Raises DefdipError for an unknown layer, an empty selection,
    years outside the state system or a country not in the system in those years.
    """
    system = _check_system(system)
    with _session(store, system, layers, "dyad_year", from_year, to_year, countries) as (db, chosen, picked):
        keep = "a.code IN (SELECT code FROM _pick) OR b.code IN (SELECT code FROM _pick)" if picked else ""
        sql = _panel_sql(db, [lay for lay in chosen if lay.derive is None], directed=directed, symmetric=False,
                         keep=keep)
        frame = _fetch(db.con, sql + (" ORDER BY d.year, d.code1, d.code2" if ordered else ""))
    prefix = "ccode" if system == "cow" else "gwcode"
    frame = frame.rename(columns={"code1": f"{prefix}1", "code2": f"{prefix}2"})
    return _derive(frame, chosen, store, system, directed)


def state_year(store: StoreLike = None, *, from_year: int | None = None, to_year: int | None = None,
               system: str = "cow", layers: str | Iterable[str] | None = None,
               countries: str | Iterable[str] | None = None) -> pd.DataFrame:
    """State-years with each layer aggregated over the state's partners (see the module docstring).

    Columns: ccode (gwcode), year, then per layer its state-year columns: the number of partners with a
    tie that year (``cowmaj``: the state's own major-power indicator; ``conttype``: ``land_contig``).
    """
    system = _check_system(system)
    with _session(store, system, layers, "state_year", from_year, to_year, countries) as (db, chosen, picked):
        in_sql = [lay for lay in chosen if lay.derive is None]
        dyadic = [lay for lay in in_sql if not lay.node_sql]
        aggs = []
        for lay in dyadic:
            test = "= 1" if lay.aggregation == "land_partners" else "> 0"
            for col, scol in zip(lay.columns, lay.state_cols, strict=True):
                aggs.append(f"CASE WHEN count(p.{col}) = 0 THEN NULL ELSE count(*) FILTER (WHERE p.{col} {test}) "
                            f"END::INTEGER AS {scol}")
        select = ["n.code", "n.year"]
        node_joins: list[str] = []
        for lay in in_sql:
            if lay.node_sql:
                j = len(node_joins)
                node_joins.append(f"LEFT JOIN {_node_table(db, lay)} m{j} ON m{j}.ccode = n.ccode "
                                  f"AND m{j}.year = n.year")
                select.append(f"CASE WHEN n.year BETWEEN {lay.first_year} AND {lay.last_year} "
                              f"THEN (m{j}.ccode IS NOT NULL)::INTEGER END AS {lay.state_cols[0]}")
            else:
                select.extend(f"s.{c}" for c in lay.state_cols)
        if dyadic:
            inner = _panel_sql(db, dyadic, directed=True, symmetric=True,
                               keep="a.code IN (SELECT code FROM _pick)" if picked else "")
            db.con.execute(f"CREATE OR REPLACE TEMP TABLE _sy AS SELECT p.code1 AS code, p.year, {', '.join(aggs)} "
                           f"FROM ({inner}) p GROUP BY ALL")
        else:
            db.con.execute("CREATE OR REPLACE TEMP TABLE _sy AS SELECT code, year FROM _nodes")
        frame = _fetch(db.con, f"""SELECT {', '.join(select)} FROM _nodes n
                                   LEFT JOIN _sy s ON s.code = n.code AND s.year = n.year {' '.join(node_joins)}
                                   {"WHERE n.code IN (SELECT code FROM _pick)" if picked else ""}
                                   ORDER BY n.year, n.code""")
    frame = frame.rename(columns={"code": "ccode" if system == "cow" else "gwcode"})
    return _derive(frame, chosen, store, system, None)


def _check_system(system: str) -> str:
    system = str(system).lower()
    if system not in SYSTEMS:
        raise DefdipError(f"unknown state system {system!r}; use 'cow' or 'gw'")
    return system
