"""The report in a real browser (Debian's chromium): every chart draws, nothing leaves the machine.

Fails when chromium or Playwright is missing; set DEFDIP_NO_BROWSER=1 to skip instead.
Writes artifacts/report.png (full page, git-ignored) and docs/img/report.png (reduced, for the README).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def report_index(full_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from defdip.present.report import build_report

    return build_report(tmp_path_factory.mktemp("browser-report"), store=full_store)


def test_report_renders_offline_in_chromium(browser, report_index: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    requests: list[str] = []
    errors: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.goto(report_index.as_uri(), wait_until="load")
    page.wait_for_function("document.body.hasAttribute('data-charts-rendered')", timeout=180_000)

    charts = page.eval_on_selector_all(
        "[data-chart]", "els => els.map(e => [e.dataset.chart, !!e.querySelector('svg, canvas')])")
    assert len(charts) >= 11
    assert [name for name, drawn in charts if not drawn] == []
    assert page.get_attribute("body", "data-charts-failed") == "0"
    assert int(page.get_attribute("body", "data-charts-rendered")) == len(charts)

    # a timeline point links to its record in the page
    point = page.locator("#chart-genealogy_timeline .mark-symbol path").first
    point.scroll_into_view_if_needed()
    point.click(force=True)
    page.wait_for_function("location.hash.startsWith('#rec-')", timeout=10_000)
    target = page.evaluate("location.hash.slice(1)")
    assert page.locator(f"tr[id='{target}']").count() == 1

    # a tooltip shows on hover (vega-tooltip draws it into the page)
    page.evaluate("window.scrollTo(0, 0)")
    bar = page.locator("#chart-codebook_activities .mark-rect path").first
    bar.scroll_into_view_if_needed()
    bar.hover(force=True)
    page.wait_for_selector("#vg-tooltip-element.visible", timeout=10_000)

    local = ("file://", "data:", "blob:", "about:")
    outside = [u for u in requests if not u.startswith(local)]
    assert outside == [], outside
    assert any(u.startswith("file://") for u in requests)
    assert errors == [], errors

    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # nothing overflows sideways
    page.evaluate("window.scrollTo(0, 0); location.hash = ''")
    # the analytical part of the page, from the top to the end of the conflict section (the records list and
    # the bibliography below it are long tables)
    bottom = page.evaluate("document.getElementById('conflict').getBoundingClientRect().bottom + window.scrollY")
    page.screenshot(path=str(artifacts / "report.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": 1280, "height": bottom + 20})
    assert (artifacts / "report.png").stat().st_size > 50_000
    context.close()

    # a reduced picture for the README: header and the genealogy timeline, at 3/4 scale
    small = browser.new_context(viewport={"width": 1280, "height": 1040}, device_scale_factor=0.75)
    try:
        spage = small.new_page()
        spage.goto(report_index.as_uri(), wait_until="load")
        spage.wait_for_function("document.body.hasAttribute('data-charts-rendered')", timeout=180_000)
        spage.evaluate("for (const id of ['question', 'codebook']) document.getElementById(id).style.display = 'none'")
        # the README picture is refreshed only on request, so test runs leave the tree clean
        docs = ROOT / "docs" / "img" if os.environ.get("DEFDIP_UPDATE_README_SHOTS") else ROOT / "artifacts"
        docs.mkdir(parents=True, exist_ok=True)
        spage.screenshot(path=str(docs / "report.png"))
    finally:
        small.close()
    assert 10_000 < (docs / "report.png").stat().st_size < 1_500_000
