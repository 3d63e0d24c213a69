"""Joint and multinational military exercises: MME v7, JME v3 and an unofficial list of Russia's exercises.

Three sources share the ``military_exercises`` folder and this module's helpers:

* ``mme`` -- Multinational Military Exercises 1980-2010 (D'Orazio & Galambos), one row per exercise with
  participants as country names in ``StateA`` ... ``StateAM``.
* ``jme`` -- Joint Military Exercises v3 (D'Orazio), one row per coded *report*: several reports of the same
  exercise are collapsed into one engagement; participants are ISO3-like codes in ``State A`` ... ``State AD``.
* ``ru_exercises`` -- a hand-compiled list of exercises involving Russia (2009-2018) from the Russian
  defence ministry website; unofficial, names in Russian, partners as free-text English names.

Conventions shared by the three loaders
---------------------------------------
* Every exercise becomes one engagement, activity ``exercises``, instrument ``exercise``; every listed state is a
  ``participant`` (JME's host state, when coded, is a ``host``).
* Attributes: what a source says of the exercise is kept under the source's id -- ``attributes.mme`` (name,
  series, location, domains, purposes, focus, MMEID, ...), ``attributes.jme`` (names, types, reports, rows,
  batches, ...), ``attributes.ru_exercises`` -- with the source's own dates as ``start``/``end`` ('1980-01-14',
  '1980-01', '1980') and its ``date_notes``. The top level holds what describes the whole record: ``format``
  (bilateral/multilateral, from the identified participants), ``participants_incomplete`` and
  ``participants_text`` (the source's free text on who took part), and, on merged records, ``match_tier`` and
  ``merged_ids``. A merge of an MME and a JME record (:mod:`defdip.ingest.matching`) thus loses nothing.
* Dates are bounded by each source's documented coverage (MME 1980-2010, JME 1970-2010, the Russian list
  2009-2018; never after the present year). A day coded ``xx`` (unknown) gives month precision; a month unknown
  gives year precision. A day that does not exist in its month (31 September) is dropped and the engagement kept
  at month precision, with the reason in the source's ``date_notes``; an end before the start or outside the
  coverage is dropped the same way. A start JME wrote unreadably or outside its coverage is recovered when the end
  date and the year in the name agree (:func:`recover_start`); otherwise a missing or impossible start year
  quarantines the row.
* ``-9`` is the datasets' "not known" code: an unnamed exercise gets a descriptive title, an unknown participant
  slot is skipped (and flags ``participants_incomplete``); blank slots are ignored; a row with nothing in it is
  counted ``blank`` (``LoadResult.accounted``), not rejected.
* Participant names and codes go through the ingest context, so misses are counted. An exercise none of whose
  participants can be identified (all coded -9, or "8 NATO members") is kept with the registry's ``unknown``
  participant and its free text: it counts in per-year and evolution tables and adds no dyad (``unknown`` has no
  COW code).
* Sub-activities are evidence-based: ``peacekeeping`` / ``hadr`` from MME's purpose flags or from words in the
  coded purpose text; ``interoperability`` only when the source's own description mentions interoperability.

MME and JME overlap (1980-2010)
-------------------------------
The same exercise often appears in both. Each loader reads only its own file; its records carry a ``match_key`` of
their own (``exercise:<id>``), which keeps them mergeable, and the build pairs them once every source is loaded
(:func:`defdip.ingest.matching.match_exercises`, tiers in :mod:`defdip.ingest.matching`): the MME record of a
pair takes the JME record's key and the two merge into one engagement carrying both provenances. An unpaired
record's key merges with nothing.

Validation (``defdip validate``): MME against the paper's 3,704 exercises and the file's rows per year
(``mme_file_years``), JME's 2012 release apart from the 2015-2016 supplement (``jme_batches``, the batch of each
report in ``attributes.jme.batches``), merges per tier (``exercise_matches``) and every merged record keeping
each source's attributes.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from defdip.core import dates
from defdip.core.errors import SourceFormatError
from defdip.ingest.sources.base import (
    Check,
    Download,
    IngestContext,
    LoadResult,
    Source,
    as_float,
    as_int,
    as_text,
    frame_rows,
    iso,
    precision_of,
    quarantine_short_rows,
    require_columns,
)
from defdip.store import checks

MISSING = {"", "-9", "-9.0", "nan", "none", "n/a", "na", "xx", "xxxx", "#n/a"}
"""Cell values meaning "not known" in these datasets."""

MME_FILE = "mme_v7.csv"
JME_FILE = "jme_v3.xls"
JME_SHEET = "Sheet1_2"
RU_FILE = "russia_joint_exercises_milru.csv"

MME_DOMAINS = ("CPX", "Air", "Land", "Sea", "Amphibious", "Cyber")
MME_PURPOSES = ("Warfighting", "Peacekeeping", "Humanitarian")
MME_REQUIRED = ("MMEID", "Ex_Name", "s.year", "s.month", "s.day", "e.year", "e.month", "e.day", "StateA", "StateB",
                *MME_DOMAINS, *MME_PURPOSES)
JME_REQUIRED = ("Exercise Name", "Start Date", "s.year", "s.month", "s.day", "enddate", "e.year", "e.month", "e.day",
                "State A", "State B")
RU_REQUIRED = ("id", "name", "yr", "part1")

MME_YEARS = (1980, 2010)
JME_YEARS = (1970, 2010)
RU_YEARS = (2009, 2018)
"""Start years each source documents (PROVENANCE.md); an end may run into the next year."""
RELEASE, SUPPLEMENT = "release_2012", "supplement_2015"
"""JME's batches: the 2012 release (1,479 exercises in D'Orazio's chapter) and the reports added in 2015-2016."""
PAIRED_SOURCES = ("mme", "jme")
"""Sources whose records :mod:`defdip.ingest.matching` pairs (the same exercise in both)."""
UNKNOWN_ID = "unknown"
"""The registry's catch-all polity: the participant of an exercise none of whose participants is identified."""

INTEROPERABILITY = re.compile(r"inter-?\s?operab", re.IGNORECASE)
PEACEKEEPING = re.compile(r"peace-?\s?keep|peace support|peace enforcement", re.IGNORECASE)
HADR = re.compile(r"humanitarian|disaster|search[- ]and[- ]rescue|\bsar\b|rescue|relief|рескью|спасат",
                  re.IGNORECASE)

ACTIVITY = "exercises"
INSTRUMENT = "exercise"


# ---------------------------------------------------------------------------------------------------------------
# Small shared helpers
# ---------------------------------------------------------------------------------------------------------------

def _blank(value: Any) -> bool:
    if value.__class__ is str:  # the common case (cells read as text), without as_text's checks
        text = value.strip()
        return not text or text.lower() in MISSING
    cell = as_text(value)
    return cell is None or cell.lower() in MISSING


def _text(value: Any) -> str | None:
    """A cell as stripped text, None when blank or coded unknown."""
    return None if _blank(value) else str(value).strip()


def _int(value: Any) -> int | None:
    """An integer cell ("1980", "1980.0"); None when blank, unknown or not a number."""
    return None if _blank(value) else as_int(value)


def _flag(value: Any) -> bool | None:
    text = _text(value)
    if text is None:
        return None
    low = text.lower()
    if low in ("1", "1.0", "yes", "y", "true"):
        return True
    if low in ("0", "0.0", "no", "n", "false"):
        return False
    return None


def _float(value: Any) -> float | None:
    return None if _blank(value) else as_float(value)


def decode_mixed(raw: bytes) -> str:
    """Text of a file that is UTF-8 in places and Windows-1252 in others.

    Each line is decoded as UTF-8 when it is valid UTF-8, else as cp1252 (latin-1 for the few bytes cp1252 leaves
    undefined), so a file mixing both never fails and never turns valid UTF-8 into mojibake.
    """
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    out = []
    for line in raw.splitlines(keepends=True):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                out.append(line.decode("cp1252"))
            except UnicodeDecodeError:
                out.append(line.decode("latin-1"))
    return "".join(out)


def read_csv_text(path: Path) -> pd.DataFrame:
    """A CSV in UTF-8 and/or cp1252 as strings, blanks as ''."""
    try:
        text = decode_mixed(path.read_bytes())
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceFormatError(f"{path}: not a readable CSV ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


@dataclass
class DateParts:
    """A start or end date as coded, and what survived the checks."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def precision(self) -> str:
        return precision_of(self.month, self.day)


def coverage(first: int, last: int) -> tuple[int, int]:
    """A source's documented years, never beyond the present year (a later year is a typo, not a plan)."""
    return first, min(last, _dt.date.today().year)


def clean_date(year: Any, month: Any, day: Any, label: str, years: tuple[int, int]) -> DateParts:
    """Year/month/day cells to a checked date; an impossible day or month lowers the precision with a note.

    A missing year, or one outside ``years`` (the source's coverage, see :func:`coverage`), leaves ``year``
    None with a note; the caller decides whether that rejects the row.
    """
    out = DateParts(_int(year), _int(month), _int(day))
    if out.year is not None and not years[0] <= out.year <= years[1]:
        out.notes.append(f"{label} year {out.year} is outside {years[0]}-{years[1]}, the years the source covers")
        out.year = None
    if out.year is None:
        out.month = out.day = None
        return out
    if out.month is not None and not 1 <= out.month <= 12:
        out.notes.append(f"{label} month {out.month} is impossible; kept year precision")
        out.month = out.day = None
    if out.month is None:
        out.day = None
        return out
    if out.day is not None:
        try:
            dates.check_month_day(out.year, out.month, out.day)
        except ValueError as exc:
            out.notes.append(f"{label} {exc}; kept month precision")
            out.day = None
    return out


_NAME_YEAR4 = re.compile(r"(?<!\d)(19[7-9]\d|20[0-4]\d)(?!\d)")
_NAME_YEAR2 = re.compile(r"(?:^|[\s'’-])(\d{2})(?:-\d{1,2})?\s*$")
_LOOSE_DATE = re.compile(r"^\s*(\d{1,2}|xx)\s*/\s*(\d{1,2}|xx)\s*/\s*(\d{1,4})\s*$", re.IGNORECASE)


def year_in_name(name: Any) -> int | None:
    """The year an exercise name carries: 'Cobra Gold 2005', 'Passex 07', 'Balikatan 02-2' (two digits: 70-99 are
    19xx, 00-69 20xx); None when it carries none or two different ones."""
    text = _text(name)
    if text is None:
        return None
    full = set(_NAME_YEAR4.findall(text))
    if full:
        return int(full.pop()) if len(full) == 1 else None
    m = _NAME_YEAR2.search(text)
    if m is None:
        return None
    yy = int(m.group(1))
    return 1900 + yy if yy >= 70 else 2000 + yy


def recover_start(text: Any, end: DateParts, name: Any, years: tuple[int, int]) -> DateParts | None:
    """A start date JME wrote unreadably ('10/xx/007', '03/05/3009', blank), recovered from the other evidence.

    The year is the one the end date and the year in the name agree on (either alone when the other is absent);
    a written year must end in the same two digits (a slip: '007', '3009'). Month and day are kept from the text
    when readable. None when the evidence disagrees or is absent.
    """
    hints = {y for y in (end.year, year_in_name(name)) if y is not None}
    if len(hints) != 1:
        return None
    year = hints.pop()
    written = _text(text)
    month = day = None
    if written is not None:
        m = _LOOSE_DATE.match(written)
        if m is None or int(m.group(3)) % 100 != year % 100:
            return None
        month, day = m.group(1), m.group(2)
    out = clean_date(year, month, day, "start", years)
    if out.year is None:
        return None
    where = " and ".join(w for w, y in (("the end date", end.year), ("the name", year_in_name(name))) if y == year)
    out.notes.insert(0, f"start date {written or '(blank)'!r} read as year {year} (from {where})")
    return out


_SLASH_DATE = re.compile(r"^\s*(\d{1,2}|xx)\s*[/.]+\s*(\d{1,3}|xx)\s*[/.]*\s*(\d{4}|\d{2})\s*$", re.IGNORECASE)
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2}|xx)(?:[ T].*)?$", re.IGNORECASE)


def split_date_text(value: Any) -> tuple[Any, Any, Any]:
    """'11/xx/1974', '7/7/05', '2002-08-01 00:00:00', '1980-01-xx' -> (year, month, day) cells; blanks if unreadable."""
    text = _text(value)
    if text is None:
        return None, None, None
    text = re.sub(r"(?i)^(\d{1,2})xx/", r"\1/xx/", text)  # '11xx/2002'
    text = re.sub(r"(?i)xx(\d{4})$", r"xx/\1", text)  # '08/xx2002'
    m = _ISO_DATE.match(text)
    if m:
        return m.group(1), m.group(2), m.group(3)
    m = _SLASH_DATE.match(text)
    if m:
        month, day, year = m.groups()
        if len(year) == 2:
            year = str(1900 + int(year) if int(year) > 30 else 2000 + int(year))
        return year, month, day
    m = re.match(r"^\s*(\d{4})\s*$", text)
    if m:
        return m.group(1), None, None
    return None, None, None


def dated_fields(start: DateParts, end: DateParts) -> tuple[dict[str, Any], list[str]]:
    """Engagement date fields from checked start/end dates; an end before the start is dropped with a note."""
    notes = start.notes + end.notes
    fields: dict[str, Any] = {"start_year": start.year, "start_month": start.month, "start_day": start.day,
                              "precision": start.precision}
    if end.year is not None:
        assert start.year is not None  # (a record without a start year is quarantined before its dates are set)
        # compare at the precision both dates share ("1996-05-14" to "1996-05-xx" is in order)
        s_key = dates.sort_key(start.year, start.month if end.month else None, start.day if end.day else None)
        e_key = dates.sort_key(end.year, end.month if start.month else None, end.day if start.day else None)
        text = f"{end.year}-{end.month or 'xx'}-{end.day or 'xx'}"
        if e_key < s_key:
            notes.append(f"end ({text}) is before the start; end dropped")
            return fields, notes
        # Engagement's own check compares a day-precise start with a less precise end as if the end were the first
        # day of its month (or year); such an end cannot be stored in the end fields: the source's 'end' keeps it.
        strict_end = dates.sort_key(end.year, end.month if start.month else None, end.day if start.day else None)
        if strict_end < dates.sort_key(start.year, start.month, start.day):
            fields["end_year"] = end.year if end.year > start.year else None
            notes.append(f"end {text} is less precise than the start; kept as the source's 'end' only")
        else:
            fields.update(end_year=end.year, end_month=end.month, end_day=end.day)
    return fields, notes


_ROMAN_RE = re.compile(r"^(x{0,3})(ix|iv|v?i{0,3})$")
_NOISE = {"exercise", "exercises", "ex", "exer", "the", "and", "joint", "combined", "fy", "operation", "op"}


def _roman(token: str) -> int | None:
    """Value of a roman numeral up to 39 ('xxiv' -> 24), else None."""
    m = _ROMAN_RE.match(token)
    if not token or not m:
        return None
    tens, units = m.groups()
    values = {"": 0, "i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9}
    return 10 * len(tens) + values[units]


def normalise_name(name: Any, year: int | None = None) -> str | None:
    """A comparable form of an exercise name, or None for unnamed exercises.

    Lower case without accents or punctuation; "&" reads "and"; the words "exercise", "operation", "joint",
    "combined" and "the" are dropped; roman numerals after the first word become digits ("Unitas XXIV" ->
    "unitas24"); the start year written in the name is dropped, in full ("2005") or as two digits ("05", "'05"),
    so "Cobra Gold 05" and "Cobra Gold 2005" agree. Other numbers (series numbers such as "Readex 1-80" ->
    "readex1") are kept. Words are joined without spaces, so "Ulchi-Focus Lens" and "Ulchi Focus Lens" agree.
    """
    text = _text(name)
    if text is None:
        return None
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower().replace("&", " and ")
    text = re.sub(r"(?<=[a-zа-яё])(?=\d)|(?<=\d)(?=[a-zа-яё])", " ", text)
    tokens = [t for t in re.split(r"[^0-9a-zа-яё]+", text) if t]
    kept: list[str] = []
    for i, tok in enumerate(tokens):
        if tok in _NOISE:
            continue
        if tok.isdigit():
            number = int(tok)
            if year is not None and (number == year or (len(tok) == 2 and number == year % 100)):
                continue
            if len(tok) == 4 and 1950 <= number <= 2030 and year is None:
                continue
            kept.append(str(number))
            continue
        roman = _roman(tok) if i > 0 else None
        if roman:
            kept.append(str(roman))
            continue
        kept.append(tok)
    key = "".join(kept)
    return key or None


def name_parts(name: Any) -> set[str]:
    """A name, the name without its parenthesis, the parenthesis, and the parts around a slash.

    MME often adds a translation, "Druzhba (Friendship)" or "Zapad (West)", where JME has one of the two.
    """
    text = _text(name)
    if text is None:
        return set()
    parts = {text, re.sub(r"\(.*?\)", " ", text)}
    parts.update(re.findall(r"\((.*?)\)", text))
    parts.update(p for p in re.split(r"\s*/\s*", text) if p)
    return parts


def name_variants(name: Any, year: int | None = None) -> set[str]:
    """Normalised forms of a name and of its parts (:func:`name_parts`)."""
    return {v for v in (normalise_name(p, year) for p in name_parts(name)) if v}


def _title_unnamed(names: list[str], year: int | None) -> str:
    who = ", ".join(names[:4]) + (f" and {len(names) - 4} others" if len(names) > 4 else "")
    return f"Unnamed exercise ({who or 'participants unknown'}), {year}"


def _participant(polity: Any, role: str, source_name: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": polity.id, "name": polity.name, "role": role, "ccode": getattr(polity, "ccode", None)}
    if source_name and source_name != polity.name:
        out["attributes"] = {"source_name": source_name}
    return out


def _looks_like_code(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z]{3}", text.strip()))


def _resolve_code_or_name(ctx: IngestContext, text: str, year: int | None) -> Any:
    """JME codes are ISO3-like (case slips such as 'uSA' fixed); other text is read as a name."""
    text = text.strip()
    if _looks_like_code(text):
        return ctx.resolve_code("iso3", text.upper(), year)
    return ctx.resolve(text, year)


# ---------------------------------------------------------------------------------------------------------------
# MME: parsing (pure, no context) and loading
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class ExerciseRecord:
    """One exercise as read from a file, before names are resolved."""

    id: str
    rows: list[int]
    name: str | None
    start: DateParts
    end: DateParts
    participants: list[str]
    unknown_slots: int = 0
    host: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    sub_activities: set[str] = field(default_factory=set)
    record_id: str = ""
    participants_text: str | None = None
    """The source's free-text description of the participants (kept when none of them can be identified)."""

    @property
    def key_name(self) -> str | None:
        return normalise_name(self.name, self.start.year)


def _lines(frame: pd.DataFrame) -> list[int]:
    """The file line (header = 1) of each row of a frame read with a default index, rows set aside or not."""
    return [int(i) + 2 for i in frame.index]


def _state_columns(frame: pd.DataFrame, prefix: str) -> list[str]:
    pattern = re.compile(rf"^{re.escape(prefix)}[A-Z]{{1,2}}$")
    return [c for c in frame.columns if pattern.match(c)]


def read_mme(path: Path) -> pd.DataFrame:
    frame = read_csv_text(path)
    require_columns(frame, MME_REQUIRED, path)
    return frame


def parse_mme(frame: pd.DataFrame, file: str,
              rejects: list[tuple[int, str, str, str]]) -> tuple[list[ExerciseRecord], int]:
    """MME rows to exercise records and the number of blank rows; bad rows are appended to ``rejects`` as
    (row, field, value, reason).

    Rows are numbered as in the file (the header is line 1). An exact duplicate row is rejected; two different rows
    that share an ``MMEID`` (three pairs in v7) are both kept, the later with a ``-2`` suffix on its id. A start year
    outside 1980-2010 (MME's coverage) rejects the row; an end year outside it is dropped with a note.
    """
    states = _state_columns(frame, "State")
    seen_rows: dict[tuple[Any, ...], int] = {}
    id_count: dict[str, int] = {}
    out: list[ExerciseRecord] = []
    blank = 0
    years = coverage(*MME_YEARS)
    columns = list(frame.columns)
    for pos, row in zip(_lines(frame), frame_rows(frame)):
        rec = dict(zip(columns, row))
        if all(_blank(v) for v in row):
            blank += 1
            continue
        signature = tuple(str(v).strip() for v in row)
        if signature in seen_rows:
            rejects.append((pos, "MMEID", rec["MMEID"], f"duplicate of row {seen_rows[signature]}"))
            continue
        seen_rows[signature] = pos
        raw_id = _text(rec["MMEID"])
        if raw_id is None:
            rejects.append((pos, "MMEID", rec["MMEID"], "missing exercise id"))
            continue
        number = re.sub(r"(?i)^mme-?", "", raw_id)
        id_count[number] = id_count.get(number, 0) + 1
        eid = f"mme-{number}" if id_count[number] == 1 else f"mme-{number}-{id_count[number]}"
        start = clean_date(rec["s.year"], rec["s.month"], rec["s.day"], "start", years)
        if start.year is None:
            rejects.append((pos, "s.year", rec["s.year"], "; ".join(start.notes) or "missing start year"))
            continue
        end = clean_date(rec["e.year"], rec["e.month"], rec["e.day"], "end",
                         coverage(MME_YEARS[0], MME_YEARS[1] + 1))
        names = [str(rec[c]).strip() for c in states if not _blank(rec[c])]
        unknown = sum(1 for c in states if str(rec[c]).strip() in ("-9", "-9.0"))
        flags = {c: _flag(rec[c]) for c in MME_DOMAINS + MME_PURPOSES}
        focus = _text(rec.get("FocusDescription"))
        subs = set()
        if flags["Peacekeeping"]:
            subs.add("peacekeeping")
        if flags["Humanitarian"]:
            subs.add("hadr")
        if focus and INTEROPERABILITY.search(focus):
            subs.add("interoperability")
        extra = _text(rec.get("AdditionalParticipantInfo"))
        attrs = {
            "name": _text(rec["Ex_Name"]),
            "series": _text(rec.get("Series_Name")),
            "location": _text(rec.get("Location")),
            "lat": _float(rec.get("lat")),
            "lon": _float(rec.get("lon")),
            "domains": [c for c in MME_DOMAINS if flags[c]],
            "purposes": [c for c in MME_PURPOSES if flags[c]],
            "focus": focus,
            "additional_participants": extra,
            "mmeid": raw_id,
        }
        if id_count[number] > 1:
            attrs["mmeid_reused"] = True
        out.append(ExerciseRecord(
            id=eid, rows=[pos], name=_text(rec["Ex_Name"]), start=start, end=end, participants=names,
            unknown_slots=unknown, attributes={k: v for k, v in attrs.items() if v not in (None, [], "")},
            sub_activities=subs, record_id=raw_id, participants_text=extra))
    return out, blank


# ---------------------------------------------------------------------------------------------------------------
# JME: parsing reports and collapsing them into exercises
# ---------------------------------------------------------------------------------------------------------------

def read_jme(path: Path) -> pd.DataFrame:
    """Sheet ``Sheet1_2`` of the JME workbook as strings (other sheets are empty)."""
    try:
        book = pd.ExcelFile(path, engine="calamine")
    except Exception as exc:  # noqa: BLE001  (the reader raises its own error types for non-Excel input)
        raise SourceFormatError(f"{path}: not a readable Excel .xls workbook ({exc})") from None
    if JME_SHEET not in book.sheet_names:
        raise SourceFormatError(f"{path}: no sheet {JME_SHEET!r}; found {', '.join(book.sheet_names)}")
    frame = pd.read_excel(book, sheet_name=JME_SHEET, dtype=str)
    frame.columns = [str(c).strip() for c in frame.columns]
    require_columns(frame, JME_REQUIRED, path)
    return frame


def _jme_types(value: Any) -> list[str]:
    text = (_text(value) or "").upper()
    return [t for t in ("FTX", "CPX") if t in text]


JME_FORM_COLUMNS = ("Coder", "Timestamp", "Unnamed: 2", "AUS", "JME Type", "Part of the Reforger Exercise?")
"""Columns the coding form or a later script fills whatever the report says (a row with nothing else is blank)."""


def _jme_blank(rec: dict[str, Any]) -> bool:
    return all(_blank(v) for c, v in rec.items() if c not in JME_FORM_COLUMNS)


def supplement_start(frame: pd.DataFrame) -> int | None:
    """The sheet row where the later supplement begins: the first row time-stamped (ISO) in 2015 or later.

    The 2012 release's rows were coded through a web form stamped 'm/d/yyyy'; the supplement coded in 2015-2016
    follows them, stamped 'yyyy-mm-dd ...'. None when the sheet has no such row.
    """
    if "Timestamp" not in frame.columns:
        return None
    for pos, value in enumerate(frame["Timestamp"].tolist(), start=2):
        m = re.match(r"^\s*(\d{4})-\d\d-\d\d", str(value))
        if m and int(m.group(1)) >= 2015:
            return pos
    return None


def jme_batch(row: int, supplement: int | None) -> str:
    """``release_2012`` or ``supplement_2015``: the batch of a sheet row."""
    return SUPPLEMENT if supplement is not None and row >= supplement else RELEASE


def parse_jme(frame: pd.DataFrame, file: str,
              rejects: list[tuple[int, str, str, str]]) -> tuple[list[ExerciseRecord], int]:
    """JME reports to exercises (and the number of blank rows): reports with the same normalised name, start year
    and start month are one exercise.

    Unnamed reports (``-9``) are collapsed only when their start date (to the day) and participant codes are equal.
    The date comes from ``s.year``/``s.month``/``s.day``, or from the ``Start Date`` text where those are blank; an
    unreadable start or one outside 1970-2010 is recovered from the end date and the name (:func:`recover_start`),
    else the row is rejected. Rows are numbered as in the spreadsheet (header = row 1); the engagement id is
    ``jme-<first row>``; each exercise counts its reports per batch (:func:`supplement_start`).
    """
    require_columns(frame, JME_REQUIRED, file)
    states = _state_columns(frame, "State ")
    seen_rows: dict[tuple[Any, ...], int] = {}
    groups: dict[tuple[Any, ...], ExerciseRecord] = {}
    order: list[ExerciseRecord] = []
    years = coverage(*JME_YEARS)
    end_years = coverage(JME_YEARS[0], JME_YEARS[1] + 1)
    supplement = supplement_start(frame)
    blank = 0
    columns = list(frame.columns)
    content_columns = [c for c in columns if c not in ("Coder", "Timestamp", "Unnamed: 2")]
    for pos, row in zip(_lines(frame), frame_rows(frame)):
        rec = dict(zip(columns, row))
        if _jme_blank(rec):
            blank += 1
            continue
        content = tuple("" if _blank(rec[c]) else str(rec[c]).strip() for c in content_columns)
        if content in seen_rows:
            rejects.append((pos, "Exercise Name", rec["Exercise Name"], f"duplicate of row {seen_rows[content]}"))
            continue
        seen_rows[content] = pos
        name = _text(rec["Exercise Name"])
        end_cells = (rec["e.year"], rec["e.month"], rec["e.day"])
        if _int(end_cells[0]) is None:
            end_cells = split_date_text(rec["enddate"])
        end = clean_date(*end_cells, "end", end_years)
        cells = (rec["s.year"], rec["s.month"], rec["s.day"])
        if _int(cells[0]) is None:
            cells = split_date_text(rec["Start Date"])
        start = clean_date(*cells, "start", years)
        if start.year is None:
            recovered = recover_start(rec["Start Date"], end, name, years)
            if recovered is None:
                rejects.append((pos, "Start Date", _text(rec["Start Date"]) or "",
                                "; ".join(start.notes) or "missing or unreadable start date"))
                continue
            start = recovered
        codes = [str(rec[c]).strip() for c in states if not _blank(rec[c])]
        unknown = sum(1 for c in states if str(rec[c]).strip() in ("-9", "-9.0"))
        key_name = normalise_name(name, start.year)
        if key_name:
            gkey: tuple[Any, ...] = ("named", key_name, start.year, start.month)
        else:
            # without a known day two unnamed reports cannot be told apart from two exercises: keep both
            gkey = ("unnamed", start.year, start.month, start.day, frozenset(c.upper() for c in codes),
                    pos if start.day is None else 0)
        purpose = _text(rec.get("What is the purpose of the JME?"))
        host = [h.strip() for h in re.split(r"[;,/]", _text(rec.get("Which state hosted the exercise?")) or "")
                if h.strip()]
        group = groups.get(gkey)
        if group is None:
            group = ExerciseRecord(id=f"jme-{pos}", rows=[], name=name, start=start, end=end, participants=[],
                                   attributes={"names": [], "types": [], "locations": [], "sources": [],
                                               "purposes": [], "notes": [], "institutions": [], "batches": {},
                                               "date_notes": []})
            groups[gkey] = group
            order.append(group)
        group.rows.append(pos)
        batches = group.attributes["batches"]
        batch = jme_batch(pos, supplement)
        batches[batch] = batches.get(batch, 0) + 1
        for code in codes:
            if code.upper() not in {c.upper() for c in group.participants}:
                group.participants.append(code)
        group.unknown_slots = max(group.unknown_slots, unknown)
        for h in host:
            if h not in group.host:
                group.host.append(h)
        if group.end.year is None or (end.year is not None and (end.year, end.month or 0, end.day or 0)
                                      > (group.end.year, group.end.month or 0, group.end.day or 0)):
            group.end = end  # the latest end any report gives
        if start.day and not group.start.day and start.month == group.start.month:
            group.start = start  # a report with a known day sharpens the start
        attrs = group.attributes
        for key, values in (("names", [name]), ("date_notes", start.notes), ("types", _jme_types(rec.get("JME Type"))),
                            ("locations", [_text(rec.get("Location1")), _text(rec.get("Location2"))]),
                            ("sources", [_text(rec.get("Source(s)"))]), ("purposes", [purpose]),
                            ("notes", [_text(rec.get("Anything interesting to note about this exercise?"))]),
                            ("institutions", [_text(rec.get("Institution(s) involved"))])):
            for v in values:
                if v and v not in attrs[key]:
                    attrs[key].append(v)
        reforger = _flag(rec.get("Part of the Reforger Exercise?"))
        if reforger is not None:
            attrs["reforger"] = bool(attrs.get("reforger")) or reforger
        trimmed = _text(rec.get("Trimmed Name"))
        if trimmed:
            attrs.setdefault("series", trimmed)
        text = " ".join(filter(None, [purpose, _text(rec.get("Anything interesting to note about this exercise?"))]))
        if INTEROPERABILITY.search(text):
            group.sub_activities.add("interoperability")
        if PEACEKEEPING.search(text):
            group.sub_activities.add("peacekeeping")
        if HADR.search(text):
            group.sub_activities.add("hadr")
    for group in order:
        group.record_id = ";".join(str(r) for r in group.rows)
        attrs = group.attributes
        attrs["reports"] = len(group.rows)
        attrs["rows"] = list(group.rows)
        attrs["name"] = group.name
        group.start.notes = []  # the notes of every report are in the group's attributes
        group.participants_text = "; ".join(group.participants + attrs["institutions"]) or None
        group.attributes = {k: v for k, v in attrs.items() if v not in (None, [], "")}
    return order, blank


# ---------------------------------------------------------------------------------------------------------------
# Russia's exercises (unofficial)
# ---------------------------------------------------------------------------------------------------------------

def parse_ru(frame: pd.DataFrame, file: str, rejects: list[tuple[int, str, str, str]]) -> tuple[list[ExerciseRecord],
                                                                                                  int]:
    """Rows of the Russian list to exercises; entirely blank rows (the file pads itself with ~900) are skipped."""
    parts = [c for c in frame.columns if re.fullmatch(r"part\d+", c)]
    parts.sort(key=lambda c: int(c[4:]))
    seen: dict[tuple[Any, ...], int] = {}
    out: list[ExerciseRecord] = []
    blank = 0
    columns = list(frame.columns)
    content_columns = [c for c in columns if c != "id"]
    for pos, row in zip(_lines(frame), frame_rows(frame)):
        rec = dict(zip(columns, row))
        if all(_blank(v) for v in row):
            blank += 1
            continue
        content = tuple(str(rec[c]).strip() for c in content_columns)
        if content in seen:
            rejects.append((pos, "name", rec["name"], f"duplicate of row {seen[content]}"))
            continue
        seen[content] = pos
        rid = _text(rec["id"])
        if rid is None:
            rejects.append((pos, "id", rec["id"], "missing exercise id"))
            continue
        year = clean_date(rec["yr"], None, None, "start", coverage(*RU_YEARS))
        if year.year is None:
            rejects.append((pos, "yr", rec["yr"], "; ".join(year.notes) or "missing year"))
            continue
        partners = [str(rec[c]).strip() for c in parts if not _blank(rec[c])]
        name = _text(rec["name"])
        subs = {"hadr"} if name and HADR.search(name) else set()
        attrs = {"name": name, "comments": _text(rec.get("comments")),
                 "sources": [s for s in (_text(rec.get("source")), _text(rec.get("source2"))) if s],
                 "russia_implicit": True}
        out.append(ExerciseRecord(id=f"ru_exercises-{rid}", rows=[pos], name=name, start=year, end=DateParts(),
                                  participants=partners, attributes={k: v for k, v in attrs.items() if v},
                                  sub_activities=subs, record_id=rid))
    return out, blank


# ---------------------------------------------------------------------------------------------------------------
# Records to engagements
# ---------------------------------------------------------------------------------------------------------------

def _engagement(source: Source, rec: ExerciseRecord, ctx: IngestContext, file: str, codes: bool,
                implicit: Any = None) -> Any:
    """Resolve participants and validate.

    The source's own details go under ``attributes[<source id>]`` (with its dates as ``start``/``end``), so a
    merge with another source's record loses nothing; the top level holds what describes the whole record:
    ``format`` and, when a participant is missing, ``participants_incomplete`` and ``participants_text``. An
    exercise none of whose participants can be identified is kept with the ``unknown`` participant (it counts
    in per-year tables and adds no dyad).
    """
    year = rec.start.year
    participants: dict[str, dict[str, Any]] = {}
    if implicit is not None:
        participants[implicit.id] = _participant(implicit, "participant")
    names: list[str] = []
    misses = 0
    for text in rec.participants:
        polity = _resolve_code_or_name(ctx, text, year) if codes else ctx.resolve(text, year)
        if polity is None:
            misses += 1
            continue
        names.append(polity.name)
        if polity.id not in participants:
            participants[polity.id] = _participant(polity, "participant", text)
    for text in rec.host:
        polity = _resolve_code_or_name(ctx, text, year)
        if polity is None:
            misses += 1
            continue
        if polity.id in participants:
            participants[polity.id]["role"] = "host"
        else:
            participants[polity.id] = _participant(polity, "host", text)
    identified = len(participants)
    if not any(implicit is None or pid != implicit.id for pid in participants):
        participants[UNKNOWN_ID] = _participant(ctx.registry.get(UNKNOWN_ID), "participant")
    fields, notes = dated_fields(rec.start, rec.end)
    own = dict(rec.attributes)
    own["start"] = iso(rec.start.year, rec.start.month, rec.start.day)
    if rec.end.year is not None:
        own["end"] = iso(rec.end.year, rec.end.month, rec.end.day)
    if notes:
        own["date_notes"] = [*own.get("date_notes", []), *notes]
    if misses:
        own["unidentified_participants"] = misses
    attrs: dict[str, Any] = {source.id: own}
    fmt = exercise_format(identified, incomplete=bool(rec.unknown_slots or misses))
    if fmt:
        attrs["format"] = fmt
    if rec.unknown_slots or misses or UNKNOWN_ID in participants:
        attrs["participants_incomplete"] = True
        text = rec.participants_text or "; ".join(rec.participants)
        if text:
            attrs["participants_text"] = text
    display = names if implicit is None else [implicit.name, *names]
    title = rec.name or _title_unnamed(display, year)
    data = {
        "id": rec.id, "title": title, "activity": ACTIVITY, "instrument": INSTRUMENT,
        "sub_activities": sorted(rec.sub_activities), **fields,
        "participants": list(participants.values()), "attributes": attrs,
        "provenance": [source.provenance(rec.record_id)],
        # MME and JME records may describe one exercise: they stay mergeable objects until the build pairs them
        # (defdip.ingest.matching), which gives each pair one key; an unpaired record's own key merges with nothing
        "match_key": f"exercise:{rec.id}" if source.id in PAIRED_SOURCES else None,
    }
    return ctx.engagement(data, file, ";".join(map(str, rec.rows)))


def exercise_format(n_identified: int, *, incomplete: bool = False) -> str | None:
    """'bilateral' (two states, none missing), 'multilateral' (more than two, or two and some unidentified)."""
    if n_identified > 2 or (n_identified == 2 and incomplete):
        return "multilateral"
    return "bilateral" if n_identified == 2 else None


def _load_records(source: Source, records: list[ExerciseRecord], rejects: list[tuple[int, str, str, str]],
                  ctx: IngestContext, file: str, rows_read: int, blank: int, *, codes: bool,
                  implicit: Any = None) -> LoadResult:
    """What the three loaders share once a file is parsed: quarantine its bad rows, resolve and validate records.

    ``accounted``: each kept record's first row is ``kept``, JME's further reports of one exercise are
    ``collapsed``, padding rows ``blank``; every other row is in the quarantine.
    """
    for row, fld, value, reason in rejects:
        ctx.reject(file, row, fld, value, reason)
    result = LoadResult(rows_read=rows_read)
    collapsed = 0
    for rec in records:
        eng = _engagement(source, rec, ctx, file, codes, implicit=implicit)
        if eng is not None:
            result.engagements.append(eng)
            collapsed += len(rec.rows) - 1
    result.accounted = {"kept": len(result.engagements)}
    if collapsed:
        result.accounted["collapsed"] = collapsed
    if blank:
        result.accounted["blank"] = blank
    return result


# ---------------------------------------------------------------------------------------------------------------
# Figures from the files, and the checks of the built store against them (``defdip validate``)
# ---------------------------------------------------------------------------------------------------------------

MME_PUBLISHED = 3704
"""Exercises in MME v7 as D'Orazio & Galambos report them (distinct MMEIDs in the file)."""
JME_PUBLISHED = 1479
"""JMEs recorded 1970-2010 in D'Orazio's 2012 dissertation chapter introducing the dataset (the 2012 release)."""


def mme_file_years(frame: pd.DataFrame) -> pd.DataFrame:
    """Distinct rows of the MME file per start year as written (``s.year``; exact duplicates and blank rows aside):
    the per-year reference the store's MME records (and the rows it quarantined for their year) must reproduce."""
    distinct = frame.drop_duplicates()
    years = [_int(v) for v in distinct["s.year"].tolist()]
    counts = pd.Series([y for y in years if y is not None], dtype="Int64").value_counts().sort_index()
    return pd.DataFrame({"year": counts.index.astype("int64"), "rows": counts.to_numpy(dtype="int64")})


def jme_batches(frame: pd.DataFrame) -> pd.DataFrame:
    """JME's batches as the sheet holds them: first and last row, and non-blank report rows."""
    supplement = supplement_start(frame)
    blank = [_jme_blank(dict(zip(frame.columns, row))) for row in frame_rows(frame)]
    rows = []
    for batch, first, last in ((RELEASE, 2, (supplement or len(frame) + 2) - 1),
                               (SUPPLEMENT, supplement, len(frame) + 1)):
        if first is None or last < first:
            continue
        rows.append({"batch": batch, "first_row": first, "last_row": last,
                     "rows": int(sum(not blank[i - 2] for i in range(first, last + 1)))})
    return pd.DataFrame(rows, columns=["batch", "first_row", "last_row", "rows"])


def mme_checks(con: duckdb.DuckDBPyConnection) -> list[Check]:
    """MME's exercises against the paper's total and the file's per-year counts (by MME's own dates)."""
    own = checks.mme_exercises(con)
    n_ids = int(own["mmeid"].nunique())
    out = [Check("mme", "exercises (distinct MMEIDs) vs the MME paper", MME_PUBLISHED, n_ids, n_ids == MME_PUBLISHED,
                 note=f"{len(own):,} records: three MMEIDs each name two different exercises in v7")]
    file_years = checks.mme_file_years(con)
    if file_years is not None:
        stored = own["year"].value_counts().to_dict()
        quarantined = checks.quarantined_by_value(con, "mme", "s.year")
        off = sorted(y for y in set(file_years) | set(stored)
                     if file_years.get(y, 0) != stored.get(y, 0) + quarantined.get(y, 0))
        out.append(Check("mme", "per-year exercises (MME dates) vs the file's rows per year", 0, len(off),
                         not off, note=", ".join(f"{y}: file {file_years.get(y, 0)}, store {stored.get(y, 0)}"
                                                 for y in off[:5])))
    return out + _kept_attribute_checks(con, "mme") + _match_checks(con)


def jme_checks(con: duckdb.DuckDBPyConnection) -> list[Check]:
    """JME's 2012 release against the published count, kept apart from the supplement by its batch tag."""
    out = []
    batches = checks.jme_batches(con)
    if batches is not None:
        stored = checks.jme_rows_stored(con, [RELEASE, SUPPLEMENT])
        rejected = [int(r.split(";")[0]) for r in checks.quarantined_rows(con, "jme")]
        if RELEASE in batches:
            first, last, n = batches[RELEASE]
            out.append(Check(
                "jme", "2012 release: report rows vs the JMEs D'Orazio (2012) records", JME_PUBLISHED, n,
                abs(n - JME_PUBLISHED) <= 1,
                note=f"sheet rows {first}-{last}, before the first row stamped 2015; one row more than the "
                     "chapter's count, which the file does not explain (tolerance: one row)"))
        for batch, (first, last, n) in sorted(batches.items()):
            held = stored.get(batch, 0) + sum(first <= r <= last for r in rejected)
            out.append(Check("jme", f"{batch}: report rows stored or quarantined vs the sheet's", n, held,
                             held == n, kind="invariant"))
    return out + _kept_attribute_checks(con, "jme")


def _kept_attribute_checks(con: duckdb.DuckDBPyConnection, source: str) -> list[Check]:
    """Every record this source contributed to keeps the source's own attributes (merged or not)."""
    missing = checks.records_lacking_own_attributes(con, source)
    return [Check(source, "records keep this source's attributes (merged records too)", 0, len(missing),
                  not missing, kind="invariant", note="; ".join(missing[:5]))]


def _match_checks(con: duckdb.DuckDBPyConnection) -> list[Check]:
    """How many MME/JME pairs each matching tier merged (a report figure, no published counterpart)."""
    return [Check("mme", f"MME/JME pairs merged, tier {tier}", None, n, True,
                  note="see defdip.ingest.matching for the tier's rule") for tier, n in checks.match_tiers(con)]


# ---------------------------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------------------------

_MME_BIB = """@misc{dorazio_galambos_2021,
  author = {D'Orazio, Vito and Galambos, Kevin},
  title = {Multinational Military Exercises, 1980-2010},
  year = {2021},
  publisher = {Harvard Dataverse},
  version = {V1},
  doi = {10.7910/DVN/KHFODX},
  url = {https://doi.org/10.7910/DVN/KHFODX}
}"""

_JME_BIB = """@misc{dorazio_2013_jme,
  author = {D'Orazio, Vito},
  title = {Joint Military Exercises, 1970-2010 (JME), version 3},
  year = {2013},
  institution = {Pennsylvania State University},
  note = {Dataset; distributed by the author (vitodorazio.com). Described in D'Orazio, ``War Games: North Atlantic
          Treaty Organization and Out-of-Area Military Exercises''}
}"""

_RU_BIB = """@misc{milru_exercises_unofficial,
  author = {{Unknown compiler}},
  title = {Joint Military Exercises Involving {Russia}, 2009-2018 (compiled from the website of the
           {Russian} {Ministry} of {Defence})},
  year = {2018},
  howpublished = {CSV in the GitHub repository zleffel-afk/Visualization-of-NAM-country-data, commit bba038e},
  url = {https://github.com/zleffel-afk/Visualization-of-NAM-country-data},
  note = {Unofficial; no licence stated}
}"""


class MMESource(Source):
    id = "mme"
    title = "Multinational Military Exercises, 1980-2010 (MME v7)"
    folder = "military_exercises"
    version = "7"
    files = (MME_FILE,)
    downloads = (
        # Harvard Dataverse serves files by persistent id through its access API; the file-level DOI of
        # mme_v7 is not recorded here, so the dataset-level bundle address is given and the file is taken from it.
        Download("https://dataverse.harvard.edu/api/access/dataset/:persistentId/?persistentId=doi:10.7910/DVN/KHFODX",
                 "KHFODX.zip", None, (MME_FILE,)),
    )
    homepage = "https://doi.org/10.7910/DVN/KHFODX"
    terms = "Harvard Dataverse; CC0 1.0 unless the dataset page states otherwise. Cite the dataset."
    adds = "About 3,700 multinational military exercises, 1980-2010, with participants, domains and purposes."
    citation = ("D'Orazio, Vito; Galambos, Kevin, 2021, \"Multinational Military Exercises, 1980-2010\", "
                "https://doi.org/10.7910/DVN/KHFODX, Harvard Dataverse, V1.")
    bibtex = _MME_BIB
    citation_keys = ("dorazio_galambos_2021",)

    coverage = MME_YEARS
    min_rows = 3000

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        frame = read_mme(folder / MME_FILE)
        rows_read = len(frame)
        frame = quarantine_short_rows(frame, folder / MME_FILE, ctx)  # a truncated row is no exercise
        rejects: list[tuple[int, str, str, str]] = []
        records, blank = parse_mme(frame, MME_FILE, rejects)
        result = _load_records(self, records, rejects, ctx, MME_FILE, rows_read, blank, codes=False)
        result.tables["mme_file_years"] = mme_file_years(frame)
        return result

    def checks(self, con: duckdb.DuckDBPyConnection) -> list[Check]:
        return mme_checks(con)


class JMESource(Source):
    id = "jme"
    title = "Joint Military Exercises, 1970-2010 (JME v3)"
    folder = "military_exercises"
    version = "3"
    files = (JME_FILE,)
    downloads = ()  # distributed by the author, no stable official download address
    homepage = "https://www.vitodorazio.com/data.html"
    terms = "Research dataset distributed by the author; cite D'Orazio."
    adds = "Joint military exercises 1974-2010 coded from news reports, collapsed to one engagement per exercise."
    citation = ("D'Orazio, Vito. 2013. Joint Military Exercises, 1970-2010 (JME v3). Pennsylvania State University.")
    bibtex = _JME_BIB
    citation_keys = ("dorazio_2013_jme",)

    coverage = JME_YEARS
    min_rows = 1500

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        return self.load_frame(read_jme(folder / JME_FILE), ctx)

    def load_frame(self, frame: pd.DataFrame, ctx: IngestContext) -> LoadResult:
        """The loader past the spreadsheet reader (the sheet as a DataFrame of strings)."""
        frame = frame.copy()
        frame.columns = [str(c).strip() for c in frame.columns]
        rejects: list[tuple[int, str, str, str]] = []
        records, blank = parse_jme(frame, JME_FILE, rejects)
        result = _load_records(self, records, rejects, ctx, JME_FILE, len(frame), blank, codes=True)
        result.tables["jme_batches"] = jme_batches(frame)
        return result

    def checks(self, con: duckdb.DuckDBPyConnection) -> list[Check]:
        return jme_checks(con)


class RussiaExercisesSource(Source):
    id = "ru_exercises"
    title = "Joint military exercises involving Russia, 2009-2018 (unofficial, from mil.ru)"
    folder = "military_exercises"
    version = "bba038e"
    files = (RU_FILE,)
    downloads = (
        Download("https://raw.githubusercontent.com/zleffel-afk/Visualization-of-NAM-country-data/"
                 "bba038e34b90ed2fa380b73bf7657f9239af3ac1/Joint%20Military%20Exercises%20Involving%20Russia.csv",
                 RU_FILE, None),
    )
    homepage = "https://github.com/zleffel-afk/Visualization-of-NAM-country-data"
    terms = "Unofficial hand-compiled list; no licence stated. Use with care and check the cited web pages."
    adds = "About 100 exercises Russia held with foreign partners in 2009-2018, names in Russian, with source links."
    citation = ("Joint Military Exercises Involving Russia, 2009-2018, compiled from the Russian Ministry of Defence "
                "website (author unknown); GitHub zleffel-afk/Visualization-of-NAM-country-data @ bba038e.")
    bibtex = _RU_BIB
    citation_keys = ("milru_exercises_unofficial",)

    coverage = RU_YEARS
    min_rows = 90

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        path = folder / RU_FILE
        frame = read_csv_text(path)
        require_columns(frame, RU_REQUIRED, path)
        rows_read = len(frame)
        frame = quarantine_short_rows(frame, path, ctx)
        rejects: list[tuple[int, str, str, str]] = []
        records, blank = parse_ru(frame, RU_FILE, rejects)
        russia = ctx.registry.try_resolve("Russia", 2010)
        return _load_records(self, records, rejects, ctx, RU_FILE, rows_read, blank, codes=False, implicit=russia)


SOURCES = [MMESource(), JMESource(), RussiaExercisesSource()]
