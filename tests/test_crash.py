"""A build killed with SIGKILL at random moments leaves the previous store intact, no process of its own alive and
no debris that outlives the next build (bounded: four kills, each within a few seconds; the first lands while
the loader workers run, the others at random moments)."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from conftest import table_dump

from defdip.ingest import build as store_mod
from defdip.ingest import guard

ONLY = ["cow_alliance", "un_pko", "state_system", "us_presence"]
"""Four sources in four folders: the build forks its two loader workers."""

KILLS = 4
SEED = 9


def _session(sid: int) -> list[int]:
    """Processes of the session ``sid`` (the killed build was its leader; its workers inherit it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def _start(target: Path, sources: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "defdip", "build", "--sources", str(sources), "--store", str(target), "-f", "json"]
    for sid in ONLY:
        cmd += ["--only", sid]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            env={**os.environ, "DEFDIP_BUILD_WORKERS": "2"})


def test_killed_builds_leave_the_store_and_nothing_running(tmp_path, shared_data):
    target = tmp_path / "defdip.duckdb"
    started = time.monotonic()
    first = _start(target, shared_data)
    assert first.wait(timeout=300) == 0, first.stderr.read()
    duration = time.monotonic() - started
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    tables = table_dump(target)
    rng = random.Random(SEED)
    with_workers = 0
    for trial in range(KILLS):
        build = _start(target, shared_data)
        if trial == 0:  # once while the loader workers run (a window of well under a second on a fast machine)
            deadline = time.monotonic() + 60
            while len(_session(build.pid)) < 2 and build.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
        else:
            time.sleep(rng.uniform(0.1, max(0.2, duration * 0.9)))  # anywhere from start-up to the final write
        with_workers += len(_session(build.pid)) > 1
        build.kill()
        build.wait(timeout=30)
        deadline = time.monotonic() + 10
        while _session(build.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _session(build.pid) == [], f"trial {trial}: processes of the killed build are still running"
        if hashlib.sha256(target.read_bytes()).hexdigest() != before:  # killed after it swapped the new one in
            assert table_dump(target) == tables, f"trial {trial}: the store changed"
            before = hashlib.sha256(target.read_bytes()).hexdigest()
        leftovers = guard.debris(target)
        assert all(not d["running"] for d in leftovers)
        assert {d["pid"] for d in leftovers} <= {build.pid}, "debris of earlier builds was not removed"
    assert with_workers, "no kill came while the loader workers ran: the test proves nothing about them"
    assert store_mod.status(target)["engagements"] > 0  # still a readable store
    last = _start(target, shared_data)
    assert last.wait(timeout=300) == 0, last.stderr.read()
    assert guard.debris(target) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
