"""The rule-based coder: documents in, evidence-linked candidate engagements out.

One spaCy pipeline, built once: a blank English tokenizer, the rule-based ``sentencizer``, lookup lemmas from
the coder's own table, and an ``entity_ruler`` holding every actor name (registry names, demonyms, services,
ministries, organisations). Token ``Matcher``s then find triggers, status cues, sub-activity cues and dates, and
a ``PhraseMatcher`` the known exercise names; rapidfuzz catches misspelt exercise and state names. Every field
of a candidate keeps its evidence: document, sentence index and character offsets into the document's text.

A candidate's status says whether the text reports the event (``occurred``), a plan (``intended``) or no
event at all (``negated``, ``hypothetical``, ``cancelled``); only the first two may become records.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from typing import Any

import dateparser
import numpy
import spacy
from rapidfuzz import fuzz, process
from spacy.attrs import IS_SPACE, LEMMA, ORTH
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.strings import StringStore
from spacy.tokens import Doc, Span

from defdip.core.actors import registry
from defdip.text.documents import Document
from defdip.text.lexicon import STATUSES, WORD, ActorName, Lexicon, Topic, Trigger, lexicon

__all__ = ["Candidate", "CodedDate", "CodedParticipant", "Coder", "CodingResult", "Evidence", "Uncoded",
           "code_documents", "coder", "CHUNK_CHARS", "MAX_SENTENCE_TOKENS"]

CHUNK_CHARS = 100_000
"""Longest document handed to spaCy whole. A longer one is read line by line (lines longer than this cut at a
full stop or a space) and only lines holding a trigger word are segmented, so a 50 MB file costs time in
proportion to its news, not its bulk; its sentence numbers then count the sentences of the lines read."""

MAX_SENTENCE_TOKENS = 250
"""A 'sentence' longer than this (a table, a run of text without full stops) is listed uncoded, not guessed at."""

ORGANISATION_ROLE = {"agreements": "signatory", "attaches": "sender"}
EVENT_STATUSES = ("occurred", "intended")


@dataclass(frozen=True)
class Evidence:
    """Where a field was read: the document, the sentence's index in it and character offsets into its text."""

    document: str
    sentence: int
    start: int
    end: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"sentence": self.sentence, "start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class CodedParticipant:
    id: str
    name: str
    kind: str
    role: str
    evidence: Evidence
    service: str = ""


@dataclass(frozen=True)
class CodedDate:
    """The candidate's date: year, month and day as far as ``precision`` goes, and where it came from."""

    year: int
    month: int | None
    day: int | None
    precision: str
    origin: str  # "text" or "document"
    evidence: Evidence | None = None


@dataclass
class Candidate:
    """One engagement the rules propose, with the evidence of each field, a confidence and the rule that fired."""

    document: str
    sentence_index: int
    sentence: str
    sentence_start: int
    activity: str
    instrument: str
    status: str
    rule: str
    confidence: float
    evidence: Evidence
    participants: list[CodedParticipant]
    sub_activities: list[str] = field(default_factory=list)
    name: str = ""
    name_evidence: Evidence | None = None
    date: CodedDate | None = None
    status_evidence: Evidence | None = None
    status_rule: str = ""
    attache_event: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def is_event(self) -> bool:
        """True for occurred and intended candidates, the ones that may become records."""
        return self.status in EVENT_STATUSES

    def pairs(self) -> list[frozenset[str]]:
        """Unordered pairs of distinct states or organisations engaged with each other (the scorer's pairs):
        every pair, except that an attaché's sender pairs with each receiver and two receivers are no pair."""
        parties = [p for p in self.participants if p.kind in ("state", "organisation")]
        if self.activity == "attaches":
            senders = {p.id for p in parties if p.role == "sender"}
            return list(dict.fromkeys(frozenset((s, p.id)) for s in sorted(senders) for p in parties
                                      if p.id not in senders))
        ids = sorted({p.id for p in parties})
        return [frozenset(pair) for pair in combinations(ids, 2)]


@dataclass(frozen=True)
class Uncoded:
    """A sentence a rule fired in that could not be coded, and why."""

    document: str
    sentence_index: int
    start: int
    end: int
    text: str
    rule: str
    reason: str


@dataclass
class CodingResult:
    documents: list[Document]
    candidates: list[Candidate]
    uncoded: list[Uncoded]


# ------------------------------------------------------------------------------------------- dates

MONTH_UNITS = {"month", "months", "week", "weeks", "weekend"}
YEAR_UNITS = {"year", "years"}


@lru_cache(maxsize=65536)
def _parse_date(phrase: str, base: datetime.date | None) -> datetime.datetime | None:
    """dateparser on one phrase, relative to the document's date (cached: news repeats its phrases)."""
    settings: dict[str, Any] = {"PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False}
    if base is not None:
        settings["RELATIVE_BASE"] = datetime.datetime(base.year, base.month, base.day)
    parsed = dateparser.parse(phrase, languages=["en"], settings=settings)
    return parsed if isinstance(parsed, datetime.datetime) else None


MONTHS = {name: number for number, names in enumerate(
    (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
     ("december", "dec")), start=1) for name in names}
ABSOLUTE = {"date.day_month_year", "date.month_day_year", "date.month_year", "date.in_year", "date.day_month",
            "date.month_day"}
"""Date rules read without dateparser: their words are a day, a month and a year in a known order."""


def _absolute_date(rule: str, span: Span, base: datetime.date | None) -> datetime.date | None:
    """The date an absolute phrase names (None when it names none, as 31 February does); years come from the
    phrase or, for '4 June', from the document date."""
    words = [t.lower_ for t in span if not t.is_punct]
    if rule == "date.in_year":
        words = words[1:]
    numbers = [int(w) for w in words if w.isdigit()]
    month = next((MONTHS[w] for w in words if w in MONTHS), 1)
    if rule in ("date.day_month", "date.month_day"):
        if base is None:
            return None
        numbers.append(base.year)
    try:
        if rule == "date.in_year":
            return datetime.date(numbers[0], 1, 1)
        if rule == "date.month_year":
            return datetime.date(numbers[0], month, 1)
        return datetime.date(numbers[-1], month, numbers[0])
    except (ValueError, IndexError):
        return None


def _unit_precision(phrase: str) -> str:
    words = set(phrase.lower().split())
    if words & YEAR_UNITS:
        return "year"
    if words & MONTH_UNITS:
        return "month"
    return "day"


# ------------------------------------------------------------------------------------------- coder


@Language.component("defdip_paragraphs")
def paragraph_breaks(doc: Doc) -> Doc:
    """A blank line ends a sentence: headlines, list items and table cells carry no full stop."""
    spaces = numpy.flatnonzero(doc.to_array(IS_SPACE)[:-1]).tolist() if len(doc) > 1 else []
    for i in spaces:  # only whitespace tokens can be a blank line
        token = doc[i]
        if token.text.count("\n") >= 2:
            if token.is_sent_start:  # the break opens the next sentence rather than being one
                doc[token.i + 1].is_sent_start = False
            else:
                doc[token.i + 1].is_sent_start = True
    return doc


@Language.factory("defdip_lemmas", default_config={"table": {}})
def make_lemmas(nlp: Language, name: str, table: dict[str, str]) -> LookupLemmas:
    """The coder's lookup lemmas as a pipeline component (spaCy's own lemmatizer needs its lookups package)."""
    return LookupLemmas(nlp.vocab.strings, table)


class LookupLemmas:
    """Sets every token's lemma from a form -> lemma table (the form itself when absent), as one array write."""

    def __init__(self, strings: StringStore, table: dict[str, str]) -> None:
        self.table = {strings.add(form): strings.add(lemma) for form, lemma in table.items()}
        pairs = sorted(self.table.items())
        self.forms = numpy.array([f for f, _ in pairs], dtype="uint64")
        self.lemmas = numpy.array([lemma for _, lemma in pairs], dtype="uint64")

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc) or not len(self.forms):
            return doc
        orth = doc.to_array(ORTH).astype("uint64")
        at = numpy.minimum(numpy.searchsorted(self.forms, orth), len(self.forms) - 1)  # a sorted-table lookup
        lemmas = numpy.where(self.forms[at] == orth, self.lemmas[at], orth).reshape(len(doc), 1)
        doc.from_array([LEMMA], lemmas)  # type: ignore[arg-type]
        return doc


def _cut(text: str, start: int, stop: int) -> Iterator[tuple[int, str]]:
    """(offset, piece) of ``text[start:stop]`` in pieces of at most CHUNK_CHARS, cut at a full stop or a space."""
    while stop - start > CHUNK_CHARS:
        window = text[start:start + CHUNK_CHARS]
        cut = window.rfind(". ") + 1
        if cut <= CHUNK_CHARS // 2:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = CHUNK_CHARS
        yield start, text[start:start + cut]
        start += cut
    yield start, text[start:stop]


def _pieces(text: str) -> Iterator[tuple[int, str]]:
    """(offset, piece): the whole text when short, else its lines (each cut to CHUNK_CHARS at most)."""
    if len(text) <= CHUNK_CHARS:
        yield 0, text
        return
    start = 0
    while start < len(text):
        stop = text.find("\n", start)
        stop = len(text) if stop < 0 else stop + 1
        yield from _cut(text, start, stop)
        start = stop


class Coder:
    """The pipeline and its matchers, built once; :meth:`code` runs them over any number of documents."""

    def __init__(self, lex: Lexicon | None = None) -> None:
        self.lex = lex or lexicon()
        self.nlp = self._pipeline()
        vocab = self.nlp.vocab
        self.triggers = {t.id: t for t in self.lex.triggers}
        self.trigger_matcher = Matcher(vocab)
        for trig in self.lex.triggers:
            if trig.pattern:
                self.trigger_matcher.add(trig.id, [list(trig.pattern)])
        self.cues = {c.id: c for c in self.lex.cues}
        self.cue_matcher = Matcher(vocab)
        for cue in self.lex.cues:
            self.cue_matcher.add(cue.id, [list(cue.pattern)])
        self.subs = {s.id: s for s in self.lex.sub_activities}
        self.sub_matcher = Matcher(vocab)
        for sub in self.lex.sub_activities:
            self.sub_matcher.add(sub.id, [list(sub.pattern)])
        self.date_rules = {d.id: d for d in self.lex.dates}
        self.date_matcher = Matcher(vocab)
        for rule in self.lex.dates:
            self.date_matcher.add(rule.id, [list(rule.pattern)])
        self.not_defence_matcher = Matcher(vocab)
        for phrase in self.lex.not_defence:
            self.not_defence_matcher.add(phrase.id, [list(phrase.pattern)])
        self.bystander_matcher = Matcher(vocab)
        for aside in self.lex.bystanders:
            self.bystander_matcher.add(aside.id, [list(aside.pattern)])
        self.topics = {t.id: t for t in self.lex.topics}
        self.topic_rules = frozenset(r for t in self.lex.topics for r in t.rules)
        self.topic_matcher = Matcher(vocab)
        for topic in self.lex.topics:
            self.topic_matcher.add(topic.id, [list(topic.pattern)])
        self.exercise_matcher = PhraseMatcher(vocab, attr="LOWER")
        self.exercise_matcher.add("exercise_name", [self.nlp.make_doc(n) for n in self.lex.exercise_names])
        self.exercise_lower = {n.lower(): n for n in self.lex.exercise_names}
        named = [t for t in self.lex.triggers if t.exercise_name]
        self.exercise_trigger = named[0] if named else None
        self.keywords = self.lex.keywords()
        self.service_starts = frozenset(words[0] for words, _ in self.lex.services)
        states = registry().polities("state")
        self.state_names = {p.name: p.name for p in states if len(p.name) >= 5}

    def _pipeline(self) -> Language:
        nlp = spacy.blank("en")
        ruler = nlp.add_pipe("entity_ruler", config={"validate": True})  # first, so its phrases are only tokenized
        self.actor_names: dict[str, ActorName] = {}
        patterns = []
        for number, actor in enumerate(self.lex.actors):
            key = str(number)
            self.actor_names[key] = actor
            patterns.append({"label": "ACTOR", "pattern": actor.phrase, "id": key})
        ruler.add_patterns(patterns)  # type: ignore[attr-defined]
        nlp.add_pipe("sentencizer", first=True)
        nlp.add_pipe("defdip_paragraphs", after="sentencizer")
        nlp.add_pipe("defdip_lemmas", config={"table": self.lex.lemmas})
        return nlp

    # --------------------------------------------------------------------- running
    def code(self, documents: Iterable[Document]) -> CodingResult:
        """Code every document; the pipeline streams pieces through ``nlp.pipe`` so memory stays flat."""
        docs = list(documents)
        candidates: list[Candidate] = []
        uncoded: list[Uncoded] = []
        counters: dict[str, int] = {}

        def pieces() -> Iterator[tuple[str, tuple[Document, int]]]:
            for document in docs:
                for offset, piece in _pieces(document.text):
                    if not self.keywords.isdisjoint(WORD.findall(piece.lower())):
                        yield piece, (document, offset)

        for sdoc, (document, offset) in self.nlp.pipe(pieces(), as_tuples=True, batch_size=64):
            first = counters.get(document.id, 0)
            counters[document.id] = first + self._code_doc(sdoc, document, offset, first, candidates, uncoded)
        return CodingResult(docs, candidates, uncoded)

    def _code_doc(self, sdoc: Doc, document: Document, offset: int, first_sentence: int,
                  candidates: list[Candidate], uncoded: list[Uncoded]) -> int:
        """Code one piece; returns how many sentences it held (sentence indexes run on across pieces)."""
        sents = list(sdoc.sents)
        strings = self.nlp.vocab.strings
        by_sentence: dict[int, list[tuple[str, int, int]]] = {}
        for index, sent in enumerate(sents):  # matchers run only on sentences holding a trigger word
            if self.keywords.isdisjoint(WORD.findall(sent.text.lower())):
                continue
            hits = [(strings[m], sent.start + s, sent.start + e) for m, s, e in self.trigger_matcher(sent)]
            if self.exercise_trigger is not None:
                hits += [(self.exercise_trigger.id, s, e)  # the PhraseMatcher gives a span's matches in doc offsets
                         for _, s, e in self.exercise_matcher(sent)]
            if hits:
                by_sentence[index] = hits
        for index, hits in sorted(by_sentence.items()):
            sent = sents[index]
            found: dict[str, list[tuple[str, int, int]]] = {}
            for kind, matcher in (("cue", self.cue_matcher), ("sub", self.sub_matcher), ("date", self.date_matcher)):
                found[kind] = [(self.nlp.vocab.strings[m], sent.start + s, sent.start + e) for m, s, e in
                               matcher(sent)]  # on the span: offsets are the sentence's own
            where = (document, first_sentence + index, offset)
            if len(sent) > MAX_SENTENCE_TOKENS:
                uncoded.append(self._uncoded(sent, where, hits[0][0],
                                             f"sentence longer than {MAX_SENTENCE_TOKENS} tokens; not coded"))
                continue
            self._code_sentence(sent, hits, found, where, candidates, uncoded)
        return len(sents)

    def _evidence(self, span: Span, where: tuple[Document, int, int]) -> Evidence:
        document, index, offset = where
        return Evidence(document.id, index, offset + span.start_char, offset + span.end_char, span.text)

    def _uncoded(self, sent: Span, where: tuple[Document, int, int], rule: str, reason: str) -> Uncoded:
        ev = self._evidence(sent, where)
        return Uncoded(ev.document, ev.sentence, ev.start, ev.end, " ".join(sent.text.split()), rule, reason)

    # --------------------------------------------------------------------- one sentence
    def _code_sentence(self, sent: Span, hits: list[tuple[str, int, int]],
                       found: dict[str, list[tuple[str, int, int]]], where: tuple[Document, int, int],
                       candidates: list[Candidate], uncoded: list[Uncoded]) -> None:
        """Candidates from one sentence's triggers; ``found`` holds its cue, sub-activity and date matches."""
        document = where[0]
        sdoc = sent.doc
        date, date_notes = self._date(sent, found.get("date", []), document, where)
        year = date.year if date is not None else None
        actors, actor_notes = self._actors(sent, year, where)
        context = self._defence_context(sent) or any(a[2] for a in actors)
        topics = [(self.topics[self.nlp.vocab.strings[m]], sent.start + s, sent.start + e)
                  for m, s, e in self.topic_matcher(sent)] if any(h[0] in self.topic_rules for h in hits) else []
        asides = self._asides(sent)
        best: dict[str, tuple[Trigger, int, int]] = {}
        for rule_id, start, end in hits:
            trig = self.triggers[rule_id]
            if (trig.context and not context) or (start > 0 and sdoc[start - 1].lower_ in trig.not_after) \
                    or any(t.lower_ in trig.not_before for t in sdoc[end:min(end + 4, sent.end)]) \
                    or self._off_topic(trig, start, end, topics) or self._named_mention(trig, sdoc[start:end], sent):
                continue
            held = best.get(trig.activity)
            if held is None or (trig.priority, trig.confidence, -start) > (held[0].priority, held[0].confidence,
                                                                           -held[1]):
                best[trig.activity] = (trig, start, end)
        if not best:
            return
        if "attaches" in best and "contacts" in best:  # an attaché's calls and consultations are his posting
            del best["contacts"]
        if any(not _inside(s, e, asides) for _, s, e in best.values()):  # news outside the asides: theirs is
            best = {a: hit for a, hit in best.items() if not _inside(hit[1], hit[2], asides)}  # background
        cues = [(self.cues[rule], s, e) for rule, s, e in found.get("cue", [])]
        cues = [(cue, cs, ce) for cue, cs, ce in cues  # "said ... would" is a plan reported, not a maybe
                if not any(cue.id in other.overrides and os <= cs and ce <= oe for other, os, oe in cues)]
        subs = {self.subs[rule].sub_activity for rule, _, _ in found.get("sub", [])}
        name, name_span = self._exercise_name(sent)
        for activity, (trig, start, end) in best.items():
            status, cue_span, cue_rule = "occurred", None, ""
            for cue, cs, ce in cues:
                inside = start <= cs < end  # a plan's words inside a trigger are the trigger's ("due to")
                if start - cue.before <= cs < end + cue.after and not (inside and cue.status == "intended") \
                        and STATUSES.index(cue.status) > STATUSES.index(status):
                    status, cue_span, cue_rule = cue.status, sdoc[cs:ce], cue.id
            notes = list(date_notes) + list(actor_notes)
            if status == "occurred" and date is not None and date.origin == "text" and document.date is not None \
                    and (date.year, date.month or 1, date.day or 1) > (document.date.year, document.date.month,
                                                                      document.date.day):
                status, cue_rule = "intended", "date.after_document"
                notes.append("the date lies after the document's date: coded as intended")
            trigger_span = sdoc[start:end]
            participants = self._roles(trig, trigger_span, actors, sent, asides)
            if not participants:
                uncoded.append(self._uncoded(sent, where, trig.id, "names no state or organisation"))
                continue
            if trig.direction == "deploy" and not any(p.role in ("contributor", "organiser") for p in participants):
                uncoded.append(self._uncoded(sent, where, trig.id, "names where troops go but not who sends them"))
                continue
            if len(participants) < 2 and not trig.solo:
                why = "; ".join([f"names one party only ({participants[0].id}): defence diplomacy needs a partner",
                                 *actor_notes])
                uncoded.append(self._uncoded(sent, where, trig.id, why))
                continue
            confidence = trig.confidence * (1.0 if len({p.id for p in participants}) >= 2 else 0.8)
            if any("fuzzy" in n for n in actor_notes):
                confidence *= 0.9
            cand = Candidate(
                document=document.id, sentence_index=where[1], sentence=" ".join(sent.text.split()),
                sentence_start=where[2] + sent.start_char, activity=activity, instrument=trig.instrument,
                status=status, rule=trig.id, confidence=round(confidence, 3),
                evidence=self._evidence(trigger_span, where), participants=participants,
                sub_activities=sorted(subs | set(trig.sub_activities)), date=date, notes=notes,
                status_evidence=self._evidence(cue_span, where) if cue_span is not None else None,
                status_rule=cue_rule)
            if activity == "exercises" and name:
                cand.name, cand.name_evidence = name, self._evidence(name_span, where)  # type: ignore[arg-type]
            if activity == "attaches":
                cand.attache_event = _attache_event(sent)
            candidates.append(cand)

    def _asides(self, sent: Span) -> list[tuple[int, int]]:
        """Token ranges (doc offsets) of the parts of the sentence that name states beside the event: from each
        bystander match to the next comma or semicolon after it, or the sentence's end."""
        out: list[tuple[int, int]] = []
        if not self.lex.bystanders:
            return out
        doc = sent.doc
        for _, s, e in self.bystander_matcher(sent):
            start = sent.start + s
            stop = next((t.i for t in doc[sent.start + e:sent.end] if t.text in (",", ";")), sent.end)
            out.append((start, stop))
        return out

    def _defence_context(self, sent: Span) -> bool:
        """True when a defence word in its defence sense stands in the sentence: the words of an everyday phrase
        ("Secretary-General", "Ivory Coast", "rebel forces", "think tanks") do not count."""
        words = [t.i for t in sent if t.lower_ in self.lex.defence_context]
        if not words or not self.lex.not_defence:
            return bool(words)
        everyday = {i for _, s, e in self.not_defence_matcher(sent) for i in range(sent.start + s, sent.start + e)}
        return any(i not in everyday for i in words)

    @staticmethod
    def _off_topic(trig: Trigger, start: int, end: int, topics: list[tuple[Topic, int, int]]) -> bool:
        """True when a topic that makes this rule's talks or accord something else lies close enough to it."""
        return any(trig.id in topic.rules and (topic.window is None or (ts < end + topic.window and
                                                                        te > start - topic.window))
                   for topic, ts, te in topics)

    def _named_mention(self, trig: Trigger, span: Span, sent: Span) -> bool:
        """True for an agreement only mentioned: named in title case ("the Five Power Defence Arrangements", the
        name of a treaty or grouping) in a sentence with no verb of making or ending one, or the frame of something
        else ("troops were deployed under the 1987 accord", "which keeps troops here under a defence pact") with no
        such verb between the frame word and just after the agreement ("under the pact signed on Monday" is news)."""
        if trig.activity != "agreements":
            return False
        doc = sent.doc
        frame = next((t.i for t in doc[max(sent.start, span.start - 4):span.start] if t.lower_ == "under"), None)
        if frame is not None:
            return not any(t.lemma_.lower() in self.lex.agreement_verbs
                           for t in doc[frame:min(sent.end, span.end + 4)])
        words = [t for t in span if t.is_alpha and not t.is_stop]
        if not (len(words) >= 2 and all(t.is_title for t in words)):
            return False
        return not any(t.lemma_.lower() in self.lex.agreement_verbs for t in sent)

    def _date(self, sent: Span, matches: list[tuple[str, int, int]], document: Document,
              where: tuple[Document, int, int]) -> tuple[CodedDate | None, list[str]]:
        """The first date phrase of the sentence, resolved against the document date; else the document date."""
        notes = []
        for rule_id, start, end in sorted(matches, key=lambda m: (m[1], -m[2])):
            rule = self.date_rules[rule_id]
            span = sent.doc[start:end]
            phrase = span.text
            if rule.id == "date.in_year":
                phrase = span[1:].text
            elif rule.id == "date.weekday":
                phrase = span[1:].text
            relative = rule.id.startswith("date.relative") or rule.id in ("date.ago", "date.weekday")
            if relative and document.date is None:
                notes.append(f"relative date {span.text!r} cannot be resolved without a document date")
                continue
            needs_year = rule.id in ("date.day_month", "date.month_day")
            if needs_year and document.date is None:
                notes.append(f"date {span.text!r} has no year and the document no date")
                continue
            if rule.id == "date.in_year" and not 1000 <= int(phrase) <= datetime.date.today().year + 10:
                continue
            parsed = (_absolute_date(rule.id, span, document.date) if rule.id in ABSOLUTE
                      else _parse_date(phrase, document.date))
            if parsed is None:
                notes.append(f"date {span.text!r} cannot be resolved")
                continue
            precision = _unit_precision(phrase) if rule.precision == "by_unit" else rule.precision
            return CodedDate(parsed.year, parsed.month if precision in ("day", "month") else None,
                             parsed.day if precision == "day" else None, precision, "text",
                             self._evidence(span, where)), notes
        if document.date is not None:
            d = document.date
            return CodedDate(d.year, d.month, None, "month", "document"), notes
        notes.append("no date in the sentence and the document has none")
        return None, notes

    def _actors(self, sent: Span, year: int | None, where: tuple[Document, int, int]) -> \
            tuple[list[tuple[CodedParticipant, Span, bool]], list[str]]:
        """(participant with role unset, span, is a service or ministry) for each actor named in the sentence."""
        out: list[tuple[CodedParticipant, Span, bool]] = []
        notes: list[str] = []
        taken: set[int] = set()
        for ent in sent.ents:
            actor = self.actor_names.get(ent.ent_id_)
            if actor is None:
                continue
            if (actor.kind == "demonym" and self._names_people(ent)) or self._in_place_name(ent):
                continue
            if actor.kind == "service" and ent.end + 1 < sent.end and sent.doc[ent.end].lower_ == "of" \
                    and sent.doc[ent.end + 1].ent_type_:
                continue  # "the Royal Navy of Oman": the state after "of" is the one named
            polity = actor.polity(year)
            if polity is None:
                notes.append(f"{ent.text!r} names no polity of {year}" if year is not None else
                             f"{ent.text!r} could not be resolved")
                continue
            span, service = self._service(ent, actor)
            taken.update(range(span.start, span.end))
            out.append((CodedParticipant(polity.id, registry().display_name(polity.id, year), polity.kind, "",
                                         self._evidence(span, where), service), span,
                        bool(service) or actor.kind in ("ministry", "service")))
        for token in sent:
            if token.i in taken or not token.is_title or len(token) < 5 or token.ent_type_:
                continue
            hit = process.extractOne(token.text, self.state_names, scorer=fuzz.ratio,
                                     score_cutoff=self.lex.state_name_cutoff)
            if hit is None or hit[0] == token.text:
                continue
            polity = registry().try_resolve(hit[0], year)
            if polity is None:
                continue
            span = sent.doc[token.i:token.i + 1]
            notes.append(f"fuzzy: {token.text!r} read as {hit[0]!r}")
            out.append((CodedParticipant(polity.id, registry().display_name(polity.id, year), polity.kind, "",
                                         self._evidence(span, where)), span, False))
        return out, notes

    def _venue_word(self, span: Span) -> str:
        return _venue_word(span, self.lex.venue_nouns)

    def _is_venue(self, span: Span) -> bool:
        return _is_venue(span, self.lex.venue_nouns)

    def _names_people(self, ent: Span) -> bool:
        """True when a demonym names a group of people rather than their state ("ethnic Albanian guerrillas")."""
        doc = ent.doc
        return (ent.start > 0 and doc[ent.start - 1].lower_ in self.lex.demonym_people_before) or (
            ent.end < len(doc) and doc[ent.end].lower_ in self.lex.demonym_people_after)

    def _in_place_name(self, ent: Span) -> bool:
        """True when the name is part of a sea's or a strait's ("South China Sea", "Sea of Japan"): a place, no
        party."""
        doc, places = ent.doc, self.lex.place_words
        return (ent.end < len(doc) and doc[ent.end].text in places) or (
            ent.start >= 2 and doc[ent.start - 1].lower_ == "of" and doc[ent.start - 2].text in places)

    def _service(self, ent: Span, actor: ActorName) -> tuple[Span, str]:
        """The actor's span grown over a following service or ministry phrase, and the branch it names."""
        doc = ent.doc
        i = ent.end
        if i < len(doc) and doc[i].text in ("'s", "\u2019s"):
            i += 1
        if i >= len(doc) or doc[i].lower_ not in self.service_starts:
            return ent, actor.service
        for words, branch in self.lex.services:
            stop = i + len(words)
            if stop <= len(doc) and tuple(t.lower_ for t in doc[i:stop]) == words:
                return doc[ent.start:stop], branch
        return ent, actor.service

    def _exercise_name(self, sent: Span) -> tuple[str, Span | None]:
        """A stated exercise name: a known one (or a misspelling of one), or 'Exercise X Y' in title case."""
        for _, start, end in self.exercise_matcher(sent):  # doc offsets, unlike the token Matcher's
            span = sent.doc[start:end]
            return self.exercise_lower[span.text.lower()], span
        for token in sent:
            if token.lemma_ in ("exercise", "drill") and token.i > sent.start and sent.doc[token.i - 1].is_title \
                    and not sent.doc[token.i - 1].ent_type_ and token.i - 1 > sent.start:
                first = token.i - 1
                while first - 1 > sent.start and sent.doc[first - 1].is_title and not sent.doc[first - 1].ent_type_:
                    first -= 1
                span = sent.doc[first:token.i]
                return self._known_or_own(span.text), span
            if token.lower_ == "exercise" and token.i + 1 < sent.end and sent.doc[token.i + 1].is_title:
                stop = token.i + 1
                while stop < sent.end and (sent.doc[stop].is_title or sent.doc[stop].like_num) and \
                        not sent.doc[stop].ent_type_:
                    stop += 1
                if stop > token.i + 1:
                    span = sent.doc[token.i + 1:stop]
                    return self._known_or_own(span.text), span
        for token in sent:
            if token.is_title and not token.ent_type_ and len(token) >= 5:
                known = self._fuzzy_exercise(token.text)
                if known:
                    return known, sent.doc[token.i:token.i + 1]
        return "", None

    def _fuzzy_exercise(self, text: str) -> str:
        """The known exercise name ``text`` misspells (rapidfuzz ratio over the cut-off), or ''."""
        hit = process.extractOne(text.lower(), list(self.exercise_lower), scorer=fuzz.ratio,
                                 score_cutoff=self.lex.exercise_name_cutoff)
        return self.exercise_lower[hit[0]] if hit is not None else ""

    def _known_or_own(self, text: str) -> str:
        return self._fuzzy_exercise(text) or text

    # --------------------------------------------------------------------- roles
    def _roles(self, trig: Trigger, trigger: Span, actors: list[tuple[CodedParticipant, Span, bool]],
               sent: Span, asides: list[tuple[int, int]] | None = None) -> list[CodedParticipant]:
        """Each actor once, in the role the rule and the actor's place around the trigger give it; actors in an
        aside that does not hold the trigger stand beside the event and are left out."""
        out: dict[str, CodedParticipant] = {}
        venues: dict[str, CodedParticipant] = {}
        sources: dict[str, CodedParticipant] = {}
        said_from, said_to = _attribution(sent)
        speaker_to = _speaker(sent, trigger)
        beside = [(a, b) for a, b in asides or [] if not a <= trigger.start < b]
        for participant, span, _ in actors:
            if participant.id in out:
                continue
            if _inside(span.start, span.end, beside):
                continue
            if said_from <= span.start < said_to:
                sources.setdefault(participant.id, _with_role(participant, "participant"))
                continue
            if span.end <= speaker_to:
                sources.setdefault(participant.id, _with_role(participant, _role(
                    trig, participant, span, trigger, span.end <= trigger.start, sent)))
                continue
            if self._is_venue(span) and trig.activity != "attaches" and trig.direction not in HOSTED_AT_VENUE:
                if self._venue_word(span) in HOSTING_WORDS:  # "trained in Mongolia" may host; "drills near Taiwan" not
                    venues.setdefault(participant.id, _with_role(participant, "host"))
                continue
            role = _role(trig, participant, span, trigger, span.end <= trigger.start, sent)
            out[participant.id] = _with_role(participant, role)
        # a lone party's venue is its partner ("Indian troops trained in Mongolia"), failing that its source
        # ("a Canadian frigate arrived for a goodwill visit, the Korean navy said")
        for spare in (venues, sources):
            if len(out) < 2:
                for pid, p in spare.items():
                    out.setdefault(pid, p)
        if trig.activity == "attaches":
            roles = {p.role for p in out.values()}
            if "sender" not in roles and out:  # no actor beside the attaché: the first named sends him
                first = next(iter(out))
                out[first] = _with_role(out[first], "sender")
        return list(out.values())


def _with_role(p: CodedParticipant, role: str) -> CodedParticipant:
    return CodedParticipant(p.id, p.name, p.kind, role, p.evidence, p.service)


TAKING = {"buy", "purchase", "acquire", "order", "receive", "take"}
VENUE_WORDS = {"in", "at", "near", "off", "over", "around", "outside", "inside", "on", "against", "about"}
"""Words before a state that make it the place or the subject of the event ("in Singapore", "talks on Cyprus",
"drills aimed against Iran"), not a party to it."""
DESTINATION_WORDS = {"to", "into"}
HOSTED_AT_VENUE = {"visit", "hosted", "deploy"}
"""Rule directions whose venue is the host (a visit to a capital); elsewhere a venue is no participant."""


SAYING = {"said", "says", "say", "told", "added", "reported", "announced", "stated", "confirmed", "noted"}


def _attribution(sent: Span) -> tuple[int, int]:
    """The token range of the sentence that only names who reports it ("..., U.N. officials said."; "according
    to the Pentagon"): actors there are sources of the news, not parties to the event. (0, 0) when none."""
    doc = sent.doc
    for token in sent:
        if token.lower_ == "according" and token.i + 1 < sent.end and doc[token.i + 1].lower_ == "to":
            stop = next((t.i for t in doc[token.i + 2:sent.end] if t.text in (",", ";")), sent.end)
            return token.i, stop
    last = sent.end - 1
    while last > sent.start and doc[last].is_punct:
        last -= 1
    comma = next((t.i for t in reversed(doc[sent.start:last]) if t.text == ","), None)
    if comma is not None and any(t.lower_ in SAYING for t in doc[comma + 1:last + 1]) and last - comma <= 8:
        return comma, sent.end
    return 0, 0


SPEAKING = {"said", "says", "say", "told", "tells", "stated", "claimed", "claims", "alleged", "accused", "accuses",
            "condemned", "condemns", "criticised", "criticized", "criticises", "criticizes", "denounced",
            "denounces", "protested", "protests", "warned", "warns", "demanded", "demands", "urged", "urges", "asked",
            "asks"}


def _speaker(sent: Span, trigger: Span) -> int:
    """The token where a leading speaker's part ends ("Hungary said ...", "China condemned ...", "China demanded
    that ..."): actors before a verb of saying, blaming or demanding that comes before the trigger report, judge or
    ask for the event and take part only when it names no two parties of its own. The sentence's start when there
    is none."""
    doc = sent.doc
    verb = next((t.i for t in doc[sent.start:trigger.start] if t.lower_ in SPEAKING and not (
        t.lower_ in ADDRESSING and any(a.ent_type_ for a in doc[t.i + 1:min(t.i + 4, sent.end)]))), None)
    return verb if verb is not None else sent.start


ADDRESSING = {"told", "tells"}
"""Verbs of saying with an addressee: one who tells a state's official something ("told his Singaporean
counterpart") speaks with a party, not about the event."""


HOSTING_WORDS = {"in", "at"}
"""Venue words whose place may be a lone party's host: inside a state, not near, off or against it."""


def _venue_word(span: Span, venue_nouns: frozenset[str] = frozenset()) -> str:
    """The venue word before the actor ("in Singapore", "in northern Syria": 'in'; "off the coast of Uruguay":
    'off', a venue noun and 'of' between), or '' when there is none."""
    doc = span.doc
    i = span.start - 1
    if i >= 1 and doc[i].lower_ == "of" and doc[i - 1].lower_ in venue_nouns:
        i -= 2  # "off the coast of", "in the waters of"
        while i >= 0 and doc[i].is_lower and doc[i].is_alpha and doc[i].lower_ not in VENUE_WORDS \
                and i >= span.start - 6:
            i -= 1  # "the", "eastern": back to the venue word
    elif i >= 0 and doc[i].is_lower and doc[i].is_alpha and doc[i].lower_ not in VENUE_WORDS:
        i -= 1  # one adjective between: "in northern Syria"
    return doc[i].lower_ if i >= 0 and doc[i].lower_ in VENUE_WORDS else ""


def _is_venue(span: Span, venue_nouns: frozenset[str] = frozenset()) -> bool:
    """True when the actor is a place the sentence puts something in, or its subject ("talks on Cyprus")."""
    return bool(_venue_word(span, venue_nouns))


def _inside(start: int, end: int, ranges: list[tuple[int, int]]) -> bool:
    """True when the token range [start, end) lies within one of ``ranges``."""
    return any(a <= start and end <= b for a, b in ranges)


def _role(trig: Trigger, participant: CodedParticipant, span: Span, trigger: Span, before: bool,
          sent: Span) -> str:
    """The role of one actor: by the activity, the rule's direction and where the actor stands."""
    if participant.kind == "organisation":
        return ORGANISATION_ROLE.get(trig.activity, "organiser")
    if trig.activity == "attaches":
        gap = trigger.start - span.end  # 0: "Russian military attaché"; 1: "Russia's defence attaché"
        near = (span.start <= trigger.start and (gap <= 0 or (gap == 1 and sent.doc[span.end].text in
                                                             ("'s", "\u2019s")))) or (
            span.start - trigger.end in (1, 2) and sent.doc[trigger.end].lower_ in ("of", "from"))
        return "sender" if near else "receiver"
    if trig.activity == "agreements" and trig.instrument == "equipment_transfer":
        doc = sent.doc  # the taking verb opens the trigger ("bought ... jets") or stands just before it
        taking = any(t.lemma_ in TAKING for t in doc[max(sent.start, trigger.start - 3):trigger.start + 1])
        return ("recipient" if taking else "supplier") if before else ("supplier" if taking else "recipient")
    if trig.activity == "agreements":
        return "signatory"
    if trig.direction == "visit":
        if _is_venue(span):  # "arrived in Pyongyang for a visit": the place visited hosts
            return "host"
        if trigger[0].lower_ == "visiting" and trigger.start > 0 and sent.doc[trigger.start - 1].lower_ in (
                "the", "a", "his", "her", "their"):  # "received the visiting Indian army chief"
            return "host" if before else "sender"
        return "sender" if before else "host"
    if trig.direction == "hosted":
        return "host" if before else "sender"
    if trig.direction == "deploy":  # troops are sent to or deployed in their host
        previous = sent.doc[span.start - 1].lower_ if span.start > 0 else ""
        return "host" if not before and (_is_venue(span) or previous in DESTINATION_WORDS) else "contributor"
    after = sent.doc[span.end].lemma_ if span.end < len(sent.doc) else ""
    previous = sent.doc[span.start - 1].lower_ if span.start > 0 else ""
    if after == "host" or (previous == "by" and span.start >= 2 and sent.doc[span.start - 2].lemma_ == "host"):
        return "host"
    return "participant"


ATTACHE_EVENTS = (("expulsion", {"expel", "persona", "expulsion", "oust"}),
                  ("recall", {"recall", "withdraw"}),
                  ("appointment", {"appoint", "name", "post", "nominate", "appointment"}),
                  ("accreditation", {"accredit", "accreditation", "credentials"}),
                  ("arrival", {"arrive", "arrival", "assume"}))


def _attache_event(sent: Span) -> str:
    """What happened to the attaché: expulsion, recall, accreditation, appointment, arrival (or unstated)."""
    lemmas = {t.lemma_.lower() for t in sent}
    for event, words in ATTACHE_EVENTS:
        if lemmas & words:
            return event
    return ""


@lru_cache(maxsize=1)
def coder() -> Coder:
    """The shared coder (building the pipeline takes about a second; reuse it)."""
    return Coder()


def code_documents(documents: Iterable[Document]) -> CodingResult:
    """Code documents with the bundled rules: the Python twin of ``defdip code``."""
    return coder().code(documents)
