"""What every dataset module provides, and the context it ingests rows through.

A source module describes one official dataset (where to download it, its files,
version, terms and citation) and turns its files into engagements and, where
panels need them, tidy reference tables. It never writes to the store itself.
"""

from __future__ import annotations

import calendar
import csv
import datetime as _dt
import io
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pandas as pd

from defdip.core.actors import Polity, Registry, registry
from defdip.core.dates import present_year
from defdip.core.errors import DefdipError, RecordError, SourceFormatError
from defdip.core.model import Engagement, make_engagement


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
    accounted: dict[str, int] = field(default_factory=dict)
    """Where the rows read went, besides the quarantine: e.g. ``{"kept": 1871}`` or, for a source that
    aggregates rows, ``{"kept": 3000, "aggregated into spells": 117000, "blank": 2}``. Empty means every
    row not rejected became one engagement (``{"kept": len(engagements)}``). ``defdip validate`` checks
    that these and the quarantined rows add up to ``rows_read``: nothing else may vanish."""
    bibtex: str = ""
    """BibTeX that came with the data (a researcher's own ``.bib`` beside it) for keys its records cite: the
    build adds it to the source's row of the ``sources`` table, so exports and ``defdip validate`` resolve
    those keys like the dataset's own."""


@dataclass
class Check:
    """One line of ``defdip validate``: a figure or invariant compared with what the source says."""

    source: str
    name: str
    expected: Any
    actual: Any
    ok: bool
    kind: str = "parity"
    """'accounting' (rows read are all accounted for), 'parity' (a figure the source publishes or its own
    file gives) or 'invariant' (a rule every stored record must keep)."""
    note: str = ""
    """Why a figure differs from the source's, when it does and that is explained."""


CODE_KINDS = ("ccode", "gwcode", "iso3")


def find_code(reg: Registry, kind: str, code: Any, year: int | None = None, *, strict: bool = True) -> Polity | None:
    """The polity of a ``ccode``, ``gwcode`` or ``iso3`` code in ``year``, or None; nothing is counted.

    For comparisons and look-aheads that must not touch the ingest counts (use
    :meth:`IngestContext.resolve_code` for participants). The registry's code lookups are
    always strict; ``strict=False`` retries without the year when the code names no polity
    that existed in ``year`` (for a state the same polity, for an ISO3 or G-W code reused
    over time its current holder).
    """
    if kind not in CODE_KINDS:
        raise ValueError(f"unknown code kind {kind!r}; expected one of {', '.join(CODE_KINDS)}")
    lookups: dict[str, Callable[[Any, int | None], Polity]] = {
        "ccode": reg.by_ccode, "gwcode": reg.by_gwcode, "iso3": reg.by_iso3}
    lookup = lookups[kind]
    try:
        value = str(code).strip() if kind == "iso3" else int(float(code))
    except (ValueError, TypeError, OverflowError):
        return None
    for when in (year, None) if not strict and year is not None else (year,):
        try:
            return lookup(value, when)
        except (DefdipError, ValueError, TypeError):
            continue
    return None


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

    def resolve(self, name: str, year: int | None = None, *, strict: bool = True) -> Polity | None:
        """A participant name; misses are counted (never dropped silently).

        ``strict=False`` is for sources that name a place before (or after) the polity
        existed, e.g. an order placed before a recipient's independence: a polity that
        existed in ``year`` is still preferred, and only failing that is a namesake taken
        whatever the year (check ``polity.existed(year)`` to tell).
        """
        self.mentions += 1
        polity = self.registry.try_resolve(name, year)
        if polity is None and not strict and year is not None:
            polity = self.registry.try_resolve(name, year, strict=False)
        if polity is None:
            self.unresolved[str(name).strip()] += 1
        return polity

    def resolve_code(self, kind: str, code: Any, year: int | None = None, *, strict: bool = True) -> Polity | None:
        """A participant code (``ccode``, ``gwcode`` or ``iso3``); misses are counted.

        ``strict=False`` as in :meth:`resolve` (see :func:`find_code`).
        """
        self.mentions += 1
        polity = find_code(self.registry, kind, code, year, strict=strict)
        if polity is None:
            self.unresolved[f"{kind}:{code}"] += 1
        return polity

    def engagement(self, data: dict[str, Any], file: str, row: int | str) -> Engagement | None:
        """Validate one record; a bad one is quarantined with its field and reason."""
        try:
            return make_engagement(data, file, row)
        except RecordError as exc:
            self.reject(file, row, exc.field or "", "", exc.message)
            return None


class Source:
    """What the build loads: each dataset module's sources, the bundled genealogy and a researcher's records
    (:mod:`defdip.ingest.genealogy`); subclasses set the class attributes and `load`."""

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
    min_rows: ClassVar[int] = 1
    """Fewest data rows (rows read, blank ones not counted) a real copy of the dataset yields: fewer (a
    header-only, padded or truncated file) fails the build instead of silently emptying the source."""
    coverage: tuple[int, int | None] | None
    """First and last year the dataset covers (last None: up to the present year), as its documentation
    states; None for a source whose years are those of the records it is handed (a researcher's own records),
    never for a published dataset."""
    reads_folder: ClassVar[bool] = True
    """False for a source that reads nothing in the sources folder (its records ship with the package or are
    named on the command line): the build loads it in its own process, never in a worker."""

    def catalogue_row(self, status: str, note: str) -> dict[str, str] | None:
        """This source's row of the store's ``sources`` table (what ``defdip sources`` and the report list);
        None for a source the table does not list."""
        return {"id": self.id, "title": self.title, "version": self.version, "kind": self.kind,
                "folder": self.folder, "homepage": self.homepage, "terms": self.terms, "adds": self.adds,
                "citation": self.citation, "bibtex": self.bibtex, "status": status, "note": note}

    def checks(self, con: duckdb.DuckDBPyConnection) -> list[Check]:
        """Parity checks of the built store (a read-only DuckDB connection) against this source's own
        published figures or files, for ``defdip validate`` (the queries live in :mod:`defdip.store.checks`);
        none by default."""
        return []

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


# ----------------------------------------------------------------------------- reading files
# Helpers shared by the dataset modules; each has one home here so that a fix to how official
# files are read (encodings, empty files, truncated lines, coded blanks) reaches every source.

def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without BOM) when it decodes, else Windows-1252.

    Official exports are often cp1252; undecodable bytes are replaced rather than fatal,
    since a stray byte in a comment column is no reason to refuse a whole dataset.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def require_columns(frame: pd.DataFrame, columns: list[str] | tuple[str, ...], file: Path | str) -> None:
    """Raise a clear error when a source file lacks expected header columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SourceFormatError(
            f"{file}: header is missing column(s) {', '.join(missing)}; found {', '.join(map(str, frame.columns[:12]))}"
        )


def read_text_csv(path: Path, *, expected: tuple[str, ...] | list[str] = (), allow_empty: bool = False,
                  **kwargs: Any) -> pd.DataFrame:
    """Read a CSV that may be UTF-8 or Windows-1252 (as official exports often are).

    pandas' own errors for an empty file or an unparsable one (on either encoding) become a
    SourceFormatError naming the file, so the build reports one clear line instead of a
    traceback; ``expected`` (the header columns the caller needs) goes into the empty-file message.
    A header without data rows is refused too (a truncated download is not a dataset that became
    empty) unless ``allow_empty``; so are bytes that are text in neither encoding (a binary file).
    pandas would take the first column as an index when the first data row has one field more than
    the header, shifting every column silently; ``index_col=False`` keeps the columns where the header
    puts them (and :func:`quarantine_short_rows` finds the long row).
    """
    path = Path(path)
    kwargs.setdefault("index_col", False)  # a first data row with one field too many must not become an index
    try:
        try:
            frame = pd.read_csv(path, encoding="utf-8", **kwargs)
        except UnicodeDecodeError:
            frame = pd.read_csv(path, encoding="cp1252", **kwargs)
        if not allow_empty:
            require_rows(frame, path)
        return frame
    except UnicodeDecodeError as exc:
        raise SourceFormatError(f"{path.name}: not a text file (byte {exc.start} is neither UTF-8 nor "
                                "Windows-1252); is it the official CSV?") from None
    except pd.errors.EmptyDataError:
        wanted = f"; expected columns {', '.join(expected)}" if expected else ""
        raise SourceFormatError(f"{path.name}: the file is empty (no header row){wanted}") from None
    except pd.errors.ParserError as exc:
        detail = " ".join(str(exc).split())
        raise SourceFormatError(f"{path.name}: not a readable CSV ({detail})") from None


def read_csv_checked(path: Path, required: tuple[str, ...], *, lowercase: bool = False, **kwargs: Any) -> pd.DataFrame:
    """Read one source CSV (UTF-8 or cp1252), trim (and optionally lowercase) its header and check the columns.

    ``lowercase`` suits datasets whose header capitalisation changes between versions
    (ATOP, COW, DCAD). The file is typed in one pass (``low_memory=False``) so a column is
    never split into chunks of different types.
    """
    path = Path(path)
    kwargs.setdefault("low_memory", False)
    allow_empty = kwargs.pop("allow_empty", False)
    frame = read_text_csv(path, expected=required, allow_empty=True, **kwargs)
    frame.columns = [str(c).strip().lower() if lowercase else str(c).strip() for c in frame.columns]
    require_columns(frame, required, path.name)
    if not allow_empty:
        require_rows(frame, path)
    return frame


def require_rows(frame: pd.DataFrame, path: Path | str) -> None:
    """A header without data rows is a truncated or emptied copy, not a dataset with nothing in it."""
    if frame.empty:
        raise SourceFormatError(f"{Path(path).name}: the file has a header but no data rows (an empty or "
                                "truncated copy?)")


def missing_one_of(folder: Path, official: str, alternative: str) -> list[str]:
    """``Source.missing_files`` for a source that accepts either of two files (the official one wins)."""
    folder = Path(folder)
    if (folder / official).is_file() or (folder / alternative).is_file():
        return []
    return [f"{official} (or {alternative})"]


def frame_rows(frame: pd.DataFrame, columns: list[str] | tuple[str, ...] | None = None) -> list[tuple[Any, ...]]:
    """Rows as tuples of plain Python values: what ``itertuples(index=False)`` yields, much faster.

    Each column is converted once (``to_numpy(dtype=object)``) instead of iterating pandas' Arrow-backed
    string arrays cell by cell; blanks stay what pandas holds (NaN, None or NA).
    """
    columns = list(frame.columns) if columns is None else list(columns)
    if not columns:
        return [()] * len(frame)
    return list(zip(*(frame[c].to_numpy(dtype=object).tolist() for c in columns)))


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame.to_dict("records")`` (unique column names) without pandas' per-cell iteration.

    As ``to_dict``: numbers come back as Python scalars and a nullable column's NA as None.
    """
    columns = list(frame.columns)
    if not columns:
        return [{} for _ in range(len(frame))]
    values = []
    for c in columns:
        col = frame[c].to_numpy(dtype=object).tolist()
        if getattr(frame[c].dtype, "na_value", None) is pd.NA:
            col = [None if v is pd.NA else v for v in col]
        values.append(col)
    return [dict(zip(columns, row)) for row in zip(*values)]


# ----------------------------------------------------------------------------- bad rows

def _line(idx: Any) -> int:
    """The file line of a frame row read with the header on line 1 (and no skipped lines)."""
    return int(idx) + 2


def quarantine_duplicates(frame: pd.DataFrame, key: list[str], file: str, ctx: IngestContext, *,
                          show: list[str] | None = None) -> pd.DataFrame:
    """Keep the first row of each ``key``; quarantine the others, naming the line of the first.

    A later row equal in every column is an exact duplicate; equal only in ``key`` it
    conflicts with the first (which of the two to believe is not ours to guess, so the
    first is kept). With ``key`` = every column only exact duplicates are caught. ``show``: the
    columns that identify the row in the quarantine (default ``key``). Blank (NaN) key
    cells compare equal, as pandas' ``duplicated`` treats them.
    """
    dup = frame.duplicated(key, keep="first")
    if not dup.any():
        return frame
    exact = frame.duplicated(keep="first")
    show = show or key

    def values(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(None if _isna(v) else v for v in row)

    first: dict[tuple[Any, ...], int] = {}
    for idx, row in zip(frame.index, frame[key].itertuples(index=False, name=None)):
        first.setdefault(values(row), _line(idx))
    for idx in frame.index[dup]:
        line = first[values(tuple(frame.loc[idx, key]))]
        shown = "/".join("" if _isna(frame.at[idx, k]) else str(frame.at[idx, k]) for k in show)
        reason = (f"duplicate row: identical to line {line}; kept the first" if exact[idx] else
                  f"conflicting duplicate: line {line} has the same {', '.join(key)}; kept the first")
        ctx.reject(file, _line(idx), "+".join(show), shown, reason)
    return frame[~dup]


def field_counts(path: Path) -> list[int]:
    """The number of fields on each non-blank CSV record of ``path`` (header first), read as the csv module reads.

    A field beyond the csv module's size limit (131,072 characters) is no CSV a source publishes: it is one
    clear error naming the file and line, not a traceback.
    """
    reader = csv.reader(io.StringIO(decode_text(Path(path).read_bytes()), newline=""))
    try:
        return [len(cells) for cells in reader if cells]
    except csv.Error as exc:
        raise SourceFormatError(f"{Path(path).name}, line {reader.line_num}: not a readable CSV ({exc})") from None


def quarantine_short_rows(frame: pd.DataFrame, path: Path, ctx: IngestContext) -> pd.DataFrame:
    """Quarantine rows with fewer or more fields than the header (a truncated or malformed file).

    pandas pads a short row with blanks, so the fields are counted on the raw text; blank
    lines are skipped as pandas skips them, which keeps the two row numberings aligned.
    """
    path = Path(path)
    counts = field_counts(path)
    if not counts:
        return frame
    width, counts = counts[0], counts[1:]
    bad = [i for i, n in enumerate(counts) if n != width and i < len(frame)]
    for i in bad:
        idx = frame.index[i]
        shown = ",".join(str(v) for v in frame.loc[idx].tolist()[:counts[i]])
        ctx.reject(path.name, _line(idx), str(frame.columns[min(counts[i], width) - 1]), shown[:80],
                   f"row has {counts[i]} fields, the header {width} (truncated or malformed row)")
    return frame.drop(index=[frame.index[i] for i in bad])


# ----------------------------------------------------------------------------- cells

_EXACT_INT = 2**53
"""Integers up to this size survive the round trip through float exactly."""


def _isna(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def as_text(value: Any) -> str | None:
    """A cell as stripped text; None for a blank or missing (NaN) cell."""
    if _isna(value):
        return None
    return str(value).strip() or None


def as_int(value: Any) -> int | None:
    """An integer from a cell ("1980", "1980.0", 1980.0); None for blank, non-numeric or non-integral cells."""
    if value is None:
        return None
    cls = value.__class__
    if cls is float:  # the general path below gives the same, slower
        return int(value) if value.is_integer() else None
    if cls is int and -_EXACT_INT <= value <= _EXACT_INT:  # (beyond 2**53 the float round trip changes ints)
        exact: int = value
        return exact
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number != int(number):
        return None
    return int(number)


def as_float(value: Any) -> float | None:
    """A finite number from a cell; None otherwise (NaN and infinities are no measurement)."""
    if value.__class__ is float:  # float(str(x)) == x: the general path below gives the same, slower
        return value if math.isfinite(value) else None
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def slug(text: str) -> str:
    """A lowercase ASCII id part ('Côte d'Ivoire' -> 'c-te-d-ivoire'); 'unnamed' when nothing is left.

    Engagement ids must be stable and URL-safe whatever the source spells, and never empty.
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unnamed"


# ----------------------------------------------------------------------------- dates

def last_plausible_year() -> int:
    """Next year: a later year in a source is a typo, not a plan (deliveries may be due next year)."""
    return _dt.date.today().year + 1


_YEAR_AT_IMPORT = _dt.date.today().year
"""A year that is never after next year (asking the clock for every cell is a cost of its own)."""


def whole_year(value: Any, first: int, last: int | None = None) -> int | None:
    """A whole year from ``first`` (the start of the dataset's domain) to ``last`` (default next year), else None."""
    year = as_int(value)
    if last is not None:
        return year if year is not None and first <= year <= last else None
    return year if year is not None and first <= year and (year <= _YEAR_AT_IMPORT
                                                           or year <= last_plausible_year()) else None


def quarantine_years(frame: pd.DataFrame, columns: dict[str, bool], first: int, last: int, file: str,
                     ctx: IngestContext, *, line: Any = None) -> pd.DataFrame:
    """Quarantine rows whose year cells are not whole years from ``first`` to ``min(last, this year)``.

    ``columns`` maps each year column to whether it must be filled (a blank optional cell passes). The bounds
    are the source's documented coverage, so a coded blank such as 99999 or a typo never reaches the data or
    a quantity derived from it (a "last year in the file"). Each bad row is quarantined once, at its first
    bad column; ``line`` maps a frame index to its file row (default: header on line 1).
    """
    last = min(last, present_year())
    where = line or _line
    bad_any = pd.Series(False, index=frame.index)
    for col, required in columns.items():
        numbers = pd.to_numeric(frame[col], errors="coerce")
        blank = frame[col].isna() | (frame[col].astype(str).str.strip() == "")
        ok = numbers.between(first, last) & (numbers % 1 == 0)
        bad = ~bad_any & ~ok & (~blank | required)
        for idx in frame.index[bad]:
            value = frame.at[idx, col]
            reason = (f"{col} is blank" if blank[idx] else
                      f"impossible year {value!r}: outside the source's coverage {first}-{last}")
            ctx.reject(file, where(idx), col, value, reason)
        bad_any |= bad
    return frame[~bad_any]


def _comparable(values: pd.Series) -> pd.Series:
    """Years or dates as numbers that order as they do (ISO date text read as dates; unreadable: NaN)."""
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().any() or values.isna().all():
        return numbers
    dates = pd.to_datetime(values, errors="coerce", format="ISO8601")
    return pd.Series(dates.to_numpy(dtype="datetime64[ns]").astype("int64"), index=values.index).where(dates.notna())


def quarantine_reversed(frame: pd.DataFrame, start: str, end: str, file: str, ctx: IngestContext, *,
                        line: Any = None) -> pd.DataFrame:
    """Quarantine rows that end before they start (``end`` < ``start``; a blank end is an open spell)."""
    where = line or _line
    a, b = _comparable(frame[start]), _comparable(frame[end])
    bad = b < a
    for idx in frame.index[bad]:
        ctx.reject(file, where(idx), end, frame.at[idx, end],
                   f"ends ({frame.at[idx, end]}) before it starts ({frame.at[idx, start]})")
    return frame[~bad]


def read_reference_csv(path: Path, required: tuple[str, ...] | list[str], ctx: IngestContext, *, first: int,
                       last: int, years: dict[str, bool] | None = None, dates: tuple[str, ...] = (),
                       span: tuple[str, str] | None = None, key: list[str] | None = None,
                       **kwargs: Any) -> tuple[pd.DataFrame, int]:
    """One reference file (a state list, a dyad-year file) read with every row checked; (rows kept, rows read).

    In order, each failure quarantining the row with its line and field: the field count (a truncated row),
    ``dates`` (ISO ``YYYY-MM-DD`` columns, read as their year) and ``years`` (column -> must be filled) within
    ``first`` to ``last`` (the source's coverage; never past this year), ``span`` (start, end columns) not
    reversed, and duplicates on ``key`` (default: exact duplicates only).
    """
    path = Path(path)
    frame = read_csv_checked(path, tuple(required), **kwargs)
    read = len(frame)
    frame = quarantine_short_rows(frame, path, ctx)
    check = pd.DataFrame(index=frame.index)
    parsed_dates: dict[str, pd.Series] = {}
    for col in dates:
        text = frame[col].astype("string").str.strip()
        parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        bad = parsed.isna() & text.notna() & (text != "")
        for idx in frame.index[bad]:
            ctx.reject(path.name, _line(idx), col, frame.at[idx, col], "not a date (expected YYYY-MM-DD)")
        check, frame = check[~bad].assign(**{col: parsed[~bad].dt.year}), frame[~bad]
        parsed_dates[col] = parsed
    check = check.assign(**{col: frame[col] for col in years or {}})
    required_years = {**{c: True for c in dates}, **(years or {})}
    check = quarantine_years(check, required_years, first, last, path.name, ctx)
    if span:  # compared as dates where they are dates (a spell may end earlier in its first year)
        spans = pd.DataFrame({c: parsed_dates[c] if c in parsed_dates else check[c] for c in span}).loc[check.index]
        check = check.loc[quarantine_reversed(spans, span[0], span[1], path.name, ctx).index]
    frame = frame.loc[check.index]
    frame = quarantine_duplicates(frame, key or list(frame.columns), path.name, ctx)
    return frame, read


def impossible_year(value: Any, first: int, last: int | None = None) -> str:
    """The quarantine reason for a year :func:`whole_year` refuses (one wording for every source)."""
    return (f"impossible year {value!r}: expected a whole year between {first} and "
            f"{last_plausible_year() if last is None else last}")


def quarantined_rows(ctx: IngestContext) -> int:
    """Distinct rows (file and row) quarantined so far: what ``LoadResult.accounted`` is balanced against."""
    return len({(r.file, str(r.row)) for r in ctx.rejections})


def read_date(year: Any, month: Any, day: Any, label: str, notes: list[str], *,
              zero_unknown: bool = True) -> tuple[int | None, int | None, int | None]:
    """Year, month and day cells as integers; unknowns (blank, or 0/negative codes) as None.

    An impossible month drops month and day, an impossible day drops the day; each
    correction is appended to ``notes`` (the row is kept: a typo in a day is no reason to
    lose an agreement). With ``zero_unknown=False`` a month or day of 0 or less is not
    an "unknown" code but an impossible value, and is noted as such.
    """
    y, m, d = as_int(year), as_int(month), as_int(day)
    if y is None or y <= 0:
        return None, None, None
    if zero_unknown:
        m = m if m and m > 0 else None
        d = d if d and d > 0 else None
    if m is not None and not 1 <= m <= 12:
        notes.append(f"{label}: month {m} does not exist; kept the year only")
        return y, None, None
    if m is None:
        return y, None, None
    if d is not None and not 1 <= d <= calendar.monthrange(y, m)[1]:
        notes.append(f"{label}: day {d} does not exist in {y}-{m:02d}; kept year and month")
        d = None
    return y, m, d


def precision_of(month: int | None, day: int | None) -> str:
    """The precision a date has: day, month or year."""
    return "day" if day is not None else "month" if month is not None else "year"


def iso(y: int | None, m: int | None, d: int | None) -> str | None:
    """'1815-01-03', '1815-01', '1815' or None (for summaries and attributes)."""
    if y is None:
        return None
    return f"{y:04d}" + (f"-{m:02d}" if m else "") + (f"-{d:02d}" if m and d else "")


# ----------------------------------------------------------------------------- codes

COW_FIRST_YEAR = 1816
"""The COW state list starts in 1816; the registry's existence spells of older states start there too."""


def resolve_in_spell(ctx: IngestContext, ccode: Any, start: int | None, end: int | None,
                     ongoing_until: int = 2100) -> tuple[Polity | None, int | None]:
    """Resolve a COW code for a membership running from ``start`` to ``end`` (None: still running).

    The registry is year-aware and refuses a year in which the state did not exist.
    A member is resolved in the first year of its spell in which the state existed
    (years before 1816, where the COW list begins, count as 1816), so a state whose
    code a dataset uses a little before its independence, or a member of an 1815
    alliance, still resolves. Returns the polity (None on a miss, which the context
    counts once) and the year used.
    """
    year = None if start is None else max(start, COW_FIRST_YEAR)
    if year is not None:
        polity = find_code(ctx.registry, "ccode", ccode)
        if polity is not None and not polity.existed(year):
            last = max(year, end if end is not None else ongoing_until)
            year = next((y for y in range(year, last + 1) if polity.existed(y)), year)
    return ctx.resolve_code("ccode", ccode, year), year
