"""What keeps a build safe around the store: one build at a time, no debris of dead builds, no source lost.

A build writes ``<store>.building-<pid>`` (and DuckDB's ``.wal`` beside it) and swaps it in when complete.
A build that is killed leaves those files behind; the next build removes the ones whose process is gone,
and ``defdip status`` lists any it sees. Two builds of one store would race to swap in their result, so a
build holds an exclusive lock on ``<store>.lock`` for as long as it runs. A build that would leave out a
source the current store holds (a new shell without DEFDIP_SOURCES, an ``--only``) refuses unless asked
to replace the store.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from defdip.core.errors import DefdipError, StoreError

BUILDING = ".building-"
"""The infix of a build's temporary store: ``defdip.duckdb.building-<pid>``."""


def lock_path(target: Path) -> Path:
    return target.with_name(target.name + ".lock")


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` is running (a zombie, dead but not yet reaped, is not)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _pid_of(path: Path, target: Path) -> int | None:
    """The build process a temporary file belongs to (``<store>.building-<pid>[.wal]``), or None."""
    tail = path.name[len(target.name + BUILDING):]
    digits = tail.removesuffix(".wal")
    return int(digits) if digits.isdigit() else None


def debris(target: Path) -> list[dict[str, Any]]:
    """Temporary files of builds of ``target``: path, pid, whether that build still runs, size in bytes."""
    target = Path(target)
    if not target.parent.is_dir():
        return []
    found = []
    for path in sorted(target.parent.glob(target.name + BUILDING + "*")):
        pid = _pid_of(path, target)
        if pid is None or not path.is_file():
            continue
        try:
            size = path.stat().st_size
        except OSError:
            continue
        found.append({"path": str(path), "pid": pid, "running": process_alive(pid), "bytes": size})
    return found


def remove_debris(target: Path) -> list[str]:
    """Remove the temporary files of earlier builds whose process is gone; returns the paths removed."""
    removed = []
    for item in debris(target):
        if item["running"] or item["pid"] == os.getpid():
            continue
        try:
            Path(item["path"]).unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StoreError(f"cannot remove {item['path']}, left by a build that died ({exc.strerror})") from None
        removed.append(item["path"])
    return removed


@contextmanager
def build_lock(target: Path) -> Iterator[None]:
    """Hold the store's build lock while the block runs; a clear error naming the holder when it is taken.

    The lock file holds the running build's PID. It is removed when the build ends; a build that finds the
    file replaced under it (removed and created again by another build) takes the new one, so two builds
    never hold locks on two different files.
    """
    path = lock_path(Path(target))
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise StoreError(f"cannot lock {path} ({exc.strerror})") from None
            holder = _holder(path)
            raise StoreError(f"another build of {target} is running (process {holder}); wait for it to finish, "
                             f"or stop that process and build again") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the file we locked was removed by the build that just finished: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        os.close(fd)


def _holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"


def held_sources(target: Path) -> list[str]:
    """The sources (and ``user`` records) the store at ``target`` was built with; [] when none can be read."""
    if not Path(target).is_file():
        return []
    try:
        con = duckdb.connect(str(target), read_only=True)
    except duckdb.Error:
        return []  # not a store we can read: nothing to lose by replacing it
    try:
        rows = con.execute("SELECT source FROM ingest_report WHERE status = 'loaded' ORDER BY 1").fetchall()
    except duckdb.Error:
        return []
    finally:
        con.close()
    return [r[0] for r in rows]


def refuse_to_drop(target: Path, held: list[str], loading: set[str], left_out: set[str], folder: Path,
                   has_records: bool, user_source: str) -> None:
    """Raise one line naming the sources the store holds that this build would not load, and how to proceed.

    ``loading``: the sources this build will load; ``left_out``: those ``--only`` leaves out; ``folder``: the
    sources folder in use (the others lack files there).
    """
    dropped = [s for s in held if s not in loading and s != "genealogy" and (s != user_source or not has_records)]
    if not dropped:
        return
    reasons = []
    only = [s for s in dropped if s in left_out]
    lacking = [s for s in dropped if s not in left_out and s != user_source]
    if only:
        reasons.append(f"--only leaves out {', '.join(only)}")
    if lacking:
        reasons.append(f"{folder} lacks the files of {', '.join(lacking)}")
    if user_source in dropped:
        reasons.append("no --records given for your own records")
    raise DefdipError(f"refusing to build: the store {target} holds {', '.join(dropped)}, which this build would "
                      f"drop ({'; '.join(reasons)}); point --sources (or DEFDIP_SOURCES) at the folder that has "
                      f"them, or pass --replace to build without them")
