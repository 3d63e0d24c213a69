"""The Source contract, for every source a build can load: every dataset module, the genealogy and user records.

Each source declares complete metadata, its years of coverage and a minimum row count, cites keys the bundled
bibliography (or its own BibTeX) defines, and loads a small fixture in its official format into records that
account for every row read, carry its provenance and lie inside its declared coverage.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from defdip.core.citations import bibliography, keys_in
from defdip.core.codebook import codebook
from defdip.core.dates import present_year
from defdip.ingest.genealogy import GenealogySource, UserSource
from defdip.ingest.sources import all_sources
from defdip.ingest.sources.base import IngestContext, LoadResult, Source, quarantined_rows
from defdip.ingest.sources.exercises import JMESource

FIXTURES = Path(__file__).resolve().parent / "fixtures"

FIXTURE_OF = {
    "atop": FIXTURES / "atop",
    "attache_postings": FIXTURES / "attaches" / "attache_postings",
    "cow_alliance": FIXTURES / "cow_alliance" / "official",
    "cow_contiguity": FIXTURES / "reference" / "cow_contiguity",
    "cow_mid": FIXTURES / "reference" / "mid_conflict",
    "dcad": FIXTURES / "dcad",
    "geopko": FIXTURES / "un_pko",
    "gml_mid": FIXTURES / "reference" / "mid_conflict",
    "jme": FIXTURES / "exercises",
    "mme": FIXTURES / "exercises",
    "natural_earth": FIXTURES / "natural_earth",
    "ru_exercises": FIXTURES / "exercises",
    "sipri": FIXTURES / "sipri",
    "state_system": FIXTURES / "reference" / "state_system",
    "un_pko": FIXTURES / "un_pko",
    "us_presence": FIXTURES / "us_presence",
    "us_visits": FIXTURES / "us_visits",
    "genealogy": FIXTURES,  # (reads no folder: its records ship with the package)
    "user": FIXTURES,  # (reads no folder: the paths it is built with)
}
"""The fixture folder each source loads. JME's official file is an .xls workbook, which nothing installed can
write: its fixture is the sheet saved as CSV, fed to ``JMESource.load_frame`` (the loader past the reader)."""


def every_source() -> list[Source]:
    return [*all_sources().values(), GenealogySource(), UserSource([FIXTURES / "user_records"])]


SOURCES = every_source()


def _load(source: Source) -> tuple[LoadResult, IngestContext]:
    ctx = IngestContext(source.id)
    if isinstance(source, JMESource):
        sheet = pd.read_csv(FIXTURES / "exercises" / "jme_v3_sheet1_2.csv", dtype=str, keep_default_na=False)
        return source.load_frame(sheet, ctx), ctx
    return source.load(FIXTURE_OF[source.id], ctx), ctx


def test_every_source_has_a_fixture():
    assert sorted(s.id for s in SOURCES) == sorted(FIXTURE_OF)
    assert len({s.id for s in SOURCES}) == len(SOURCES), "a source id is used twice"


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.id)
def test_metadata_is_complete(source: Source):
    for name in ("id", "title", "version", "citation", "adds"):
        value = getattr(source, name)
        assert isinstance(value, str) and value.strip(), f"{source.id}: {name} is empty"
    assert source.kind in ("engagements", "reference")
    if source.reads_folder:  # a dataset: where it comes from, on what terms, and its own BibTeX entry
        assert source.folder and source.homepage.startswith("http") and source.terms.strip()
        assert keys_in(source.bibtex), f"{source.id}: no BibTeX entry"
        assert source.files or type(source).missing_files is not Source.missing_files
    declared = [c for c in type(source).__mro__ if c is not Source and "min_rows" in vars(c)]
    assert declared and source.min_rows >= 1, f"{source.id}: min_rows is not declared"


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.id)
def test_coverage_is_declared(source: Source):
    """A span of years, or None for a source whose years are those of the records it is handed."""
    assert hasattr(source, "coverage"), f"{source.id}: no coverage declared"
    if source.coverage is None:
        assert source.id == "user" or not source.downloads, f"{source.id}: a published dataset has a coverage"
        return
    first, last = source.coverage
    assert isinstance(first, int) and first != 0
    assert first <= (present_year() if last is None else last) <= present_year()


def test_user_records_learn_their_coverage_from_the_records():
    assert UserSource([]).coverage is None
    user = UserSource([FIXTURES / "user_records"])
    user.load(FIXTURES, IngestContext("user"))
    assert user.coverage == (1954, 2019)


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.id)
def test_citation_keys_resolve(source: Source):
    known = set(bibliography()) | set(keys_in(source.bibtex))
    assert set(source.citation_keys) <= known, sorted(set(source.citation_keys) - known)
    if source.id != "user":  # (the user's records cite their own keys, each record checked on loading)
        assert source.citation_keys


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.id)
def test_loads_its_fixture(source: Source):
    result, ctx = _load(source)
    assert result.rows_read > 0
    accounted = result.accounted or {"kept": len(result.engagements)}
    assert sum(accounted.values()) + quarantined_rows(ctx) == result.rows_read, "rows vanished"
    if source.kind == "engagements":
        assert result.engagements
    else:
        assert any(len(t) for t in result.tables.values()) and not result.engagements
    first, last = getattr(source, "coverage", None) or (-10**6, None)
    last = present_year() if last is None else last
    activities = set(codebook().activity_ids)
    for eng in result.engagements:
        assert source.id in eng.sources, f"{eng.id}: no provenance from {source.id}"
        assert eng.activity in activities
        assert first <= eng.start_year <= last, f"{eng.id}: {eng.start_year} outside {source.coverage}"
