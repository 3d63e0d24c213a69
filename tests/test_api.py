"""The web app (defdip.present.web): every API endpoint, bad parameters, SQL injection and the pages against the
full store (integration tests, marked ``shared``), and the same kinds of questions with known answers on a small
synthetic store the real build makes from a researcher's records (tests/synthetic.py; no real data needed)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from synthetic import PARTNERS_2000S, records

from defdip.present.web import create_app

shared = pytest.mark.shared


@pytest.fixture(scope="module")
def client(full_store: Path) -> TestClient:
    return TestClient(create_app(full_store))


def _ok(client: TestClient, url: str) -> dict:
    r = client.get(url)
    assert r.status_code == 200, f"{url}: {r.status_code} {r.text[:300]}"
    return r.json()


def _err(client: TestClient, url: str, status: int) -> dict:
    r = client.get(url)
    assert r.status_code == status, f"{url}: expected {status}, got {r.status_code} {r.text[:300]}"
    body = r.json()
    assert isinstance(body["detail"], str) and body["detail"], body
    return body


# ----------------------------------------------------------------------------------------------- endpoints

@shared
def test_engagements_list_and_pagination(client: TestClient, full_store: Path) -> None:
    con = duckdb.connect(str(full_store), read_only=True)
    try:
        n = con.execute("SELECT count(*) FROM engagements").fetchone()[0]
    finally:
        con.close()
    first = _ok(client, "/api/engagements?page_size=20")
    assert first["total"] == n and first["page"] == 1 and len(first["items"]) == 20
    item = first["items"][0]
    for key in ("id", "title", "activity", "instrument", "start_year", "end_year", "participants", "datasets",
                "citations"):
        assert key in item
    assert {"id", "name", "role"} <= set(item["participants"][0])
    second = _ok(client, "/api/engagements?page_size=20&page=2")
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    last = _ok(client, f"/api/engagements?page_size=500&page={first['total'] // 500 + 5}")
    assert last["items"] == [] and last["total"] == n


@shared
def test_engagement_filters(client: TestClient) -> None:
    fr = _ok(client, "/api/engagements?country=France&page_size=100")
    assert fr["filters"]["country"] == "FRN" and fr["total"] > 100
    assert all(any(p["id"] == "FRN" for p in i["participants"]) for i in fr["items"])
    both = _ok(client, "/api/engagements?country=USA&partner=France&page_size=100")
    assert 0 < both["total"] < fr["total"]
    assert all({"USA", "FRN"} <= {p["id"] for p in i["participants"]} for i in both["items"])
    ex = _ok(client, "/api/engagements?activity=exercises&page_size=50")
    assert ex["total"] > 0 and all(i["activity"] == "exercises" for i in ex["items"])
    sub = _ok(client, "/api/engagements?sub_activity=peacekeeping&page_size=50")
    assert sub["total"] > 0 and all("peacekeeping" in i["sub_activities"] for i in sub["items"])
    inst = _ok(client, "/api/engagements?instrument=alliance_treaty&source=atop&page_size=50")
    assert inst["total"] > 0
    assert all(i["instrument"] == "alliance_treaty" and "atop" in i["datasets"] for i in inst["items"])
    window = _ok(client, "/api/engagements?from_year=1950&to_year=1955&page_size=500")
    assert window["total"] > 0
    for i in window["items"]:
        assert i["start_year"] <= 1955
        assert i["ongoing"] or (i["end_year"] if i["end_year"] is not None else i["start_year"]) >= 1950
    bce = _ok(client, "/api/engagements?to_year=-1&source=genealogy")
    assert bce["total"] > 0 and all(i["start_year"] < 0 for i in bce["items"])


@shared
def test_engagement_detail(client: TestClient) -> None:
    item = _ok(client, "/api/engagements?source=genealogy&page_size=1")["items"][0]
    rec = _ok(client, f"/api/engagements/{item['id']}")
    assert rec["id"] == item["id"] and rec["participants"] and rec["provenance"]
    assert rec["provenance"][0]["source"] == "genealogy"
    assert rec["references"] and any(r["found"] for r in rec["references"])
    _err(client, "/api/engagements/no-such-record", 404)


@shared
def test_polities(client: TestClient) -> None:
    found = _ok(client, "/api/polities?q=germany")
    ids = [p["id"] for p in found["items"]]
    assert "GMY" in ids and all("engagements" in p for p in found["items"])
    orgs = _ok(client, "/api/polities?kind=organisation&limit=5")
    assert orgs["items"] and all(p["kind"] == "organisation" for p in orgs["items"])
    usa = _ok(client, "/api/polities/USA")
    assert usa["name"].startswith("United States") and usa["engagements"] > 100
    assert set(usa["per_activity"]) == {"contacts", "attaches", "exercises", "agreements"}
    assert _ok(client, "/api/polities/athens")["kind"] == "historical"
    body = _err(client, "/api/polities/Frnace", 404)
    assert "France" in body["suggestions"]


@shared
def test_genealogy(client: TestClient) -> None:
    everything = _ok(client, "/api/genealogy")
    assert everything["total"] > 100 and everything["references"]
    some = _ok(client, "/api/genealogy?activity=attaches&from_year=-500&to_year=1500&references=false")
    assert 0 < some["total"] < everything["total"] and "references" not in some
    assert all(i["activity"] == "attaches" and i["start_year"] <= 1500 for i in some["items"])
    assert all(i["citations"] for i in everything["items"]), "every genealogy record is cited"


@shared
def test_panels(client: TestClient) -> None:
    dy = _ok(client, "/api/panel/dyad-year?from_year=2000&to_year=2001&layers=atop_defense,dca_any&limit=100")
    assert dy["columns"][:3] == ["ccode1", "ccode2", "year"] and "atop_defense" in dy["columns"]
    assert dy["returned"] == 100 and dy["truncated"] and dy["total"] > 100
    assert {lay["layer"] for lay in dy["layers"]} == {"atop_defense", "dca_any"}
    us = _ok(client, "/api/panel/dyad-year?country=USA&from_year=1990&to_year=2010&layers=atop_defense")
    assert us["rows"] and all(2 in (r["ccode1"], r["ccode2"]) for r in us["rows"])
    sy = _ok(client, "/api/panel/state-year?country=France&layers=atop_defense,exercises")
    assert sy["rows"] and all(r["ccode"] == 220 for r in sy["rows"])
    sy2 = _ok(client, "/api/panel/state-year?from_year=1990&to_year=1999&limit=50")
    assert sy2["returned"] == 50
    layers = _ok(client, "/api/panel/layers")
    assert any(lay["layer"] == "atop_defense" for lay in layers)


@shared
def test_analyses(client: TestClient) -> None:
    evo = _ok(client, "/api/evolution?by=era")
    assert evo["by"] == "era" and {"period", "activity", "started"} <= set(evo["rows"][0])
    dec = _ok(client, "/api/evolution?by=decade&activity=exercises")
    assert dec["rows"] and all(r["activity"] == "exercises" for r in dec["rows"])
    pi = _ok(client, "/api/partnership-index?by=decade")
    assert "partnership_ratio" in pi["rows"][0]
    net = _ok(client, "/api/network?year=2000&layer=all&max_edges=50&max_nodes=20")
    assert net["summary"]["nodes"] > 50 and len(net["edges"]) == 50 and len(net["nodes"]) == 20
    assert {"source", "target", "weight"} == set(net["edges"][0])
    prof = _ok(client, "/api/profile/France?timeline_limit=10")
    assert prof["polity"]["id"] == "FRN" and prof["engagements"] > 100
    assert len(prof["timeline"]) == 10 and prof["timeline_total"] == prof["engagements"]
    assert prof["partners"][0]["engagements"] >= prof["partners"][-1]["engagements"]
    dy = _ok(client, "/api/dyad/USA/France")
    assert [p["id"] for p in dy["polities"]] == ["USA", "FRN"] and dy["engagements"] > 0


@shared
def test_every_cli_network_layer_is_an_api_layer(client: TestClient) -> None:
    """`defdip network --layer dd_index` works, so /api/network?layer=dd_index does (issue 10)."""
    index = _ok(client, "/api/network?year=2000&layer=dd_index&max_edges=5&max_nodes=5")
    assert index["summary"]["nodes"] > 100 and index["edges"][0]["weight"] >= index["edges"][-1]["weight"]
    pacts = _ok(client, "/api/network?year=2000&layer=atop_defense&max_edges=5")
    assert pacts["summary"]["edges"] > 100


@shared
def test_citations_sources_codebook_status(client: TestClient) -> None:
    cit = _ok(client, "/api/citations?keys=khalid_ahmed_2024,not_a_key")
    assert cit["references"][0]["found"] and cit["missing"] == ["not_a_key"]
    assert cit["bibtex"].startswith("@")
    body = _err(client, "/api/citations?keys=khalid_ahmed_202", 404)
    assert "khalid_ahmed_2024" in body["suggestions"]
    src = _ok(client, "/api/sources")
    ids = {s["id"] for s in src["sources"]}
    assert {"atop", "dcad", "sipri"} <= ids and src["meta"]["genealogy_version"]
    atop = next(s for s in src["sources"] if s["id"] == "atop")
    assert atop["version"] and atop["engagements"] > 0 and "@" in atop["bibtex"]
    cb = _ok(client, "/api/codebook")
    assert [a["id"] for a in cb["activities"]] == ["contacts", "attaches", "exercises", "agreements"]
    assert len(cb["cottey_forster"]) == 10
    st = _ok(client, "/api/status")
    assert st["engagements"] > 1000


@shared
def test_openapi_and_offline_docs(client: TestClient) -> None:
    schema = _ok(client, "/openapi.json")
    paths = set(schema["paths"])
    for path in ("/api/engagements", "/api/engagements/{engagement_id}", "/api/polities", "/api/polities/{polity_id}",
                 "/api/genealogy", "/api/panel/dyad-year", "/api/panel/state-year", "/api/evolution",
                 "/api/partnership-index", "/api/network", "/api/profile/{country}", "/api/dyad/{a}/{b}",
                 "/api/citations", "/api/sources", "/api/codebook"):
        assert path in paths, path
    assert all(set(ops) == {"get"} for ops in schema["paths"].values()), "the API is read-only"
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text and "Try it" in docs.text
    _assert_no_external_assets(docs.text)
    assert client.get("/redoc").status_code == 404


# ----------------------------------------------------------------------------------------------- bad input

@shared
@pytest.mark.parametrize("url, status", [
    ("/api/engagements?page_size=501", 422),
    ("/api/engagements?page_size=100000", 422),
    ("/api/engagements?page_size=0", 422),
    ("/api/engagements?page=0", 422),
    ("/api/engagements?page=two", 422),
    ("/api/engagements?from_year=abc", 422),
    ("/api/engagements?from_year=1.5", 422),
    ("/api/engagements?from_year=2000&to_year=1990", 422),
    ("/api/engagements?from_year=0", 422),
    ("/api/engagements?from_year=99999", 422),
    ("/api/engagements?activity=bribery", 422),
    ("/api/engagements?sub_activity=spying", 422),
    ("/api/engagements?instrument=handshake", 422),
    ("/api/engagements?source=wikipedia", 422),
    ("/api/engagements?country=Frnace", 404),
    ("/api/engagements?partner=Atlantis", 404),
    ("/api/genealogy?activity=bribery", 422),
    ("/api/genealogy?from_year=500&to_year=-500", 422),
    ("/api/panel/dyad-year", 422),
    ("/api/panel/dyad-year?from_year=1900&to_year=2000", 422),
    ("/api/panel/dyad-year?from_year=2000&to_year=2001&layers=bogus", 422),
    ("/api/panel/state-year?country=Narnia", 404),
    ("/api/panel/state-year?country=nato", 422),
    ("/api/panel/state-year?from_year=2001&to_year=2000&country=USA", 422),
    ("/api/panel/dyad-year?from_year=2000&to_year=2001&limit=10000000", 422),
    ("/api/evolution?by=century", 422),
    ("/api/partnership-index?by=week", 422),
    ("/api/network", 422),
    ("/api/network?year=2000&layer=friendship", 422),
    ("/api/network?year=2000&to_year=1990", 422),
    ("/api/network?year=twothousand", 422),
    ("/api/profile/Frnace", 404),
    ("/api/dyad/USA/Narnia", 404),
    ("/api/dyad/USA/United%20States", 422),
    ("/api/polities?limit=100000", 422),
    ("/api/polities?kind=alien", 422),
    ("/api/citations", 422),
    ("/api/nothing-here", 404),
])
def test_bad_parameters(client: TestClient, url: str, status: int) -> None:
    _err(client, url, status)


@shared
def test_error_messages_are_clear(client: TestClient) -> None:
    assert "500" in _err(client, "/api/engagements?page_size=10000", 422)["detail"]
    assert "reversed" in _err(client, "/api/engagements?from_year=2000&to_year=1990", 422)["detail"]
    body = _err(client, "/api/profile/Frnace", 404)
    assert "France" in body["suggestions"] and "did you mean" in body["detail"]
    assert "whole number" in _err(client, "/api/engagements?from_year=abc", 422)["detail"]
    assert "valid layers" in _err(client, "/api/panel/dyad-year?from_year=2000&to_year=2001&layers=x", 422)["detail"]


@shared
def test_read_only(client: TestClient) -> None:
    for method in ("post", "put", "patch", "delete"):
        r = getattr(client, method)("/api/engagements")
        assert r.status_code == 405, (method, r.status_code)
    assert client.delete("/api/engagements/atop-1005").status_code == 405


# ----------------------------------------------------------------------------------------------- SQL injection

INJECTIONS = [
    "USA' OR 1=1 --",
    "exercises; DROP TABLE engagements",
    "'; DELETE FROM participants; --",
    "x' UNION SELECT id, title FROM engagements --",
    "1); ATTACH '/tmp/evil.duckdb' AS evil; --",
    "%' OR '%'='",
    "\\'; COPY engagements TO '/tmp/leak.csv'; --",
]
FILTERS = ["country", "partner", "activity", "sub_activity", "instrument", "source", "from_year", "to_year", "q",
           "page", "page_size"]


def _fingerprint(store: Path) -> tuple[str, dict[str, int]]:
    digest = hashlib.sha256(store.read_bytes()).hexdigest()
    con = duckdb.connect(str(store), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        con.close()
    return digest, counts


@shared
def test_sql_injection_through_every_filter(client: TestClient, full_store: Path) -> None:
    before = _fingerprint(full_store)
    total = _ok(client, "/api/engagements?page_size=1")["total"]
    for payload in INJECTIONS:
        for name in FILTERS:
            r = client.get("/api/engagements", params={name: payload})
            assert r.status_code in (200, 404, 422), (name, payload, r.status_code, r.text[:200])
            if r.status_code == 200:  # only the free-text search can accept it: as literal text
                assert name == "q", (name, payload)
                assert r.json()["total"] < total
        for url in (f"/api/engagements/{payload}", f"/api/polities/{payload}", f"/api/profile/{payload}",
                    f"/api/dyad/USA/{payload}", f"/api/genealogy?activity={payload}",
                    f"/api/polities?q={payload}", f"/api/citations?keys={payload}",
                    f"/api/panel/dyad-year?country={payload}", f"/api/panel/state-year?layers={payload}&country=USA",
                    f"/api/network?year=2000&layer={payload}", f"/api/evolution?by={payload}"):
            r = client.get(url.replace("#", "%23"))
            assert r.status_code in (200, 404, 422), (url, r.status_code, r.text[:200])
        for page in (f"/search?q={payload}", f"/country/{payload}", f"/genealogy?activity={payload}",
                     f"/record/{payload}"):
            r = client.get(page)
            assert r.status_code in (200, 404, 422), (page, r.status_code)
            assert "<script>alert" not in r.text
    assert _ok(client, "/api/engagements?page_size=1")["total"] == total
    assert _fingerprint(full_store) == before, "the store changed"
    assert not Path("/tmp/leak.csv").exists() or Path("/tmp/leak.csv").stat().st_size == 0


@shared
def test_quote_in_search_text_is_literal(client: TestClient) -> None:
    r = client.get("/api/engagements", params={"q": "' OR '1'='1"})
    assert r.status_code == 200 and r.json()["total"] == 0
    total = _ok(client, "/api/engagements?page_size=1")["total"]
    for wildcard in ("%", "_", "%_%"):
        r = client.get("/api/engagements", params={"q": wildcard})
        assert r.status_code == 200 and r.json()["total"] < total / 10, f"LIKE wildcard {wildcard!r} is literal"


# ----------------------------------------------------------------------------------------------- HTML pages

_ASSET = re.compile(r"<(?:script|link|img|iframe)[^>]+(?:src|href)\s*=\s*[\"']([^\"']+)", re.IGNORECASE)


def _assert_no_external_assets(text: str) -> None:
    for url in _ASSET.findall(text):
        assert url.startswith("/") and not url.startswith("//") or url.startswith("data:"), url


@shared
@pytest.mark.parametrize("url", ["/", "/country/FRN", "/dyad/USA/FRN", "/genealogy",
                                 "/genealogy?activity=attaches&from_year=-500&to_year=1500", "/search?q=France",
                                 "/sources", "/record/atop-1005"])
def test_pages(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 200, (url, r.text[:500])
    assert 'id="search-box"' in r.text, "every page has the search box"
    assert "class=\"error\"" not in r.text, f"{url}: a section failed: {re.findall(r'class=.error.>([^<]*)', r.text)}"
    _assert_no_external_assets(r.text)
    assert "default-src 'self'" in r.headers["content-security-policy"]


@shared
def test_page_redirects_and_errors(client: TestClient) -> None:
    r = client.get("/country/France", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/country/FRN"
    missing = client.get("/country/Frnace")
    assert missing.status_code == 404 and "France" in missing.text and 'id="search-box"' in missing.text
    assert client.get("/genealogy?from_year=10&to_year=1").status_code == 422
    assert client.get("/genealogy?from_year=ten").status_code == 422
    assert client.get("/record/nope").status_code == 404
    home = client.get("/")
    for chart in ("genealogy_timeline", "evolution_decades", "partnership_shift", "world_map"):
        assert f'data-chart="{chart}"' in home.text
    search = client.get("/search?q=France").text
    assert 'href="/country/FRN"' in search
    xss = client.get("/search", params={"q": "<script>alert(1)</script>"})
    assert xss.status_code == 200 and "<script>alert(1)" not in xss.text and "&lt;script&gt;" in xss.text


@shared
def test_static_assets_are_local(client: TestClient) -> None:
    bundle = client.get("/static/vega-bundle.js")
    assert bundle.status_code == 200 and "vegaEmbed" in bundle.text
    assert client.get("/static/embed.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/../app.py").status_code == 404


# ----------------------------------------------------------------------------------------------- synthetic store

@pytest.fixture(scope="module")
def records_client(records_store: Path) -> TestClient:
    """The genealogy and the synthetic records, built by the real build: sources, meta and ingest tables too."""
    return TestClient(create_app(records_store))


@pytest.fixture(scope="module")
def exact_client(records_only_store: Path) -> TestClient:
    """The synthetic records alone: every count below is worked out from tests/synthetic.py by hand."""
    return TestClient(create_app(records_only_store))


def _ids(answer: dict) -> list[str]:
    return [i["id"] for i in answer["items"]]


def test_synthetic_engagements_filters_and_pages(records_client: TestClient) -> None:
    mine = _ok(records_client, "/api/engagements?source=user&page_size=500")
    assert mine["total"] == len(records()) == len(mine["items"])
    assert _ids(mine) == sorted(_ids(mine), key=lambda i: ({r["id"]: r["start_year"] for r in records()}[i], i))
    france = _ok(records_client, "/api/engagements?country=France&source=user")
    assert _ids(france) == ["syn-north-pact-1949", "syn-ind-frn-dca-2006"] and france["filters"]["country"] == "FRN"
    pair = _ok(records_client, "/api/engagements?country=USA&partner=Japan&source=user")
    assert _ids(pair) == ["syn-usa-jpn-dca-1992", "syn-usa-jpn-exercise-2001", "syn-usa-jpn-exercise-2005",
                          "syn-rim-exercise-2006"]
    in_force = _ok(records_client, "/api/engagements?source=user&activity=agreements&from_year=2000&to_year=2009")
    assert _ids(in_force) == ["syn-north-pact-1949", "syn-ind-frn-dca-2006"], "an ongoing pact is in force"
    pko = _ok(records_client, "/api/engagements?sub_activity=peacekeeping&source=user")
    assert _ids(pko) == ["syn-congo-mission-2005"]
    text = _ok(records_client, "/api/engagements?q=Keen%20Sword&source=user")
    assert _ids(text) == ["syn-usa-jpn-exercise-2001", "syn-usa-jpn-exercise-2005"]
    pages = [_ids(_ok(records_client, f"/api/engagements?source=user&page_size=7&page={n}")) for n in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [7, 7, 5, 0] and sum(pages, []) == _ids(mine)
    bce = _ok(records_client, "/api/engagements?to_year=-1&source=user")
    assert _ids(bce) == ["syn-athens-sparta-446bce"]
    _err(records_client, "/api/engagements?source=atop", 422)  # a dataset this store does not hold


def test_synthetic_record_cites_the_researchers_bibliography(records_client: TestClient) -> None:
    rec = _ok(records_client, "/api/engagements/syn-usa-ind-visit-2004")
    assert [(p["id"], p["role"]) for p in rec["participants"]] == [("IND", "receiver"), ("USA", "sender")]
    assert rec["provenance"] == [{"source": "user", "version": "local", "record_id": "syn-usa-ind-visit-2004",
                                  "citations": ["synthetic_ledger_2024"]}]
    assert rec["references"][0]["found"] and "Ledger of Made-up" in rec["references"][0]["text"]
    page = records_client.get("/record/syn-usa-ind-visit-2004")
    assert page.status_code == 200 and "US defence secretary in New Delhi" in page.text
    assert "no BibTeX entry" not in page.text


def test_synthetic_polity_profile_and_dyads(exact_client: TestClient) -> None:
    india = _ok(exact_client, "/api/polities/India")
    assert india["id"] == "IND" and india["engagements"] == 5
    assert india["per_activity"] == {"contacts": 2, "attaches": 1, "exercises": 1, "agreements": 1}
    assert (india["first_year"], india["last_year"]) == (2003, 2016)
    prof = _ok(exact_client, "/api/profile/India")
    assert prof["engagements"] == 5 and prof["peacekeeping"] == 1 and prof["timeline_total"] == 5
    ranked = [(p["id"], p["engagements"], p["peacekeeping"]) for p in prof["partners"]]
    assert ranked == [("USA", 2, 0), ("PAK", 1, 1), ("FRN", 1, 0), ("UKG", 1, 0), ("DRC", 0, 1)]
    dyad = _ok(exact_client, "/api/dyad/USA/Japan")
    assert dyad["engagements"] == 4 and (dyad["first_year"], dyad["last_year"]) == (1992, 2006)
    assert dyad["per_instrument"] == {"defence_cooperation_agreement": 1, "exercise": 3}
    rivals = _ok(exact_client, "/api/dyad/India/Pakistan")
    assert rivals["engagements"] == 1 and rivals["peacekeeping"] == 1, "a shared mission is counted apart"
    assert [t["id"] for t in rivals["timeline"]] == ["syn-staff-course-2010"]
    counts = {p["id"]: p["engagements"] for p in _ok(exact_client, "/api/polities?q=united&limit=50")["items"]}
    assert counts["USA"] == 13 and counts["UKG"] == 5


def test_synthetic_network_layers_are_the_clis(exact_client: TestClient) -> None:
    from defdip.analysis import network as net

    schema = _ok(exact_client, "/openapi.json")
    layer = next(p for p in schema["paths"]["/api/network"]["get"]["parameters"] if p["name"] == "layer")
    assert layer["schema"]["enum"] == list(net.layers()) and "dd_index" in layer["schema"]["enum"]
    ties = _ok(exact_client, "/api/network?year=2006&layer=all")
    assert {tuple(sorted((e["source"], e["target"]))) for e in ties["edges"]} == {
        ("AUL", "CAN"), ("AUL", "JPN"), ("AUL", "USA"), ("CAN", "JPN"), ("CAN", "USA"), ("JPN", "USA"),  # the rim
        ("UKG", "USA"), ("CAN", "UKG"),  # the pact (with CAN-USA), which France left in 1966
        ("FRN", "IND"), ("CHN", "UKG"), ("ROK", "UKG"), ("CHN", "ROK"),  # the DCA; the forum's members of 2006
        ("DRC", "IND"), ("DRC", "PAK")}  # a mission ties contributors to the host only
    pact = _ok(exact_client, "/api/network?year=1980&layer=alliances")
    assert {tuple(sorted((e["source"], e["target"]))) for e in pact["edges"]} == {
        ("UKG", "USA"), ("CAN", "UKG"), ("CAN", "USA")}
    unknown = _err(exact_client, "/api/network?year=2006&layer=friendship", 422)["detail"]
    assert "unknown network layer 'friendship'" in unknown and "dd_index" in unknown
    # a panel layer is a network layer here as in the CLI: without the panel's tables it is a missing dataset
    panel = exact_client.get("/api/network?year=2006&layer=dd_index")
    assert panel.status_code == 503 and "defdip build" in panel.json()["detail"]


def test_synthetic_partner_counts_count_members_in_their_years(records_only_store: Path) -> None:
    from defdip.store import queries

    frame = queries.partner_counts(2000, 2009, records_only_store)
    got = {r.polity_id: (r.partners, r.bilateral_partners, r.engagements) for r in frame.itertuples()}
    assert got == PARTNERS_2000S
    later = queries.partner_counts(2010, 2010, records_only_store)
    assert set(later["polity_id"]) == {"UKG", "IND", "PAK", "USA", "CAN", "FRN"}, "the pact, the course, the DCA"


def test_synthetic_polity_resolver_is_one() -> None:
    from defdip.analysis.profiles import profile  # noqa: F401 - profiles resolve through the same function
    from defdip.core.actors import UnknownPolityError
    from defdip.core.errors import DefdipError
    from defdip.store import queries

    assert queries.polity_id("USSR", 1980) == "RUS" and queries.polity_id("athens") == "athens"
    congo = queries.resolve_polity("Congo")
    assert congo.note and "Congo" in congo.note
    assert queries.resolve_polity("DRC").note is None, "a code is unambiguous"
    with pytest.raises(UnknownPolityError) as info:
        queries.resolve_polity("Atlantis Republic")
    assert str(info.value).startswith("unknown polity 'Atlantis Republic'")
    for bad in ("", "   ", "x" * 121):
        with pytest.raises(DefdipError):
            queries.resolve_polity(bad)


def test_synthetic_bad_requests(records_client: TestClient) -> None:
    assert "France" in _err(records_client, "/api/polities/Frnace", 404)["suggestions"]
    assert "empty polity name" in _err(records_client, "/api/profile/%20", 422)["detail"]
    assert "reversed" in _err(records_client, "/api/engagements?from_year=2000&to_year=1990", 422)["detail"]
    assert "valid layers" in _err(records_client, "/api/panel/dyad-year?from_year=2000&to_year=2001&layers=x",
                                  422)["detail"]
    _err(records_client, "/api/dyad/USA/United%20States", 422)
    _err(records_client, "/api/engagements/no-such-record", 404)


def test_synthetic_genealogy_sources_status(records_client: TestClient, records_store: Path) -> None:
    everything = _ok(records_client, "/api/genealogy?references=false")
    assert everything["total"] > 100 and all(i["citations"] for i in everything["items"])
    assert not {i["id"] for i in everything["items"]} & {r["id"] for r in records()}, "user records stay apart"
    src = _ok(records_client, "/api/sources")
    user = next(s for s in src["sources"] if s["id"] == "user")
    assert user["engagements"] == len(records()) and "synthetic_ledger_2024" in user["bibtex"]
    assert src["genealogy"]["engagements"] == everything["total"]
    status = _ok(records_client, "/api/status")
    assert status["engagements"] == everything["total"] + len(records())
    cit = _ok(records_client, "/api/citations?keys=synthetic_ledger_2024")
    assert cit["references"][0]["found"] and cit["missing"] == []


@pytest.mark.parametrize("url, text", [
    ("/", "Country profiles"), ("/country/IND", "Peacekeeping in the Congo"), ("/dyad/USA/JPN", "Keen Sword"),
    ("/genealogy?activity=attaches&to_year=1900", "Genealogy explorer"), ("/search?q=keen%20sword", "Keen Sword"),
    ("/sources", '<td class="id">user</td>'), ("/record/syn-rim-exercise-2006", "Rim of the Ocean")])
def test_synthetic_pages(records_client: TestClient, url: str, text: str) -> None:
    r = records_client.get(url)
    assert r.status_code == 200, (url, r.text[:500])
    assert text in r.text and 'id="search-box"' in r.text
    assert 'class="error"' not in r.text, f"{url}: {re.findall(r'class=.error.>([^<]*)', r.text)}"
    _assert_no_external_assets(r.text)


def test_one_store_handle_serves_many_threads(records_only_store: Path) -> None:
    """Each thread reads through a connection of its own on the one handle (as the server's request threads do);
    the handle's lookups are kept, and closing it closes every thread's connection."""
    from concurrent.futures import ThreadPoolExecutor

    from defdip.store import queries

    def count(db: queries.StoreReader, country: str) -> tuple[int, int]:
        total, _ = queries.engagement_page(queries.EngagementFilter(country=country), db, page_size=1)
        return total, id(db.con)

    with queries.open_store(records_only_store) as db:
        assert db.has_table("engagements") and not db.has_table("ne_countries")
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(lambda c: count(db, c), ["USA", "IND", "UKG", "JPN"] * 10))
        assert [a[0] for a in answers] == [13, 5, 5, 5] * 10
        assert len({a[1] for a in answers}) <= 4, "one connection per thread, reused"
        assert queries.known_sources(db) == ["user"] and db.cached("known_sources", lambda: None) == ["user"]
        cursors = [db.con]
    with pytest.raises(Exception, match="closed"):
        cursors[0].execute("SELECT 1")
