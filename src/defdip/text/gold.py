"""Gold-standard sentences for measuring the text coder: defdip's own JSONL sets and the PLOVER records.

Two kinds of file load into the same :class:`GoldItem`:

* **defdip JSONL** (``data/text/gold_dev.jsonl``, ``gold_test.jsonl`` or a user's own set): one JSON object a
  line with ``id``, ``text``, ``date`` (ISO or null), ``activities`` (codebook activity ids), ``pairs`` (lists of
  two registry polity ids), ``status`` and ``note``; optional ``corpus`` (default: the file's stem) and ``split``
  (default ``dev``). Every pair member must be a registry id of a polity that existed in the sentence's year.
* **PLOVER gold-standard records** (the Open Event Data Alliance's ``PLOVER_GSR_CAMEO.txt``, a JSON array),
  recognised by its leading ``[``. A sentence is *military-related* when its ``context`` labels include
  ``military``; only those can carry defence-diplomacy events, which ``data/text/plover_map.csv`` derives from
  the PLOVER event type and mode, and ``data/text/plover_overrides.csv`` corrects for single reviewed sentences.
  Every other sentence is a negative (status ``none``). Actor codes (ISO3, or an organisation's name for IGOs)
  resolve through the registry for the sentence's year. Each sentence also carries a split, ``dev`` or
  ``test``, fixed by a hash of its text (the same sentence coded twice never lands on both sides): an old
  division kept so that earlier scores can be reproduced. Both halves are development data now; the rules were
  written on the whole file. The source file gives one id to two different sentences
  (``PLOVER-GSR01-COERCE-0004``); the second and later sentences of a repeated id get ``#2``, ``#3``, ... after
  it, so every item has its own id (an override names the id so numbered).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import combinations
from pathlib import Path
from typing import Any

from defdip.core.actors import Registry, UnknownPolityError, registry
from defdip.core.codebook import codebook
from defdip.core.errors import DefdipError, RecordError

__all__ = ["EVENT_STATUSES", "STATUSES", "SPLITS", "GoldItem", "PloverRule", "PloverOverride", "load_gold",
           "plover_map", "plover_overrides", "plover_split"]

STATUSES = ("occurred", "intended", "negated", "hypothetical", "cancelled", "none")
"""What a sentence says of its engagement; ``none`` marks a sentence with no defence-diplomacy event."""

EVENT_STATUSES = frozenset({"occurred", "intended"})
"""Statuses whose engagements count as events; the others report something that did not (or may not) happen."""

SPLITS = ("dev", "test")


@dataclass(frozen=True)
class GoldItem:
    """One hand-coded sentence: the activities and participant pairs a perfect coder finds in it."""

    id: str
    text: str
    date: datetime.date | None
    activities: frozenset[str]
    pairs: frozenset[frozenset[str]]
    status: str
    corpus: str
    split: str


@dataclass(frozen=True)
class PloverRule:
    """One row of the PLOVER label map: what a military-context event type (and mode) means in the codebook."""

    event: str
    mode: str  # a PLOVER mode, or "*" for any
    activity: str  # a codebook activity id, or "" for no defence-diplomacy event
    status: str
    reason: str


@dataclass(frozen=True)
class PloverOverride:
    """A reviewed correction for one PLOVER sentence whose labels map to the wrong codebook reading."""

    id: str
    activities: frozenset[str]
    status: str
    pairs: frozenset[frozenset[str]] | None  # None: the pairs of the record's own actors
    reason: str


# ---------------------------------------------------------------------------------- shared checks


def _check_status(status: object, file: str, record: str | int, field: str = "status") -> str:
    if status not in STATUSES:
        raise RecordError(file, record, field, f"status {status!r} is not one of {', '.join(STATUSES)}")
    return str(status)


def _check_activities(values: Iterable[object], file: str, record: str | int, field: str) -> frozenset[str]:
    known = codebook().id_sets["activity"]
    out = set()
    for value in values:
        if value not in known:
            raise RecordError(file, record, field, f"{value!r} is not a codebook activity ({', '.join(sorted(known))})")
        out.add(str(value))
    return frozenset(out)


def _check_pair(members: object, year: int | None, reg: Registry, file: str, record: str | int,
                field: str) -> frozenset[str]:
    if not isinstance(members, list | tuple) or len(members) != 2:
        raise RecordError(file, record, field, f"a pair is two polity ids, got {members!r}")
    ids = []
    for member in members:
        try:
            polity = reg.get(str(member))
        except UnknownPolityError as exc:
            raise RecordError(file, record, field, str(exc)) from None
        if year is not None and not polity.existed(year):
            raise RecordError(file, record, field, f"{polity.id} ({polity.name}) did not exist in {year}: "
                                                   f"it existed {polity.years()}")
        ids.append(polity.id)
    if ids[0] == ids[1]:
        raise RecordError(file, record, field, f"a pair needs two different polities, got {ids[0]!r} twice")
    return frozenset(ids)


def _parse_date(value: object, file: str, record: str | int) -> datetime.date | None:
    if value is None or value == "":
        return None
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        raise RecordError(file, record, "date", f"not an ISO date: {value!r}") from None


# ---------------------------------------------------------------------------------- defdip JSONL


def _jsonl_item(raw: Mapping[str, Any], stem: str, reg: Registry, file: str, line: int) -> GoldItem:
    for key in ("id", "text", "activities", "pairs", "status"):
        if key not in raw:
            raise RecordError(file, line, key, "missing")
    item_id, text = raw["id"], raw["text"]
    if not isinstance(item_id, str) or not item_id.strip():
        raise RecordError(file, line, "id", f"an id is a non-empty string, got {item_id!r}")
    if not isinstance(text, str) or not text.strip():
        raise RecordError(file, line, "text", "empty text")
    if not isinstance(raw["activities"], list):
        raise RecordError(file, line, "activities", "a list of activity ids")
    if not isinstance(raw["pairs"], list):
        raise RecordError(file, line, "pairs", "a list of [id, id] pairs")
    date = _parse_date(raw.get("date"), file, line)
    status = _check_status(raw["status"], file, line)
    activities = _check_activities(raw["activities"], file, line, "activities")
    year = date.year if date is not None else None
    pairs = frozenset(_check_pair(p, year, reg, file, line, "pairs") for p in raw["pairs"])
    if status == "none" and (activities or pairs):
        raise RecordError(file, line, "status", "status 'none' means no event, yet activities or pairs are given")
    if status != "none" and not activities:
        raise RecordError(file, line, "activities", f"status {status!r} needs the activity it is about")
    split = raw.get("split", "dev")
    if split not in SPLITS:
        raise RecordError(file, line, "split", f"split {split!r} is not one of {', '.join(SPLITS)}")
    return GoldItem(id=item_id, text=text, date=date, activities=activities, pairs=pairs, status=status,
                    corpus=str(raw.get("corpus") or stem), split=split)


def _load_jsonl(path: Path, content: str) -> list[GoldItem]:
    reg = registry()
    items: list[GoldItem] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RecordError(str(path), number, None, f"not JSON: {exc.msg}") from None
        if not isinstance(raw, dict):
            raise RecordError(str(path), number, None, "each line is one JSON object")
        item = _jsonl_item(raw, path.stem, reg, str(path), number)
        if item.id in seen:
            raise RecordError(str(path), number, "id", f"duplicate id {item.id!r} (first on line {seen[item.id]})")
        seen[item.id] = number
        items.append(item)
    return items


# ---------------------------------------------------------------------------------- PLOVER


def _data_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("defdip").joinpath(f"data/text/{name}").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@lru_cache(maxsize=1)
def plover_map() -> dict[tuple[str, str], PloverRule]:
    """The bundled label map, keyed by (PLOVER event, mode or "*")."""
    rules: dict[tuple[str, str], PloverRule] = {}
    for number, row in enumerate(_data_csv("plover_map.csv"), start=2):
        where = "data/text/plover_map.csv"
        activity = row["activity"].strip()
        if activity:
            _check_activities([activity], where, number, "activity")
        status = _check_status(row["status"].strip(), where, number)
        if (status == "none") != (not activity):
            raise RecordError(where, number, "status", "status 'none' goes with an empty activity and only with it")
        rule = PloverRule(row["event"].strip(), row["mode"].strip() or "*", activity, status, row["reason"].strip())
        if (rule.event, rule.mode) in rules:
            raise RecordError(where, number, "event", f"second rule for {rule.event} / {rule.mode}")
        rules[(rule.event, rule.mode)] = rule
    return rules


@lru_cache(maxsize=1)
def plover_overrides() -> dict[str, PloverOverride]:
    """The bundled reviewed corrections, keyed by PLOVER id (ids and codes only; no sentence text)."""
    reg = registry()
    out: dict[str, PloverOverride] = {}
    where = "data/text/plover_overrides.csv"
    for number, row in enumerate(_data_csv("plover_overrides.csv"), start=2):
        activities = _check_activities([a for a in row["activities"].split(";") if a.strip()], where, number,
                                       "activities")
        status = _check_status(row["status"].strip(), where, number)
        given = [p for p in row["pairs"].split(";") if p.strip()]
        pairs = frozenset(_check_pair([m.strip() for m in p.split("/")], None, reg, where, number, "pairs")
                          for p in given) if given else None
        if (status == "none") != (not activities):
            raise RecordError(where, number, "status", "status 'none' goes with no activities and only with it")
        out[row["id"].strip()] = PloverOverride(row["id"].strip(), activities, status, pairs, row["reason"].strip())
    return out


def plover_split(text: str) -> str:
    """The split of a PLOVER sentence, ``dev`` or ``test``: a stable hash of its text, so duplicates stay
    together. Both halves are development data; the split only lets earlier scores be reproduced."""
    digest = hashlib.sha256(" ".join(text.split()).encode("utf-8")).digest()
    return SPLITS[digest[0] % 2]


def _labels(value: object) -> list[str]:
    return [part.strip().lower() for part in str(value or "").split(",") if part.strip()]


def _plover_polities(record: Mapping[str, Any], year: int | None, reg: Registry) -> list[str]:
    """Registry ids of a record's source and target actors, in order, each once; unknown codes are left out."""
    ids: list[str] = []
    for role in ("source", "target"):
        for actor in record.get(role) or []:
            code = str(actor.get("code") or "").strip().upper()
            polity = None
            if len(code) == 3 and code not in {"IGO", "NGO"}:
                try:
                    polity = reg.by_iso3(code, year)
                except UnknownPolityError:
                    polity = None
            if polity is None:
                polity = reg.try_resolve(str(actor.get("actorText") or ""), year)
            if polity is not None and polity.id not in ids:
                ids.append(polity.id)
    return ids


def _plover_item(record: Mapping[str, Any], reg: Registry, file: str, index: int,
                 item_id: str | None = None) -> GoldItem:
    item_id, text = item_id or str(record.get("id") or ""), record.get("text")
    if not item_id:
        raise RecordError(file, index, "id", "missing")
    if not isinstance(text, str) or not text.strip():
        raise RecordError(file, item_id, "text", "empty text")
    date = _parse_date(record.get("date"), file, item_id)
    year = date.year if date is not None else None
    activities: frozenset[str] = frozenset()
    pairs: frozenset[frozenset[str]] = frozenset()
    status = "none"
    if "military" in _labels(record.get("context")):
        event, mode = str(record.get("event") or ""), str(record.get("mode") or "").strip()
        rules = plover_map()
        rule = rules.get((event, mode)) or rules.get((event, "*"))
        if rule is None:
            raise RecordError(file, item_id, "event", f"no row in plover_map.csv for event {event!r}")
        if rule.activity:
            activities, status = frozenset({rule.activity}), rule.status
    override = plover_overrides().get(item_id)
    if override is not None:
        activities, status = override.activities, override.status
    if activities:
        if override is not None and override.pairs is not None:
            pairs = override.pairs
        else:
            polities = _plover_polities(record, year, reg)
            pairs = frozenset(frozenset(p) for p in combinations(polities, 2))
    return GoldItem(id=item_id, text=text, date=date, activities=activities, pairs=pairs, status=status,
                    corpus="plover", split=plover_split(text))


def _load_plover(path: Path, content: str) -> list[GoldItem]:
    try:
        records = json.loads(content)
    except json.JSONDecodeError as exc:
        raise RecordError(str(path), None, None, f"not a JSON array: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(records, list):
        raise RecordError(str(path), None, None, "a PLOVER file is a JSON array of records")
    reg = registry()
    items = []
    seen: dict[str, int] = {}
    for index, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise RecordError(str(path), index, None, "each PLOVER record is a JSON object")
        if record.get("event") == "DOCUMENT":
            continue
        given = str(record.get("id") or "")
        seen[given] = seen.get(given, 0) + 1  # a repeated id: the later sentences numbered #2, #3, ...
        items.append(_plover_item(record, reg, str(path), index,
                                  f"{given}#{seen[given]}" if given and seen[given] > 1 else None))
    return items


def load_gold(path: str | Path) -> list[GoldItem]:
    """Every gold item in ``path``: a defdip JSONL set, or the PLOVER records (a JSON array), told apart by form."""
    path = Path(path)
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefdipError(f"{path}: no such gold file") from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise DefdipError(f"{path}: not a UTF-8 text file ({exc.__class__.__name__})") from None
    if not content.strip():
        raise DefdipError(f"{path}: empty gold file")
    if content.lstrip().startswith("["):
        return _load_plover(path, content)
    return _load_jsonl(path, content)
