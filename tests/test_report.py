"""The offline report on the real store: every section, every chart file, no external references."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from defdip.core.citations import keys_in
from defdip.present import report

SECTION_IDS = [sid for sid, _, _ in report.SECTIONS]
EXPECTED_CHARTS = {"codebook_activities", "genealogy_timeline", "evolution_decades", "evolution_eras",
                   "partnership_shift", "network_1913", "network_1950", "network_1980", "network_2010",
                   "map_intensity", "map_partners"}
EXTERNAL = re.compile(r"^\s*(?:https?:)?//", re.I)


class _Refs(HTMLParser):
    """Collects every resource reference of a page (the things a browser would load)."""

    LOADING = {"script": ("src",), "link": ("href",), "img": ("src", "srcset"), "iframe": ("src",),
               "source": ("src", "srcset"), "audio": ("src",), "video": ("src", "poster"), "embed": ("src",),
               "object": ("data",), "track": ("src",), "image": ("href", "xlink:href"), "use": ("href", "xlink:href")}

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self.anchors: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "link":
            self.links.append(a.get("href") or "")
        for attr in self.LOADING.get(tag, ()):
            if a.get(attr):
                self.loads.append((tag, a[attr]))
        if tag == "a" and (a.get("href") or "").startswith("#"):
            self.anchors.append(a["href"][1:])


@pytest.fixture(scope="module")
def built(full_store: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("report")
    steps: list[tuple[str, int, int]] = []
    index = report.build_report(out, store=full_store, progress=lambda *a: steps.append(a))
    assert steps[-1][1] == steps[-1][2]  # progress reaches its total
    return index, index.read_text(encoding="utf-8")


def _specs(page: str) -> dict[str, dict]:
    found = re.findall(r'<script type="application/json" id="spec-([\w.-]+)">(.*?)</script>', page, re.S)
    return {name: json.loads(text) for name, text in found}


def test_every_section_present_and_built(built: tuple[Path, str]) -> None:
    index, page = built
    for sid in SECTION_IDS:
        assert f'<section id="{sid}"' in page, sid
    status = {s["id"]: s for s in report.sections_status(index.parent)}
    assert list(status) == SECTION_IDS
    bad = {k: v["note"] for k, v in status.items() if v["status"] != "ok"}
    assert not bad, bad
    assert "not available in this build" not in page
    assert 'data-status="failed"' not in page and 'data-status="unavailable"' not in page


def test_every_chart_written_as_png_and_svg(built: tuple[Path, str]) -> None:
    index, page = built
    names = set(re.findall(r'data-chart="([\w.-]+)"', page))
    assert EXPECTED_CHARTS <= names
    assert set(_specs(page)) == names
    for name in names:
        png = index.parent / "charts" / f"{name}.png"
        svg = index.parent / "charts" / f"{name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert png.stat().st_size > 5_000, name
        assert "<svg" in svg.read_text(encoding="utf-8")[:1000], name


def test_no_external_references(built: tuple[Path, str]) -> None:
    _, page = built
    refs = _Refs()
    refs.feed(page)
    external = [(tag, url) for tag, url in refs.loads if EXTERNAL.match(url)]
    assert not external, external
    assert not [u for u in refs.links if u]  # no <link> elements loading anything
    assert not re.search(r"""<script[^>]*\bsrc\s*=""", page, re.I)  # all JavaScript is inline
    assert not re.search(r"""@import|url\(\s*['"]?(?:https?:)?//""", page.split("<script>")[0], re.I)
    assert "vegaEmbed" in page and "connect-src 'none'" in page
    # chart data is inline: no spec loads data from a URL
    for name, spec in _specs(page).items():
        assert '"url"' not in json.dumps(spec.get("data", {})), name


def test_timeline_points_link_to_records_with_sources(built: tuple[Path, str], full_store: Path) -> None:
    import duckdb

    _, page = built
    refs = _Refs()
    refs.feed(page)
    spec = _specs(page)["genealogy_timeline"]
    values = [v for panel in spec["vconcat"] for v in (panel.get("data") or {}).get("values", [])]
    con = duckdb.connect(str(full_store), read_only=True)
    try:
        n_gen = con.execute("SELECT count(DISTINCT engagement_id) FROM provenance WHERE source = 'genealogy'"
                            ).fetchone()[0]
        first = con.execute("SELECT min(e.start_year) FROM engagements e JOIN provenance p ON p.engagement_id = e.id "
                            "WHERE p.source = 'genealogy'").fetchone()[0]
    finally:
        con.close()
    assert len(values) == n_gen > 0
    assert min(v["start_year"] for v in values) == first
    for v in values:
        assert v["href"].startswith("#rec-") and v["href"][1:] in refs.ids, v["href"]
    # every citation link resolves to a bibliography entry
    cites = [a for a in refs.anchors if a.startswith("bib-")]
    assert cites and all(c in refs.ids for c in cites)
    assert 'id="bib-khalid_ahmed_2024"' in page


def test_report_content_answers_the_question(built: tuple[Path, str], full_store: Path) -> None:
    import duckdb

    _, page = built
    assert "associations, not causal effects" in page
    assert "Partners of United States" in page
    for year in report.NETWORK_YEARS:
        assert f"<h3>{year}</h3>" in page
    con = duckdb.connect(str(full_store), read_only=True)
    try:
        sources = con.execute("SELECT id, version, bibtex FROM sources WHERE status = 'loaded'").fetchall()
    finally:
        con.close()
    for sid, version, bibtex in sources:
        assert f"<td>{sid}</td>" in page, sid
        assert html.escape(version) in page, sid
        for key in keys_in(bibtex or ""):
            assert f'id="bib-{key}"' in page, key  # every source used is in the bibliography
    # Table 1: one row per activity with its count
    for label in ("Contacts", "Attachés &amp; envoys", "Joint exercises", "Agreements &amp; equipment"):
        assert label in page


def test_report_without_natural_earth_or_datasets(genealogy_store: Path, tmp_path: Path) -> None:
    """A store without a dataset a section needs (Natural Earth shapes, the MID and panel tables) shows the
    section as unavailable, saying what to add; the others are built."""
    index = report.build_report(tmp_path, store=genealogy_store, years=(1950,))
    page = index.read_text(encoding="utf-8")
    status = {s["id"]: s for s in report.sections_status(tmp_path)}
    assert set(status) == set(SECTION_IDS)
    assert status["maps"]["status"] == "unavailable"
    assert "Natural Earth" in status["maps"]["note"]
    assert status["conflict"]["status"] == "unavailable"
    assert "defdip build" in status["conflict"]["note"]
    for sid in ("question", "codebook", "genealogy", "records", "bibliography"):
        assert status[sid]["status"] == "ok", status[sid]
    assert (tmp_path / "charts" / "genealogy_timeline.png").is_file()
    assert "Natural Earth" in page
    # the sources table scrolls sideways rather than clip, and its ids never break inside a word
    methods = page.split('id="methods"', 1)[1].split("</section>", 1)[0]
    assert '<div class="table-scroll"><table class="wide">' in methods
    assert re.search(r'<td class="id">[\w.-]+</td>', methods)
    assert "overflow-wrap: anywhere" not in page and "td.id" in page


def test_report_without_store_is_a_clear_error(tmp_path: Path) -> None:
    from defdip.core.errors import StoreError

    with pytest.raises(StoreError, match="defdip build"):
        report.build_report(tmp_path / "out", store=tmp_path / "missing.duckdb")


def test_cli_report(genealogy_store: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from defdip.cli import app

    result = CliRunner().invoke(app, ["report", "-o", str(tmp_path / "rep"), "--store", str(genealogy_store),
                                      "--year", "1950", "--country", "France"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "rep" / "index.html").is_file()
    assert "Report:" in result.output and "unavailable" in result.output


@pytest.mark.shared
def test_report_shows_coverage_and_keeps_peacekeeping_apart(built: tuple[Path, str], full_store: Path) -> None:
    from defdip.analysis.evolution import coverage_windows

    _, page = built
    evolution = page.split('id="evolution"', 1)[1].split("</section>", 1)[0]
    assert "Coverage of each dataset" in evolution
    for source in coverage_windows(full_store)["source"]:
        assert f"<td>{source}</td>" in evolution
    partnership = page.split('id="partnership"', 1)[1].split("</section>", 1)[0]
    assert "coverage of each dataset" in partnership  # the strip's axis title, inside the chart spec
    maps = page.split('id="maps"', 1)[1].split("</section>", 1)[0]
    assert "Peacekeeping deployments are left out" in maps


class _Tables(HTMLParser):
    """Every table of a page as (headers, rows of cell text)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self.cell: list[str] | None = None
        self.row: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(([], []))
        elif tag in ("td", "th") and self.tables:
            self.cell = []
        elif tag == "tr":
            self.row = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.tables:
            heads, rows = self.tables[-1]
            if not heads:
                heads.extend(self.row)
            else:
                rows.append(self.row)

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


@pytest.mark.shared
def test_report_years_print_without_thousands_separators(built: tuple[Path, str]) -> None:
    parser = _Tables()
    parser.feed(built[1])
    year_heads = {"year", "first year", "last year", "first", "last", "period"}
    checked = 0
    for heads, rows in parser.tables:
        for i, head in enumerate(heads):
            if head.lower() not in year_heads:
                continue
            for row in rows:
                if i < len(row) and row[i]:
                    assert not re.search(r"\d,\d{3}", row[i]), (head, row)
                    checked += 1
    assert checked > 50


@pytest.mark.shared
def test_network_tables_name_communities_as_the_charts(built: tuple[Path, str]) -> None:
    _, page = built
    specs = _specs(page)
    for year in report.NETWORK_YEARS:
        spec = specs[f"network_{year}"]
        drawn = {v["id"]: v["group"] for layer in spec["layer"][1:2]
                 for v in (layer.get("data", {}).get("values") or spec["datasets"][layer["data"]["name"]])}
        part = page.split(f"<p>Most central in {year}:</p>", 1)[1]
        parser = _Tables()
        parser.feed(part.split("</table>", 1)[0] + "</table>")
        heads, rows = parser.tables[0]
        for row in rows:
            ident, community = row[heads.index("id")], row[heads.index("community")]
            assert drawn[ident] == community, (year, ident, community, drawn[ident])
