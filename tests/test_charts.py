"""Chart builders on small frames: the specs carry the expected encodings and data, and render offline."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import networkx as nx
import pandas as pd
import pytest

from defdip.core.codebook import codebook
from defdip.present import charts


def _views(spec: dict) -> list[dict]:
    """Every unit view (a spec with a mark) inside a (layered / concatenated / faceted) spec."""
    out = []
    if "mark" in spec:
        out.append(spec)
    for key in ("layer", "vconcat", "hconcat", "concat"):
        for sub in spec.get(key, []):
            out += _views(sub)
    if "spec" in spec:
        out += _views(spec["spec"])
    return out


def _values(view: dict, top: dict) -> list[dict]:
    data = view.get("data") or top.get("data")
    if "values" in data:
        return data["values"]
    return top["datasets"][data["name"]]


@pytest.fixture
def genealogy_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["gen-kadesh", "gen-delian", "gen-nato", "gen-rimpac", "gen-attache"],
        "title": ["Egyptian-Hittite treaty", "Delian League synod", "North Atlantic Treaty", "RIMPAC",
                  "First US military attaché"],
        "activity": ["agreements", "contacts", "agreements", "exercises", "attaches"],
        "start_year": [-1259, -478, 1949, 1971, 1889],
        "circa": [True, False, False, False, False],
        "citations": [["bryce_2003"], ["thucydides"], ["nato_1949", "kaplan_2007"], [], ["vagts_1967"]],
        "participants": [["Egypt", "Hatti"], ["Athens"], ["USA", "UK"], ["USA"], ["USA"]],
    })


def test_palette_covers_codebook_once() -> None:
    ids = codebook().activity_ids
    assert set(ids) <= set(charts.ACTIVITY_COLORS)
    assert len(set(charts.ACTIVITY_COLORS.values())) == len(charts.ACTIVITY_COLORS)
    scale = charts.activity_scale().to_dict()
    assert scale["domain"] == ids
    assert scale["range"] == [charts.ACTIVITY_COLORS[a] for a in ids]
    # an unknown activity gets a stable colour outside the palette
    assert charts.activity_color("new_thing") == charts.activity_color("new_thing")
    assert charts.activity_scale(["new_thing"]).to_dict()["domain"][-1] == "new_thing"


def test_timeline_two_panels_links_and_colours(genealogy_frame: pd.DataFrame) -> None:
    spec = charts.timeline(genealogy_frame, today=2024).to_dict()
    assert len(spec["vconcat"]) == 2
    early, modern = spec["vconcat"]
    assert early["encoding"]["x"]["scale"]["domain"] == [-1300, 1500]
    assert modern["encoding"]["x"]["scale"]["domain"] == [1500, 2024]
    for view in (early, modern):
        enc = view["encoding"]
        assert enc["x"]["field"] == "start_year" and enc["x"]["type"] == "quantitative"
        assert enc["y"]["field"] == "activity"
        assert enc["href"]["field"] == "href"
        assert enc["color"]["scale"]["range"] == [charts.ACTIVITY_COLORS[a] for a in codebook().activity_ids]
        assert "BCE" in enc["x"]["axis"]["labelExpr"]
        assert {t["field"] for t in enc["tooltip"]} >= {"title", "year_label", "cites"}
    early_vals = _values(early, spec)
    modern_vals = _values(modern, spec)
    assert {v["id"] for v in early_vals} == {"gen-kadesh", "gen-delian"}
    assert {v["id"] for v in modern_vals} == {"gen-nato", "gen-rimpac", "gen-attache"}
    kadesh = next(v for v in early_vals if v["id"] == "gen-kadesh")
    assert kadesh["href"] == "#rec-gen-kadesh"
    assert kadesh["year_label"] == "c. 1259 BCE"
    assert kadesh["cites"] == "bryce_2003"
    nato = next(v for v in modern_vals if v["id"] == "gen-nato")
    assert nato["cites"] == "nato_1949, kaplan_2007"
    # interactivity: legend selection and pan/zoom per panel
    params = [p["name"] for view in (spec, early, modern) for p in view.get("params", [])]
    assert {"pick_activity", "zoom_early", "zoom_modern"} <= set(params)


def test_timeline_keeps_given_hrefs(genealogy_frame: pd.DataFrame) -> None:
    frame = genealogy_frame.assign(href=["#r1", "#r2", "#r3", "#r4", "#r5"])
    spec = charts.timeline(frame, today=2024).to_dict()
    hrefs = {v["href"] for view in spec["vconcat"] for v in _values(view, spec)}
    assert hrefs == {"#r1", "#r2", "#r3", "#r4", "#r5"}


def test_activity_evolution_by_decade_fills_gaps() -> None:
    frame = pd.DataFrame({"period": [1950, 1950, 1970], "activity": ["agreements", "exercises", "agreements"],
                          "instrument": ["alliance_treaty", "exercise", "mou"], "started": [3, 1, 5],
                          "in_force": [3, 1, 8]})
    spec = charts.activity_evolution(frame).to_dict()
    assert spec["facet"]["row"]["field"] == "activity_label"
    layers = _views(spec)
    assert {v["mark"]["type"] if isinstance(v["mark"], dict) else v["mark"] for v in layers} == {"area", "line"}
    enc = layers[0]["encoding"]
    assert enc["x"]["field"] == "period" and enc["y"]["field"] == "started"
    values = _values(spec, spec)
    got = {(v["period"], v["activity"]): v["started"] for v in values}
    assert got[(1950, "agreements")] == 3
    assert got[(1960, "agreements")] == 0  # a missing decade becomes 0
    assert got[(1960, "exercises")] == 0 and got[(1970, "exercises")] == 0
    assert spec["resolve"]["scale"]["y"] == "independent"


def test_activity_evolution_by_era_is_normalised_mix() -> None:
    eras = pd.Categorical(["post_cold_war", "antiquity", "cold_war", "cold_war"],
                          categories=[e for e, *_ in charts.ERAS], ordered=True)
    frame = pd.DataFrame({"period": eras, "activity": ["exercises", "agreements", "agreements", "contacts"],
                          "instrument": "x", "started": [4, 1, 2, 2]})
    spec = charts.activity_evolution(frame).to_dict()
    assert spec["mark"]["type"] == "bar" if isinstance(spec["mark"], dict) else spec["mark"] == "bar"
    assert spec["encoding"]["x"]["stack"] == "normalize"
    assert spec["encoding"]["y"]["sort"] == ["antiquity", "cold_war", "post_cold_war"]
    assert {v["period"] for v in _values(spec, spec)} == {"antiquity", "cold_war", "post_cold_war"}


def test_activity_evolution_needs_value_column() -> None:
    with pytest.raises(ValueError, match="no 'started' column"):
        charts.activity_evolution(pd.DataFrame({"period": [1], "activity": ["contacts"]}))


def test_partnership_shift_panels() -> None:
    frame = pd.DataFrame({
        "period": [1950, 1960, 1970], "period_label": ["1950", "1960", "1970"],
        "new_defence_pacts": pd.array([5, 3, 1], dtype="Int64"), "new_dcas": pd.array([pd.NA, 2, 9], dtype="Int64"),
        "new_exercises": pd.array([pd.NA, 4, 8], dtype="Int64"), "partnership_ratio": [None, 2.0, 17.0],
        "allied_dyads": [10, 12, 11], "partnership_dyads": pd.array([pd.NA, 5, 20], dtype="Int64"),
        "partnership_share": [None, 5 / 17, 20 / 31],
    })
    spec = charts.partnership_shift(frame).to_dict()
    titles = [v["title"] if isinstance(v["title"], str) else v["title"]["text"] for v in spec["vconcat"]]
    assert len(titles) == 4
    assert titles[0].startswith("New instruments")
    new = _values(spec["vconcat"][0], spec)
    assert {v["series"] for v in new} == {"new defence pacts", "new dcas", "new exercises"}
    assert next(v for v in new if v["series"] == "new dcas" and v["period"] == 1950)["count"] is None  # NA stays NA
    share = _values(spec["vconcat"][2], spec)
    assert [round(v["partnership_share"], 3) if v["partnership_share"] is not None else None for v in share] == [
        None, 0.294, 0.645]


def _network_result() -> SimpleNamespace:
    g = nx.Graph()
    g.add_edge("USA", "UKG", weight=3)
    g.add_edge("USA", "FRN", weight=1)
    g.add_edge("UKG", "FRN", weight=2)
    g.add_edge("RUS", "CHN", weight=1)
    g.add_node("SWZ")  # an isolate is not drawn
    nodes = pd.DataFrame({"id": ["USA", "UKG", "FRN", "RUS", "CHN", "SWZ"],
                          "name": ["United States", "United Kingdom", "France", "Russia", "China", "Switzerland"],
                          "degree": [2, 2, 2, 1, 1, 0], "eigenvector": [0.6, 0.6, 0.5, 0.1, 0.1, 0.0],
                          "betweenness": 0.0, "community": [0, 0, 0, 1, 1, 2]})
    return SimpleNamespace(graph=g, nodes=nodes, summary={"from_year": 1980})


def test_network_chart_layout_is_reproducible() -> None:
    result = _network_result()
    spec1 = charts.network_chart(result, labels=2, title="1980").to_dict()
    spec2 = charts.network_chart(result, labels=2, title="1980").to_dict()
    assert json.dumps(spec1, sort_keys=True) == json.dumps(spec2, sort_keys=True)
    edges, nodes, text = spec1["layer"]
    assert edges["mark"]["type"] == "rule" and nodes["mark"]["type"] == "circle" and text["mark"]["type"] == "text"
    assert len(_values(edges, spec1)) == 4
    node_vals = _values(nodes, spec1)
    assert {v["id"] for v in node_vals} == {"USA", "UKG", "FRN", "RUS", "CHN"}
    labels = _values(text, spec1)
    assert sorted(v["label"] for v in labels) == ["United Kingdom", "United States"]  # the two most central
    assert text["encoding"]["text"]["field"] == "label"
    # the detached pair is drawn below the main component, not flung to a corner
    main_y = min(v["y"] for v in node_vals if v["id"] in ("USA", "UKG", "FRN"))
    assert all(v["y"] < main_y for v in node_vals if v["id"] in ("RUS", "CHN"))
    assert nodes["encoding"]["size"]["field"] == "degree"
    assert nodes["encoding"]["color"]["field"] == "group"
    assert spec1["title"] == "1980"


def test_network_chart_caps_edges() -> None:
    g = nx.complete_graph(30)
    nodes = pd.DataFrame({"id": list(g.nodes), "name": [str(n) for n in g.nodes], "degree": 29,
                          "eigenvector": 0.1, "betweenness": 0.0, "community": 0})
    spec = charts.network_chart(SimpleNamespace(graph=g, nodes=nodes, summary={}), max_edges=50).to_dict()
    assert len(_values(spec["layer"][0], spec)) == 50


SQUARE = {"type": "Polygon", "coordinates": [[[0.123456, 0.0], [10.0, 0.0], [10.0, 10.0], [0.123456, 0.0]]]}


@pytest.fixture
def countries() -> pd.DataFrame:
    return pd.DataFrame({"iso3": ["USA", "FRA", "CHN", "ATA"], "name": ["United States", "France", "China",
                                                                      "Antarctica"],
                         "geometry": [json.dumps(SQUARE)] * 4})


def test_world_map_joins_values_by_iso3(countries: pd.DataFrame) -> None:
    spec = charts.world_map(countries, pd.DataFrame({"iso3": ["USA", "FRA"], "partners": [150, 80],
                                                     "engagements": [900, 400]}),
                            value="partners", tooltip=("engagements",)).to_dict()
    assert spec["projection"]["type"] == "equalEarth"
    feats = spec["data"]["values"]
    assert {f["properties"]["iso3"] for f in feats} == {"USA", "FRA", "CHN"}  # Antarctica left out
    by = {f["properties"]["iso3"]: f["properties"] for f in feats}
    assert by["USA"]["partners"] == 150 and by["USA"]["has_value"] is True
    assert by["CHN"]["partners"] is None and by["CHN"]["has_value"] is False
    assert feats[0]["geometry"]["coordinates"][0][0] == [0.12, 0.0]  # rounded
    base, top = spec["layer"]
    assert base["mark"]["type"] == "geoshape"
    assert top["encoding"]["color"]["field"] == "properties.partners"
    assert top["transform"] == [{"filter": "datum.properties.has_value"}]


def test_world_map_measure_menu(countries: pd.DataFrame) -> None:
    spec = charts.world_map(countries, pd.DataFrame({"iso3": ["USA"], "partners": [3], "engagements": [9]}),
                            value="partners", choices={"partners": "partners", "engagements": "engagements"}
                            ).to_dict()
    params = spec.get("params", []) + [p for v in spec["layer"] for p in v.get("params", [])]
    menu = next(p for p in params if p["name"] == "map_measure")
    assert menu["value"] == "partners" and menu["bind"]["options"] == ["partners", "engagements"]
    top = spec["layer"][1]
    assert {"calculate": "datum.properties[map_measure]", "as": "shown"} in top["transform"]
    assert top["encoding"]["color"]["field"] == "shown"


def test_partners_map_marks_focus(countries: pd.DataFrame) -> None:
    spec = charts.partners_map(countries, pd.DataFrame({"iso3": ["FRA", "USA"], "engagements": [12, 99]}), "USA",
                               focus_name="United States").to_dict()
    by = {f["properties"]["iso3"]: f["properties"] for f in spec["data"]["values"]}
    assert by["USA"]["is_focus"] is True and by["USA"]["has_value"] is False  # the focus is not its own partner
    assert by["FRA"]["engagements"] == 12 and by["FRA"]["is_focus"] is False
    assert spec["layer"][2]["mark"]["fill"] == charts.FOCUS
    assert "United States" in spec["layer"][1]["encoding"]["color"]["title"]


def test_save_chart_writes_offline_files(tmp_path: Path, genealogy_frame: pd.DataFrame) -> None:
    paths = charts.save_chart(charts.timeline(genealogy_frame, today=2024), tmp_path / "sub" / "timeline")
    assert set(paths) == {"png", "svg", "html"}
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in paths["svg"].read_text()[:500]
    page = paths["html"].read_text()
    assert 'src="http' not in page and "src='http" not in page
    assert "vegaEmbed" in page
    with pytest.raises(ValueError, match="unknown chart format"):
        charts.save_chart(charts.timeline(genealogy_frame), tmp_path / "x", formats=("gif",))


def test_vega_bundle_is_inlinable() -> None:
    code = charts.vega_bundle()
    assert "vegaEmbed" in code and len(code) > 100_000
    assert "</script" not in code.lower()


def test_natural_earth_reads_iso3_fallbacks(tmp_path: Path) -> None:
    from defdip.ingest.sources.base import IngestContext
    from defdip.ingest.sources.natural_earth import SOURCES, read_countries

    def feat(**props: str) -> dict:
        return {"type": "Feature", "properties": {"NAME": props.pop("NAME", "x"), **props}, "geometry": SQUARE}

    collection = {"type": "FeatureCollection", "features": [
        feat(NAME="France", ISO_A3="-99", ISO_A3_EH="FRA", ADM0_A3="FRA", CONTINENT="Europe"),
        feat(NAME="Kosovo", ISO_A3="-99", ISO_A3_EH="-99", ADM0_A3="KOS"),
        feat(NAME="Chile", ISO_A3="CHL", ISO_A3_EH="CHL", ADM0_A3="CHL"),
        feat(NAME="Chile again", ISO_A3="CHL", ISO_A3_EH="CHL", ADM0_A3="CHL"),
        feat(NAME="Nowhere", ISO_A3="-99", ISO_A3_EH="-99", ADM0_A3="-99"),
    ]}
    path = tmp_path / "ne_110m_admin_0_countries.geojson"
    path.write_text(json.dumps(collection))
    ctx = IngestContext("natural_earth")
    frame = read_countries(path, ctx)
    assert frame["iso3"].tolist() == ["FRA", "KOS", "CHL"]
    assert frame.loc[0, "continent"] == "Europe"
    assert json.loads(frame.loc[0, "geometry"])["type"] == "Polygon"
    assert sorted(r.reason for r in ctx.rejections) == ["duplicate ISO3 code",
                                                        "no ISO3 code (ISO_A3, ISO_A3_EH, ADM0_A3)"]
    result = SOURCES[0].load(tmp_path, IngestContext("natural_earth"))
    assert result.engagements == [] and list(result.tables) == ["ne_countries"]
    assert SOURCES[0].kind == "reference"


def test_natural_earth_rejects_other_files(tmp_path: Path) -> None:
    from defdip.core.errors import SourceFormatError
    from defdip.ingest.sources.natural_earth import read_countries

    bad = tmp_path / "ne.geojson"
    bad.write_text('{"type": "Feature"}')
    with pytest.raises(SourceFormatError, match="FeatureCollection"):
        read_countries(bad)
    bad.write_text("not json")
    with pytest.raises(SourceFormatError, match="not a readable GeoJSON"):
        read_countries(bad)


def test_timeline_without_early_records_has_one_panel():
    modern = pd.DataFrame({"id": ["a", "b"], "title": ["A", "B"], "activity": ["contacts", "exercises"],
                           "start_year": [1816, 1990]})
    spec = charts.timeline(modern, today=2024).to_dict()
    assert len(spec["vconcat"]) == 1
    assert spec["vconcat"][0]["encoding"]["x"]["scale"]["domain"] == [1810, 2024]
    early = pd.concat([modern, pd.DataFrame({"id": ["c"], "title": ["C"], "activity": ["agreements"],
                                             "start_year": [-478]})])
    assert len(charts.timeline(early, today=2024).to_dict()["vconcat"]) == 2


def _coverage() -> pd.DataFrame:
    return pd.DataFrame({"source": ["dcad", "ru_exercises", "atop"], "first_year": [1980, 2009, 1815],
                         "last_year": [2010, 2018, 1850], "records": [1871, 99, 5],
                         "activities": [["agreements"], ["exercises"], ["agreements"]],
                         "scope": ["all states", "RUS only", "all states"]})


def test_coverage_windows_drawn_under_time_series() -> None:
    frame = pd.DataFrame({"period": [1990, 2010], "activity": ["agreements", "agreements"],
                          "instrument": "mou", "started": [3, 5]})
    spec = charts.activity_evolution(frame, coverage=_coverage()).to_dict()
    strip = spec["vconcat"][1]
    labels = {v["label"] for v in _values(strip, spec)}
    # only windows that reach the chart's years, each with its scope
    assert labels == {"dcad 1980-2010", "ru_exercises 2009-2018 (RUS only)"}
    ends = {v["source"]: v["end"] for v in _values(strip, spec)}
    assert ends["dcad"] == 2011  # a window is drawn through its last year
    assert "vconcat" not in charts.activity_evolution(frame).to_dict()  # without coverage: the facets alone
    idx = pd.DataFrame({"period": [1980, 1990], "new_defence_pacts": pd.array([5, 3], dtype="Int64"),
                        "new_dcas": pd.array([10, pd.NA], dtype="Int64")})
    panels = charts.partnership_shift(idx, coverage=_coverage()).to_dict()["vconcat"]
    assert len(panels) == 2 and {v["source"] for v in _values(panels[-1], spec)} == {"dcad"}  # 1980-2000 only


def _encodings(spec: object) -> list[dict]:
    """Every encoding channel definition (including each tooltip entry) anywhere in a spec."""
    out: list[dict] = []
    if isinstance(spec, dict):
        for channel, value in (spec.get("encoding") or {}).items():
            entries = value if isinstance(value, list) else [value]
            out += [dict(e, channel=channel) for e in entries if isinstance(e, dict)]
        for value in spec.values():
            out += _encodings(value)
    elif isinstance(spec, list):
        for value in spec:
            out += _encodings(value)
    return out


def test_years_never_print_with_thousands_separators(countries: pd.DataFrame,
                                                     genealogy_frame: pd.DataFrame) -> None:
    """A quantitative year field (axis or tooltip) carries a 'd' format or a label expression that uses one."""
    partners = pd.DataFrame({"iso3": ["FRA"], "engagements": [12], "first_year": [1913], "last_year": [2010]})
    decades = pd.DataFrame({"period": [1900, 1910, 1900], "activity": ["exercises", "exercises", "agreements"],
                            "started": [1, 2, 3]})
    specs = [charts.partners_map(countries, partners, "USA", tooltip=("first_year", "last_year")).to_dict(),
             charts.world_map(countries, partners, value="engagements", tooltip=("first_year",)).to_dict(),
             charts.activity_evolution(decades).to_dict(), charts.timeline(genealogy_frame, today=2024).to_dict()]
    checked = 0
    for spec in specs:
        for enc in _encodings(spec):
            field = str(enc.get("field", "")).split(".")[-1]
            if not (field in ("year", "period") or field.endswith("_year")):
                continue
            assert enc.get("type") == "quantitative", (field, enc)  # a number typed as text prints unformatted
            axis = enc.get("axis") or {}
            fmt = enc.get("format") or axis.get("format") or ""
            assert fmt == "d" or "'d'" in axis.get("labelExpr", ""), (field, enc)
            checked += 1
    assert checked >= 5


def test_map_legends_have_titles_not_field_names(countries: pd.DataFrame) -> None:
    values = pd.DataFrame({"iso3": ["USA"], "bilateral_partners": [3], "engagements": [9]})
    titles = [charts.world_map(countries, values, value="bilateral_partners").to_dict()["layer"][1]["encoding"]
              ["color"]["title"],
              charts.world_map(countries, values, value="engagements",
                               choices={"engagements": "engagements", "bilateral_partners": "bilateral partners"}
                               ).to_dict()["layer"][1]["encoding"]["color"]["title"],
              charts.partners_map(countries, values, "FRA", focus_name="France").to_dict()["layer"][1]["encoding"]
              ["color"]["title"]]
    assert titles[0] == "bilateral partners"
    assert titles[1].startswith("engagements") and "menu" not in titles[1].split()[0]
    assert titles[2] == "shared engagements with France"
    for t in titles:
        assert "_" not in t and "(see menu)" != t
    legend = charts.partners_map(countries, values, "FRA", focus_name="France").to_dict()["layer"][1]["encoding"][
        "color"]["legend"]
    assert legend["titleLimit"] >= 7 * len("shared engagements with United States of America")  # not cut short


def _three_communities() -> tuple[nx.Graph, dict[str, int]]:
    """Three groups of ten, dense inside (60% of pairs tied) and tied across often enough (12%) to tangle."""
    import random

    rng = random.Random(1)
    community = {f"{c}-{i}": c for c in range(3) for i in range(10)}
    g = nx.Graph()
    names = sorted(community)
    for a, u in enumerate(names):
        for v in names[a + 1:]:
            if rng.random() < (0.6 if community[u] == community[v] else 0.12):
                g.add_edge(u, v)
    return g, community


def test_network_layout_separates_communities() -> None:
    import math

    g, community = _three_communities()

    def spread(pos: dict) -> float:
        """Mean distance within a community over mean distance across communities."""
        within, across = [], []
        for u in community:
            for v in community:
                if u < v:
                    (within if community[u] == community[v] else across).append(math.dist(pos[u], pos[v]))
        return (sum(within) / len(within)) / (sum(across) / len(across))

    plain, grouped = spread(charts.network_layout(g)), spread(charts.network_layout(g, communities=community))
    assert grouped < 0.35 and grouped < plain * 0.7, (plain, grouped)


def test_network_communities_named_as_in_tables() -> None:
    g, community = _three_communities()
    sizes = {0: 12, 1: 10, 2: 8}  # make community 2 the smallest and 0 the largest, whatever the ids say
    ids = sorted(community)
    relabel = {0: 7, 1: 3, 2: 11}  # community ids that are not their rank
    nodes = pd.DataFrame({"id": ids, "name": ids, "degree": [g.degree(n) for n in ids], "eigenvector": 0.1,
                          "betweenness": 0.0, "community": [relabel[community[n]] for n in ids]})
    extra = [f"0-x{i}" for i in range(sizes[0] - 10)]  # two more members of the first group, tied to it
    for n in extra:
        g.add_edge(n, "0-0")
    nodes = pd.concat([nodes, pd.DataFrame({"id": extra, "name": extra, "degree": 1, "eigenvector": 0.0,
                                            "betweenness": 0.0, "community": relabel[0]})], ignore_index=True)
    labels = charts.community_labels(nodes["community"])
    assert labels[relabel[0]] == "community 1"  # the largest is number 1, as in the report's tables
    spec = charts.network_chart(SimpleNamespace(graph=g, nodes=nodes, summary={})).to_dict()
    drawn = {v["id"]: v["group"] for v in _values(spec["layer"][1], spec)}
    assert drawn == {i: labels[c] for i, c in zip(nodes["id"], nodes["community"])}


def test_save_chart_one_file_by_suffix(tmp_path: Path, genealogy_frame: pd.DataFrame) -> None:
    chart = charts.timeline(genealogy_frame, today=2024)
    written = charts.save_chart(chart, tmp_path / "t.SVG")
    assert written == {"svg": tmp_path / "t.SVG"} and "<svg" in written["svg"].read_text()[:500]
    spec = json.loads(charts.save_chart(chart, tmp_path / "t.json")["json"].read_text())
    assert spec["vconcat"][0]["mark"]["type"] == "circle"
    assert [p.name for p in charts.save_chart(chart, tmp_path / "t", formats=("svg",)).values()] == ["t.svg"]
    with pytest.raises(charts.ChartFormatError, match="cannot save a chart as 't.gif': use .png"):
        charts.save_chart(chart, tmp_path / "t.gif")
    assert not (tmp_path / "t.gif").exists()


def test_partnership_shift_by_era_keeps_the_eras_in_order() -> None:
    eras = pd.DataFrame({"period": pd.Categorical(["cold_war", "post_cold_war"],
                                                  categories=["cold_war", "post_cold_war"], ordered=True),
                         "new_defence_pacts": pd.array([40, 2], dtype="Int64"),
                         "new_dcas": pd.array([pd.NA, 900], dtype="Int64")})
    spec = charts.partnership_shift(eras, coverage=_coverage()).to_dict()
    assert len(spec["vconcat"]) == 1  # eras are not on a years axis: no coverage strip
    view = spec["vconcat"][0]
    x = view["encoding"]["x"]
    assert x["type"] == "nominal" and x["sort"] == [charts.ERA_LABELS["cold_war"], charts.ERA_LABELS["post_cold_war"]]
    counts = {(v["label"], v["series"]): v["count"] for v in _values(view, spec)}
    assert counts[(charts.ERA_LABELS["post_cold_war"], "new dcas")] == 900
    assert counts[(charts.ERA_LABELS["cold_war"], "new dcas")] is None  # NA outside coverage stays undrawn


def test_activity_evolution_tooltips_name_periods_as_the_frame_does() -> None:
    years = pd.DataFrame({"period": [-2, -1, 1], "period_label": ["2 BCE", "1 BCE", "1"],
                          "activity": "agreements", "started": [1, 0, 2]})
    spec = charts.activity_evolution(years).to_dict()
    rows = _values(spec["spec"]["layer"][0], spec)
    assert sorted(v["period"] for v in rows) == [-2, -1, 1]  # no year 0 filled in between
    assert {v["period"]: v["label"] for v in rows} == {-2: "2 BCE", -1: "1 BCE", 1: "1"}
