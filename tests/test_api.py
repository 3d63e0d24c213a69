"""The web app (defdip.present.web) against the full store: every API endpoint, bad parameters, SQL injection, pages."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from defdip.present.web import create_app

pytestmark = pytest.mark.shared


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


def test_engagement_detail(client: TestClient) -> None:
    item = _ok(client, "/api/engagements?source=genealogy&page_size=1")["items"][0]
    rec = _ok(client, f"/api/engagements/{item['id']}")
    assert rec["id"] == item["id"] and rec["participants"] and rec["provenance"]
    assert rec["provenance"][0]["source"] == "genealogy"
    assert rec["references"] and any(r["found"] for r in rec["references"])
    _err(client, "/api/engagements/no-such-record", 404)


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


def test_genealogy(client: TestClient) -> None:
    everything = _ok(client, "/api/genealogy")
    assert everything["total"] > 100 and everything["references"]
    some = _ok(client, "/api/genealogy?activity=attaches&from_year=-500&to_year=1500&references=false")
    assert 0 < some["total"] < everything["total"] and "references" not in some
    assert all(i["activity"] == "attaches" and i["start_year"] <= 1500 for i in some["items"])
    assert all(i["citations"] for i in everything["items"]), "every genealogy record is cited"


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


def test_error_messages_are_clear(client: TestClient) -> None:
    assert "500" in _err(client, "/api/engagements?page_size=10000", 422)["detail"]
    assert "reversed" in _err(client, "/api/engagements?from_year=2000&to_year=1990", 422)["detail"]
    body = _err(client, "/api/profile/Frnace", 404)
    assert "France" in body["suggestions"] and "did you mean" in body["detail"]
    assert "whole number" in _err(client, "/api/engagements?from_year=abc", 422)["detail"]
    assert "valid layers" in _err(client, "/api/panel/dyad-year?from_year=2000&to_year=2001&layers=x", 422)["detail"]


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


def test_static_assets_are_local(client: TestClient) -> None:
    bundle = client.get("/static/vega-bundle.js")
    assert bundle.status_code == 200 and "vegaEmbed" in bundle.text
    assert client.get("/static/embed.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/../app.py").status_code == 404
