"""The server's fast paths (one read of the store shared by many networks and profiles) give exactly what
the library's default paths give, on the real store and on the synthetic one."""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest

from defdip.analysis.network import network, network_data
from defdip.analysis.profiles import dyad_profile, profile
from defdip.core.errors import DefdipError


@pytest.fixture(scope="module")
def real_data(full_store):
    """One :func:`network_data` of the real store for the module (what a server keeps per store version)."""
    return network_data(full_store)


def _same_network(store, year: int, layer: str, to_year: int | None, data) -> None:
    slow = network(year, layer, store, to_year=to_year)
    fast = network(year, layer, store, to_year=to_year, data=data)
    assert fast.summary == slow.summary
    pd.testing.assert_frame_equal(fast.nodes, slow.nodes)
    assert nx.utils.edges_equal(fast.graph.edges(data=True), slow.graph.edges(data=True))
    assert dict(fast.graph.nodes(data=True)) == dict(slow.graph.nodes(data=True))


def _same_profile(slow: dict, fast: dict) -> None:
    assert slow.keys() == fast.keys()
    for key, value in slow.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(fast[key], value, check_dtype=False)
        else:
            assert fast[key] == value, key


@pytest.mark.parametrize(("year", "layer", "to_year"), [
    (1990, "all", None), (1995, "all", 2004), (1960, "agreements", None), (1950, "alliances", 1959),
    (1975, "contacts", None), (2005, "defence_pacts", None)])
def test_real_network_from_shared_data_is_the_library_network(full_store, real_data, year, layer, to_year):
    _same_network(full_store, year, layer, to_year, real_data)


def test_real_network_errors_are_the_same(full_store, real_data):
    for args in ((-5000, "alliances"), (1700, "presence")):
        with pytest.raises(DefdipError) as slow:
            network(*args, full_store)
        with pytest.raises(DefdipError) as fast:
            network(*args, full_store, data=real_data)
        assert str(fast.value) == str(slow.value)


@pytest.mark.parametrize("country", ["USA", "RUS", "USSR", "India", "KEN"])
def test_real_profile_from_a_loaded_frame_is_the_library_profile(full_store, real_data, country):
    frame = real_data.frame
    _same_profile(profile(country, full_store), profile(country, full_store, frame=frame))
    _same_profile(profile(country, full_store, peacekeeping=True),
                  profile(country, full_store, peacekeeping=True, frame=frame))


def test_real_dyad_profile_from_a_loaded_frame(full_store, real_data):
    frame = real_data.frame
    for a, b in (("USA", "JPN"), ("India", "Pakistan")):
        _same_profile(dyad_profile(a, b, full_store), dyad_profile(a, b, full_store, frame=frame))


def test_synthetic_network_and_profile(synthetic_store):
    data = network_data(synthetic_store)
    _same_network(synthetic_store, 1995, "all", None, data)
    for name in ("United States",):
        _same_profile(profile(name, synthetic_store), profile(name, synthetic_store, frame=data.frame))


def test_real_warm_up_computes_every_state_and_the_most_engaged_others(full_store, monkeypatch):
    from defdip.core.actors import registry
    from defdip.present.web import app as app_mod
    from defdip.present.web.data import WebStore, engagement_index

    monkeypatch.setattr(app_mod, "WARM_PROFILES", 2)
    ws = WebStore.at(full_store)
    app_mod.warm_up(ws)
    warmed = ws.cached(("profile_json", "USA"), lambda: pytest.fail("the United States' profile was not warmed"))
    assert warmed["polity"]["id"] == "USA" and warmed["engagements"] > 1000
    assert ws.cached(("network_data",), lambda: pytest.fail("network data not warmed")).frame is not None
    kenya = ws.cached(("profile_json", "KEN"), lambda: pytest.fail("a less engaged state was not warmed"))
    assert kenya["polity"]["id"] == "KEN"
    index, known = engagement_index(ws), registry()
    others = sorted((p for p in index.by_polity if p in known and known.get(p).kind != "state"),
                    key=lambda p: (-len(index.by_polity[p]), p))
    assert len(others) > 3
    ws.cached(("profile_json", others[1]), lambda: pytest.fail("the second busiest non-state was not warmed"))
    assert ws.cached(("profile_json", others[2]), lambda: "computed now") == "computed now"


def test_real_country_slices_cut_from_one_window_equal_the_panel_query(full_store):
    from defdip.analysis import panels
    from defdip.present.web.data import WebStore, dyad_slice

    ws = WebStore.at(full_store)
    layers = ["atop_defense", "exercises"]
    for country, directed in (("USA", False), ("Kenya", False), ("FRN", True)):
        shared = dyad_slice(ws, country, 1990, 2010, layers, directed=directed)
        alone = panels.dyad_year(full_store, from_year=1990, to_year=2010, layers=layers, countries=[country],
                                 directed=directed)
        assert len(shared) > 0
        pd.testing.assert_frame_equal(shared, alone)
    assert ws.cached(("panel_window", 1990, 2010, tuple(layers), "cow", False), lambda: None) is not None
    # a state outside the system in those years gets the panel's own error, not an empty slice
    with pytest.raises(DefdipError, match="not in the COW state"):
        dyad_slice(ws, "GDR", 1995, 2010, layers)


def test_jsonable_column_wise_equals_record_wise():
    """Frames convert a column at a time; the values are those of converting each record's values."""
    import numpy as np

    from defdip.present.web.data import jsonable

    frame = pd.DataFrame({
        "i": np.array([1, 2, 3], dtype=np.int32), "f": [0.5, np.nan, np.inf], "b": [True, False, True],
        "n": pd.array([1, None, 3], dtype="Int64"), "s": pd.array(["a", None, "c"], dtype="string"),
        "o": [["x", "y"], None, np.array(["z"])], "t": pd.to_datetime(["2000-01-01", None, "2010-05-06"]),
    })
    expected = [{k: jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
    assert jsonable(frame) == expected
    assert expected[1] == {"i": 2, "f": None, "b": False, "n": None, "s": None, "o": None, "t": None}
    assert jsonable(frame["f"]) == [0.5, None, None] and jsonable(frame.iloc[:0]) == []


def test_real_panel_networks_cut_from_the_layers_ties_equal_the_window_query(full_store):
    from defdip.analysis.network import panel_ties

    for layer, windows in (("atop_defense", [(1816, None), (1950, 1959), (1995, 2004), (2010, 2030)]),
                           ("dca_any", [(1980, None), (1995, 2004), (2005, 2014)]),
                           ("exercises", [(1990, None), (2000, 2009)]),
                           ("dd_index", [(1990, None), (2000, 2009)])):
        ties = panel_ties(layer, full_store)
        assert ties.layer == layer and len(ties.tied) > 0
        for year, to_year in windows:
            slow = network(year, layer, full_store, to_year=to_year)
            fast = network(year, layer, full_store, to_year=to_year, ties=ties)
            assert fast.summary == slow.summary
            pd.testing.assert_frame_equal(fast.nodes, slow.nodes)
            assert nx.utils.edges_equal(fast.graph.edges(data=True), slow.graph.edges(data=True))
    ties = panel_ties("dca_any", full_store)
    for year, to_year in ((1960, 1970), (2015, 2020)):  # outside the layer: the same one-line error
        with pytest.raises(DefdipError) as slow_error:
            network(year, "dca_any", full_store, to_year=to_year)
        with pytest.raises(DefdipError) as fast_error:
            network(year, "dca_any", full_store, to_year=to_year, ties=ties)
        assert str(fast_error.value) == str(slow_error.value)
    with pytest.raises(DefdipError, match="no panel tie layer"):
        panel_ties("alliances", full_store)  # an engagement layer


@pytest.mark.parametrize("name", ["United States", "Kenya", "USSR", "athens", "NATO"])
def test_real_profiles_cut_from_shared_tables_equal_the_default(full_store, real_data, name):
    """Profiles cut from every polity's roles and partners (what the server keeps) are the library's own, a dated
    name (the Soviet Union's years only) included."""
    from defdip.analysis.profiles import profile_data

    tables = profile_data(full_store, real_data.frame)
    _same_profile(profile(name, full_store), profile(name, full_store, frame=real_data.frame, data=tables))


def test_started_server_keeps_its_shared_loads_out_of_full_collections(synthetic_store):
    """Once started, the server's shared loads are frozen for the garbage collector (a full pass over them
    stalls every request); stopping it thaws them."""
    import gc

    from fastapi.testclient import TestClient

    from defdip.present.web.app import create_app

    gc.unfreeze()
    with TestClient(create_app(synthetic_store)) as client:
        assert client.get("/api/codebook").status_code == 200
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_started_server_switches_threads_every_millisecond(synthetic_store):
    """While the server runs, computing threads hand the interpreter to the event loop's thread after 1 ms
    rather than Python's 5; stopping it restores what the process had."""
    import sys

    from fastapi.testclient import TestClient

    from defdip.present.web.app import SWITCH_INTERVAL, create_app

    before = sys.getswitchinterval()
    with TestClient(create_app(synthetic_store)) as client:
        assert client.get("/api/codebook").status_code == 200
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL) != pytest.approx(before)
    assert sys.getswitchinterval() == pytest.approx(before)


def test_served_app_parses_http_in_c_on_uvloop_with_safety_headers(synthetic_store):
    """``defdip serve``'s configuration: httptools parses requests and uvloop runs the loop; over real HTTP every
    answer carries the safety headers, a page keeps its own policy, and HEAD answers like GET without a body."""
    import httpx
    import uvloop
    from conftest import served

    with served(synthetic_store) as (url, srv):
        factory = srv.config.get_loop_factory()
        assert factory is not None
        loop = factory()
        assert isinstance(loop, uvloop.Loop)
        loop.close()
        assert srv.config.http_protocol_class.__name__ == "HttpToolsProtocol"
        with httpx.Client(base_url=url, timeout=10) as client:
            api = client.get("/api/codebook")
            assert api.status_code == 200 and api.json()["activities"]
            assert api.headers["x-content-type-options"] == "nosniff"
            assert api.headers["x-frame-options"] == "DENY" and api.headers["referrer-policy"] == "no-referrer"
            assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
            home = client.get("/")
            assert home.status_code == 200 and "nonce-" in home.headers["content-security-policy"]
            assert len(home.headers.get_list("content-security-policy")) == 1
            head = client.head("/api/codebook")
            assert head.status_code == 200 and head.content == b""
            assert head.headers["content-length"] == api.headers["content-length"]
            missing = client.get("/api/engagements/no-such-record")
            assert missing.status_code == 404 and missing.headers["x-content-type-options"] == "nosniff"
