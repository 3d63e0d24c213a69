"""Readers for GDELT 1.0/2.0, ICEWS and POLECAT files: zipped or not, header or not, bad rows quarantined.

Every reader yields the common events table (``formats.EVENT_COLUMNS``) as an Arrow table, so that no
Python object is kept per event past the read. A malformed row becomes one quarantine entry naming the
file, line and column and the rest of the file is read; a file that cannot be read at all (a truncated
zip, a layout no format has) is one ``SourceFormatError`` and the other files are still read.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from defdip.core.errors import SourceFormatError
from defdip.events import formats

SCHEMA = pa.schema([("source", pa.string()), ("file", pa.string()), ("line", pa.int64()),
                    ("event_id", pa.string()), ("event_date", pa.date32()), ("year", pa.int32()),
                    ("month", pa.int32()), ("scheme", pa.string()), ("code", pa.string()), ("mode", pa.string()),
                    ("a1", pa.string()), ("a2", pa.string()), ("defence", pa.bool_()), ("sources", pa.int64()),
                    ("story", pa.string())])


@dataclass
class ReadReport:
    """What a read did with each row: kept, quarantined (with the reason) or skipped as a header."""

    rows_read: int = 0
    kept: int = 0
    headers: int = 0
    quarantine: list[dict[str, object]] = field(default_factory=list)
    failed_files: list[str] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)

    def reject(self, file: str, line: int, column: str, value: object, reason: str) -> None:
        self.quarantine.append({"file": file, "line": line, "column": column, "value": str(value)[:80],
                                "reason": reason})

    @property
    def accounted(self) -> dict[str, int]:
        return {"kept": self.kept, "header": self.headers}


def _lines(path: Path) -> Iterator[str]:
    """Text lines of a plain or zipped file (every member of a zip, in order)."""
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                for member in zf.namelist():
                    with zf.open(member) as raw:
                        yield from io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as exc:
            raise SourceFormatError(f"{path}: not a readable zip archive ({exc}); download it again") from None
        return
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        yield from fh


def _day(text: str) -> date | None:
    try:
        return datetime.strptime(text.strip()[:8], "%Y%m%d").date() if len(text.strip()) >= 8 else None
    except ValueError:
        return None


def _iso_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return _day(text.replace("-", ""))


def _military(sectors: str) -> bool:
    low = sectors.lower()
    return any(word in low for word in formats.MILITARY_SECTORS)


class _Columns:
    """Column-wise buffers for the common table (one list per column, no per-event objects)."""

    def __init__(self) -> None:
        self.data: dict[str, list[Any]] = {name: [] for name in formats.EVENT_COLUMNS}

    def add(self, *values: object) -> None:
        for name, value in zip(formats.EVENT_COLUMNS, values):
            self.data[name].append(value)

    def table(self) -> pa.Table:
        return pa.table(self.data, schema=SCHEMA)


def _gdelt(path: Path, report: ReadReport, out: _Columns) -> None:
    name = path.name
    layout: tuple[str, tuple[str, ...]] | None = None
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        report.rows_read += 1
        cells = line.rstrip("\r\n").split("\t")
        if number == 1 and cells[0] == "GLOBALEVENTID":
            report.headers += 1
            layout = formats.GDELT_BY_WIDTH.get(len(cells))
            continue
        if layout is None:
            layout = formats.GDELT_BY_WIDTH.get(len(cells))
            if layout is None:
                raise SourceFormatError(f"{path}, line {number}: {len(cells)} tab-separated columns; GDELT files "
                                        "have 57 (1.0 backfile), 58 (1.0 daily) or 61 (2.0)")
            report.formats[layout[0]] = report.formats.get(layout[0], 0) + 1
        kind, cols = layout
        if len(cells) != len(cols):
            report.reject(name, number, "(columns)", len(cells), f"{len(cells)} columns, {kind} has {len(cols)}")
            continue
        row = dict(zip(cols, cells))
        day = _day(row["SQLDATE"])
        if day is None or len(row["SQLDATE"]) != 8:
            report.reject(name, number, "SQLDATE", row["SQLDATE"], "not a YYYYMMDD date")
            continue
        added = _day(row["DATEADDED"])
        if added is not None and day > added:
            report.reject(name, number, "SQLDATE", row["SQLDATE"], f"event dated after the file's DATEADDED "
                                                                   f"{row['DATEADDED']}")
            continue
        code = row["EventCode"].strip()
        problem = formats.cameo_code_problem(code)
        if problem:
            report.reject(name, number, "EventCode", code, problem)
            continue
        types = {row[f"Actor{i}Type{j}Code"] for i in (1, 2) for j in (1, 2, 3)}
        try:
            sources = int(row["NumSources"] or 0)
        except ValueError:
            report.reject(name, number, "NumSources", row["NumSources"], "not a whole number")
            continue
        out.add("gdelt", name, number, row["GLOBALEVENTID"], day, day.year, day.month, "cameo", code, "",
                row["Actor1CountryCode"].strip(), row["Actor2CountryCode"].strip(), "MIL" in types, sources,
                row.get("SOURCEURL", ""))
        report.kept += 1


def _tabular(path: Path, report: ReadReport, out: _Columns, source: str, required: tuple[str, ...]) -> None:
    lines = _lines(path)
    reader = csv.reader(lines, delimiter="\t", quotechar='"')
    try:
        _tabular_rows(path, reader, report, out, source, required)
    except csv.Error as exc:  # e.g. a field longer than the csv module allows: the file, not a crash
        raise SourceFormatError(f"{path}, line {reader.line_num}: unreadable row ({exc})") from None


def _tabular_rows(path: Path, reader: Any, report: ReadReport, out: _Columns, source: str,
                  required: tuple[str, ...]) -> None:
    name = path.name
    header = next(reader, None)
    if header is None:
        raise SourceFormatError(f"{path}: empty file")
    report.rows_read += 1
    report.headers += 1
    header = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise SourceFormatError(f"{path}, line 1: not a {source.upper()} file: header lacks {', '.join(missing)}")
    report.formats[source] = report.formats.get(source, 0) + 1
    for cells in reader:
        number = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        report.rows_read += 1
        if len(cells) != len(header):
            report.reject(name, number, "(columns)", len(cells), f"{len(cells)} columns, header has {len(header)}")
            continue
        row = dict(zip(header, cells))
        day = _iso_day(row["Event Date"])
        if day is None:
            report.reject(name, number, "Event Date", row["Event Date"], "not a date")
            continue
        if source == "icews":
            code = row["CAMEO Code"].strip()
            problem = formats.cameo_code_problem(code)
            if problem:
                report.reject(name, number, "CAMEO Code", code, problem)
                continue
            defence = _military(row["Source Sectors"]) or _military(row["Target Sectors"])
            out.add("icews", name, number, row["Event ID"], day, day.year, day.month, "cameo", code, "",
                    row["Source Country"].strip(), row["Target Country"].strip(), defence, 1, row["Story ID"])
        else:
            code = row["Event Type"].strip().upper()
            if not code:
                report.reject(name, number, "Event Type", code, "no PLOVER event type")
                continue
            contexts = {c.strip().lower() for c in row["Contexts"].replace(";", ",").split(",")}
            defence = ("military" in contexts or _military(row["Actor Sectors"])
                       or _military(row["Recipient Sectors"]))
            out.add("polecat", name, number, row["Event ID"], day, day.year, day.month, "plover", code,
                    row["Event Mode"].strip().lower(), row["Actor Country"].strip(),
                    row["Recipient Country"].strip(), defence, 1, row.get("Story ID", "") or row["Event ID"])
        report.kept += 1


def detect(path: Path) -> str:
    """Which source a file is from, by its name and first line: gdelt, icews or polecat."""
    first = next(iter(_lines(path)), "")
    cells = first.rstrip("\r\n").split("\t")
    if "CAMEO Code" in cells:
        return "icews"
    if "Event Type" in cells and "Event Mode" in cells:
        return "polecat"
    return "gdelt"


def event_files(path: Path) -> list[Path]:
    """The event files under ``path`` (a file or a folder searched recursively), in name order."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise SourceFormatError(f"{path}: no such file or folder")
    skip = {".md", ".txt", ".html", ".json", ".parquet"}
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                  and p.suffix.lower() not in skip)


def read_events(path: Path | str) -> tuple[pa.Table, ReadReport]:
    """Read every event file under ``path`` into the common events table; bad files and rows are reported."""
    report = ReadReport()
    out = _Columns()
    for file in event_files(Path(path)):
        before = (report.rows_read, report.kept, report.headers, len(report.quarantine), dict(report.formats))
        part = _Columns()
        try:
            kind = detect(file)
            if kind == "gdelt":
                _gdelt(file, report, part)
            elif kind == "icews":
                _tabular(file, report, part, "icews", formats.ICEWS_REQUIRED)
            else:
                _tabular(file, report, part, "polecat", formats.POLECAT_REQUIRED)
        except SourceFormatError as exc:  # the whole file is refused: nothing of it is kept
            report.rows_read, report.kept, report.headers = before[0], before[1], before[2]
            del report.quarantine[before[3]:]
            report.formats = before[4]
            report.failed_files.append(str(exc))
            continue
        for name, values in part.data.items():
            out.data[name].extend(values)
    return out.table(), report
