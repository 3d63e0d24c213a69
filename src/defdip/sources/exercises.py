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
* Dates: a day coded ``xx`` (unknown) gives month precision; a month unknown gives year precision. A day that does
  not exist in its month (31 September) is dropped and the engagement kept at month precision, with the reason in
  ``attributes['date_notes']``; an end before the start is dropped the same way. A missing or impossible start year
  or month quarantines the row.
* ``-9`` is the datasets' "not known" code: an unnamed exercise gets a descriptive title, an unknown participant
  slot is skipped (and flagged ``attributes['participants_incomplete']``); blank slots are ignored.
* Participant names and codes go through the ingest context, so misses are counted; an exercise keeps the
  participants that resolve and is quarantined only when none does.
* Sub-activities are evidence-based: ``peacekeeping`` / ``hadr`` from MME's purpose flags or from words in the
  coded purpose text; ``interoperability`` only when the source's own description mentions interoperability.

MME and JME overlap (1980-2010)
-------------------------------
The same exercise often appears in both. :func:`pair_mme_jme` pairs them one-to-one: equal normalised name
(:func:`normalise_name`: case, accents, punctuation and the year written in the name are ignored, so
"Cobra Gold 05" = "Cobra Gold 2005" = "COBRA-GOLD"), equal start year, start months at most one apart where both
are known, and at least one participant in common; then, in order, weaker evidence (see :func:`pair_mme_jme`):
one dating slip with the same name, alike names with two common participants, and unnamed exercises starting the
same day with the same participants. Both engagements of a pair get the same ``match_key``
(``exercise:<jme id>``), which ``store.merge_duplicates`` turns into one engagement carrying both provenances.
Unpaired engagements get no key, so two different exercises of one source are never merged by accident.
The pairing reads the sibling file when it is present in the folder (either loader alone still works).
"""

from __future__ import annotations

import difflib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from defdip import dates
from defdip.errors import SourceFormatError
from defdip.sources.base import (Download, IngestContext, LoadResult, Source, as_float, as_int, as_text, find_code,
                                 frame_rows, precision_of, require_columns)

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

INTEROPERABILITY = re.compile(r"inter-?\s?operab", re.I)
PEACEKEEPING = re.compile(r"peace-?\s?keep|peace support|peace enforcement", re.I)
HADR = re.compile(r"humanitarian|disaster|search[- ]and[- ]rescue|\bsar\b|rescue|relief|рескью|спасат",
                  re.I)

ACTIVITY = "exercises"
INSTRUMENT = "exercise"


# ---------------------------------------------------------------------------------------------------------------
# Small shared helpers
# ---------------------------------------------------------------------------------------------------------------

def _blank(value: Any) -> bool:
    if value.__class__ is str:  # the common case (cells read as text), without as_text's checks
        text = value.strip()
        return not text or text.lower() in MISSING
    text = as_text(value)
    return text is None or text.lower() in MISSING


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


def clean_date(year: Any, month: Any, day: Any, label: str) -> DateParts:
    """Year/month/day cells to a checked date; an impossible day or month lowers the precision with a note.

    A missing or impossible year leaves ``year`` None (the caller decides whether that rejects the row).
    """
    out = DateParts(_int(year), _int(month), _int(day))
    if out.year is not None and not 1 <= out.year <= 2100:
        out.notes.append(f"{label} year {out.year} is impossible")
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


_SLASH_DATE = re.compile(r"^\s*(\d{1,2}|xx)\s*[/.]+\s*(\d{1,3}|xx)\s*[/.]*\s*(\d{4}|\d{2})\s*$", re.I)
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2}|xx)(?:[ T].*)?$", re.I)


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
        # compare at the precision both dates share ("1996-05-14" to "1996-05-xx" is in order)
        s_key = dates.sort_key(start.year, start.month if end.month else None, start.day if end.day else None)
        e_key = dates.sort_key(end.year, end.month if start.month else None, end.day if start.day else None)
        text = f"{end.year}-{end.month or 'xx'}-{end.day or 'xx'}"
        if e_key < s_key:
            notes.append(f"end ({text}) is before the start; end dropped")
            return fields, notes
        # Engagement's own check compares a day-precise start with a less precise end as if the end were the first
        # day of its month (or year); such an end cannot be stored in the end fields, so it is kept as text.
        strict_end = dates.sort_key(end.year, end.month if start.month else None, end.day if start.day else None)
        if strict_end < dates.sort_key(start.year, start.month, start.day):
            fields["end_year"] = end.year if end.year > start.year else None
            notes.append(f"end {text} is less precise than the start; kept as attributes['end']")
            fields["_end_text"] = text
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


def name_variants(name: Any, year: int | None = None) -> set[str]:
    """Normalised forms of a name and of its parts around a parenthesis or slash.

    MME often adds a translation, "Druzhba (Friendship)" or "Zapad (West)", where JME has one of the two.
    """
    text = _text(name)
    if text is None:
        return set()
    parts = {text, re.sub(r"\(.*?\)", " ", text)}
    parts.update(re.findall(r"\((.*?)\)", text))
    parts.update(p for p in re.split(r"\s*/\s*", text) if p)
    return {v for v in (normalise_name(p, year) for p in parts) if v}


def _title_unnamed(names: list[str], year: int | None) -> str:
    who = ", ".join(names[:4]) + (f" and {len(names) - 4} others" if len(names) > 4 else "")
    return f"Unnamed exercise ({who or 'participants unknown'}), {year}"


def _participant(polity: Any, role: str, source_name: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": polity.id, "name": polity.name, "role": role, "ccode": getattr(polity, "ccode", None)}
    if source_name and source_name != polity.name:
        out["attributes"] = {"source_name": source_name}
    return out


def _format(n_listed: int) -> str | None:
    return "bilateral" if n_listed == 2 else "multilateral" if n_listed > 2 else None


def _looks_like_code(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z]{3}", text.strip()))


def _resolve_code_or_name(ctx: IngestContext, text: str, year: int | None) -> Any:
    """JME codes are ISO3-like (case slips such as 'uSA' fixed); other text is read as a name."""
    text = text.strip()
    if _looks_like_code(text):
        return ctx.resolve_code("iso3", text.upper(), year)
    return ctx.resolve(text, year)


def _quiet_polity_ids(reg: Any, items: list[str], year: int | None, codes: bool) -> frozenset[str]:
    """Polity ids of names/codes without counting misses (used only to compare two sources)."""
    ids = set()
    for text in items:
        if codes and _looks_like_code(text):
            polity = find_code(reg, "iso3", text.strip().upper(), year)
        else:
            polity = reg.try_resolve(text, year)
        if polity is not None:
            ids.add(polity.id)
    return frozenset(ids)


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

    @property
    def key_name(self) -> str | None:
        return normalise_name(self.name, self.start.year)


def _state_columns(frame: pd.DataFrame, prefix: str) -> list[str]:
    pattern = re.compile(rf"^{re.escape(prefix)}[A-Z]{{1,2}}$")
    return [c for c in frame.columns if pattern.match(c)]


def read_mme(path: Path) -> pd.DataFrame:
    frame = read_csv_text(path)
    require_columns(frame, MME_REQUIRED, path)
    return frame


def parse_mme(frame: pd.DataFrame, file: str, rejects: list[tuple[int, str, str, str]]) -> list[ExerciseRecord]:
    """MME rows to exercise records; bad rows are appended to ``rejects`` as (row, field, value, reason).

    Rows are numbered as in the file (the header is line 1). An exact duplicate row is rejected; two different rows
    that share an ``MMEID`` (three pairs in v7) are both kept, the later with a ``-2`` suffix on its id.
    """
    states = _state_columns(frame, "State")
    seen_rows: dict[tuple, int] = {}
    id_count: dict[str, int] = {}
    out: list[ExerciseRecord] = []
    columns = list(frame.columns)
    for pos, row in enumerate(frame_rows(frame), start=2):
        rec = dict(zip(columns, row))
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
        start = clean_date(rec["s.year"], rec["s.month"], rec["s.day"], "start")
        if start.year is None:
            rejects.append((pos, "s.year", rec["s.year"], "; ".join(start.notes) or "missing start year"))
            continue
        end = clean_date(rec["e.year"], rec["e.month"], rec["e.day"], "end")
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
        attrs = {
            "name": _text(rec["Ex_Name"]),
            "series": _text(rec.get("Series_Name")),
            "location": _text(rec.get("Location")),
            "lat": _float(rec.get("lat")),
            "lon": _float(rec.get("lon")),
            "domains": [c for c in MME_DOMAINS if flags[c]],
            "purposes": [c for c in MME_PURPOSES if flags[c]],
            "focus": focus,
            "additional_participants": _text(rec.get("AdditionalParticipantInfo")),
            "format": _format(len(names)),
            "mmeid": raw_id,
        }
        if id_count[number] > 1:
            attrs["mmeid_reused"] = True
        out.append(ExerciseRecord(
            id=eid, rows=[pos], name=_text(rec["Ex_Name"]), start=start, end=end, participants=names,
            unknown_slots=unknown, attributes={k: v for k, v in attrs.items() if v not in (None, [], "")},
            sub_activities=subs, record_id=raw_id))
    return out


# ---------------------------------------------------------------------------------------------------------------
# JME: parsing reports and collapsing them into exercises
# ---------------------------------------------------------------------------------------------------------------

def read_jme(path: Path) -> pd.DataFrame:
    """Sheet ``Sheet1_2`` of the JME workbook as strings (other sheets are empty)."""
    try:
        book = pd.ExcelFile(path, engine="calamine")
    except Exception as exc:  # the reader raises its own error types for non-Excel input
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


def parse_jme(frame: pd.DataFrame, file: str, rejects: list[tuple[int, str, str, str]]) -> list[ExerciseRecord]:
    """JME reports to exercises: reports with the same normalised name, start year and start month are one exercise.

    Unnamed reports (``-9``) are collapsed only when their start date (to the day) and participant codes are equal.
    The date comes from ``s.year``/``s.month``/``s.day``, or from the ``Start Date`` text where those are blank.
    Rows are numbered as in the spreadsheet (header = row 1); the engagement id is ``jme-<first row>``.
    """
    require_columns(frame, JME_REQUIRED, file)
    states = _state_columns(frame, "State ")
    seen_rows: dict[tuple, int] = {}
    groups: dict[tuple, ExerciseRecord] = {}
    order: list[ExerciseRecord] = []
    columns = list(frame.columns)
    content_columns = [c for c in columns if c not in ("Coder", "Timestamp", "Unnamed: 2")]
    for pos, row in enumerate(frame_rows(frame), start=2):
        rec = dict(zip(columns, row))
        content = tuple("" if _blank(rec[c]) else str(rec[c]).strip() for c in content_columns)
        if content in seen_rows:
            rejects.append((pos, "Exercise Name", rec["Exercise Name"], f"duplicate of row {seen_rows[content]}"))
            continue
        seen_rows[content] = pos
        cells = (rec["s.year"], rec["s.month"], rec["s.day"])
        if _int(cells[0]) is None:
            cells = split_date_text(rec["Start Date"])
        start = clean_date(*cells, "start")
        if start.year is None:
            rejects.append((pos, "Start Date", _text(rec["Start Date"]) or "",
                            "; ".join(start.notes) or "missing or unreadable start date"))
            continue
        end_cells = (rec["e.year"], rec["e.month"], rec["e.day"])
        if _int(end_cells[0]) is None:
            end_cells = split_date_text(rec["enddate"])
        end = clean_date(*end_cells, "end")
        codes = [str(rec[c]).strip() for c in states if not _blank(rec[c])]
        unknown = sum(1 for c in states if str(rec[c]).strip() in ("-9", "-9.0"))
        name = _text(rec["Exercise Name"])
        key_name = normalise_name(name, start.year)
        if key_name:
            gkey: tuple = ("named", key_name, start.year, start.month)
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
                                               "purposes": [], "notes": [], "institutions": []})
            groups[gkey] = group
            order.append(group)
        group.rows.append(pos)
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
        for key, values in (("names", [name]), ("types", _jme_types(rec.get("JME Type"))),
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
        attrs["format"] = _format(len(group.participants))
        attrs["name"] = group.name
        group.attributes = {k: v for k, v in attrs.items() if v not in (None, [], "")}
    return order


# ---------------------------------------------------------------------------------------------------------------
# Russia's exercises (unofficial)
# ---------------------------------------------------------------------------------------------------------------

def parse_ru(frame: pd.DataFrame, file: str, rejects: list[tuple[int, str, str, str]]) -> tuple[list[ExerciseRecord],
                                                                                                  int]:
    """Rows of the Russian list to exercises; entirely blank rows (the file pads itself with ~900) are skipped."""
    parts = [c for c in frame.columns if re.fullmatch(r"part\d+", c)]
    parts.sort(key=lambda c: int(c[4:]))
    seen: dict[tuple, int] = {}
    out: list[ExerciseRecord] = []
    blank = 0
    columns = list(frame.columns)
    content_columns = [c for c in columns if c != "id"]
    for pos, row in enumerate(frame_rows(frame), start=2):
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
        year = clean_date(rec["yr"], None, None, "start")
        if year.year is None:
            rejects.append((pos, "yr", rec["yr"], "; ".join(year.notes) or "missing year"))
            continue
        partners = [str(rec[c]).strip() for c in parts if not _blank(rec[c])]
        name = _text(rec["name"])
        subs = {"hadr"} if name and HADR.search(name) else set()
        attrs = {"name": name, "comments": _text(rec.get("comments")),
                 "sources": [s for s in (_text(rec.get("source")), _text(rec.get("source2"))) if s],
                 "format": _format(len(partners) + 1), "russia_implicit": True}
        out.append(ExerciseRecord(id=f"ru_exercises-{rid}", rows=[pos], name=name, start=year, end=DateParts(),
                                  participants=partners, attributes={k: v for k, v in attrs.items() if v},
                                  sub_activities=subs, record_id=rid))
    return out, blank


# ---------------------------------------------------------------------------------------------------------------
# Pairing MME with JME
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    id: str
    name: str | None
    year: int
    month: int | None
    polities: frozenset[str]
    variants: frozenset[str] = frozenset()
    day: int | None = None


def _similar(a: Candidate, b: Candidate) -> float:
    """How alike two names are (0 = not alike): a shared variant, a typo, or one name ending or starting the other."""
    if a.variants & b.variants:
        return 1.0
    if not (a.name and b.name):
        return 0.0
    short, long_ = sorted((a.name, b.name), key=len)
    if len(short) >= 6 and (long_.startswith(short) or long_.endswith(short)):
        return 0.9
    ratio = difflib.SequenceMatcher(None, a.name, b.name).ratio()
    return ratio if ratio >= 0.85 else 0.0


def pair_mme_jme(mme: list[Candidate], jme: list[Candidate]) -> list[tuple[str, str]]:
    """One-to-one pairs (jme id, mme id) of the same exercise, best evidence first.

    1. equal normalised name and start year, start months at most one apart (where both are known), at least one
       participant in common;
    2. equal normalised name and start year whatever the months, when that name occurs only once that year in each
       source and the two share at least two participants (the sources sometimes date one exercise differently);
    3. alike names (a shared part such as the untranslated name in "Druzhba (Friendship)", a typo such as
       "Eagles Salute"/"Eagle Salute", or one name ending the other: "Operation Halcyon Vista"/"Halcyon Vista"),
       same start year, months at most one apart, at least two participants in common.
    4. both unnamed ("-9"): the same start day (known in both) and the same participants.
    Within a tier, closer months and more common participants win; each record is used once.
    """
    def count(cands: list[Candidate]) -> dict[tuple[str, int], int]:
        out: dict[tuple[str, int], int] = {}
        for c in cands:
            if c.name:
                out[(c.name, c.year)] = out.get((c.name, c.year), 0) + 1
        return out

    n_mme, n_jme = count(mme), count(jme)
    by_year: dict[int, list[Candidate]] = {}
    unnamed: dict[tuple, list[Candidate]] = {}
    for m in mme:
        if m.name:
            by_year.setdefault(m.year, []).append(m)
        elif m.day and m.polities:
            unnamed.setdefault((m.year, m.month, m.day, m.polities), []).append(m)
    scored = []
    for j in jme:
        if not j.name:
            if j.day and j.polities:
                scored += [(4, 0, -len(j.polities), 0.0, j.id, m.id)
                           for m in unnamed.get((j.year, j.month, j.day, j.polities), [])]
            continue
        for m in by_year.get(j.year, []):
            common = len(j.polities & m.polities)
            if common == 0:
                continue
            gap = abs(j.month - m.month) if j.month and m.month else 0
            if m.name == j.name:
                if gap <= 1:
                    scored.append((1, gap, -common, 0.0, j.id, m.id))
                elif common >= 2 and n_mme[(m.name, m.year)] == 1 and n_jme[(j.name, j.year)] == 1:
                    scored.append((2, gap, -common, 0.0, j.id, m.id))
                continue
            if gap <= 1 and common >= 2:
                alike = _similar(j, m)
                if alike:
                    scored.append((3, gap, -common, -alike, j.id, m.id))
    scored.sort()
    used_j: set[str] = set()
    used_m: set[str] = set()
    pairs = []
    for *_, jid, mid in scored:
        if jid in used_j or mid in used_m:
            continue
        used_j.add(jid)
        used_m.add(mid)
        pairs.append((jid, mid))
    return pairs


def _candidates(records: list[ExerciseRecord], reg: Any, codes: bool) -> list[Candidate]:
    return [Candidate(r.id, r.key_name, r.start.year, r.start.month,
                      _quiet_polity_ids(reg, r.participants + r.host, r.start.year, codes),
                      frozenset(name_variants(r.name, r.start.year)), r.start.day) for r in records]


def _stamp(path: Path) -> tuple:
    st = path.stat()
    return (st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=4)
def _parsed(kind: str, path: str, stamp: tuple) -> tuple[int, list[ExerciseRecord], list[tuple[int, str, str, str]]]:
    """(rows read, records, rejects) of an MME or JME file, parsed once for the loader and the pairing.

    Keyed on the file's size and modification time, so an edited file is read again. The records are shared:
    nothing downstream changes them (:func:`_engagement` copies what it hands on).
    """
    rejects: list[tuple[int, str, str, str]] = []
    if kind == "mme":
        frame = read_mme(Path(path))
        records = parse_mme(frame, MME_FILE, rejects)
    else:
        frame = read_jme(Path(path))
        records = parse_jme(frame, JME_FILE, rejects)
    return len(frame), records, rejects


@lru_cache(maxsize=4)
def _pairs_cached(mme_path: str, mme_stamp: tuple, jme_path: str, jme_stamp: tuple, reg_id: int) -> dict[str, str]:
    from defdip.actors import registry

    reg = registry()
    mme = _parsed("mme", mme_path, mme_stamp)[1]
    jme = _parsed("jme", jme_path, jme_stamp)[1]
    keys = {}
    for jid, mid in pair_mme_jme(_candidates(mme, reg, False), _candidates(jme, reg, True)):
        keys[jid] = keys[mid] = f"exercise:{jid}"
    return keys


def match_keys(folder: Path) -> dict[str, str]:
    """``match_key`` by engagement id for every MME/JME pair found in ``folder`` (empty if either file is absent)."""
    mme_path, jme_path = folder / MME_FILE, folder / JME_FILE
    if not (mme_path.is_file() and jme_path.is_file()):
        return {}

    try:
        return _pairs_cached(str(mme_path), _stamp(mme_path), str(jme_path), _stamp(jme_path), 0)
    except SourceFormatError:
        return {}  # the sibling's own loader reports its format error


# ---------------------------------------------------------------------------------------------------------------
# Records to engagements
# ---------------------------------------------------------------------------------------------------------------

def _engagement(source: Source, rec: ExerciseRecord, ctx: IngestContext, file: str, codes: bool,
                implicit: Any = None, match_key: str | None = None) -> Any:
    """Resolve participants and validate; quarantine when no participant resolves."""
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
    resolved_listed = [p for pid, p in participants.items() if implicit is None or pid != implicit.id]
    if not resolved_listed:
        what = "; ".join(rec.participants) or "none listed"
        ctx.reject(file, ";".join(map(str, rec.rows)), "participants", what,
                   "no participant could be identified" if rec.participants
                   else "no participants listed (all blank or coded -9)")
        return None
    fields, notes = dated_fields(rec.start, rec.end)
    # the record may be cached and parsed once for several builds: hand on copies of its lists
    attrs = {k: list(v) if isinstance(v, list) else v for k, v in rec.attributes.items()}
    if "_end_text" in fields:
        attrs["end"] = fields.pop("_end_text")
    if notes:
        attrs["date_notes"] = notes
    if rec.unknown_slots:
        attrs["participants_incomplete"] = True
    if misses:
        attrs["unidentified_participants"] = misses
    display = names if implicit is None else [implicit.name, *names]
    title = rec.name or _title_unnamed(display, year)
    data = {
        "id": rec.id, "title": title, "activity": ACTIVITY, "instrument": INSTRUMENT,
        "sub_activities": sorted(rec.sub_activities), **fields,
        "participants": list(participants.values()), "attributes": attrs,
        "provenance": [source.provenance(rec.record_id)], "match_key": match_key,
    }
    return ctx.engagement(data, file, ";".join(map(str, rec.rows)))


def _load_records(source: Source, records: list[ExerciseRecord], rejects: list[tuple[int, str, str, str]],
                  ctx: IngestContext, file: str, rows_read: int, *, codes: bool, keys: dict[str, str] | None = None,
                  implicit: Any = None) -> LoadResult:
    """What the three loaders share once a file is parsed: quarantine its bad rows, resolve and validate records."""
    for row, fld, value, reason in rejects:
        ctx.reject(file, row, fld, value, reason)
    result = LoadResult(rows_read=rows_read)
    for rec in records:
        eng = _engagement(source, rec, ctx, file, codes, implicit=implicit, match_key=(keys or {}).get(rec.id))
        if eng is not None:
            result.engagements.append(eng)
    return result


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

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        path = folder / MME_FILE
        rows_read, records, rejects = _parsed("mme", str(path), _stamp(path))
        return _load_records(self, records, rejects, ctx, MME_FILE, rows_read, codes=False, keys=match_keys(folder))


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

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        path = folder / JME_FILE
        rows_read, records, rejects = _parsed("jme", str(path), _stamp(path))
        return _load_records(self, records, rejects, ctx, JME_FILE, rows_read, codes=True, keys=match_keys(folder))

    def load_frame(self, frame: pd.DataFrame, ctx: IngestContext, keys: dict[str, str] | None = None) -> LoadResult:
        """The loader past the spreadsheet reader (the sheet as a DataFrame of strings)."""
        frame = frame.copy()
        frame.columns = [str(c).strip() for c in frame.columns]
        rejects: list[tuple[int, str, str, str]] = []
        records = parse_jme(frame, JME_FILE, rejects)
        return _load_records(self, records, rejects, ctx, JME_FILE, len(frame), codes=True, keys=keys)


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

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        path = folder / RU_FILE
        frame = read_csv_text(path)
        require_columns(frame, RU_REQUIRED, path)
        rejects: list[tuple[int, str, str, str]] = []
        records, blank_rows = parse_ru(frame, RU_FILE, rejects)
        russia = ctx.registry.try_resolve("Russia", 2010)
        return _load_records(self, records, rejects, ctx, RU_FILE, len(frame) - blank_rows, codes=False,
                             implicit=russia)


SOURCES = [MMESource(), JMESource(), RussiaExercisesSource()]
