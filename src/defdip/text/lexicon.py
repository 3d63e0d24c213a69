"""The coder's package data: trigger, cue and date rules (``data/text/patterns.yaml``) and the names of actors
(``data/text/actors.csv`` plus every state's and organisation's names in the actor registry).

Rules are data so a researcher can read and audit them; this module only loads and checks them, so a broken
rule file is one clear error naming the rule, not a failure deep inside spaCy.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from defdip.core.actors import Polity, registry
from defdip.core.codebook import codebook
from defdip.core.errors import DefdipError

__all__ = ["ActorName", "Bystander", "Cue", "DatePattern", "Lexicon", "Phrase", "SubActivityCue", "Topic", "Trigger",
           "lexicon", "STATUSES"]

STATUSES = ("occurred", "intended", "hypothetical", "negated", "cancelled")
"""Statuses a candidate can have; the later ones are stronger and win when several cues apply."""

ACTOR_KINDS = ("demonym", "name", "capital", "service", "ministry", "organisation", "registry")


@dataclass(frozen=True)
class Trigger:
    """A rule proposing an activity: its spaCy token pattern (or the exercise-name list) and what it codes."""

    id: str
    activity: str
    instrument: str
    confidence: float
    priority: int
    example: str
    pattern: tuple[dict[str, Any], ...] = ()
    context: bool = False
    direction: str = ""
    sub_activities: tuple[str, ...] = ()
    exercise_name: bool = False
    not_after: frozenset[str] = frozenset()
    not_before: frozenset[str] = frozenset()
    solo: bool = False


@dataclass(frozen=True)
class Cue:
    """A word that changes a trigger's status when it lies close enough before or after it."""

    id: str
    status: str
    before: int
    after: int
    pattern: tuple[dict[str, Any], ...]
    example: str
    overrides: frozenset[str] = frozenset()  # cues this one sets aside when its match holds theirs


@dataclass(frozen=True)
class Bystander:
    """The opening words of a part of a sentence that names states beside the event, not in it: an aside
    ("Pakistan, a close ally of China, ..."), a trailing clause (", as Iran warned ...", ", prompting North Korea
    to ..."), a commenter ("drills that China called provocative"), a target or a topic ("to deter Russia", "the
    threat posed by Iran"). The part runs from the match to the next comma or semicolon, or the sentence's end;
    actors in it take no part in an event whose trigger lies outside it."""

    id: str
    pattern: tuple[dict[str, Any], ...]
    example: str


@dataclass(frozen=True)
class Phrase:
    """A phrase in which a defence word has its everyday sense ("Secretary-General", "Ivory Coast", "rebel
    forces"): its words put no sentence in the defence domain."""

    id: str
    pattern: tuple[dict[str, Any], ...]
    example: str


@dataclass(frozen=True)
class Topic:
    """A subject that makes talks or an accord something other than defence diplomacy (a ceasefire, arms
    control): when its phrase lies within ``window`` tokens of a listed rule's match (anywhere in the sentence
    when ``window`` is None), that rule does not fire."""

    id: str
    pattern: tuple[dict[str, Any], ...]
    rules: frozenset[str]
    window: int | None
    example: str


@dataclass(frozen=True)
class SubActivityCue:
    id: str
    sub_activity: str
    pattern: tuple[dict[str, Any], ...]
    example: str


@dataclass(frozen=True)
class DatePattern:
    """A date phrase and the precision it can carry (``by_unit``: day, month or year from its unit word)."""

    id: str
    precision: str
    pattern: tuple[dict[str, Any], ...]
    example: str


@dataclass(frozen=True)
class ActorName:
    """A phrase naming an actor and the registry name it stands for, with the years it is a name of."""

    phrase: str
    target: str
    kind: str
    service: str = ""
    from_year: int | None = None
    to_year: int | None = None
    example: str = ""

    def polity(self, year: int | None) -> Polity | None:
        """The polity the phrase names in ``year`` (None outside the phrase's years or the polity's)."""
        if year is not None and ((self.from_year is not None and year < self.from_year)
                                 or (self.to_year is not None and year > self.to_year)):
            return None
        return registry().try_resolve(self.target, year)


@dataclass(frozen=True)
class Lexicon:
    """Everything the coder matches with, loaded once."""

    lemmas: dict[str, str]
    defence_context: frozenset[str]
    triggers: tuple[Trigger, ...]
    sub_activities: tuple[SubActivityCue, ...]
    cues: tuple[Cue, ...]
    dates: tuple[DatePattern, ...]
    services: tuple[tuple[tuple[str, ...], str], ...]  # (lowercase words, branch), longest first
    exercise_names: tuple[str, ...]
    exercise_name_cutoff: float
    state_name_cutoff: float
    actors: tuple[ActorName, ...] = field(default=())
    not_defence: tuple[Phrase, ...] = ()
    topics: tuple[Topic, ...] = ()
    agreement_verbs: frozenset[str] = frozenset()
    demonym_people_before: frozenset[str] = frozenset()
    demonym_people_after: frozenset[str] = frozenset()
    demonym_people_example: str = ""
    place_words: frozenset[str] = frozenset()
    bystanders: tuple[Bystander, ...] = ()
    venue_nouns: frozenset[str] = frozenset()
    venue_nouns_example: str = ""

    def keywords(self) -> frozenset[str]:
        """Lowercase words of which a text must hold one for any trigger to fire (a fast pre-filter).

        Each pattern gives the words of one token it cannot match without (its required token with the fewest
        words), split at hyphens and apostrophes the way the pre-filter splits text.
        """
        forms: dict[str, set[str]] = {}
        for form, lemma in self.lemmas.items():
            forms.setdefault(lemma, {lemma}).add(form.lower())
        words: set[str] = set()
        for trig in self.triggers:
            options = []
            for tok in trig.pattern:
                if tok.get("OP") in ("?", "*") or str(tok.get("OP", "")).startswith("{0"):
                    continue
                for key in ("LOWER", "LEMMA", "ORTH"):
                    spec = tok.get(key)
                    values = spec.get("IN") if isinstance(spec, dict) else [spec] if spec is not None else None
                    if values:
                        found = set()
                        for value in map(str, values):
                            found |= forms.get(value.lower(), {value.lower()}) if key == "LEMMA" else {value.lower()}
                        options.append(found)
            plain = [o for o in options if o.isdisjoint(FILLER)] or options
            if plain:
                words |= min(plain, key=len)
        words |= {max(name.lower().split(), key=len) for name in self.exercise_names}
        return frozenset(part for w in words for part in WORD.findall(w))


FILLER = frozenset({"the", "'s", "of", "on", "with", "between", "together", "alongside", "jointly", "involving",
                    "to", "a", "an", "in", "and", "off", "from", "out"})
"""Words too common to pre-filter on: a pattern is keyed on another of its tokens instead."""

WORD = re.compile(r"\w+")
"""How the pre-filter splits text into words."""


def _data(name: str) -> str:
    return resources.files("defdip").joinpath("data", "text", name).read_text(encoding="utf-8")


def _pattern(item: dict[str, Any], where: str) -> tuple[dict[str, Any], ...]:
    pattern = item.get("pattern")
    if not isinstance(pattern, list) or not pattern or not all(isinstance(t, dict) for t in pattern):
        raise DefdipError(f"{where}: 'pattern' must be a non-empty list of token mappings")
    return tuple(pattern)


def _need(item: dict[str, Any], key: str, where: str) -> Any:
    if item.get(key) in (None, ""):
        raise DefdipError(f"{where}: missing {key!r}")
    return item[key]


def _triggers(items: list[dict[str, Any]]) -> tuple[Trigger, ...]:
    cb = codebook()
    out = []
    for item in items:
        where = f"patterns.yaml, trigger {item.get('id', '?')}"
        activity, instrument = _need(item, "activity", where), _need(item, "instrument", where)
        if activity not in cb.id_sets["activity"]:
            raise DefdipError(f"{where}: unknown activity {activity!r}")
        if instrument not in cb.id_sets["instrument"]:
            raise DefdipError(f"{where}: unknown instrument {instrument!r}")
        subs = tuple(item.get("sub_activities") or ())
        for sub in subs:
            if sub not in cb.id_sets["sub_activity"]:
                raise DefdipError(f"{where}: unknown sub-activity {sub!r}")
        named = bool(item.get("exercise_name"))
        out.append(Trigger(
            id=_need(item, "id", where), activity=activity, instrument=instrument,
            confidence=float(_need(item, "confidence", where)), priority=int(item.get("priority", 1)),
            example=_need(item, "example", where), pattern=() if named else _pattern(item, where),
            context=bool(item.get("context")), direction=str(item.get("direction") or ""), sub_activities=subs,
            exercise_name=named, not_after=frozenset(str(w).lower() for w in item.get("not_after") or ()),
            not_before=frozenset(str(w).lower() for w in item.get("not_before") or ()), solo=bool(item.get("solo"))))
    return tuple(out)


def _cues(items: list[dict[str, Any]]) -> tuple[Cue, ...]:
    out = []
    for item in items:
        where = f"patterns.yaml, cue {item.get('id', '?')}"
        status = _need(item, "status", where)
        if status not in STATUSES[1:]:
            raise DefdipError(f"{where}: status {status!r} is not one of {', '.join(STATUSES[1:])}")
        out.append(Cue(_need(item, "id", where), status, int(item.get("before", 6)), int(item.get("after", 0)),
                       _pattern(item, where), _need(item, "example", where),
                       frozenset(str(c) for c in item.get("overrides") or ())))
    known = {c.id for c in out}
    for cue in out:
        if cue.overrides - known:
            raise DefdipError(f"patterns.yaml, cue {cue.id}: overrides unknown cue(s) "
                              f"{', '.join(sorted(cue.overrides - known))}")
    return tuple(out)


def _bystanders(items: list[dict[str, Any]]) -> tuple[Bystander, ...]:
    out = []
    for item in items:
        where = f"patterns.yaml, bystander {item.get('id', '?')}"
        out.append(Bystander(_need(item, "id", where), _pattern(item, where), _need(item, "example", where)))
    return tuple(out)


def _phrases(items: list[dict[str, Any]]) -> tuple[Phrase, ...]:
    out = []
    for item in items:
        where = f"patterns.yaml, not_defence {item.get('id', '?')}"
        out.append(Phrase(_need(item, "id", where), _pattern(item, where), _need(item, "example", where)))
    return tuple(out)


def _topics(items: list[dict[str, Any]], triggers: tuple[Trigger, ...]) -> tuple[Topic, ...]:
    known = {t.id for t in triggers}
    out = []
    for item in items:
        where = f"patterns.yaml, topic {item.get('id', '?')}"
        rules = frozenset(str(r) for r in _need(item, "rules", where))
        if rules - known:
            raise DefdipError(f"{where}: unknown rule(s) {', '.join(sorted(rules - known))}")
        window = item.get("window")
        out.append(Topic(_need(item, "id", where), _pattern(item, where), rules,
                         int(window) if window is not None else None, _need(item, "example", where)))
    return tuple(out)


def _actors(text: str) -> tuple[ActorName, ...]:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    out = []
    reg = registry()
    for number, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=2):
        where = f"actors.csv, row {number}"
        kind = row["kind"].strip()
        if kind not in ACTOR_KINDS:
            raise DefdipError(f"{where}: unknown kind {kind!r}")
        name = ActorName(
            phrase=row["phrase"].strip(), target=row["target"].strip(), kind=kind, service=row["service"].strip(),
            from_year=int(row["from_year"]) if row["from_year"].strip() else None,
            to_year=int(row["to_year"]) if row["to_year"].strip() else None, example=row["example"].strip())
        if reg.try_resolve(name.target, name.from_year) is None:
            raise DefdipError(f"{where}: target {name.target!r} is not a name the actor registry knows")
        out.append(name)
    return tuple(out)


def _registry_names() -> list[ActorName]:
    """Every state's and organisation's own name and variants, as the registry spells them."""
    out = []
    for polity in registry().polities():
        if polity.kind not in ("state", "organisation"):
            continue
        for phrase in dict.fromkeys((polity.name, *polity.variants)):
            if len(phrase) < 4 or "," in phrase or "(" in phrase or phrase.islower():
                continue
            out.append(ActorName(phrase, phrase, "registry"))
    return out


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The bundled rules and actor names, checked against the codebook and the registry."""
    raw = yaml.safe_load(_data("patterns.yaml"))
    lemmas: dict[str, str] = {}
    for lemma, forms in (raw.get("lemmas") or {}).items():  # the lookup is by the token's text: cover capitals
        for form in (lemma, *forms):
            lemmas.update({form.lower(): lemma, form.capitalize(): lemma, form.upper(): lemma})
    services = sorted(((tuple(phrase.lower().split()), branch) for branch, phrases in raw["services"].items()
                       for phrase in phrases), key=lambda item: -len(item[0]))
    subs = tuple(SubActivityCue(i["id"], i["sub_activity"], _pattern(i, f"patterns.yaml, {i['id']}"), i["example"])
                 for i in raw["sub_activities"])
    dates = tuple(DatePattern(i["id"], i["precision"], _pattern(i, f"patterns.yaml, {i['id']}"), i["example"])
                  for i in raw["dates"])
    own = _actors(_data("actors.csv"))
    taken = {a.phrase for a in own}
    actors = own + tuple(a for a in _registry_names() if a.phrase not in taken)
    triggers = _triggers(raw["triggers"])
    people = raw.get("demonym_people") or {}
    venues = raw.get("venue_nouns") or {}
    return Lexicon(
        lemmas=lemmas, defence_context=frozenset(str(w).lower() for w in raw["defence_context"]),
        triggers=triggers, sub_activities=subs, cues=_cues(raw["cues"]), dates=dates,
        services=tuple(services), exercise_names=tuple(raw["exercise_names"]),
        exercise_name_cutoff=float(raw["exercise_name_cutoff"]), state_name_cutoff=float(raw["state_name_cutoff"]),
        actors=actors, not_defence=_phrases(raw.get("not_defence") or []),
        topics=_topics(raw.get("topics") or [], triggers),
        agreement_verbs=frozenset(str(w).lower() for w in raw.get("agreement_verbs") or ()),
        demonym_people_before=frozenset(str(w).lower() for w in people.get("before") or ()),
        demonym_people_after=frozenset(str(w).lower() for w in people.get("after") or ()),
        demonym_people_example=str(people.get("example") or ""),
        place_words=frozenset(str(w) for w in raw.get("place_words") or ()),
        bystanders=_bystanders(raw.get("bystanders") or []),
        venue_nouns=frozenset(str(w).lower() for w in venues.get("words") or ()),
        venue_nouns_example=str(venues.get("example") or ""))
