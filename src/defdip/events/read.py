"""Readers for GDELT 1.0/2.0, ICEWS and POLECAT files: zipped or not, header or not, bad rows quarantined.

Every reader yields the common events table (``formats.EVENT_COLUMNS``) as an Arrow table, so that no Python
object is kept per event past the read. GDELT files (the large ones) are read in chunks of lines that Arrow
splits and checks column-wise; the tab-separated ICEWS/POLECAT files go row by row through ``csv``. A
malformed row becomes one quarantine entry naming the file, line and column and the rest of the file is read;
a file that cannot be read at all (a truncated zip, a layout no format has) is one ``SourceFormatError`` and
the other files are still read.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

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
    """Column-wise buffers for the common table (one list per column, no per-event objects).

    Without a ``sink`` the finished Arrow parts are kept for :meth:`table`; with one, each part goes to the
    sink as soon as it is complete (a chunk of a GDELT file, or ``CHUNK_LINES`` rows of another format)."""

    def __init__(self, sink: Callable[[pa.Table], None] | None = None) -> None:
        self.data: dict[str, list[Any]] = {name: [] for name in formats.EVENT_COLUMNS}
        self.parts: list[pa.Table] = []
        self.sink = sink

    def add(self, *values: object) -> None:
        for name, value in zip(formats.EVENT_COLUMNS, values):
            self.data[name].append(value)
        if self.sink is not None and len(self.data["source"]) >= CHUNK_LINES:
            self.flush()

    def extend(self, part: pa.Table) -> None:
        """Append rows already columnar (a GDELT chunk, or a whole file's table), keeping file order."""
        self.flush()
        self._emit(part)

    def flush(self) -> None:
        if self.data["source"]:
            self._emit(pa.table(self.data, schema=SCHEMA))
            self.data = {name: [] for name in formats.EVENT_COLUMNS}

    def _emit(self, part: pa.Table) -> None:
        if self.sink is not None:
            self.sink(part)
        else:
            self.parts.append(part)

    def table(self) -> pa.Table:
        self.flush()
        return pa.concat_tables(self.parts) if self.parts else SCHEMA.empty_table()


CHUNK_LINES = 200_000
"""Lines of a GDELT file checked at once: large enough for Arrow to pay off, small enough to keep memory flat."""

_MIL_TYPES = tuple(f"Actor{i}Type{j}Code" for i in (1, 2) for j in (1, 2, 3))


def _gdelt(path: Path, report: ReadReport, out: _Columns) -> None:
    layout: tuple[str, tuple[str, ...]] | None = None
    batch: list[str] = []
    first = 1
    for line in _lines(path):
        batch.append(line)
        if len(batch) == CHUNK_LINES:
            layout = _gdelt_chunk(path, batch, first, layout, report, out)
            first += len(batch)
            batch = []
    if batch:
        _gdelt_chunk(path, batch, first, layout, report, out)


def _gdelt_chunk(path: Path, lines: list[str], first: int, layout: tuple[str, tuple[str, ...]] | None,
                 report: ReadReport, out: _Columns) -> tuple[str, tuple[str, ...]] | None:
    """Check and convert one chunk of GDELT lines (``first`` is the file line number of ``lines[0]``)."""
    name = path.name
    raw = pa.array(lines, pa.string())
    numbers = np.arange(first, first + len(lines), dtype=np.int64)
    cells = pc.split_pattern(pc.utf8_rtrim(raw, characters="\r\n"), "\t")
    width = pc.list_value_length(cells).to_numpy(zero_copy_only=False)
    keep = pc.invert(pc.equal(pc.utf8_trim_whitespace(raw), "")).to_numpy(zero_copy_only=False)
    if first == 1 and keep[0] and cells[0].values[0].as_py() == "GLOBALEVENTID":
        report.rows_read += 1
        report.headers += 1
        layout = formats.GDELT_BY_WIDTH.get(int(width[0]))
        if layout is not None:
            report.formats[layout[0]] = report.formats.get(layout[0], 0) + 1
        keep[0] = False
    if layout is None and keep.any():
        at = int(np.argmax(keep))
        layout = formats.GDELT_BY_WIDTH.get(int(width[at]))
        if layout is None:
            raise SourceFormatError(f"{path}, line {numbers[at]}: {width[at]} tab-separated columns; GDELT files "
                                    "have 57 (1.0 backfile), 58 (1.0 daily) or 61 (2.0)")
        report.formats[layout[0]] = report.formats.get(layout[0], 0) + 1
    report.rows_read += int(keep.sum())
    if layout is None:
        return None
    kind, cols = layout
    rejects: list[tuple[int, str, object, str]] = []
    bad = keep & (width != len(cols))
    rejects += [(int(n), "(columns)", int(w), f"{w} columns, {kind} has {len(cols)}")
                for n, w in zip(numbers[bad], width[bad])]
    keep &= ~bad
    rows = cells.filter(pa.array(keep))
    numbers = numbers[keep]
    col = {c: pc.list_element(rows, i) for i, c in enumerate(cols)}

    def drop(mask: np.ndarray, column: str, reason: Any) -> np.ndarray:
        """Quarantine the still-kept rows where ``mask`` holds; ``reason`` is a text or a function of the value."""
        hit = mask & alive
        values = col[column].filter(pa.array(hit)).to_pylist()
        for n, v in zip(numbers[hit], values):
            rejects.append((int(n), column, v, reason(v) if callable(reason) else reason))
        return alive & ~hit

    alive = np.ones(len(numbers), dtype=bool)
    sqldate = col["SQLDATE"]
    day = pc.cast(pc.strptime(sqldate, format="%Y%m%d", unit="s", error_is_null=True), pa.date32())
    no_day = pc.or_(pc.is_null(day), pc.not_equal(pc.utf8_length(sqldate), 8)).to_numpy(zero_copy_only=False)
    alive = drop(no_day, "SQLDATE", "not a YYYYMMDD date")
    added_text = pc.utf8_trim_whitespace(col["DATEADDED"])
    added = pc.cast(pc.strptime(pc.utf8_slice_codeunits(added_text, 0, 8), format="%Y%m%d", unit="s",
                                error_is_null=True), pa.date32())
    late = pc.fill_null(pc.and_(pc.greater_equal(pc.utf8_length(added_text), 8), pc.greater(day, added)), False)
    hit = late.to_numpy(zero_copy_only=False) & alive
    for n, v, stamp in zip(numbers[hit], sqldate.filter(pa.array(hit)).to_pylist(),
                           col["DATEADDED"].filter(pa.array(hit)).to_pylist()):
        rejects.append((int(n), "SQLDATE", v, f"event dated after the file's DATEADDED {stamp}"))
    alive &= ~hit
    code = pc.utf8_trim_whitespace(col["EventCode"])
    col["EventCode"] = code
    not_cameo = pc.invert(pc.match_substring_regex(code, formats.CAMEO_CODE)).to_numpy(zero_copy_only=False)
    alive = drop(not_cameo, "EventCode", lambda v: formats.cameo_code_problem(v) or "not a CAMEO event code")
    sources_text = pc.utf8_trim_whitespace(col["NumSources"])
    whole = pc.match_substring_regex(sources_text, r"^[+-]?[0-9]+$")
    empty = pc.equal(sources_text, "")
    not_whole = pc.invert(pc.or_(whole, empty)).to_numpy(zero_copy_only=False)
    alive = drop(not_whole, "NumSources", "not a whole number")
    for n, column, value, reason in sorted(rejects, key=lambda r: r[0]):
        report.reject(name, n, column, value, reason)
    take = pa.array(alive)
    sources = pc.cast(pc.if_else(empty, "0", sources_text).filter(take), pa.int64())
    defence = pc.equal(col[_MIL_TYPES[0]], "MIL")
    for other in _MIL_TYPES[1:]:
        defence = pc.or_(defence, pc.equal(col[other], "MIL"))
    kept = int(alive.sum())
    day = day.filter(take)
    story = col["SOURCEURL"].filter(take) if "SOURCEURL" in col else pa.array([""] * kept, pa.string())
    out.extend(pa.table({
        "source": pa.array(["gdelt"] * kept, pa.string()), "file": pa.array([name] * kept, pa.string()),
        "line": pa.array(numbers[alive], pa.int64()), "event_id": col["GLOBALEVENTID"].filter(take),
        "event_date": day, "year": pc.cast(pc.year(day), pa.int32()), "month": pc.cast(pc.month(day), pa.int32()),
        "scheme": pa.array(["cameo"] * kept, pa.string()), "code": code.filter(take),
        "mode": pa.array([""] * kept, pa.string()),
        "a1": pc.utf8_trim_whitespace(col["Actor1CountryCode"]).filter(take),
        "a2": pc.utf8_trim_whitespace(col["Actor2CountryCode"]).filter(take),
        "defence": defence.filter(take), "sources": sources, "story": story}, schema=SCHEMA))
    report.kept += kept
    return layout


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


def _read_one(file: Path, report: ReadReport, part: _Columns) -> bool:
    """Read one file into ``part``; a file refused whole leaves the report as it was and lists the reason."""
    before = (report.rows_read, report.kept, report.headers, len(report.quarantine), dict(report.formats))
    try:
        kind = detect(file)
        if kind == "gdelt":
            _gdelt(file, report, part)
        elif kind == "icews":
            _tabular(file, report, part, "icews", formats.ICEWS_REQUIRED)
        else:
            _tabular(file, report, part, "polecat", formats.POLECAT_REQUIRED)
        part.flush()
    except SourceFormatError as exc:  # the whole file is refused: nothing of it is kept
        report.rows_read, report.kept, report.headers = before[0], before[1], before[2]
        del report.quarantine[before[3]:]
        report.formats = before[4]
        report.failed_files.append(str(exc))
        return False
    return True


def read_events(path: Path | str) -> tuple[pa.Table, ReadReport]:
    """Read every event file under ``path`` into the common events table; bad files and rows are reported."""
    report = ReadReport()
    out = _Columns()
    for file in event_files(Path(path)):
        part = _Columns()
        if _read_one(file, report, part):
            out.extend(part.table())
    return out.table(), report


def parquet_glob(folder: Path) -> str:
    """The SQL string literal naming every parquet file :func:`write_events` wrote into ``folder``."""
    return "'" + (folder / "*.parquet").as_posix().replace("'", "''") + "'"


def write_events(path: Path | str, folder: Path) -> ReadReport:
    """Read every event file under ``path`` into parquet files in ``folder`` (``part-NNNNN.parquet``, one per
    input file), chunk by chunk, so that memory stays flat however much event data there is."""
    folder.mkdir(parents=True, exist_ok=True)
    report = ReadReport()
    for number, file in enumerate(event_files(Path(path))):
        target = folder / f"part-{number:05d}.parquet"
        with pq.ParquetWriter(target, SCHEMA) as writer:
            ok = _read_one(file, report, _Columns(writer.write_table))
        if not ok:
            target.unlink()
    return report
