"""Cross-source matching, a step of the build: one event seen by two sources becomes one record.

Sources never see each other's rows: a loader marks the records that may describe an event another source
also records (``Engagement.match_key``), and the build, once every source is loaded, calls
:func:`match_and_merge`: :func:`match_exercises` (which pairs MME with JME records and gives each pair one
key), then :func:`merge_duplicates` (which merges equal keys). A later cross-source matcher is one more call
there. Everything works on the records it is handed: nothing is kept between builds.

Pairing MME with JME
--------------------
:func:`pair_mme_jme` pairs the two one-to-one, best evidence first; each pair records the tier that made it
(``attributes['match_tier']``, and the build's ``exercise_matches`` table):

``name``            equal normalised names (:func:`defdip.ingest.sources.exercises.normalise_name`), same start year,
                    start months at most one apart where both are known, a participant in common;
``name_variant``    the same words and numbers in another form: word order ("Palm Exotic" / "Exotic Palm"),
                    small words ("Pearl of the West" / "West Pearl"), numerals as roman numbers or words
                    ("Kakadu VI" / "Kakadu Six"), a series suffix on one side only ("Balikatan 02-2" /
                    "Balikatan 2002"); same year, months at most one apart, two participants in common;
``dating_slip``     equal names and year whatever the months, when that name occurs once that year in each
                    source and the two share two participants;
``alike_name``      a shared part ("Druzhba (Friendship)" / "Druzhba"), a typo, or one name ending the other;
                    same year, months at most one apart, two participants in common;
``unnamed``         both unnamed, the same start day, the same participants;
``one_unnamed``     one side unnamed, start days at most one day apart, the same participants (at least two);
``unnamed_subset``  both unnamed, start days at most one day apart, one participant list within the other's
                    (at least two in common, and at least half of the longer list).

Merging keeps everything
------------------------
The first record seen keeps its id and dates; the others add provenance, participants and sub-activities.
Exercise records keep each source's own attributes under the source's id (``attributes.mme``,
``attributes.jme``, each with that source's ``start``/``end``), so a merge loses none of them and a count by
source reproduces the source's own; ``format`` is derived again from the merged participants. A top-level
attribute both records hold with different values is kept under the later source's id.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from defdip.core.model import Engagement
from defdip.ingest.sources.exercises import (
    UNKNOWN_ID,
    exercise_format,
    name_parts,
    name_variants,
    normalise_name,
)

TIERS = ("name", "name_variant", "dating_slip", "alike_name", "unnamed", "one_unnamed", "unnamed_subset")
"""Pairing tiers, strongest evidence first."""

_SMALL_WORDS = {"of", "the", "and", "de", "la", "le", "el", "les", "des", "du", "exercise", "exercises", "ex",
                "operation", "op", "joint", "combined"}
_NUMBER_WORDS = {w: i for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
     "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"])}
_ROMAN = re.compile(r"^(x{0,3})(ix|iv|v?i{0,3})$")
_ROMAN_UNITS = {"": 0, "i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9}


@dataclass(frozen=True)
class Candidate:
    """What pairing compares of one record: normalised name, start date, participants, name forms."""

    id: str
    name: str | None
    year: int
    month: int | None
    polities: frozenset[str]
    variants: frozenset[str] = frozenset()
    day: int | None = None
    forms: frozenset[tuple[frozenset[str], frozenset[int]]] = frozenset()
    """The words and numbers of the name and of its parts (:func:`name_forms`)."""


@dataclass(frozen=True)
class Match:
    jme_id: str
    mme_id: str
    tier: str


def name_words(name: Any, year: int | None) -> tuple[frozenset[str], frozenset[int]] | None:
    """A name's words (small words dropped) and numbers (roman numerals and number words read as digits; the
    start year written in the name dropped), for names that differ only in order and form; None if unnamed."""
    if normalise_name(name, year) is None:
        return None
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)
    words, numbers = set(), set()
    for i, tok in enumerate(t for t in re.split(r"[^0-9a-zа-яё]+", text) if t):
        if tok in _SMALL_WORDS:
            continue
        if tok.isdigit():
            n = int(tok)
            if year is not None and (n == year or (len(tok) == 2 and n == year % 100)):
                continue
            if not (len(tok) == 4 and 1950 <= n <= 2030):
                numbers.add(n)
            continue
        roman = _ROMAN.match(tok) if i > 0 else None
        if roman:
            numbers.add(10 * len(roman.group(1)) + _ROMAN_UNITS[roman.group(2)])
        elif tok in _NUMBER_WORDS:
            numbers.add(_NUMBER_WORDS[tok])
        else:
            words.add(tok)
    return (frozenset(words), frozenset(numbers)) if words else None


def name_forms(name: Any, year: int | None) -> frozenset[tuple[frozenset[str], frozenset[int]]]:
    """:func:`name_words` of a name and of its parts ("Balikatan (Shoulder to Shoulder) 2002": also "Balikatan")."""
    return frozenset(f for f in (name_words(p, year) for p in name_parts(name)) if f is not None)


def _variant_names(a: Candidate, b: Candidate) -> bool:
    """The same words, and the numbers of one side among the other's (a series suffix on one side only)."""
    return any(wa == wb and (na <= nb or nb <= na) for wa, na in a.forms for wb, nb in b.forms)


def _numbers_differ(a: Candidate, b: Candidate) -> bool:
    """The same words with other numbers ("Kakadu VI" / "Kakadu VII"): two editions of a series, not a typo."""
    same_words = [(na, nb) for wa, na in a.forms for wb, nb in b.forms if wa == wb]
    return bool(same_words) and not any(na <= nb or nb <= na for na, nb in same_words)


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


def _days_apart(a: Candidate, b: Candidate) -> int | None:
    if not (a.month and b.month and a.day and b.day):
        return None
    return abs((_dt.date(a.year, a.month, a.day) - _dt.date(b.year, b.month, b.day)).days)


def pair_mme_jme(mme: list[Candidate], jme: list[Candidate]) -> list[Match]:
    """One-to-one pairs of the same exercise (see the module's tiers), best evidence first.

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
    for m in mme:
        by_year.setdefault(m.year, []).append(m)
    scored: list[tuple[int, int, int, float, str, str]] = []

    def add(tier: str, gap: int, common: int, alike: float, j: Candidate, m: Candidate) -> None:
        scored.append((TIERS.index(tier), gap, -common, -alike, j.id, m.id))

    for j in jme:
        for m in by_year.get(j.year, []):
            common = len(j.polities & m.polities)
            if common == 0:
                continue
            if j.name and m.name:
                gap = abs(j.month - m.month) if j.month and m.month else 0
                if m.name == j.name:
                    if gap <= 1:
                        add("name", gap, common, 0.0, j, m)
                    elif common >= 2 and n_mme[(m.name, m.year)] == 1 and n_jme[(j.name, j.year)] == 1:
                        add("dating_slip", gap, common, 0.0, j, m)
                elif gap <= 1 and common >= 2:
                    if _variant_names(j, m):
                        add("name_variant", gap, common, 0.0, j, m)
                    elif not _numbers_differ(j, m):
                        alike = _similar(j, m)
                        if alike:
                            add("alike_name", gap, common, alike, j, m)
                continue
            days = _days_apart(j, m)
            if days is None or days > 1:
                continue
            if not j.name and not m.name:
                if days == 0 and j.polities == m.polities:
                    add("unnamed", 0, common, 0.0, j, m)
                elif (common >= 2 and (j.polities <= m.polities or m.polities <= j.polities)
                      and 2 * common >= max(len(j.polities), len(m.polities))):
                    add("unnamed_subset", days, common, 0.0, j, m)
            elif common >= 2 and j.polities == m.polities:
                add("one_unnamed", days, common, 0.0, j, m)
    scored.sort()
    used_j: set[str] = set()
    used_m: set[str] = set()
    pairs = []
    for tier, *_, jid, mid in scored:
        if jid in used_j or mid in used_m:
            continue
        used_j.add(jid)
        used_m.add(mid)
        pairs.append(Match(jid, mid, TIERS[tier]))
    return pairs


def candidate(eng: Engagement, source: str) -> Candidate:
    """What pairing compares of an exercise record, from its own source's attributes and its participants."""
    own = eng.attributes.get(source) or {}
    name = own.get("name")
    year = eng.start_year
    variants, forms = set(name_variants(name, year)), set(name_forms(name, year))
    for other in own.get("names") or []:  # JME: every report's spelling
        variants |= name_variants(other, year)
        forms |= name_forms(other, year)
    return Candidate(eng.id, normalise_name(name, year), year, eng.start_month,
                     frozenset(p.id for p in eng.participants if p.id != UNKNOWN_ID), frozenset(variants),
                     eng.start_day, frozenset(forms))


def match_exercises(engagements: Iterable[Engagement]) -> list[Match]:
    """Pair the MME and JME records among ``engagements`` and give each pair the JME record's key.

    Only records the exercise loaders marked (a ``match_key``) take part; each paired record also gets
    ``attributes['match_tier']``. Returns the pairs, for the build's ``exercise_matches`` table.
    """
    by_source: dict[str, dict[str, Engagement]] = {"mme": {}, "jme": {}}
    for eng in engagements:
        if eng.match_key is not None and len(eng.provenance) == 1 and eng.provenance[0].source in by_source:
            by_source[eng.provenance[0].source][eng.id] = eng
    mme, jme = by_source["mme"], by_source["jme"]
    if not (mme and jme):
        return []
    pairs = pair_mme_jme([candidate(e, "mme") for e in mme.values()], [candidate(e, "jme") for e in jme.values()])
    for pair in pairs:
        j, m = jme[pair.jme_id], mme[pair.mme_id]
        m.match_key = j.match_key
        j.attributes["match_tier"] = m.attributes["match_tier"] = pair.tier
    return pairs


def matches_frame(matches: list[Match]) -> pd.DataFrame:
    """The build's ``exercise_matches`` table: one row per merged MME/JME pair and the tier that paired it."""
    return pd.DataFrame([vars(m) for m in matches], columns=["jme_id", "mme_id", "tier"]).astype(str)


def match_and_merge(engagements: list[Engagement]) -> tuple[list[Engagement], list[Match]]:
    """The build's step between loading and writing: pair records of one event across sources, then merge.

    ``engagements`` are the records that may merge (a ``match_key``), every source's in the build's order;
    returns the merged records and the MME/JME pairs (the ``exercise_matches`` table).
    """
    matches = match_exercises(engagements)
    return merge_duplicates(engagements), matches


def merge_duplicates(engagements: Iterable[Engagement]) -> list[Engagement]:
    """Merge engagements that the build marked as the same event (equal ``match_key``).

    The first one seen keeps its id, title and dates; the others add their provenance, participants (an
    ``unknown`` participant gives way to identified ones), sub-activities and attributes (see the module
    docstring), so one event carries every source that saw it.
    """
    merged: dict[str, Engagement] = {}
    out: list[Engagement] = []
    for eng in engagements:
        if eng.match_key is None:
            out.append(eng)
            continue
        base = merged.get(eng.match_key)
        if base is None:
            merged[eng.match_key] = eng
            out.append(eng)
            continue
        seen = {p.id for p in base.participants}
        base.participants.extend(p for p in eng.participants if p.id not in seen)
        if len(base.participants) > 1:
            base.participants = [p for p in base.participants if p.id != UNKNOWN_ID] or base.participants
        base.provenance.extend(eng.provenance)
        base.sub_activities = sorted(set(base.sub_activities) | set(eng.sub_activities))
        _merge_attributes(base, eng)
        base.attributes.setdefault("merged_ids", []).append(eng.id)
    return out


def _merge_attributes(base: Engagement, eng: Engagement) -> None:
    attrs = base.attributes
    later = eng.sources[0] if eng.sources else eng.id
    for key, value in eng.attributes.items():
        if key == "format":
            continue
        if key == "participants_incomplete":
            attrs[key] = bool(attrs.get(key)) or bool(value)
        elif key not in attrs:
            attrs[key] = value
        elif attrs[key] != value:
            home = attrs.setdefault(later, {})
            if isinstance(home, dict):
                home.setdefault(key, value)
    if "format" in attrs or "format" in eng.attributes:
        identified = sum(1 for p in base.participants if p.id != UNKNOWN_ID)
        fmt = exercise_format(identified, incomplete=bool(attrs.get("participants_incomplete")))
        if fmt:
            attrs["format"] = fmt
        else:
            attrs.pop("format", None)
