"""Builds are complete, repeatable and atomic; status reports what is in the store."""

import hashlib
from pathlib import Path

import pytest
from conftest import table_dump

from defdip.core.errors import DefdipError, SourceFormatError
from defdip.ingest import build as store_mod
from defdip.ingest import loading
from defdip.ingest.genealogy import GenealogySource
from defdip.ingest.matching import merge_duplicates
from defdip.ingest.sources import all_sources
from defdip.ingest.sources.base import LoadResult, Source


def test_genealogy_store_counts(genealogy_store):
    info = store_mod.status(genealogy_store)
    assert info["engagements"] >= 150
    assert set(info["per_activity"]) == {"contacts", "attaches", "exercises", "agreements"}
    assert info["first_year"] <= -2000 and info["last_year"] >= 2020
    skipped = [r for r in info["ingest"] if r["status"] == "skipped"]
    assert skipped and all("lacks" in r["note"] for r in skipped)


def test_rebuild_gives_the_same_store(tmp_path, genealogy_store):
    again = tmp_path / "again.duckdb"
    store_mod.build(again, genealogy_store.parent / "no-sources")  # the same inputs as the fixture
    assert table_dump(again) == table_dump(genealogy_store)


class Broken(Source):
    id = "broken"
    title = "A source whose file is malformed"
    folder = "broken"
    version = "0"
    files = ()
    citation = "none"
    bibtex = ""
    citation_keys = ("none",)

    def load(self, folder, ctx) -> LoadResult:
        raise SourceFormatError(f"{folder}/broken.csv: header is missing column(s) ccode")


def test_failed_build_leaves_previous_store_intact(tmp_path, genealogy_store, monkeypatch):
    target = tmp_path / "store.duckdb"
    target.write_bytes(genealogy_store.read_bytes())
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    monkeypatch.setattr(store_mod, "all_sources", lambda: {"broken": Broken()})
    with pytest.raises(SourceFormatError, match="broken.csv: header is missing"):
        store_mod.build(target, tmp_path)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.duckdb"]


def test_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(store_mod.StoreError, match="run `defdip build` first"):
        store_mod.status(tmp_path / "nope.duckdb")


def test_merge_duplicates_keeps_both_provenances():
    from defdip.core.model import make_engagement

    def ex(src, pid):
        return make_engagement(dict(
            id=f"{src}-1", title="Cobra Gold", activity="exercises", instrument="exercise", start_year=1995,
            participants=[dict(id="USA", role="participant"), dict(id=pid, role="participant")],
            provenance=[dict(source=src, version="1", record_id="1", citations=[src])],
            match_key="cobra gold|1995"), "t", 1)

    merged = merge_duplicates([ex("jme", "THI"), ex("mme", "SIN")])
    assert len(merged) == 1
    assert [p.source for p in merged[0].provenance] == ["jme", "mme"]
    assert [p.id for p in merged[0].participants] == ["USA", "THI", "SIN"]


def test_parallel_and_sequential_builds_are_identical(tmp_path, shared_data, monkeypatch):
    only = ["atop", "dcad", "mme", "jme"]  # three folders: the parallel path hands them to two workers
    monkeypatch.setenv("DEFDIP_BUILD_WORKERS", "2")
    assert loading.worker_count(3) == 2, "this machine should fork build workers"
    store_mod.build(tmp_path / "parallel.duckdb", shared_data, only=only)
    monkeypatch.setenv("DEFDIP_BUILD_WORKERS", "1")
    store_mod.build(tmp_path / "sequential.duckdb", shared_data, only=only)
    assert table_dump(tmp_path / "parallel.duckdb") == table_dump(tmp_path / "sequential.duckdb")


class Fine(Broken):
    id = "fine"
    folder = "fine"

    def load(self, folder, ctx) -> LoadResult:
        return LoadResult(rows_read=0)


def test_worker_error_reaches_the_caller_and_keeps_the_store(tmp_path, genealogy_store, monkeypatch):
    target = tmp_path / "store.duckdb"
    target.write_bytes(genealogy_store.read_bytes())
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    for name in ("broken", "fine"):
        (tmp_path / name).mkdir()
    monkeypatch.setenv("DEFDIP_BUILD_WORKERS", "2")
    monkeypatch.setattr(store_mod, "all_sources", lambda: {"broken": Broken(), "fine": Fine()})
    with pytest.raises(SourceFormatError, match="broken.csv: header is missing column"):
        store_mod.build(target, tmp_path)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before
    assert not [p for p in tmp_path.iterdir() if ".building" in p.name]


def test_cli_progress_bar_does_not_stop_parallel_loading(monkeypatch):
    """The CLI's progress bar runs a daemon refresh thread; a build under it still forks its workers."""
    from defdip.cli.app import step_progress

    monkeypatch.setenv("DEFDIP_BUILD_WORKERS", "2")
    with step_progress("build", 10, disable=False):
        assert loading.worker_count(3) == 2


def test_a_dataset_may_not_take_an_id_of_the_builds_own_sources(tmp_path, monkeypatch):
    class Impostor(Fine):
        id = "genealogy"

    monkeypatch.setattr(store_mod, "all_sources", lambda: {"genealogy": Impostor()})
    with pytest.raises(DefdipError, match="source id 'genealogy' is the build's own"):
        store_mod.build(tmp_path / "s.duckdb", tmp_path)
    assert not list(tmp_path.glob("s.duckdb*"))


def test_the_build_loads_the_genealogy_and_user_records_as_sources(tmp_path):
    """The genealogy comes first (its records keep their ids when an event merges), then the user's, then datasets;
    the sources table lists the user's records but not the bundled genealogy."""
    records = [Path(__file__).parent / "fixtures" / "user_records"]
    order = list(store_mod.build_sources(all_sources(), records))
    assert order[:2] == ["genealogy", "user"] and order[2:] == sorted(all_sources())
    assert list(store_mod.build_sources(all_sources(), [])) == ["genealogy", *sorted(all_sources())]
    report = store_mod.build(tmp_path / "s.duckdb", tmp_path / "none", records=records)
    assert [r.source for r in report.sources][:2] == ["genealogy", "user"]
    assert GenealogySource().catalogue_row("loaded", "") is None
    info = store_mod.status(tmp_path / "s.duckdb")
    assert info["per_source"]["user"] == 2 and info["per_source"]["genealogy"] > 250
