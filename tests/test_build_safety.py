"""A build never drops sources silently, runs one at a time per store, cleans up after dead builds and fails
with one clear line (the previous store kept byte-identical) on empty files, bad bytes and a full disk."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from defdip.core.errors import DefdipError, RecordError, SourceFormatError, StoreError
from defdip.ingest import build as store_mod
from defdip.ingest import guard, loading
from defdip.ingest.sources.base import LoadResult, Source
from defdip.ingest.sources.cow_alliance import SUMMARY_FILE, COWAlliance

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def cow_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sources folder holding only the COW alliance fixture (min_rows lowered to the fixture's size)."""
    root = tmp_path / "sources"
    shutil.copytree(FIXTURES / "cow_alliance" / "summary", root / COWAlliance.folder)
    monkeypatch.setattr(COWAlliance, "min_rows", 5)
    return root


@pytest.fixture()
def cow_store(tmp_path: Path, cow_folder: Path) -> Path:
    target = tmp_path / "store.duckdb"
    store_mod.build(target, cow_folder, only=["cow_alliance"])
    return target


def test_build_refuses_to_drop_a_source_the_store_holds(tmp_path, cow_folder, cow_store):
    before = digest(cow_store)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DefdipError, match=r"refusing to build: .* holds cow_alliance, .*lacks the files of "
                                          r"cow_alliance.*--replace") as info:
        store_mod.build(cow_store, empty)
    assert "\n" not in str(info.value)
    with pytest.raises(DefdipError, match="--only leaves out cow_alliance"):
        store_mod.build(cow_store, cow_folder, only=["dcad"])
    assert digest(cow_store) == before
    store_mod.build(cow_store, cow_folder)  # the same sources (and more, none of which has files): fine
    report = store_mod.build(cow_store, empty, replace=True)
    assert {r.source: r.status for r in report.sources}["cow_alliance"] == "skipped"
    assert "cow_alliance" not in store_mod.status(cow_store)["per_source"]


def test_build_refuses_to_drop_user_records(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    target = tmp_path / "store.duckdb"
    store_mod.build(target, empty, records=[FIXTURES / "user_records"])
    with pytest.raises(DefdipError, match="holds user, .*no --records given"):
        store_mod.build(target, empty)


def test_cli_build_replace(tmp_path, cow_store):
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {**os.environ, "DEFDIP_SOURCES": str(empty)}
    cmd = [sys.executable, "-m", "defdip", "build", "--store", str(cow_store), "--only", "dcad", "-f", "json"]
    refused = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert refused.returncode == 1 and "refusing to build" in refused.stderr and "Traceback" not in refused.stderr
    done = subprocess.run(cmd + ["--replace"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr


def test_second_build_fails_naming_the_running_one(tmp_path, cow_store, cow_folder):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from defdip.ingest import guard; "
                               f"cm = guard.build_lock(__import__('pathlib').Path({str(cow_store)!r})); "
                               "cm.__enter__(); print('locked', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = digest(cow_store)
        with pytest.raises(StoreError, match=rf"another build of .* is running \(process {holder.pid}\)"):
            store_mod.build(cow_store, cow_folder)
        assert digest(cow_store) == before
    finally:
        holder.kill()
        holder.wait()
    store_mod.build(cow_store, cow_folder)  # the lock went with its process
    assert not guard.lock_path(cow_store).exists()


def _dead_pid() -> int:
    probe = subprocess.Popen([sys.executable, "-c", "pass"])
    probe.wait()
    return probe.pid


def test_debris_of_dead_builds_is_shown_and_removed(tmp_path, cow_store, cow_folder):
    dead = _dead_pid()
    leftovers = [cow_store.with_name(f"{cow_store.name}.building-{dead}"),
                 cow_store.with_name(f"{cow_store.name}.building-{dead}.wal")]
    for path in leftovers:
        path.write_bytes(b"x" * 100)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    running = cow_store.with_name(f"{cow_store.name}.building-{sleeper.pid}")  # as if another build ran
    running.write_bytes(b"y")
    try:
        seen = store_mod.status(cow_store)["debris"]
        assert sorted((Path(d["path"]).name, d["running"], d["bytes"]) for d in seen) == sorted([
            (leftovers[0].name, False, 100), (leftovers[1].name, False, 100), (running.name, True, 1)])
        out = subprocess.run([sys.executable, "-m", "defdip", "status", "--store", str(cow_store)],
                             capture_output=True, text=True, timeout=120)
        text = " ".join(out.stdout.split())
        assert out.returncode == 0 and "the next `defdip build` removes it" in text and "still running" in text
        store_mod.build(cow_store, cow_folder)
        assert not any(p.exists() for p in leftovers)
        assert running.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    store_mod.build(cow_store, cow_folder)
    assert store_mod.status(cow_store)["debris"] == []


def test_header_only_file_fails_the_build_and_keeps_the_store(tmp_path, cow_folder, cow_store):
    before = digest(cow_store)
    path = cow_folder / COWAlliance.folder / SUMMARY_FILE
    path.write_text(path.read_text().splitlines()[0] + "\n")
    with pytest.raises(SourceFormatError, match=f"{SUMMARY_FILE}: the file has a header but no data rows"):
        store_mod.build(cow_store, cow_folder)
    assert digest(cow_store) == before


def test_fewer_rows_than_the_declared_minimum_fail_the_build(tmp_path, cow_folder, cow_store, monkeypatch):
    before = digest(cow_store)
    monkeypatch.setattr(COWAlliance, "min_rows", 1000)
    with pytest.raises(SourceFormatError, match=r"cow_alliance: .* hold only 20 data row\(s\), but a real copy "
                                                r"has at least 1,000"):
        store_mod.build(cow_store, cow_folder)
    assert digest(cow_store) == before


@pytest.mark.parametrize("content", [b"", b"\n\n", b"# nothing here\n"])
def test_empty_user_records_fail_the_build(tmp_path, content):
    records = tmp_path / "mine.yaml"
    records.write_bytes(content)
    with pytest.raises(RecordError, match="mine.yaml: holds no records"):
        store_mod.build(tmp_path / "s.duckdb", tmp_path, records=[records])
    assert not (tmp_path / "s.duckdb").exists()


def test_non_utf8_user_records_are_one_clear_line(tmp_path):
    records = tmp_path / "mine.yaml"
    records.write_bytes((FIXTURES / "user_records" / "records.yaml").read_text().replace(
        "Pakistan", "Paki\u00dftan").encode("latin-1"))
    with pytest.raises(RecordError, match="mine.yaml: not UTF-8 text"):
        store_mod.build(tmp_path / "s.duckdb", tmp_path, records=[records])


@pytest.mark.parametrize("error", [duckdb.IOException("No space left on device"),
                                   duckdb.FatalException("Failed to commit: disk full"),
                                   OSError(28, "No space left on device")])
def test_full_disk_at_commit_is_one_line_and_keeps_the_store(tmp_path, cow_folder, cow_store, monkeypatch,
                                                              error):
    before = digest(cow_store)
    real = store_mod._write

    def failing(con, name, frame):
        if name == "meta":
            raise error
        real(con, name, frame)

    monkeypatch.setattr(store_mod, "_write", failing)
    with pytest.raises(StoreError, match=r"could not write the new store beside .*store\.duckdb .*previous store "
                                         r"is unchanged"):
        store_mod.build(cow_store, cow_folder)
    assert digest(cow_store) == before
    assert store_mod.status(cow_store)["debris"] == []


class Garbled(Source):
    """A loader tripping over bytes that are no text (what a binary file under a CSV's name does)."""

    id = "garbled"
    title = "A source whose file is binary"
    folder = "garbled"
    version = "0"
    files = ()
    citation = "none"
    bibtex = ""
    citation_keys = ("none",)

    def load(self, folder, ctx) -> LoadResult:
        (folder / "data.csv").read_bytes().decode("utf-8")
        return LoadResult()


class Plenty(Garbled):
    id = "plenty"
    folder = "plenty"

    def load(self, folder, ctx) -> LoadResult:
        return LoadResult(rows_read=1)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_unexpected_loader_error_reaches_the_user_intact(tmp_path, monkeypatch, workers):
    for name in ("garbled", "plenty"):
        (tmp_path / name).mkdir()
    (tmp_path / "garbled" / "data.csv").write_bytes(bytes(range(256)) * 4)
    monkeypatch.setenv("DEFDIP_BUILD_WORKERS", workers)
    monkeypatch.setattr(store_mod, "all_sources", lambda: {"garbled": Garbled(), "plenty": Plenty()})
    with pytest.raises(SourceFormatError, match=r"garbled: a file in .*garbled is not text \(utf-8 cannot decode "
                                                r"byte 128: invalid start byte\)"):
        store_mod.build(tmp_path / "s.duckdb", tmp_path)
    assert not list(tmp_path.glob("s.duckdb*"))


def test_workers_die_with_their_parent(tmp_path):
    """A forked build worker ends as soon as the process that forked it is killed."""
    script = (
        "import os, sys, time\n"
        "from defdip.ingest import loading\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "import multiprocessing\n"
        "pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('fork'),\n"
        "                           initializer=loading.worker_init, initargs=(os.getpid(),))\n"
        "print(pool.submit(os.getpid).result(), flush=True)\n"
        "time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    worker = int(parent.stdout.readline())
    assert guard.process_alive(worker)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while guard.process_alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not guard.process_alive(worker)


class Dying(Garbled):
    """A loader whose process disappears (what the kernel's out-of-memory killer does to a worker)."""

    id = "dying"
    folder = "dying"

    test_process = os.getpid()

    def load(self, folder, ctx) -> LoadResult:
        if os.getpid() == self.test_process:  # never take the test run down with it
            raise AssertionError("the dying loader ran in the test process, not in a build worker")
        os._exit(9)


def test_a_worker_that_dies_is_one_clear_line(tmp_path, monkeypatch):
    for name in ("dying", "plenty"):
        (tmp_path / name).mkdir()
    monkeypatch.setenv("DEFDIP_BUILD_WORKERS", "2")
    # earlier tests in the run may leave threads behind, which makes a build load in-process: fork anyway
    monkeypatch.setattr(loading, "worker_count", lambda n_groups: 2)
    monkeypatch.setattr(store_mod, "all_sources", lambda: {"dying": Dying(), "plenty": Plenty()})
    with pytest.raises(DefdipError, match=r"the build worker loading (dying|plenty) died"):
        store_mod.build(tmp_path / "s.duckdb", tmp_path)
    assert not list(tmp_path.glob("s.duckdb*"))
