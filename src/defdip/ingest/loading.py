"""Loading sources for a build: in this process, or in forked workers on the machine's cores.

Each source's loader turns its files into engagements and tables; this module runs the loaders
and hands their results back in the order the build asks for them (the genealogy, user records, then
the datasets by id), so a parallel build reports, fails and writes exactly as a sequential one.
"""

from __future__ import annotations

import csv
import ctypes
import json
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from defdip.core.actors import registry
from defdip.core.codebook import codebook
from defdip.core.errors import DefdipError, SourceFormatError
from defdip.core.model import Engagement
from defdip.ingest.records import Chunk, chunk
from defdip.ingest.sources.base import IngestContext, LoadResult, Rejection, Source


@dataclass
class SourceReport:
    source: str
    status: str  # loaded | skipped | failed
    note: str = ""
    rows_read: int = 0
    engagements: int = 0
    rejected: int = 0
    mentions: int = 0
    unresolved_mentions: int = 0
    accounted: str = "{}"
    """JSON object: where the rows read went besides the quarantine (see ``LoadResult.accounted``)."""


def load_source(source: Source, folder: Path) -> tuple[LoadResult | None, IngestContext, SourceReport]:
    ctx = IngestContext(source.id)
    missing = source.missing_files(folder)
    if missing:
        how = (f"run `defdip fetch {source.id}` or point --sources at it" if source.downloads
               else "a manual source: put the files there, or point --sources at a folder that has them")
        note = f"skipped: {folder} lacks {', '.join(missing)} ({how})"
        return None, ctx, SourceReport(source.id, "skipped", note)
    result = read_guarded(source, folder, ctx)
    data_rows = result.rows_read - result.accounted.get("blank", 0)  # a file of padding rows is no dataset
    if data_rows < source.min_rows:
        found = "no data rows" if data_rows <= 0 else f"only {data_rows:,} data row(s)"
        raise SourceFormatError(
            f"{source.id}: the files in {folder} hold {found}, but a real copy has at least {source.min_rows:,} "
            f"(an empty, header-only or truncated file?); fix them or fetch them again (`defdip fetch {source.id}`)")
    accounted = result.accounted or {"kept": len(result.engagements)}
    report = SourceReport(
        source.id, "loaded", rows_read=result.rows_read, engagements=len(result.engagements),
        rejected=len(ctx.rejections), mentions=ctx.mentions, unresolved_mentions=sum(ctx.unresolved.values()),
        accounted=json.dumps(accounted, sort_keys=True))
    return result, ctx, report


def read_guarded(source: Source, folder: Path, ctx: IngestContext) -> LoadResult:
    """``source.load``, with any failure to read its files turned into one line naming the source and folder.

    Loaders report bad input as DefdipError; anything else escaping one (bytes that decode as nothing, a
    field over the csv module's limit, an unreadable file) is still the files' fault, not a reason for a
    traceback (``--debug`` shows the original).
    """
    try:
        return source.load(folder, ctx)
    except DefdipError:
        raise
    except UnicodeDecodeError as exc:
        raise SourceFormatError(f"{source.id}: a file in {folder} is not text ({exc.encoding} cannot decode byte "
                                f"{exc.start}: {exc.reason}); is it the official file?") from exc
    except OSError as exc:
        raise SourceFormatError(f"{source.id}: cannot read {exc.filename or folder} ({exc.strerror or exc})") from exc
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, csv.Error, OverflowError) as exc:
        detail = " ".join(str(exc).split())[:300] or "no detail"
        raise SourceFormatError(f"{source.id}: the files in {folder} do not have the expected layout "
                                f"({type(exc).__name__}: {detail})") from exc


@dataclass
class Loaded:
    """One source loaded, in the form a build worker hands back (plain, picklable values).

    Engagements that may merge with another source's (a ``match_key``) stay objects; the others are
    already flattened (``flat``). ``kept`` gives the positions of the objects among the source's
    engagements, so the original order of ids can be rebuilt for error messages.
    """

    report: SourceReport
    rejections: list[Rejection]
    unresolved: Counter[str]
    tables: dict[str, pd.DataFrame]
    objects: list[Engagement]
    kept: list[int]
    flat: Chunk | None
    bibtex: str = ""
    """BibTeX that came with the data (``LoadResult.bibtex``)."""


def split_for_merge(engagements: list[Engagement]) -> tuple[list[Engagement], list[int], Chunk]:
    """Engagements with a ``match_key`` (and their positions), the others flattened."""
    kept = [i for i, e in enumerate(engagements) if e.match_key is not None]
    objects = [engagements[i] for i in kept]
    flat = chunk(e for e in engagements if e.match_key is None)
    return objects, kept, flat


def _load_one(source: Source, folder: Path) -> Loaded:
    result, ctx, report = load_source(source, folder)
    if result is None:
        return Loaded(report, ctx.rejections, ctx.unresolved, {}, [], [], None)
    objects, kept, flat = split_for_merge(result.engagements)
    return Loaded(report, ctx.rejections, ctx.unresolved, result.tables, objects, kept, flat, result.bibtex)


@dataclass
class _Failed:
    """An exception raised in a build worker, carried back to be raised again as the same type and message."""

    kind: type[BaseException]
    args: tuple[Any, ...]
    state: dict[str, Any]
    trace: str = ""
    """The worker's traceback, shown with the error under ``--debug``."""

    def rebuild(self) -> BaseException:
        exc = self.kind.__new__(self.kind, *self.args)
        exc.args = self.args
        exc.__dict__.update(self.state)
        if self.trace:
            exc.add_note(f"raised in a build worker:\n{self.trace}")
        return exc


_JOBS: dict[str, tuple[Source, Path]] = {}
"""The sources a parallel build hands its workers, by id (set before the workers fork, so they inherit it)."""


def _load_task(sid: str) -> Loaded | _Failed:
    """Worker task: load one source; an error comes back as a value, to be raised in the parent in its turn."""
    source, folder = _JOBS[sid]
    try:
        return _load_one(source, folder)
    except Exception as exc:  # raised again in the parent, in source order
        trace = traceback.format_exc()
        failed = _Failed(type(exc), exc.args, dict(vars(exc)), trace)
        try:
            if str(pickle.loads(pickle.dumps(failed)).rebuild()) != str(exc):
                raise ValueError("the message does not survive the trip") from None
        except Exception:  # carried as text (an exception whose state lives outside args and __dict__)
            failed = _Failed(DefdipError if isinstance(exc, DefdipError) else RuntimeError,
                             (f"{type(exc).__name__}: {exc}",), {}, trace)
        return failed


_PR_SET_PDEATHSIG = 1
"""prctl option: the signal the kernel sends this process when its parent exits (Linux)."""


def worker_init(parent: int) -> None:
    """Worker initializer: end this worker when the build process that forked it ends, however it ends.

    On Linux the kernel kills the worker (prctl PDEATHSIG) as soon as the parent dies, even while the
    worker is blocked writing results to a pipe nobody reads any more; elsewhere a watchdog thread
    notices the parent has gone within a second. A parent that died before this ran is checked for too.
    """
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:
        os._exit(1)
    if not armed:
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1)
            os._exit(1)

        threading.Thread(target=watch, name="defdip-parent-watch", daemon=True).start()


def worker_count(n_tasks: int) -> int:
    """How many processes load sources: DEFDIP_BUILD_WORKERS, else up to two of the CPUs this process may use.

    One (load in this process) when only one source has files to load, where 'fork' is unavailable
    (workers must inherit the loaded registry and the sources) or where other non-daemon threads run
    (forking a threaded process risks a deadlock in the child). Daemon helpers such as the CLI's
    progress-bar refresher are ignored: the workers never touch what they hold, and counting them
    made every `defdip build` from the command line load in one process.
    """
    setting = os.environ.get("DEFDIP_BUILD_WORKERS", "").strip()
    if setting:
        try:
            wanted = max(1, int(setting))
        except ValueError:
            raise DefdipError(f"DEFDIP_BUILD_WORKERS must be a whole number, not {setting!r}") from None
    else:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        wanted = min(2, cpus)
    others = [t for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon]
    if ("fork" not in multiprocessing.get_all_start_methods() or others
            or multiprocessing.current_process().daemon):
        return 1
    return max(1, min(wanted, n_tasks))


def _files_cost(source: Source, folder: Path) -> int:
    """Bytes of the files a source reads (larger ones are handed out first)."""
    try:
        return sum((folder / name).stat().st_size for name in source.files if (folder / name).is_file())
    except OSError:
        return 0


class Loader:
    """Loads sources for the build, in the order it asks for them: in this process, or in forked workers.

    Each source with files to read is one task; the largest are handed out first and each worker takes
    the next when it is free (sources that read no folder load in this process). Results are taken in
    the build's order whatever the order the workers finish in, and a worker's error is raised again when
    its source's turn comes, so a parallel build reports, fails and writes exactly as a sequential one.
    """

    def __init__(self, sources: dict[str, Source], folder_root: Path):
        self.sources = sources
        self.folder_root = folder_root
        self.pool: ProcessPoolExecutor | None = None
        self.futures: dict[str, Future[Loaded | _Failed]] = {}
        """Each source handed to a worker and not yet taken by :meth:`load`."""
        self.handed: set[str] = set()
        """Sources whose tables went to the caller's ``early`` before their turn."""
        ready = [sid for sid, source in sources.items()
                 if source.reads_folder and not source.missing_files(folder_root / source.folder)]
        workers = worker_count(len(ready))
        if workers < 2:
            return
        registry()  # loaded once here; the workers inherit it
        codebook()
        _JOBS.clear()
        _JOBS.update({sid: (source, folder_root / source.folder) for sid, source in sources.items()})
        try:
            self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                                            initializer=worker_init, initargs=(os.getpid(),))
            cost = {sid: _files_cost(sources[sid], folder_root / sources[sid].folder) for sid in ready}
            for sid in sorted(ready, key=lambda s: (-cost[s], s)):
                self.futures[sid] = self.pool.submit(_load_task, sid)
        except OSError:  # no processes to be had: load here
            self.close()
            self.futures.clear()

    def _result(self, sid: str, future: Future[Loaded | _Failed]) -> Loaded | _Failed:
        """A finished task's result; a worker that died is one clear line."""
        try:
            return future.result()
        except BrokenProcessPool:
            raise DefdipError(f"the build worker loading {sid} died (killed, or out of memory?); the previous "
                              "store is unchanged; build again, or with DEFDIP_BUILD_WORKERS=1 to load in one "
                              "process") from None

    def load(self, sid: str, early: Callable[[str, Loaded], None] | None = None) -> Loaded:
        """The source ``sid`` loaded (raising what its loader raised).

        While it waits, ``early(id, loaded)`` is called once for each source that other workers have
        finished meanwhile, in the order they finish (the caller writes their tables then).
        """
        future = self.futures.pop(sid, None)
        if future is None:
            return _load_one(self.sources[sid], self.folder_root / self.sources[sid].folder)
        while not future.done():
            if early is not None:
                self._hand_over_finished(early)
            wait([future, *(f for f in self.futures.values() if not f.done())], return_when=FIRST_COMPLETED)
        if early is not None:
            self._hand_over_finished(early)
        loaded = self._result(sid, future)
        if isinstance(loaded, _Failed):
            raise loaded.rebuild()
        return loaded

    def _hand_over_finished(self, early: Callable[[str, Loaded], None]) -> None:
        """Call ``early`` once for each other source a worker has finished loading without an error."""
        for other, done in self.futures.items():
            if done.done() and other not in self.handed and done.exception() is None:
                result = done.result()
                if isinstance(result, Loaded):
                    early(other, result)
                self.handed.add(other)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
            _JOBS.clear()
