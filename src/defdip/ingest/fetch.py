"""Download sources from their official addresses into the cache, verified by checksum."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from defdip.core import config
from defdip.ingest.sources import all_sources, get_source
from defdip.ingest.sources.base import Download, Source

Progress = Callable[[str, int, int | None], None]
"""Callback(file name, bytes so far, total bytes or None)."""


@dataclass
class FetchResult:
    source: str
    status: str  # ok | cached | offline | failed | manual
    message: str


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(item: Download, dest: Path, client: httpx.Client, progress: Progress) -> None:
    partial = dest.with_name(dest.name + ".part")
    with client.stream("GET", item.url, follow_redirects=True) as response:
        response.raise_for_status()
        total = int(response.headers.get("content-length") or 0) or None
        done = 0
        with partial.open("wb") as fh:
            for chunk in response.iter_bytes(1 << 16):
                fh.write(chunk)
                done += len(chunk)
                progress(item.filename, done, total)
    if item.sha256 and sha256(partial) != item.sha256:
        partial.unlink(missing_ok=True)
        raise ValueError(f"checksum mismatch for {item.filename} from {item.url}")
    partial.replace(dest)


def _extract(archive: Path, members: tuple[str, ...], folder: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        names = {Path(n).name: n for n in zf.namelist()}
        for member in members:
            if member not in names:
                raise ValueError(f"{archive.name} has no member {member}")
            with zf.open(names[member]) as src, (folder / member).open("wb") as out:
                shutil.copyfileobj(src, out)


def fetch_source(source: Source, cache: Path | None = None, progress: Progress | None = None,
                 client: httpx.Client | None = None) -> FetchResult:
    """Fetch one source's files into ``cache/<folder>``; files already there and valid are kept."""
    folder = (cache or config.cache_dir()) / source.folder
    folder.mkdir(parents=True, exist_ok=True)
    if not source.downloads:
        return FetchResult(source.id, "manual", f"no public download; place {', '.join(source.files)} in {folder}")
    if not source.missing_files(folder):
        return FetchResult(source.id, "cached", f"already in {folder}")
    own = client is None
    client = client or httpx.Client(timeout=httpx.Timeout(30.0, read=120.0),
                                    headers={"User-Agent": "defdip (research software)"})
    try:
        for item in source.downloads:
            dest = folder / item.filename
            if not dest.is_file() or (item.sha256 and sha256(dest) != item.sha256):
                _download(item, dest, client, progress or (lambda *_: None))
            if item.members:
                _extract(dest, item.members, folder)
    except httpx.TransportError as exc:
        return FetchResult(source.id, "offline", f"cannot reach {item.url} ({type(exc).__name__}); "
                                                 f"place the files in {folder} or use --sources")
    except (httpx.HTTPStatusError, ValueError, zipfile.BadZipFile) as exc:
        return FetchResult(source.id, "failed", str(exc))
    finally:
        if own:
            client.close()
    missing = source.missing_files(folder)
    if missing:
        return FetchResult(source.id, "failed", f"download did not provide {', '.join(missing)}")
    return FetchResult(source.id, "ok", f"saved in {folder}")


def fetch(source_ids: list[str] | None = None, cache: Path | None = None,
          progress: Progress | None = None) -> list[FetchResult]:
    """Fetch the named sources (default: all) and report each one's outcome."""
    sources = [get_source(s) for s in source_ids] if source_ids else list(all_sources().values())
    return [fetch_source(s, cache, progress) for s in sources]
