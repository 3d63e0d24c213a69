"""The curated genealogy: cited historical instances of each activity, antiquity to today.

Records live in ``data/genealogy/*.yaml`` (one file per activity plus ``outcomes.yaml`` for records
led by a sub-activity); each is validated as an :class:`~defdip.model.Engagement` whose participants
must be in the actor registry and whose citation keys must be in ``data/references.bib``.

Record fields (YAML): ``id``, ``title``, ``summary``, ``activity``, ``sub_activities``, ``instrument``,
``start_year`` / ``start_month`` / ``start_day``, ``end_year`` / ``end_month`` / ``end_day``,
``precision``, ``circa``, ``ongoing``, ``participants`` (``{id, role}`` plus optional ``attributes``),
``attributes``, ``sources`` (citation keys) and ``paper_section`` (kept in ``attributes``).
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from defdip.actors import UnknownPolityError, registry
from defdip.citations import bibliography, parse_bibtex
from defdip.codebook import codebook
from defdip.dates import sort_key
from defdip.errors import DefdipError, RecordError
from defdip.model import Engagement, make_engagement

__all__ = ["GENEALOGY_VERSION", "SOURCE_ID", "USER_SOURCE_ID", "RECORD_FIELDS", "load_genealogy",
           "load_user_records", "user_bibtex", "select", "genealogy_files"]

GENEALOGY_VERSION = "1.0"
SOURCE_ID = "genealogy"

RECORD_FIELDS = (
    "id", "title", "summary", "activity", "sub_activities", "instrument",
    "start_year", "start_month", "start_day", "end_year", "end_month", "end_day",
    "precision", "circa", "ongoing", "participants", "attributes", "sources", "paper_section",
)
"""Fields a genealogy record may carry; anything else is rejected as a likely typo."""

_PARTICIPANT_FIELDS = ("id", "role", "name", "attributes")

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
            "attributes": part.get("attributes") or {},
        })
    seen: set[tuple[str, Any]] = set()
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
    return make_engagement(data, file, rid)


def load_genealogy(path: Path | str | None = None, *, source: str = SOURCE_ID, version: str = GENEALOGY_VERSION,
                   bib: dict[str, str] | None = None) -> list[Engagement]:
    """Every record in the bundled genealogy (or in ``path``: a folder of YAML files or one file).

    Records come back in chronological order. Bad input raises
    :class:`~defdip.errors.RecordError` naming the file, the record (id, or index when the id is
    missing) and the field: unknown activity, sub-activity, instrument or role; year 0; an end before
    the start; impossible months or days; an unknown polity id; a missing ``sources`` list or a
    citation key absent from ``references.bib``; an unknown field; a duplicate id.
    ``source``/``version``/``bib`` serve user records (:func:`load_user_records`) read the same way.
    """
    bib = bibliography() if bib is None else bib
    out: list[Engagement] = []
    seen: dict[str, str] = {}
    for file in genealogy_files(path):
        try:
            records = yaml.load(file.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506 (safe loader)
        except yaml.YAMLError as exc:
            raise RecordError(file.name, None, None, f"not valid YAML ({exc})") from None
        if records is None:
            continue
        if not isinstance(records, list):
            raise RecordError(file.name, None, None, "the file must hold a list of records")
        for index, raw in enumerate(records):
            eng = _record(raw, file.name, index, bib, source, version)
            if eng.id in seen:
                raise RecordError(file.name, eng.id, "id", f"duplicate id (also in {seen[eng.id]})")
            seen[eng.id] = file.name
            out.append(eng)
    out.sort(key=lambda e: (sort_key(e.start_year, e.start_month, e.start_day), e.id))
    return out


USER_SOURCE_ID = "user"


def user_bibtex(path: Path | str) -> str:
    """BibTeX a user ships with their records: every ``*.bib`` file in the records' folder."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    return "\n\n".join(f.read_text(encoding="utf-8") for f in sorted(folder.glob("*.bib")))


def load_user_records(path: Path | str) -> list[Engagement]:
    """A researcher's own records, in the genealogy's YAML format, validated by the same rules.

    Citation keys may come from the bundled bibliography or from ``*.bib`` files beside the records.
    The records enter the store with provenance source ``user``.
    """
    bib = {**bibliography(), **parse_bibtex(user_bibtex(path), source=str(path))}
    return load_genealogy(path, source=USER_SOURCE_ID, version="local", bib=bib)


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
