"""The curated genealogy: cited historical instances of each activity, antiquity to today.

Records live in ``data/genealogy/*.yaml`` (one file per activity plus ``outcomes.yaml`` for records
led by a sub-activity); each is validated as an :class:`~defdip.core.model.Engagement` whose participants
must be in the actor registry and whose citation keys must be in ``data/references.bib``.

Record fields (YAML): ``id``, ``title``, ``summary``, ``activity``, ``sub_activities``, ``instrument``,
``start_year`` / ``start_month`` / ``start_day``, ``end_year`` / ``end_month`` / ``end_day``,
``precision``, ``circa``, ``ongoing``, ``participants`` (``{id, role}`` plus optional ``attributes``),
``attributes``, ``sources`` (citation keys) and ``paper_section`` (kept in ``attributes``).

A participant may carry its own ``start_year`` / ``end_year`` when it took part in only part of the
record's span (a member that joined late, a state that ceased to exist). Every participant must exist,
per the actor registry, in the first and the last year of its part (an organisation must have been
founded by then), and no year may lie beyond the present one; an ongoing record runs to the present year.
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from defdip.core.actors import UnknownPolityError, registry
from defdip.core.citations import bibliography, parse_bibtex
from defdip.core.codebook import codebook
from defdip.core.dates import format_year, present_year, sort_key
from defdip.core.errors import DefdipError, RecordError
from defdip.core.model import Engagement, Participant, make_engagement
from defdip.ingest.sources.base import IngestContext, LoadResult, Source

__all__ = [
    "GENEALOGY_VERSION",
    "GenealogySource",
    "UserSource",
    "RECORD_FIELDS",
    "SOURCE_ID",
    "USER_SOURCE_ID",
    "genealogy_files",
    "load_genealogy",
    "load_user_records",
    "read_text",
    "select",
    "user_bibtex",
]

GENEALOGY_VERSION = "1.0"
SOURCE_ID = "genealogy"

RECORD_FIELDS = (
    "id", "title", "summary", "activity", "sub_activities", "instrument",
    "start_year", "start_month", "start_day", "end_year", "end_month", "end_day",
    "precision", "circa", "ongoing", "participants", "attributes", "sources", "paper_section",
)
"""Fields a genealogy record may carry; anything else is rejected as a likely typo."""

_PARTICIPANT_FIELDS = ("id", "role", "name", "start_year", "end_year", "attributes")

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (same documents, several times faster)."""


def genealogy_files(path: Path | str | None = None) -> list[Path]:
    """The YAML files to read: the bundled folder, a given folder (``*.yaml``) or one given file."""
    if path is None:
        folder = resources.files("defdip").joinpath("data", "genealogy")
        return sorted(Path(str(item)) for item in folder.iterdir() if item.name.endswith(".yaml"))
    path = Path(path)
    if path.is_dir():
        return sorted(path.glob("*.yaml"))
    if not path.is_file():
        raise DefdipError(f"no genealogy file or folder at {path}")
    return [path]


def _suggest(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else ""


def _check_sources(raw: dict[str, Any], file: str, rid: str | int, bib: dict[str, str]) -> list[str]:
    if "sources" not in raw or raw["sources"] in (None, [], ""):
        raise RecordError(file, rid, "sources", "every record needs at least one citation key")
    sources = raw["sources"]
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, list) or not all(isinstance(k, str) and k.strip() for k in sources):
        raise RecordError(file, rid, "sources", "must be a list of citation keys")
    for key in sources:
        if key not in bib:
            raise RecordError(file, rid, "sources",
                              f"citation key {key!r} is not in references.bib{_suggest(key, list(bib))}")
    return list(dict.fromkeys(sources))


def _participants(raw: dict[str, Any], file: str, rid: str | int) -> list[dict[str, Any]]:
    parts = raw.get("participants")
    if not isinstance(parts, list) or not parts:
        raise RecordError(file, rid, "participants", "needs a list of at least one {id, role} mapping")
    reg = registry()
    out = []
    for i, part in enumerate(parts):
        if not isinstance(part, dict):
            raise RecordError(file, rid, f"participants.{i}", "must be a mapping with id and role")
        extra = sorted(set(part) - set(_PARTICIPANT_FIELDS))
        if extra:
            raise RecordError(file, rid, f"participants.{i}.{extra[0]}", "unknown participant field")
        pid = part.get("id")
        if not isinstance(pid, str) or not pid.strip():
            raise RecordError(file, rid, f"participants.{i}.id", "missing polity id")
        try:
            polity = reg.get(pid.strip())
        except UnknownPolityError as exc:
            raise RecordError(file, rid, f"participants.{i}.id", str(exc)) from None
        out.append({
            "id": polity.id,
            "name": part.get("name") or polity.name,
            "role": part.get("role"),
            "ccode": polity.ccode,
            "start_year": part.get("start_year"),
            "end_year": part.get("end_year"),
            "attributes": part.get("attributes") or {},
        })
    seen: set[tuple[Any, Any]] = set()
    for i, p in enumerate(out):
        if (p["id"], p["role"]) in seen:
            raise RecordError(file, rid, f"participants.{i}.id", f"{p['id']} is listed twice as {p['role']}")
        seen.add((p["id"], p["role"]))
    return out


def _record(raw: Any, file: str, index: int, bib: dict[str, str], source: str = SOURCE_ID,
            version: str = GENEALOGY_VERSION) -> Engagement:
    if not isinstance(raw, dict):
        raise RecordError(file, index, None, "a record must be a mapping of fields")
    rid = raw.get("id")
    if not isinstance(rid, str) or not rid.strip():
        raise RecordError(file, index, "id", "every record needs a string id")
    unknown = sorted(set(raw) - set(RECORD_FIELDS))
    if unknown:
        raise RecordError(file, rid, unknown[0],
                          f"unknown field{_suggest(unknown[0], list(RECORD_FIELDS))}")
    sources = _check_sources(raw, file, rid, bib)
    if raw.get("ongoing") and raw.get("end_year") is not None:
        raise RecordError(file, rid, "ongoing", "an ongoing record cannot have an end_year")
    data = {k: v for k, v in raw.items() if k not in ("sources", "paper_section")}
    if data.get("sub_activities") is None:
        data["sub_activities"] = []
    attributes = data.get("attributes")
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        raise RecordError(file, rid, "attributes", "must be a mapping")
    if raw.get("paper_section") is not None:
        attributes = {**attributes, "paper_section": str(raw["paper_section"])}
    data["attributes"] = attributes
    if isinstance(data.get("summary"), str):
        data["summary"] = " ".join(data["summary"].split())
    data["participants"] = _participants(raw, file, rid)
    data["provenance"] = [{"source": source, "version": version, "record_id": rid, "citations": sources}]
    eng = make_engagement(data, file, rid)
    _check_years(eng, file)
    return eng


def _check_years(eng: Engagement, file: str) -> None:
    """Years no later than the present, and each participant existing in the first and last year of its part.

    Participants are checked only after the record itself validated, so their years are real years.
    """
    now = present_year()
    for name in ("start_year", "end_year"):
        year = getattr(eng, name)
        if year is not None and year > now:
            raise RecordError(file, eng.id, name, f"{year} is after the present year ({now})")
    last = eng.end_year if eng.end_year is not None else (now if eng.ongoing else eng.start_year)
    reg = registry()
    for i, part in enumerate(eng.participants):
        first, final = _participant_span(part, eng, last, file, i)
        polity = reg.get(part.id)
        founded = "was founded" if polity.kind == "organisation" else "existed"
        for year, name in ((first, "start_year"), (final, "end_year")):
            if not polity.existed(year):
                own = getattr(part, name) is not None
                where = f"participants.{i}.{name}" if own else f"participants.{i}.id"
                hint = "" if own else (f"; give participants.{i} its own start_year/end_year if it took part in "
                                       "only some years")
                raise RecordError(file, eng.id, where,
                                  f"{polity.name} [{polity.id}] did not exist in {format_year(year)}: it "
                                  f"{founded} {polity.years()}{hint}")


def _participant_span(part: Participant, eng: Engagement, last: int, file: str, index: int) -> tuple[int, int]:
    """The years a participant took part: its own years where given, else the record's."""
    first = eng.start_year if part.start_year is None else part.start_year
    final = last if part.end_year is None else part.end_year
    for name, year in (("start_year", part.start_year), ("end_year", part.end_year)):
        if year is None:
            continue
        if year == 0:
            raise RecordError(file, eng.id, f"participants.{index}.{name}", "there is no year 0")
        if not eng.start_year <= year <= last:
            raise RecordError(file, eng.id, f"participants.{index}.{name}",
                              f"{format_year(year)} is outside the record's years "
                              f"({format_year(eng.start_year)} to {format_year(last)})")
    if final < first:
        raise RecordError(file, eng.id, f"participants.{index}.end_year",
                          f"{format_year(final)} is before the participant's start ({format_year(first)})")
    return first, final


def read_text(file: Path) -> str:
    """A records or BibTeX file's text; bytes that are not UTF-8 are one clear error naming the file."""
    try:
        return file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(file.name, None, None, f"not UTF-8 text (byte {exc.start}: {exc.reason}); "
                          "save the file as UTF-8") from None
    except OSError as exc:
        raise RecordError(file.name, None, None, f"cannot read ({exc.strerror})") from None


def _load(path: Path | str | None, source: str, version: str, bib: dict[str, str]) -> list[tuple[Engagement, str]]:
    """Each record with the name of the file it came from, in file order."""
    files = genealogy_files(path)
    if not files:
        raise DefdipError(f"{path}: no *.yaml records files in this folder")
    out: list[tuple[Engagement, str]] = []
    seen: dict[str, str] = {}
    for file in files:
        try:
            records = yaml.load(read_text(file), Loader=_YAML_LOADER)
        except yaml.YAMLError as exc:
            raise RecordError(file.name, None, None, f"not valid YAML ({exc})") from None
        if records is None or records == []:
            raise RecordError(file.name, None, None, "holds no records (an empty file is not a set of records)")
        if not isinstance(records, list):
            raise RecordError(file.name, None, None, "the file must hold a list of records")
        for index, raw in enumerate(records):
            eng = _record(raw, file.name, index, bib, source, version)
            if eng.id in seen:
                raise RecordError(file.name, eng.id, "id", f"duplicate id (also in {seen[eng.id]})")
            seen[eng.id] = file.name
            out.append((eng, file.name))
    return out


def load_genealogy(path: Path | str | None = None, *, source: str = SOURCE_ID, version: str = GENEALOGY_VERSION,
                   bib: dict[str, str] | None = None) -> list[Engagement]:
    """Every record in the bundled genealogy (or in ``path``: a folder of YAML files or one file).

    Records come back in chronological order. Bad input raises
    :class:`~defdip.core.errors.RecordError` naming the file, the record (id, or index when the id is
    missing) and the field: unknown activity, sub-activity, instrument or role; year 0 or a year after
    the present; an end before the start; impossible months or days; an unknown polity id or one that
    did not exist (an organisation not yet founded) in the participant's years; a missing ``sources``
    list or a citation key absent from ``references.bib``; an unknown field; a duplicate id; a file that
    is not UTF-8, not YAML or holds no records.
    ``source``/``version``/``bib`` serve user records (:func:`load_user_records`) read the same way.
    """
    bib = bibliography() if bib is None else bib
    out = [eng for eng, _ in _load(path, source, version, bib)]
    out.sort(key=lambda e: (sort_key(e.start_year, e.start_month, e.start_day), e.id))
    return out


USER_SOURCE_ID = "user"


def _bib_files(path: Path | str) -> list[Path]:
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    return sorted(folder.glob("*.bib"))


def bibliography_beside(path: Path | str) -> dict[str, str]:
    """Key -> entry of every ``*.bib`` in the folder ``path`` is (or is in), each file parsed alone so that an
    error names it: the references a researcher ships beside their records or lists."""
    bib: dict[str, str] = {}
    for bib_file in _bib_files(path):
        bib.update(parse_bibtex(read_text(bib_file), source=bib_file.name))
    return bib


def user_bibtex(path: Path | str) -> str:
    """BibTeX a user ships with their records: every ``*.bib`` file in the records' folder."""
    return "\n\n".join(read_text(f) for f in _bib_files(path))


def load_user_records(path: Path | str) -> list[Engagement]:
    """A researcher's own records, in the genealogy's YAML format, validated by the same rules.

    Citation keys may come from the bundled bibliography or from ``*.bib`` files beside the records.
    A record may not reuse a genealogy id (the error names both files). The records enter the store
    with provenance source ``user``.
    """
    bib = {**bibliography(), **bibliography_beside(path)}
    loaded = _load(path, USER_SOURCE_ID, "local", bib)
    bundled = _bundled_files()
    for eng, file in loaded:
        if eng.id in bundled:
            raise RecordError(file, eng.id, "id", f"the id is already the genealogy's record {eng.id!r} in "
                              f"defdip/data/genealogy/{bundled[eng.id]}; give your record another id")
    out = [eng for eng, _ in loaded]
    out.sort(key=lambda e: (sort_key(e.start_year, e.start_month, e.start_day), e.id))
    return out


@lru_cache(maxsize=1)
def _bundled_files() -> dict[str, str]:
    """Genealogy record id -> the bundled file that holds it."""
    return {eng.id: file for eng, file in _load(None, SOURCE_ID, GENEALOGY_VERSION, bibliography())}


@lru_cache(maxsize=1)
def _bundled() -> tuple[Engagement, ...]:
    return tuple(load_genealogy())


def select(activity: str | None = None, from_year: int | None = None,
           to_year: int | None = None) -> list[Engagement]:
    """Bundled records filtered by activity or sub-activity and by the years they overlap."""
    cb = codebook()
    if activity and activity not in cb.activity_ids + cb.sub_activity_ids:
        raise DefdipError(f"unknown activity {activity!r}; expected one of "
                          f"{', '.join(cb.activity_ids + cb.sub_activity_ids)}")
    if from_year is not None and to_year is not None and to_year < from_year:
        raise DefdipError(f"--to {to_year} is before --from {from_year}")
    out = []
    for e in _bundled():
        end = e.end_year if e.end_year is not None else (9999 if e.ongoing else e.start_year)
        if activity and e.activity != activity and activity not in e.sub_activities:
            continue
        if from_year is not None and end < from_year:
            continue
        if to_year is not None and e.start_year > to_year:
            continue
        out.append(e.model_copy(deep=True))
    return out


class GenealogySource(Source):
    """The bundled genealogy as a source of the build: it reads no sources folder and is always loaded.

    It has no row in the store's ``sources`` table (which lists datasets); it is cited through its seed paper.
    """

    id = SOURCE_ID
    title = "The curated genealogy of defence diplomacy"
    folder = ""
    version = GENEALOGY_VERSION
    files = ()
    adds = "Cited historical instances of each activity, antiquity to today (defdip/data/genealogy)."
    citation = ("Khalid, Faiq Hassan, and Naeem Ahmed. 2024. \"From Alliance Building to Strategic Partnerships: "
                "a Historical Analysis of Defence Diplomacy.\" JANUS.NET 15 (1): 3-20; records curated by defdip.")
    bibtex = ""
    """(The seed paper's entry is in the bundled ``references.bib``: ``citation_keys``.)"""
    citation_keys = ("khalid_ahmed_2024",)
    coverage = (-2500, None)
    min_rows = 100
    reads_folder = False

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        records = load_genealogy()
        return LoadResult(engagements=records, rows_read=len(records), accounted={"kept": len(records)})

    def catalogue_row(self, status: str, note: str) -> dict[str, str] | None:
        return None


class UserSource(Source):
    """A researcher's own records (``defdip build --records PATH ...``), validated like the genealogy.

    Its years are those of the records it is handed, known once they are loaded (``coverage``).
    """

    id = USER_SOURCE_ID
    title = "Records added by the user"
    folder = ""
    version = "local"
    files = ()
    adds = "the researcher's own records, validated like the genealogy"
    citation = "see each record's citations"
    bibtex = ""
    """(The records' own ``*.bib`` files: :meth:`catalogue_row`.)"""
    citation_keys = ()
    min_rows = 1
    reads_folder = False

    def __init__(self, paths: list[str | Path]):
        self.paths = list(paths)
        self.coverage = None

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        """The records of every path; an empty or unreadable file is one clear error, not no records."""
        out: list[Engagement] = []
        for path in self.paths:
            try:
                found = load_user_records(path)
            except UnicodeDecodeError as exc:
                raise RecordError(str(path), None, None, f"not UTF-8 text (the records or a .bib file beside them; "
                                  f"byte {exc.start}: {exc.reason}); save them as UTF-8") from None
            except OSError as exc:
                raise RecordError(str(path), None, None, f"cannot read ({exc.strerror})") from None
            if not found:
                raise RecordError(str(path), None, None, "holds no records (an empty file or folder is not a set of "
                                  "records; leave out --records to build without your own)")
            out += found
        last = max(e.end_year if e.end_year is not None else e.start_year for e in out)
        self.coverage = (min(e.start_year for e in out), None if any(e.ongoing for e in out) else last)
        return LoadResult(engagements=out, rows_read=len(out), accounted={"kept": len(out)})

    def catalogue_row(self, status: str, note: str) -> dict[str, str] | None:
        row = super().catalogue_row(status, note) or {}
        return {**row, "folder": "; ".join(map(str, self.paths)),
                "bibtex": "\n\n".join(user_bibtex(p) for p in self.paths)}
