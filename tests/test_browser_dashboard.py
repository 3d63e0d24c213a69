"""The dashboard in a real browser: Debian's chromium driven by Playwright against `defdip serve`'s app.

The server runs with uvicorn in a background thread on 127.0.0.1 and a free port, over the full store. The
test opens the overview, searches a country with the search box, opens its page, checks that every chart was
drawn (an svg or canvas in each chart container), records every request the browser makes and asserts none
left 127.0.0.1 (or data: URLs). Screenshots go to artifacts/ (git-ignored) and the overview's to
docs/img/dashboard.png for the README.

These tests FAIL when chromium or Playwright is missing; set DEFDIP_NO_BROWSER=1 to skip them instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import served

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
# the README picture is refreshed only on request, so test runs leave the tree clean
SHOT_DIR = ROOT / "docs" / "img" if os.environ.get("DEFDIP_UPDATE_README_SHOTS") else ROOT / "artifacts"
README_SHOT = SHOT_DIR / "dashboard.png"
CHART_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def server(browser_available: None, request: pytest.FixtureRequest):
    # browser_available first: a skip or failure comes before the (slow) store build
    full_store: Path = request.getfixturevalue("full_store")
    with served(full_store) as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser_page(server: str, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.set_default_timeout(CHART_TIMEOUT_MS)
    page.requests = requests  # type: ignore[attr-defined]
    page.errors = errors  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()


def _charts_drawn(page, name: str) -> int:
    """Wait for embed.js to finish; every chart container must hold an svg or canvas. Returns the count."""
    page.wait_for_selector("body[data-charts-rendered]", state="attached", timeout=CHART_TIMEOUT_MS)
    failed = page.get_attribute("body", "data-charts-failed")
    problems = page.eval_on_selector_all(
        "[data-chart]", "els => els.filter(e => !e.querySelector('svg, canvas'))"
                        ".map(e => e.dataset.chart + ': ' + (e.getAttribute('data-error') || 'empty'))")
    assert failed == "0" and not problems, f"{name}: charts not drawn: {problems} (errors: {page.errors})"
    count = page.eval_on_selector_all("[data-chart]", "els => els.length")
    assert count > 0, f"{name}: the page has no chart"
    return count


def _shot(page, name: str, full: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    return path


def _assert_local(requests: list[str], base: str) -> None:
    host = urlparse(base).hostname
    outside = []
    for url in requests:
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob", "about"):
            continue
        if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname == host == "127.0.0.1":
            continue
        outside.append(url)
    assert not outside, f"the browser requested resources outside 127.0.0.1: {outside[:10]}"


def test_dashboard_search_to_country(server: str, browser_page) -> None:
    page = browser_page
    page.goto(server + "/", wait_until="load")
    assert "defdip" in page.title()
    home_charts = _charts_drawn(page, "home")
    assert home_charts >= 4, ("the overview should draw the timeline, evolution, partnership and map charts "
                              f"({home_charts})")
    for chart in ("genealogy_timeline", "evolution_decades", "partnership_shift", "world_map"):
        assert page.query_selector(f'[data-chart="{chart}"] svg') is not None, f"overview chart {chart} missing"
    _shot(page, "dashboard-home")
    README_SHOT.parent.mkdir(parents=True, exist_ok=True)
    height = min(1700, page.evaluate("document.documentElement.scrollHeight"))
    page.screenshot(path=str(README_SHOT), full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": height})

    page.fill("#search-box", "France")
    with page.expect_navigation():
        page.press("#search-box", "Enter")
    assert "/search" in page.url
    first = page.wait_for_selector("#polity-results a")
    assert "France" in first.inner_text()
    _shot(page, "dashboard-search")
    with page.expect_navigation():
        first.click()
    assert page.url.rstrip("/").endswith("/country/FRN"), page.url
    assert page.inner_text("h1") == "France"
    count = _charts_drawn(page, "country")
    assert count >= 3, f"the country page should draw activity, partners map and timeline ({count})"
    _shot(page, "dashboard-country-FRN")

    _assert_local(page.requests, server)


def test_genealogy_dyad_and_docs_pages(server: str, browser_page) -> None:
    page = browser_page
    page.goto(server + "/genealogy", wait_until="load")
    _charts_drawn(page, "genealogy")
    assert page.query_selector("table.data a[href^='/record/']") is not None
    _shot(page, "dashboard-genealogy")

    page.goto(server + "/dyad/USA/FRN", wait_until="load")
    _charts_drawn(page, "dyad")
    _shot(page, "dashboard-dyad-USA-FRN")

    page.goto(server + "/docs", wait_until="load")
    page.wait_for_selector("body[data-docs-rendered]", state="attached")
    assert page.query_selector("#ep--api-engagements") is not None
    page.fill("#ep--api-engagements input[name='country']", "Japan")
    page.fill("#ep--api-engagements input[name='page_size']", "3")
    page.click("#ep--api-engagements button[type='submit']")
    page.wait_for_function("() => document.querySelector('#ep--api-engagements pre.out').textContent.includes('200')")
    assert '"total"' in page.inner_text("#ep--api-engagements pre.out")
    _shot(page, "dashboard-docs")

    _assert_local(page.requests, server)
    assert not [e for e in page.errors if "Content Security Policy" in e], page.errors
