"""Networks of polities tied by defence diplomacy in a year or a range of years, their measures and export.

A tie joins two polities (organisations and the ``unknown`` actor are not nodes) that take part in the same
engagement of the chosen layer while both are in it, in at least one year of the window ``year..to_year``
(an engagement is in force as defined in :mod:`defdip.analysis.evolution`). The graph holds only polities with a tie.
Edge ``weight`` is the number of distinct engagements tying the pair. The tie layers of the layer registry
(:func:`defdip.analysis.panels.layers`: ``atop_defense``, ``dca_any``, ``exercises``, ``arms_tiv``,
``pko_codeployed``, ``visits``, the events' ``ev_*`` ...) and the derived ``dd_index`` come from
:func:`defdip.analysis.panels.dyad_year` instead: a tie when the layer is above 0 in a year of the window,
weight the sum of its values; nodes are states (COW codes mapped to polity ids). ``all`` and the activity layers use
every engagement, from antiquity on; a peacekeeping deployment ties its contributors to its hosts only (co-deployed
contributors are the ``pko_codeployed`` layer). Node names are the registry's names as of the window's first
year (``actors.Registry.display_name``: the Soviet Union in 1980).

Measures: density; connected components and the largest one's share of nodes; degree (number of partners) and
strength (sum of weights); eigenvector centrality computed within each component (unit norm per component,
scaled by the component's share of nodes so that the hub of a small component does not outrank the hubs of the
main one; power iteration, then the dense solver, else NA with a note in the summary); betweenness (normalised,
unweighted); clustering (node and average); communities by Louvain modularity (weighted; igraph's multilevel
method, fixed seed 42), numbered by size from 0; brokers = the top betweenness nodes. Eigenvector, betweenness
and clustering are computed on the graph's sparse adjacency matrix (networkx's definitions and values, without
per-node Python); a networkx graph is built only when asked for (export, charts)."""

from __future__ import annotations

import itertools
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import igraph as ig
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.csgraph  # noqa: F401 - sp.csgraph

from defdip.analysis import panels
from defdip.analysis.evolution import load_engagements
from defdip.core import dates
from defdip.core.actors import registry
from defdip.core.errors import DefdipError
from defdip.store import series
from defdip.store.queries import StoreReader
from defdip.store.series import StoreArg, connection

SEED = 42

EIGEN_MAX_ITER, EIGEN_TOL = 2000, 1e-8
"""Power iteration of the eigenvector centrality: most iterations and tolerance per node."""

BETWEENNESS_EXACT_NODES = 1000
"""Up to this many nodes betweenness is exact (all sources); above, 500 sampled sources (networkx, fixed seed)."""

Mask = Callable[[pd.DataFrame], pd.Series]

LAYERS: dict[str, tuple[str, Mask]] = {
    "all": ("any engagement", lambda f: pd.Series(True, index=f.index)),
    "agreements": ("any agreement (alliances, DCAs, MoUs, equipment, training)",
                   lambda f: f["activity"] == "agreements"),
    "contacts": ("contacts: visits, dialogues, deployments, presence, organisations",
                 lambda f: f["activity"] == "contacts"),
    "attaches": ("attaches and envoy missions", lambda f: f["activity"] == "attaches"),
    "alliances": ("alliance treaties of any obligation", lambda f: f["instrument"] == "alliance_treaty"),
    "defence_pacts": ("alliance treaties with a defence obligation (any source)", lambda f: f["defence_pact"]),
    "presence": ("military presence (troops or bases abroad)", lambda f: f["instrument"] == "military_presence"),
}
"""Layers built from the engagements, for what the dyad-year panel has no layer of (antiquity on, any source):
name -> (description, selection of engagements). Who is tied by an ATOP pact, a DCA, an exercise, arms, a
peacekeeping co-deployment or a visit has one home, the panel's layer of that name (:func:`panel_layers`)."""

PANEL_ROLES = ("tie", "derived")
"""The roles of the registry's layers that make networks: defence-diplomacy ties and the index built from them
(contiguity, disputes, distance and node attributes are no ties)."""


def panel_layers() -> dict[str, panels.Layer]:
    """The registry's layers usable as networks, by name, in the registry's order."""
    return {lay.name: lay for lay in panels.layers(role=PANEL_ROLES, unit="dyad_year")}


def layers() -> dict[str, str]:
    """Every network layer with its description (engagement layers, then the panel's)."""
    out = {k: v[0] for k, v in LAYERS.items()}
    for name, layer in panel_layers().items():
        out[name] = f"{layer.description} [panel, {layer.first_year}-{layer.last_year}]"
    return out


@dataclass
class NetworkResult:
    summary: dict[str, Any]
    nodes: pd.DataFrame = field(repr=False)
    """One row per node with its measures, most partners first."""
    edges: list[tuple[str, str, int | float]] = field(repr=False)
    """(a, b, weight) per tie, a < b, in that order."""
    order: list[str] = field(repr=False)
    """The nodes in the order the ties first name them (the graph's node order)."""

    @cached_property
    def graph(self) -> nx.Graph:
        """The network as a networkx graph (built when asked for: a server answering JSON never needs it),
        its nodes carrying name, ccode and community, its edges weight."""
        graph = nx.Graph(layer=self.summary["layer"], from_year=self.summary["from_year"],
                         to_year=self.summary["to_year"])
        rows = self.nodes.set_index("id")
        names, ccodes, communities = (rows[c].to_dict() for c in ("name", "ccode", "community"))
        for v in self.order:
            attrs: dict[str, Any] = {"name": names[v], "community": int(communities[v])}
            if pd.notna(ccodes[v]):
                attrs["ccode"] = int(ccodes[v])
            graph.add_node(v, **attrs)
        graph.add_weighted_edges_from(self.edges)
        return graph


def _check_layer(layer: str) -> str:
    """The layer, if it makes a network; else one line: an unknown name gets every network layer, a registry
    layer that is no tie the registry's word on what it is."""
    if layer in LAYERS or layer in panel_layers():
        return layer
    if layer in panels.LAYERS:
        try:
            panels.resolve([layer], role=PANEL_ROLES)
        except DefdipError as exc:
            raise DefdipError(f"{exc}; or one built from the engagements: {', '.join(LAYERS)}") from None
    raise DefdipError(f"unknown network layer {layer!r}; known layers: {', '.join(layers())}")


@dataclass(frozen=True)
class NetworkData:
    """What every engagement-layer network of a store is cut from, read once: a server keeps one per store
    version (:mod:`defdip.present.web.data`), so that a network costs a selection and its measures, not a load."""

    frame: pd.DataFrame
    """:func:`defdip.analysis.evolution.load_engagements` (read-only: shared by every request)."""
    pairs: pd.DataFrame
    """:func:`defdip.store.series.polity_pairs` of every engagement that is not a dyad spell."""
    polities: pd.DataFrame
    """id, name, ccode of every polity."""
    _layers: dict[str, LayerData] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def codes(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Name and COW code of every polity (the codes of those that have one), read once."""
        return _polity_codes(self.polities)

    def layer(self, name: str) -> LayerData:
        """The engagements and pairs of engagement layer ``name``, selected once (later windows of the layer
        cost two comparisons of year arrays)."""
        found = self._layers.get(name)
        if found is None:
            selected = self.frame[LAYERS[name][1](self.frame).fillna(False).astype(bool).to_numpy()
                                  & ~self.frame["dyad_spell"].to_numpy()]
            pairs = self.pairs[self.pairs["engagement_id"].isin(selected["id"]).to_numpy()].reset_index(drop=True)
            a, b = pairs["a"].to_numpy(dtype=object), pairs["b"].to_numpy(dtype=object)
            ids = np.array(sorted(set(a.tolist()) | set(b.tolist())), dtype=object)
            found = LayerData(engagements=selected[["id", "start_year", "in_force_to"]].reset_index(drop=True),
                              pairs=pairs, ids=ids, ia=np.searchsorted(ids, a), ib=np.searchsorted(ids, b),
                              ca=pairs["ccode_a"].to_numpy(dtype=np.int64, na_value=-1),
                              cb=pairs["ccode_b"].to_numpy(dtype=np.int64, na_value=-1))
            self._layers[name] = found  # two threads may both compute it: the same value
        return found


@dataclass(frozen=True)
class LayerData:
    """One engagement layer's engagements (id, start_year, in_force_to) and their pairs of polities."""

    engagements: pd.DataFrame
    pairs: pd.DataFrame
    ids: np.ndarray
    """The polities of the pairs, sorted (as strings compare)."""
    ia: np.ndarray
    ib: np.ndarray
    """Each pair's a and b as positions in ``ids``."""
    ca: np.ndarray
    cb: np.ndarray
    """Each pair's own COW codes of a and b (-1 where it has none)."""

    def window(self, year: int, last: int) -> tuple[int, np.ndarray]:
        """How many of the layer's engagements are in force in ``year..last``, and which of their pairs are
        then (a pair's years lie within its engagement's)."""
        e, p = self.engagements, self.pairs
        n = int(((e["start_year"].to_numpy() <= last) & (e["in_force_to"].to_numpy() >= year)).sum())
        return n, (p["first"].to_numpy() <= last) & (p["last"].to_numpy() >= year)

    def with_codes(self, chosen: np.ndarray, ccodes: dict[str, Any]) -> dict[str, Any]:
        """``ccodes``, with a code for each polity of the chosen pairs that it lacks: the first the pairs give
        it as ``a``, else the first as ``b`` (an organisation or a polity without a code of its own)."""
        lacking = np.fromiter((v not in ccodes for v in self.ids.tolist()), dtype=bool, count=len(self.ids))
        found: dict[str, Any] = {}
        for ends, codes in ((self.ia, self.ca), (self.ib, self.cb)):
            rows = np.flatnonzero(chosen & (codes >= 0) & lacking[ends])
            positions, first = np.unique(ends[rows], return_index=True)
            for i, code in zip(positions.tolist(), codes[rows[first]].tolist(), strict=True):
                found.setdefault(self.ids[i], code)
        return {**ccodes, **found} if found else ccodes

    def ties(self, chosen: np.ndarray) -> list[tuple[str, str, int | float]]:
        """(a, b, weight) per tied pair of the chosen pairs, sorted by a, b, counted on positions: within an
        engagement a pair appears once, so its weight (distinct engagements) is how often it appears."""
        n = len(self.ids)
        keys, counts = np.unique(self.ia[chosen].astype(np.int64) * n + self.ib[chosen], return_counts=True)
        a, b = np.divmod(keys, n)
        return list(zip(self.ids[a].tolist(), self.ids[b].tolist(), counts.tolist(), strict=True))


def network_data(store: StoreArg = None) -> NetworkData:
    """The engagements, their pairs of polities and the polities of ``store``: pass it as ``data=`` to
    :func:`network` to draw many networks from one read of the store."""
    with connection(store) as con:
        frame = load_engagements(con)
        pairs = series.polity_pairs(con, ids=frame.loc[~frame["dyad_spell"], "id"].tolist())
        polities = series.polities(con)
    return NetworkData(frame=frame, pairs=pairs, polities=polities)


@dataclass(frozen=True)
class PanelTies:
    """A panel tie layer's dyad-years with a tie (value above 0) over the years of its coverage in the state
    system, read once: a server keeps one per layer and store version, so that a network of any window of the
    layer costs a selection and its measures, not a panel query."""

    layer: str
    tied: pd.DataFrame
    """ccode1, ccode2, year and the layer's column, in the panel's order (year, ccode1, ccode2)."""
    first_year: int
    last_year: int
    """The years the panel query covered (the layer's coverage within the state system's years)."""
    years_with_data: frozenset[int]
    """Years in which the layer has a value (not NA) for some dyad."""

    @cached_property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """ccode1, ccode2, year and value of the tied dyad-years as numpy arrays, made once (a window of the
        layer then costs two comparisons of the years)."""
        t = self.tied
        return (t["ccode1"].to_numpy(dtype=np.int64), t["ccode2"].to_numpy(dtype=np.int64),
                t["year"].to_numpy(dtype=np.int64), t.iloc[:, 3].to_numpy(dtype=float))


def panel_ties(layer: str, store: StoreArg = None) -> PanelTies:
    """The tied dyad-years of the registry's tie layer ``layer`` (one without a derivation from other rows):
    pass it as ``ties=`` to :func:`network`, for any window, with the same result as reading the window."""
    panel = panel_layers().get(layer)
    if panel is None or panel.derive is not None:
        raise DefdipError(f"layer {layer!r} is no panel tie layer read from the store")
    with connection(store) as con:
        target = series.panel_store(store, con)
    frame = panels.dyad_year(target, from_year=panel.first_year, to_year=panel.last_year, layers=[layer])
    column = panel.columns[0]
    values = frame[column]
    if frame.empty:
        raise DefdipError(f"layer {layer!r} has no dyad-years")
    return PanelTies(layer=layer, tied=frame.loc[(values.fillna(0) > 0).to_numpy(),
                                                 ["ccode1", "ccode2", "year", column]].reset_index(drop=True),
                     first_year=int(frame["year"].min()), last_year=int(frame["year"].max()),
                     years_with_data=frozenset(int(y) for y in frame.loc[values.notna().to_numpy(), "year"].unique()))


def network(year: int, layer: str = "all", store: StoreArg = None, to_year: int | None = None, *,
            data: NetworkData | None = None, ties: PanelTies | None = None) -> NetworkResult:
    """The network of polities tied by ``layer`` in ``year`` (or ``year..to_year``) with its measures.

    ``data`` (from :func:`network_data` on the same store) gives the same result without reading the store
    again for an engagement layer; ``ties`` (from :func:`panel_ties` of this layer) the same for a panel
    layer, whose network otherwise reads the panel of the window."""
    _check_layer(layer)
    try:
        dates.check_year(int(year))
        if to_year is not None:
            dates.check_year(int(to_year))
    except (ValueError, TypeError) as exc:
        raise DefdipError(f"bad year: {exc}") from None
    year = int(year)
    last = int(to_year) if to_year is not None else year
    if last < year:
        raise DefdipError(f"--to ({dates.format_year(last)}) is before the first year ({dates.format_year(year)})")
    span = _span(year, last)
    panel = panel_layers().get(layer)
    if panel is not None:
        return _panel_network(store, panel, layer, year, last, ties if ties is not None and ties.layer == layer
                              else None)
    if data is None:
        data = network_data(store)
    selected = data.layer(layer)
    engaged, chosen = selected.window(year, last)
    if selected.engagements.empty:
        raise DefdipError(f"the store has no engagements in layer {layer!r} "
                          f"({LAYERS[layer][0]}); build it with the sources that provide them")
    if not engaged:
        raise DefdipError(
            f"no {layer!r} engagements in {span}; the store's {layer!r} data run from "
            f"{dates.format_year(int(selected.engagements['start_year'].min()))} to "
            f"{dates.format_year(int(selected.engagements['in_force_to'].max()))}")
    if not chosen.any():
        raise DefdipError(f"no ties in layer {layer!r} in {span}: its {engaged} engagement(s) then have "
                          f"fewer than two polities taking part")
    names, ccodes = data.codes
    edges = selected.ties(chosen)
    return _measure(edges, names, selected.with_codes(chosen, ccodes), layer, year, last)


def _panel_network(store: StoreArg, panel: panels.Layer, layer: str, year: int, last: int,
                   ties: PanelTies | None = None) -> NetworkResult:
    """A network from a dyad-year panel layer: a tie when the layer's value is above 0 in some year of the
    window; ``weight`` = the sum of its values over the window (years tied for 0/1 layers, TIV, counts).
    ``ties``: the layer's tied dyad-years, read once; a window outside the years they cover reads the panel."""
    column = panel.columns[0]
    span = _span(year, last)
    with connection(store) as con:
        target = series.panel_store(store, con)  # a handle given is read as it is, its lookups cached
        ids = store.cached(("network.ccode_ids",), lambda: series.ccode_ids(con)) \
            if isinstance(store, StoreReader) else series.ccode_ids(con)
    if not (panel.first_year <= last and year <= panel.last_year):
        raise DefdipError(f"layer {layer!r} covers {panel.first_year}-{panel.last_year}; {span} is outside it")
    lo, hi = max(year, panel.first_year), min(last, panel.last_year)
    if ties is not None and ties.first_year <= lo and hi <= ties.last_year:
        has_data = any(y in ties.years_with_data for y in range(lo, hi + 1))
        c1, c2, years, values = ties.arrays
        keep = (years >= lo) & (years <= hi)
        c1, c2, values = c1[keep], c2[keep], values[keep]
    else:
        frame = panels.dyad_year(target, from_year=lo, to_year=hi, layers=[layer])
        column_values = frame[column]
        has_data = not column_values.isna().all()
        tied = frame[(column_values.fillna(0) > 0).to_numpy()]
        c1, c2 = tied["ccode1"].to_numpy(dtype=np.int64), tied["ccode2"].to_numpy(dtype=np.int64)
        values = tied[column].to_numpy(dtype=float)
    if not has_data:
        raise DefdipError(f"layer {layer!r} has no data in {span} (it covers {panel.first_year}-{panel.last_year} "
                          f"where its source reaches)")
    if not len(c1):
        raise DefdipError(f"no ties in layer {layer!r} in {span}")
    # a pair's weight is the sum over its dyad-years: summed per pair of codes first, then per pair of ids
    # (codes the polities table lacks name nodes of their own: their code as the id)
    base = int(max(c1.max(), c2.max())) + 1
    keys, at = np.unique(c1 * base + c2, return_inverse=True)
    sums = np.bincount(at, weights=values)
    code_a, code_b = np.divmod(keys, base)
    codes = np.unique(np.r_[code_a, code_b])
    named = np.array([ids[c][0] if c in ids else str(c) for c in codes.tolist()], dtype=object)
    id_a, id_b = named[np.searchsorted(codes, code_a)], named[np.searchsorted(codes, code_b)]
    swap = id_a > id_b
    summed: dict[tuple[str, str], float] = {}
    for a, b, weight in zip(np.where(swap, id_b, id_a).tolist(), np.where(swap, id_a, id_b).tolist(),
                            sums.tolist(), strict=True):
        summed[(a, b)] = summed.get((a, b), 0.0) + weight
    edges = [(a, b, int(w) if float(w).is_integer() else float(w)) for (a, b), w in sorted(summed.items())]
    ccodes = {v[0]: k for k, v in ids.items()}
    for v, code in zip(named.tolist(), codes.tolist(), strict=True):
        ccodes.setdefault(v, code)
    return _measure(edges, {v[0]: v[1] for v in ids.values()}, ccodes, layer, year, last,
                    description=panel.description)


def _span(year: int, last: int) -> str:
    return dates.format_year(year) if year == last else f"{dates.format_year(year)}-{dates.format_year(last)}"


def _polity_codes(polities: pd.DataFrame) -> tuple[dict[str, Any], dict[str, Any]]:
    """Name and COW code of each polity of an id, name, ccode table (codes of those that have one)."""
    # plain lists: iterating pandas' Arrow-backed columns value by value costs more than the graph
    ids, codes = polities["id"].tolist(), polities["ccode"].tolist()
    known = polities["ccode"].notna().to_numpy().tolist()
    return (dict(zip(ids, polities["name"].tolist(), strict=True)),
            {k: v for k, v, ok in zip(ids, codes, known, strict=True) if ok})


def _eigenvector(order: list[Any], adj: sp.csr_matrix,
                 components: list[set[Any]]) -> tuple[dict[Any, float], str]:
    """Eigenvector centrality per component, as networkx's power iteration computes it (start 1/size, iterate
    with A + I, unit L2 norm, converged when the L1 change is below size * tol), on a sparse matrix instead of
    per-node Python; a component that does not converge falls back to networkx's dense solver."""
    n = len(order)
    at = {v: i for i, v in enumerate(order)}
    values: dict[Any, float] = {}
    notes = []
    for comp in components:
        size = len(comp)
        if size == 1:
            values.update({v: 0.0 for v in comp})
            continue
        members = sorted(at[v] for v in comp)
        sub = adj if size == n else adj[members][:, members]  # one component: the matrix itself
        x = np.full(size, 1.0 / size)
        converged = False
        for _ in range(EIGEN_MAX_ITER):
            last = x
            x = last + sub @ last
            x = x / (float(np.sqrt(x @ x)) or 1.0)
            if float(np.abs(x - last).sum()) < size * EIGEN_TOL:
                converged = True
                break
        if converged:
            values.update({order[i]: abs(float(v)) * size / n for i, v in zip(members, x)})
            continue
        try:  # the leading eigenvector of the component's matrix, as networkx's dense solver finds it
            _, vectors = np.linalg.eigh(sub.toarray())
            lead = np.abs(vectors[:, -1])
            lead = lead / (float(np.linalg.norm(lead)) or 1.0)
        except np.linalg.LinAlgError as exc:  # reported in the summary, never fatal
            notes.append(f"a component of {size} nodes did not converge ({type(exc).__name__})")
            values.update({v: math.nan for v in comp})
            continue
        values.update({order[i]: float(x) * size / n for i, x in zip(members, lead)})
    return values, ("; ".join(notes) or "converged")


def _betweenness(adj: sp.csr_matrix) -> np.ndarray:
    """Normalised, unweighted betweenness of every node (Brandes' counts, networkx's scaling), with the
    breadth-first searches of all sources run at once as sparse products: rows are sources, one product per
    distance level forwards (shortest-path counts) and one per level back (dependencies)."""
    n = adj.shape[0]
    if n <= 2:
        return np.zeros(n)
    seen = np.eye(n, dtype=bool)
    sigma = np.eye(n)
    levels = [seen.copy()]
    frontier = sigma.copy()
    while True:
        reach = np.asarray(adj @ frontier.T).T  # paths from each source to the next level's nodes
        reach[seen] = 0.0
        new = reach > 0
        if not new.any():
            break
        seen |= new
        sigma[new] = reach[new]
        frontier = np.where(new, reach, 0.0)
        levels.append(new)
    delta = np.zeros((n, n))
    for d in range(len(levels) - 1, 1, -1):  # level 1 would only credit the sources themselves
        share = np.where(levels[d], (1.0 + delta) / np.where(levels[d], sigma, 1.0), 0.0)
        back = np.asarray(adj @ share.T).T
        delta += np.where(levels[d - 1], sigma * back, 0.0)
    result: np.ndarray = delta.sum(axis=0) / ((n - 1) * (n - 2))
    return result


def _clustering(adj: sp.csr_matrix) -> np.ndarray:
    """Unweighted clustering of every node: twice its triangles over degree * (degree - 1), 0 below degree 2."""
    degree = np.asarray(adj.sum(axis=1)).ravel()
    twice_triangles = np.asarray((adj @ adj).multiply(adj).sum(axis=1)).ravel()
    pairs = degree * (degree - 1)
    out = np.zeros(len(degree))
    np.divide(twice_triangles, pairs, out=out, where=pairs > 0)
    return out


_LOUVAIN = threading.Lock()
"""igraph draws Louvain's node order from one process-wide generator: seeded and used by one thread at a time,
so that a network's communities are the same whoever asks and in what order."""


def _louvain(n: int, edges: list[tuple[int, int]], weights: list[float]) -> tuple[list[int], float]:
    """Louvain communities (igraph's multilevel method, seed ``SEED``): each node's community and the
    partition's weighted modularity."""
    graph = ig.Graph(n=n, edges=edges)
    with _LOUVAIN:
        ig.set_random_number_generator(random.Random(SEED))
        partition = graph.community_multilevel(weights=weights)
        ig.set_random_number_generator(random)
    return list(partition.membership), float(graph.modularity(partition.membership, weights=weights))


def _measure(ties: list[tuple[str, str, int | float]], names: dict[str, Any], ccodes: dict[str, Any], layer: str,
             year: int, last: int, description: str | None = None) -> NetworkResult:
    """The network of ``ties`` ((a, b, weight), a < b, sorted) with its measures; ``names`` and ``ccodes`` by
    polity id. Orders and ranks are numpy sorts over the nodes' positions (ids ranked once as strings compare),
    not pandas sorts of the node table: a server computes networks by the hundred."""
    ties = [t for t in ties if t[0] != t[1]]
    ends_a, ends_b, weights = zip(*ties) if ties else ((), (), ())
    order = list(dict.fromkeys(itertools.chain.from_iterable(zip(ends_a, ends_b))))  # as the ties name them
    at = {v: i for i, v in enumerate(order)}
    n = len(order)
    ia = np.fromiter(map(at.__getitem__, ends_a), dtype=np.int64, count=len(ties))
    ib = np.fromiter(map(at.__getitem__, ends_b), dtype=np.int64, count=len(ties))
    weight = np.fromiter(weights, dtype=float, count=len(ties))
    by_id = np.argsort(np.array(order, dtype=str), kind="stable")
    id_rank = np.empty(n, dtype=np.int64)
    id_rank[by_id] = np.arange(n)
    adj = sp.csr_matrix((np.ones(2 * len(ties)), (np.r_[ia, ib], np.r_[ib, ia])), shape=(n, n))
    count, labels = sp.csgraph.connected_components(adj, directed=False)
    # components largest first; equal sizes in the order of their first node (the order of their labels)
    ranked_labels = np.argsort(-np.bincount(labels, minlength=count), kind="stable")
    component_rank = np.empty(count, dtype=np.int64)
    component_rank[ranked_labels] = np.arange(count)
    component = component_rank[labels]
    by_component = np.argsort(component, kind="stable")
    bounds = np.searchsorted(component[by_component], np.arange(count + 1))
    components = [{order[i] for i in by_component[lo:hi].tolist()} for lo, hi in zip(bounds[:-1], bounds[1:])]
    eigen, eigen_note = _eigenvector(order, adj, components)
    betweenness = _betweenness(adj) if n <= BETWEENNESS_EXACT_NODES else \
        np.array(ig.Graph(n=n, edges=list(zip(ia.tolist(), ib.tolist()))).betweenness()) / ((n - 1) * (n - 2) / 2)
    clustering = _clustering(adj)
    membership, modularity = _louvain(n, list(zip(ia.tolist(), ib.tolist())), weight.tolist())
    # communities by size, equal sizes by their first member as ids sort
    member = np.asarray(membership, dtype=np.int64)
    sizes = np.bincount(member)
    first = np.full(len(sizes), n, dtype=np.int64)
    np.minimum.at(first, member, id_rank)
    present = np.flatnonzero(sizes)
    community_rank = np.empty(len(sizes), dtype=np.int64)
    community_rank[present[np.lexsort((first[present], -sizes[present]))]] = np.arange(len(present))
    degree = np.bincount(np.r_[ia, ib], minlength=n)
    strength = np.bincount(np.r_[ia, ib], weights=np.r_[weight, weight], minlength=n)
    eigenvector = np.array([eigen.get(v, math.nan) for v in order], dtype=float)
    eigen_key = np.where(np.isnan(eigenvector), np.inf, -eigenvector)  # largest first, NA last
    rows = np.lexsort((id_rank, eigen_key, -degree))  # most partners first
    reg = registry()
    # names as of the window's first year (the Soviet Union in 1980, not Russia)
    shown = [reg.display_name(v, year) if v in reg else str(names.get(v) or v) for v in order]
    picked = rows.tolist()
    nodes = pd.DataFrame({
        "id": [order[i] for i in picked], "name": [shown[i] for i in picked],
        "ccode": pd.array([int(ccodes[order[i]]) if order[i] in ccodes else None for i in picked], dtype="Int64"),
        "degree": degree[rows].astype(int),
        "strength": [int(x) if float(x).is_integer() else float(x) for x in strength[rows].tolist()],
        "eigenvector": eigenvector[rows], "betweenness": betweenness[rows].astype(float),
        "clustering": clustering[rows], "community": community_rank[member][rows], "component": component[rows],
    })
    brokers = np.lexsort((id_rank, -degree, -betweenness))[:5]
    central = np.lexsort((id_rank, eigen_key))[:5]
    summary = {
        "layer": layer, "description": description or LAYERS[layer][0], "from_year": year, "to_year": last,
        "nodes": n, "edges": len(ties), "density": 2 * len(ties) / (n * (n - 1)) if n > 1 else 0.0,
        "components": count, "largest_component_share": len(components[0]) / n if n else math.nan,
        "average_clustering": float(clustering.sum()) / n if n else math.nan,
        "communities": len(present), "modularity": modularity if ties else math.nan,
        "brokers": [shown[i] for i in brokers.tolist()], "most_central": [shown[i] for i in central.tolist()],
        "eigenvector": eigen_note,
    }
    return NetworkResult(summary=summary, nodes=nodes, edges=ties, order=order)


def export_network(result: NetworkResult, path: str | Path, fmt: str | None = None) -> Path:
    """Write the graph with its node measures as GraphML or GEXF (Gephi); ``fmt`` defaults to the suffix."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in ("graphml", "gexf"):
        raise DefdipError(f"cannot export a network as {fmt or path.name!r}: use .graphml or .gexf")
    graph = nx.Graph()
    graph.graph.update({k: v for k, v in result.summary.items() if isinstance(v, (int, float, str))
                        and not (isinstance(v, float) and math.isnan(v))} if fmt == "graphml" else {})
    for row in result.nodes.to_dict("records"):
        attrs: dict[str, Any] = {"label": str(row["name"]), "name": str(row["name"])}
        if pd.notna(row["ccode"]):
            attrs["ccode"] = int(row["ccode"])
        for key in ("degree", "strength", "community", "component"):
            attrs[key] = int(row[key])
        for key in ("eigenvector", "betweenness", "clustering"):
            if pd.notna(row[key]):
                attrs[key] = float(row[key])
        graph.add_node(str(row["id"]), **attrs)
    for a, b, data in result.graph.edges(data=True):
        graph.add_edge(str(a), str(b), weight=data.get("weight", 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "graphml":
        nx.write_graphml(graph, path)
    else:
        nx.write_gexf(graph, path)
    return path
