"""Rough edges of the dashboard that only a browser shows (issue 11 item 6): literal reST in /docs, and the
sources table clipping or breaking ids inside words. The genealogy-only store keeps these quick.

These tests FAIL when chromium or Playwright is missing; set DEFDIP_NO_BROWSER=1 to skip them instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import served

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(browser_available: None, genealogy_store: Path):
    with served(genealogy_store) as (url, _):
        yield url


@pytest.fixture
def page(server: str, browser):
    context = browser.new_context(viewport={"width": 900, "height": 800})
    yield context.new_page()
    context.close()


def test_docs_show_no_restructuredtext_markup(server: str, page) -> None:
    page.goto(server + "/docs", wait_until="load")
    page.wait_for_selector("body[data-docs-rendered]", state="attached", timeout=30_000)
    text = page.inner_text("main")
    assert "``" not in text and ":func:`" not in text and ":class:`" not in text
    assert "`" not in text.replace("\u2018", "")
    # what was markup is now code: the year range of /api/engagements and the error body of the API info
    codes = page.eval_on_selector_all("main code", "els => els.map(e => e.textContent)")
    assert "from_year" in codes and '{"detail": ...}' in codes


def test_sources_table_does_not_clip_or_break_ids(server: str, page) -> None:
    page.goto(server + "/sources", wait_until="load")
    box = page.eval_on_selector("main .table-wrap", """w => ({
        overflow: getComputedStyle(w).overflowX, wide: w.scrollWidth > w.clientWidth,
        inside: w.getBoundingClientRect().right <= document.documentElement.clientWidth + 1})""")
    assert box["inside"] and (not box["wide"] or box["overflow"] in ("auto", "scroll")), box
    ids = page.eval_on_selector_all("main .table-wrap td.id", """cells => cells.filter(c => c.textContent.trim())
        .map(c => { const r = document.createRange(); r.selectNodeContents(c);
                    return [c.textContent, new Set([...r.getClientRects()].map(x => Math.round(x.top))).size]; })""")
    assert ids, "the sources table marks no id cells"
    assert all(lines == 1 for _, lines in ids), [i for i in ids if i[1] != 1]


def test_report_sources_table_does_not_clip_or_break_ids(browser, genealogy_store: Path,
                                                         tmp_path: Path) -> None:
    from defdip.present.report import build_report

    index = build_report(tmp_path, store=genealogy_store, years=(1950,))
    context = browser.new_context(viewport={"width": 900, "height": 800})
    try:
        page = context.new_page()
        page.goto(index.as_uri(), wait_until="load")
        box = page.eval_on_selector("#methods .table-scroll:has(table.wide)", """w => ({
            overflow: getComputedStyle(w).overflowX, wide: w.scrollWidth > w.clientWidth,
            inside: w.getBoundingClientRect().right <= w.closest('section').getBoundingClientRect().right + 1})""")
        assert box["inside"] and (not box["wide"] or box["overflow"] in ("auto", "scroll")), box
        ids = page.eval_on_selector_all("#methods table.wide td.id", """cells => cells.map(c => {
            const r = document.createRange(); r.selectNodeContents(c);
            return [c.textContent, new Set([...r.getClientRects()].map(x => Math.round(x.top))).size]; })""")
        assert ids and all(lines == 1 for _, lines in ids), ids
    finally:
        context.close()
