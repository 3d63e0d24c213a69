"""Network measures on a toy graph from the hand-made store, and on the real alliances of 1980."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from defdip.core.errors import DefdipError


def test_toy_graph_bce_and_modern(synthetic_store):
    from defdip.analysis.network import network

    # 481 BCE to 1889: the Hellenic pact (triangle), the 446 BCE treaty (same pair again) and the 1889 posting
    r = network(-481, "all", synthetic_store, to_year=1889)
    s = r.summary
    assert (s["nodes"], s["edges"], s["components"]) == (5, 4, 2)
    assert s["density"] == pytest.approx(0.4)
    assert s["largest_component_share"] == pytest.approx(0.6)
    assert r.graph["athens"]["sparta"]["weight"] == 2
    assert set(r.nodes["id"]) == {"athens", "sparta", "corinth", "USA", "UKG"}
    assert list(r.nodes.columns[:4]) == ["id", "name", "ccode", "degree"]
    assert r.nodes.loc[r.nodes["id"] == "USA", "ccode"].item() == 2
    # eigenvector per component, scaled by its share of nodes: triangle 3/5 * 1/sqrt(3), pair 2/5 * 1/sqrt(2)
    ev = dict(zip(r.nodes["id"], r.nodes["eigenvector"]))
    assert ev["athens"] == pytest.approx(0.6 / 3 ** 0.5, rel=1e-4)
    assert ev["USA"] == pytest.approx(0.4 / 2 ** 0.5, rel=1e-4)
    assert s["communities"] == 2


def test_star_with_triangle_1995(synthetic_store):
    from defdip.analysis.network import network

    r = network(1995, "all", synthetic_store)
    s = r.summary
    assert (s["nodes"], s["edges"], s["components"]) == (4, 4, 1)
    assert s["density"] == pytest.approx(4 / 6)
    assert r.graph["JPN"]["USA"]["weight"] == 2  # the DCA and the exercise
    assert r.nodes.iloc[0]["id"] == "USA" and r.nodes.iloc[0]["degree"] == 3
    assert s["brokers"][0] == "United States of America"
    assert r.nodes.iloc[0]["betweenness"] == pytest.approx(2 / 3)
    assert s["average_clustering"] == pytest.approx((1 / 3 + 1 + 1 + 0) / 4)


def test_export_graphml_and_gexf(synthetic_store, tmp_path):
    from defdip.analysis.network import export_network, network

    r = network(1995, "all", synthetic_store)
    g = nx.read_graphml(export_network(r, tmp_path / "n.graphml"))
    assert g.number_of_edges() == 4 and g.nodes["USA"]["name"] == "United States of America"
    assert g.nodes["USA"]["ccode"] == 2
    assert "betweenness" in g.nodes["USA"] and "community" in g.nodes["USA"]
    g2 = nx.read_gexf(export_network(r, tmp_path / "n.gexf"))
    assert g2.number_of_nodes() == 4
    with pytest.raises(DefdipError, match="graphml"):
        export_network(r, tmp_path / "n.txt")


def test_bad_input(synthetic_store):
    from defdip.analysis.network import network

    with pytest.raises(DefdipError, match="unknown network layer 'bogus'; known layers: all"):
        network(1995, "bogus", synthetic_store)
    with pytest.raises(DefdipError, match="no 'all' engagements in 1700"):
        network(1700, "all", synthetic_store)
    with pytest.raises(DefdipError, match="no year 0"):
        network(0, "all", synthetic_store)
    with pytest.raises(DefdipError, match="before"):
        network(1995, "all", synthetic_store, to_year=1990)
    with pytest.raises(DefdipError, match="no 'contacts' engagements in 1889; the store's 'contacts' data run "
                                          "from 2001 to 2001"):
        network(1889, "contacts", synthetic_store)


def test_layers_are_the_engagement_layers_and_the_registry_ties(synthetic_store):
    from defdip.analysis import panels
    from defdip.analysis.network import LAYERS, layers, network

    names = list(layers())
    ties = [lay.name for lay in panels.LAYERS.values() if lay.role == "tie"]
    assert names == [*LAYERS, *[n for n in panels.LAYERS if n in ties or n == "dd_index"]]
    assert {"atop_defense", "dca_any", "exercises", "visits", "dd_index"} <= set(names)
    assert not {"capdist", "conttype", "cowmaj", "region", "gml_mid", "peace_years"} & set(names)
    assert "[panel, 1980-2010]" in layers()["dca_any"]
    # a registered layer that is no tie says what it is and lists what would do
    with pytest.raises(DefdipError, match=r"layer 'capdist' is a control layer.*dd_index.*engagements: all, agr"):
        network(1995, "capdist", synthetic_store)


@pytest.mark.shared
def test_real_dd_index_network(full_store):
    from defdip.analysis import panels
    from defdip.analysis.network import network

    r = network(2000, "dd_index", full_store)
    index = panels.dyad_year(full_store, from_year=2000, to_year=2000, layers=["dd_index"])
    tied = index[index["dd_index"].fillna(0) > 0]
    assert r.summary["edges"] == len(tied) and r.summary["description"] == panels.LAYERS["dd_index"].description
    # weight: the dyad's index value in the year (1 to 5 components present)
    usa_ukg = tied[(tied["ccode1"] == 2) & (tied["ccode2"] == 200)]["dd_index"].item()
    assert r.graph["UKG"]["USA"]["weight"] == usa_ukg >= 2


@pytest.mark.shared
def test_real_nato_core_central_in_1980(full_store):
    from defdip.analysis.network import network

    r = network(1980, "alliances", full_store)
    assert r.nodes.iloc[0]["id"] == "USA"
    brokers = r.nodes.sort_values("betweenness", ascending=False).head(5)["id"].tolist()
    assert {"USA", "FRN", "UKG"} <= set(brokers)
    top_eigen = r.nodes.sort_values("eigenvector", ascending=False).head(15)["id"].tolist()
    assert {"USA", "UKG", "FRN"} <= set(top_eigen)


@pytest.mark.shared
def test_real_panel_layer_and_empty_years(full_store):
    from defdip.analysis.network import network

    r = network(1980, "atop_defense", full_store)
    assert r.summary["nodes"] > 50 and r.nodes.iloc[0]["id"] == "USA"
    with pytest.raises(DefdipError, match="covers 1980-2010"):
        network(1700, "dca_any", full_store)
    with pytest.raises(DefdipError, match="no 'alliances' engagements in 5000 BCE"):
        network(-5000, "alliances", full_store)


@pytest.mark.shared
def test_real_names_as_of_the_year(full_store):
    from defdip.analysis.network import network

    names = network(1980, "all", full_store).nodes.set_index("id")["name"]
    assert names["RUS"] == "Soviet Union" and names["GFR"] == "West Germany"
    assert network(2000, "all", full_store).nodes.set_index("id").loc["RUS", "name"] == "Russia"


@pytest.mark.parametrize("seed", range(12))
def test_array_measures_equal_networkx(seed):
    """The sparse-matrix betweenness, clustering and eigenvector centrality give networkx's values (random graphs
    with several components, stars and pairs)."""
    import random

    from defdip.analysis import network as net

    rng = random.Random(seed)
    graph = nx.gnm_random_graph(rng.randint(3, 90), rng.randint(2, 300), seed=seed)
    graph.add_edges_from([("hub", f"leaf{i}") for i in range(rng.randint(1, 6))] + [("p", "q")])
    graph.remove_nodes_from([v for v in list(graph) if graph.degree(v) == 0])
    n = graph.number_of_nodes()
    order = list(graph.nodes)
    adj = sp.csr_matrix(nx.to_scipy_sparse_array(graph, nodelist=order, weight=None, format="csr"))
    components = sorted(nx.connected_components(graph), key=len, reverse=True)
    eigen, note = net._eigenvector(order, adj, components)
    betweenness = dict(zip(order, net._betweenness(adj)))
    clustering = dict(zip(order, net._clustering(adj)))
    expected_eigen = {}
    for comp in components:
        if len(comp) == 1:
            expected_eigen.update({v: 0.0 for v in comp})
            continue
        values = nx.eigenvector_centrality(graph.subgraph(comp), max_iter=2000, tol=1e-8)
        expected_eigen.update({v: abs(x) * len(comp) / n for v, x in values.items()})
    expected_betweenness = nx.betweenness_centrality(graph, normalized=True)
    expected_clustering = nx.clustering(graph)
    assert note == "converged"
    for v in graph:
        assert betweenness[v] == pytest.approx(expected_betweenness[v], abs=1e-12)
        assert clustering[v] == pytest.approx(expected_clustering[v], abs=1e-12)
        assert eigen[v] == pytest.approx(expected_eigen[v], abs=1e-9)


def test_louvain_finds_planted_communities_the_same_way_every_time():
    """Three dense groups joined by a few ties come out as three communities of ten, with the same partition
    and modularity whichever thread asks and however often (the seeded generator is used under a lock)."""
    import threading

    from defdip.analysis import network as net

    rng = np.random.default_rng(5)
    edges = [(i, j) for g in range(3) for i in range(g * 10, g * 10 + 10) for j in range(i + 1, g * 10 + 10)
             if rng.random() < 0.7] + [(0, 10), (10, 20), (5, 25)]
    weights = [1.0] * len(edges)
    first = net._louvain(30, edges, weights)
    assert sorted(np.bincount(first[0]).tolist()) == [10, 10, 10]
    assert first[1] == pytest.approx(nx.community.modularity(
        nx.Graph(edges), [{v for v in range(30) if first[0][v] == c} for c in set(first[0])]))
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(net._louvain(30, edges, weights))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert answers == [first] * 6


def test_graph_is_built_from_the_measures(synthetic_store):
    """The networkx graph a result gives (for export and charts) holds its nodes in the ties' order with the
    names, codes and communities of the node table, and its ties with their weights."""
    from defdip.analysis.network import network

    r = network(1995, "all", synthetic_store)
    g = r.graph
    assert list(g.nodes) == r.order and g.number_of_edges() == r.summary["edges"] == len(r.edges)
    rows = r.nodes.set_index("id")
    for v, attrs in g.nodes(data=True):
        assert attrs["name"] == rows.loc[v, "name"] and attrs["community"] == rows.loc[v, "community"]
    assert sorted((*sorted((u, v)), w) for u, v, w in g.edges(data="weight")) == sorted(r.edges)
    assert g.graph == {"layer": "all", "from_year": 1995, "to_year": 1995}
