"""What every dataset module provides, and the context it ingests rows through.

A source module describes one official dataset (where to download it, its files,
version, terms and citation) and turns its files into engagements and, where
panels need them, tidy reference tables. It never writes to the store itself.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from defdip.actors import Polity, Registry, registry
from defdip.errors import DefdipError, RecordError, SourceFormatError
from defdip.model import Engagement, make_engagement


@dataclass(frozen=True)
class Download:
    """One official file: its address, the name it is saved under, its checksum, archive members."""

    url: str
    filename: str
    sha256: str | None = None
    members: tuple[str, ...] = ()
    """For an archive: the files to extract into the source folder (by base name)."""


@dataclass
class Rejection:
    file: str
    row: int | str
    field: str
    value: str
    reason: str


@dataclass
class LoadResult:
    """What a source hands the build: engagements, reference tables and its own bookkeeping."""

    engagements: list[Engagement] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    rows_read: int = 0


class IngestContext:
    """Resolves names and codes through the registry and records rejects and misses."""

    def __init__(self, source_id: str, reg: Registry | None = None):
        self.source_id = source_id
        self.registry = reg or registry()
        self.rejections: list[Rejection] = []
        self.unresolved: Counter[str] = Counter()
        self.mentions = 0

    def reject(self, file: str, row: int | str, field: str, value: Any, reason: str) -> None:
        """Quarantine one row with the reason; the build goes on with the others."""
        self.rejections.append(Rejection(str(file), row, field, "" if value is None else str(value), reason))

    def resolve(self, name: str, year: int | None = None) -> Polity | None:
        """A participant name; misses are counted (never dropped silently)."""
        self.mentions += 1
        polity = self.registry.try_resolve(name, year)
        if polity is None:
            self.unresolved[str(name).strip()] += 1
        return polity

    def resolve_code(self, kind: str, code: Any, year: int | None = None) -> Polity | None:
        """A participant code (``ccode``, ``gwcode`` or ``iso3``); misses are counted."""
        self.mentions += 1
        lookups = {"ccode": self.registry.by_ccode, "gwcode": self.registry.by_gwcode, "iso3": self.registry.by_iso3}
        try:
            value = str(code).strip() if kind == "iso3" else int(float(code))
            return lookups[kind](value, year)
        except (DefdipError, ValueError, TypeError):
            self.unresolved[f"{kind}:{code}"] += 1
            return None

    def engagement(self, data: dict[str, Any], file: str, row: int | str) -> Engagement | None:
        """Validate one record; a bad one is quarantined with its field and reason."""
        try:
            return make_engagement(data, file, row)
        except RecordError as exc:
            self.reject(file, row, exc.field or "", "", exc.message)
            return None


class Source:
    """Base class of dataset modules; subclasses set the class attributes and `load`."""

    id: ClassVar[str]
    title: ClassVar[str]
    folder: ClassVar[str]
    """Folder name inside the sources directory (several sources may share one)."""
    version: ClassVar[str]
    files: ClassVar[tuple[str, ...]]
    """Files the loader needs inside the folder."""
    downloads: ClassVar[tuple[Download, ...]] = ()
    homepage: ClassVar[str] = ""
    terms: ClassVar[str] = ""
    adds: ClassVar[str] = ""
    """One line: what this source adds to the store."""
    citation: ClassVar[str]
    """Plain-text citation."""
    bibtex: ClassVar[str]
    """BibTeX entry (or entries) to cite when using the source."""
    citation_keys: ClassVar[tuple[str, ...]]
    kind: ClassVar[str] = "engagements"
    """'engagements' for activity data, 'reference' for state lists, conflict, geography."""

    def missing_files(self, folder: Path) -> list[str]:
        return [name for name in self.files if not (folder / name).is_file()]

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        raise NotImplementedError

    def provenance(self, record_id: Any) -> dict[str, Any]:
        """The provenance entry for one of this source's records."""
        return {
            "source": self.id,
            "version": self.version,
            "record_id": str(record_id),
            "citations": list(self.citation_keys),
        }


def require_columns(frame: pd.DataFrame, columns: list[str] | tuple[str, ...], file: Path | str) -> None:
    """Raise a clear error when a source file lacks expected header columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SourceFormatError(
            f"{file}: header is missing column(s) {', '.join(missing)}; found {', '.join(map(str, frame.columns[:12]))}"
        )


def read_text_csv(path: Path, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV that may be UTF-8 or Windows-1252 (as official exports often are)."""
    try:
        return pd.read_csv(path, encoding="utf-8", **kwargs)
    except UnicodeDecodeError:
        return pd.read_csv(path, encoding="cp1252", **kwargs)
    except pd.errors.ParserError as exc:
        raise SourceFormatError(f"{path}: not a readable CSV ({exc})") from None
