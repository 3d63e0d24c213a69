"""`defdip events fetch`: GDELT files from GDELT's own lists, verified by size and MD5, resumable.

GDELT 2.0 lists every 15-minute file in ``masterfilelist.txt`` (``SIZE MD5 URL`` per line); GDELT 1.0 lists
its daily and historical files in ``events/index.html`` with their MD5 (sizes there are rounded, so only
the MD5 is checked). ICEWS (Harvard Dataverse, doi:10.7910/DVN/28075) and POLECAT (Dataverse,
doi:10.7910/DVN/AJGVIT) need an account: download their yearly files by hand and pass the folder to
`defdip events ingest`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

from defdip.core.errors import DefdipError

V2_LIST = "http://data.gdeltproject.org/gdeltv2/masterfilelist.txt"
V1_INDEX = "http://data.gdeltproject.org/events/index.html"
MANUAL = ("ICEWS and POLECAT are not fetched: download them from Harvard Dataverse (ICEWS doi:10.7910/DVN/28075, "
          "POLECAT doi:10.7910/DVN/AJGVIT), place the files in one folder and run `defdip events ingest FOLDER`")


@dataclass(frozen=True)
class ListedFile:
    url: str
    size: int | None
    md5: str
    day: date

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


@dataclass
class FileResult:
    file: str
    status: str  # ok | cached | offline | failed
    message: str


def _day(name: str) -> date | None:
    match = re.match(r"(\d{4})(\d{2})?(\d{2})?", name)
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def parse_master(text: str) -> list[ListedFile]:
    """The event exports of GDELT 2.0's master file list (mentions and GKG files are left out)."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3 or not parts[2].endswith(".export.CSV.zip"):
            continue
        day = _day(parts[2].rsplit("/", 1)[-1])
        if day is not None and parts[0].isdigit():
            out.append(ListedFile(parts[2], int(parts[0]), parts[1].lower(), day))
    return out


def parse_index(text: str, base: str = V1_INDEX) -> list[ListedFile]:
    """The files of GDELT 1.0's index page: HREF, then the MD5 on the same line."""
    root = base.rsplit("/", 1)[0]
    out = []
    for match in re.finditer(r'HREF="([^"]+\.zip)"[^\n]*?\b([0-9a-f]{32})\b', text, flags=re.IGNORECASE):
        name, md5 = match.group(1), match.group(2).lower()
        day = _day(name)
        if day is not None:
            out.append(ListedFile(f"{root}/{name}", None, md5, day))
    return out


def md5sum(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _valid(path: Path, item: ListedFile) -> bool:
    return path.is_file() and (item.size is None or path.stat().st_size == item.size) and md5sum(path) == item.md5


def _download(item: ListedFile, dest: Path, client: httpx.Client,
              progress: Callable[[str, int, int | None], None]) -> None:
    """Download to ``dest.part``, resuming from its size with a Range request; verify, then move into place."""
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    with client.stream("GET", item.url, headers=headers, follow_redirects=True) as response:
        if response.status_code == 416:  # already complete
            pass
        else:
            response.raise_for_status()
            mode = "ab" if response.status_code == 206 else "wb"
            done = have if mode == "ab" else 0
            with part.open(mode) as fh:
                for chunk in response.iter_bytes(1 << 16):
                    fh.write(chunk)
                    done += len(chunk)
                    progress(item.name, done, item.size)
    if item.size is not None and part.stat().st_size != item.size:
        size = part.stat().st_size
        part.unlink()
        raise ValueError(f"{item.name}: {size} bytes, the list says {item.size}")
    if md5sum(part) != item.md5:
        part.unlink()
        raise ValueError(f"{item.name}: MD5 differs from GDELT's list")
    part.replace(dest)


def fetch(first: date, last: date, folder: Path, *, version: int = 2, client: httpx.Client | None = None,
          progress: Callable[[str, int, int | None], None] | None = None) -> list[FileResult]:
    """Fetch the GDELT event files dated ``first``..``last`` into ``folder``; one result per file."""
    if first > last:
        raise DefdipError(f"empty range: --from {first} is after --to {last}")
    if version not in (1, 2):
        raise DefdipError(f"--gdelt {version}: GDELT versions are 1 and 2")
    own = client is None
    client = client or httpx.Client(timeout=httpx.Timeout(30.0, read=120.0),
                                    headers={"User-Agent": "defdip (research software)"})
    listing = V2_LIST if version == 2 else V1_INDEX
    try:
        try:
            response = client.get(listing, follow_redirects=True)
            response.raise_for_status()
        except httpx.TransportError as exc:
            return [FileResult(listing, "offline", f"cannot reach {listing} ({type(exc).__name__}): offline? "
                                                   "download the files elsewhere and run `defdip events ingest`")]
        except httpx.HTTPStatusError as exc:
            return [FileResult(listing, "failed", f"{listing}: HTTP {exc.response.status_code}")]
        items = parse_master(response.text) if version == 2 else parse_index(response.text, listing)
        items = [i for i in items if first <= i.day <= last]
        folder.mkdir(parents=True, exist_ok=True)
        results = []
        for item in items:
            dest = folder / item.name
            if _valid(dest, item):
                results.append(FileResult(item.name, "cached", f"already in {folder}"))
                continue
            try:
                _download(item, dest, client, progress or (lambda *_: None))
                results.append(FileResult(item.name, "ok", f"saved in {folder}"))
            except httpx.TransportError as exc:
                results.append(FileResult(item.name, "offline", f"cannot reach {item.url} ({type(exc).__name__}); "
                                                                "rerun to resume"))
            except (httpx.HTTPStatusError, ValueError) as exc:
                results.append(FileResult(item.name, "failed", str(exc)))
        return results
    finally:
        if own:
            client.close()
