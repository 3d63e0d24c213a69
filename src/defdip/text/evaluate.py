"""Scoring a text coder against gold sentences: precision, recall and F1 per activity and for participant pairs.

The rules, so that a printed score means one thing:

* A gold item's **events** are its activities and pairs when its status is ``occurred`` or ``intended``; a
  negated, hypothetical or cancelled sentence, and one with status ``none``, has no events.
* A **prediction** is an event only when its status is ``occurred`` or ``intended``; predictions marked
  negated, hypothetical or cancelled are the coder saying "no event here" and are never counted. So an
  occurred or intended prediction on a negated gold sentence is a false positive, and a negated prediction
  on an occurred gold sentence leaves the gold event a false negative.
* **Activity** scores count (item, activity) pairs: an activity predicted several times for one item counts
  once. The row ``all`` sums the counts over activities (micro-averaged).
* **Pair** scores count (item, unordered pair of registry polity ids), whatever activity the pair came with;
  polity ids are compared after the registry's own spelling (``NATO`` and ``nato`` are one id).
* **Status accuracy** is measured on items whose gold status is not ``none``: the coder's status for an item
  is the most frequent status among its predictions (the first seen wins a tie), ``none`` when it made none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from defdip.core.actors import UnknownPolityError, registry
from defdip.core.codebook import codebook
from defdip.core.errors import DefdipError
from defdip.text.gold import EVENT_STATUSES, STATUSES, GoldItem, load_gold

__all__ = ["Counts", "GoldItem", "Prediction", "Scores", "load_gold", "score"]


@dataclass(frozen=True)
class Prediction:
    """One engagement a coder found in a gold item's text: its activity, one participant pair and status."""

    activity: str
    pair: frozenset[str] | None
    status: str


@dataclass
class Counts:
    """True positives, false positives and false negatives, with the measures they give."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: set[Any], predicted: set[Any]) -> None:
        """Count one item's gold and predicted sets against each other."""
        self.tp += len(gold & predicted)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)

    @property
    def precision(self) -> float | None:
        """Share of predictions that are right; None when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """Share of gold events found; None when the gold has none."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall (2tp / (2tp + fp + fn)); None when all counts are zero."""
        total = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / total if total else None

    def as_dict(self) -> dict[str, Any]:
        """Counts and measures for JSON (None where a measure is undefined)."""
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "support": self.tp + self.fn,
                "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass
class Scores:
    """The result of :func:`score`: counts per activity, micro totals, pair counts and status accuracy."""

    activities: dict[str, Counts]
    overall: Counts
    pairs: Counts
    items: int
    status_correct: int = 0
    status_total: int = 0
    status_confusion: Counter[tuple[str, str]] = field(default_factory=Counter)  # (gold, predicted) -> items

    @property
    def status_accuracy(self) -> float | None:
        """Share of items with a gold status other than none whose predicted status matches; None if no such item."""
        return self.status_correct / self.status_total if self.status_total else None

    def table(self) -> pd.DataFrame:
        """One row per activity, then ``all`` (micro) and ``pairs``; undefined measures are NaN."""
        rows = [{"scope": name, **counts.as_dict()} for name, counts in
                [*self.activities.items(), ("all", self.overall), ("pairs", self.pairs)]]
        frame = pd.DataFrame(rows).set_index("scope")
        for column in ("precision", "recall", "f1"):
            frame[column] = frame[column].astype(float)
        return frame

    def as_dict(self) -> dict[str, Any]:
        """Everything for JSON output."""
        return {
            "items": self.items,
            "activities": {name: counts.as_dict() for name, counts in self.activities.items()},
            "all": self.overall.as_dict(),
            "pairs": self.pairs.as_dict(),
            "status": {"accuracy": self.status_accuracy, "correct": self.status_correct, "total": self.status_total,
                       "confusion": [{"gold": g, "predicted": p, "items": n}
                                     for (g, p), n in sorted(self.status_confusion.items())]},
        }


def _canonical(polity_id: str) -> str:
    try:
        return registry().get(polity_id).id
    except UnknownPolityError:
        return polity_id


def _item_status(predictions: Sequence[Prediction]) -> str:
    if not predictions:
        return "none"
    counts = Counter(p.status for p in predictions)
    best = max(counts.values())
    return next(p.status for p in predictions if counts[p.status] == best)


def score(gold: Sequence[GoldItem], predict: Callable[[GoldItem], Sequence[Prediction]]) -> Scores:
    """Run ``predict`` on every gold item and score its predictions by the rules in this module's docstring."""
    activity_ids = codebook().activity_ids
    per_activity = {a: Counts() for a in activity_ids}
    pairs = Counts()
    result = Scores(activities=per_activity, overall=Counts(), pairs=pairs, items=len(gold))
    seen_ids: set[str] = set()
    for item in gold:
        if item.id in seen_ids:
            raise DefdipError(f"gold: item id {item.id!r} appears twice")
        seen_ids.add(item.id)
        predictions = list(predict(item))
        for prediction in predictions:
            if prediction.status not in STATUSES:
                raise DefdipError(f"prediction for item {item.id!r}: status {prediction.status!r} is not one of "
                                  f"{', '.join(STATUSES)}")
            if prediction.pair is not None and len(prediction.pair) != 2:
                raise DefdipError(f"prediction for item {item.id!r}: a pair is two different polity ids, "
                                  f"got {sorted(prediction.pair)!r}")
        events = [p for p in predictions if p.status in EVENT_STATUSES]
        gold_is_event = item.status in EVENT_STATUSES
        gold_activities = set(item.activities) if gold_is_event else set()
        predicted_activities = {p.activity for p in events}
        for activity in predicted_activities - set(per_activity):  # an id outside the codebook is simply wrong
            per_activity[activity] = Counts()
        for activity, counts in per_activity.items():
            counts.add({activity} & gold_activities, {activity} & predicted_activities)
        gold_pairs = {frozenset(_canonical(m) for m in p) for p in item.pairs} if gold_is_event else set()
        predicted_pairs = {frozenset(_canonical(m) for m in p.pair) for p in events if p.pair is not None}
        pairs.add(gold_pairs, predicted_pairs)
        if item.status != "none":
            predicted_status = _item_status(predictions)
            result.status_total += 1
            result.status_correct += predicted_status == item.status
            result.status_confusion[(item.status, predicted_status)] += 1
    for counts in per_activity.values():
        result.overall.tp += counts.tp
        result.overall.fp += counts.fp
        result.overall.fn += counts.fn
    return result

