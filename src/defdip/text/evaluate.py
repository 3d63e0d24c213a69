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
* **Uncertainty**: every score comes with the number of gold and predicted items behind it and a 95% interval
  from a percentile bootstrap over sentences: the gold items are drawn with replacement, as many as there are,
  1,000 times with a fixed seed, each draw's counts summed and its precision, recall and F1 computed; the
  interval runs from the 2.5th to the 97.5th percentile of the draws in which the measure is defined (a draw
  with no prediction has no precision). Sentences, not items of one sentence, are the unit drawn, since one
  sentence's activities and pairs stand or fall together. A score without a defined value has no interval; a
  score on a handful of items has a wide one, which is the point.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from defdip.core.actors import UnknownPolityError, registry
from defdip.core.codebook import codebook
from defdip.core.errors import DefdipError
from defdip.text.gold import EVENT_STATUSES, STATUSES, GoldItem, load_gold

__all__ = ["BOOTSTRAP_RESAMPLES", "BOOTSTRAP_SEED", "CONFIDENCE", "Counts", "GoldItem", "Interval", "Prediction",
           "Scores", "bootstrap_intervals", "load_gold", "score"]

BOOTSTRAP_RESAMPLES = 1000
"""Bootstrap draws behind each interval."""

BOOTSTRAP_SEED = 20240613
"""Seed of the bootstrap's generator, so that one gold file and one coder always print the same intervals."""

CONFIDENCE = 0.95
"""Coverage of the intervals."""

MEASURES = ("precision", "recall", "f1")

Interval = tuple[float, float]
"""Lower and upper bound of a measure's interval."""


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

    @property
    def gold(self) -> int:
        """Gold events counted in this scope (the denominator of recall)."""
        return self.tp + self.fn

    @property
    def predicted(self) -> int:
        """Predicted events counted in this scope (the denominator of precision)."""
        return self.tp + self.fp

    def as_dict(self, intervals: dict[str, Interval | None] | None = None) -> dict[str, Any]:
        """Counts and measures for JSON (None where a measure is undefined), with each measure's interval as
        ``[low, high]`` under ``<measure>_ci`` when ``intervals`` are given."""
        out: dict[str, Any] = {"gold": self.gold, "predicted": self.predicted, "tp": self.tp, "fp": self.fp,
                               "fn": self.fn, "precision": self.precision, "recall": self.recall, "f1": self.f1}
        if intervals is not None:
            for measure in MEASURES:
                bounds = intervals.get(measure)
                out[f"{measure}_ci"] = list(bounds) if bounds is not None else None
        return out


def _measures(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and F1 of arrays of counts, NaN where a measure is undefined."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return {"precision": np.where(tp + fp > 0, tp / (tp + fp), np.nan),
                "recall": np.where(tp + fn > 0, tp / (tp + fn), np.nan),
                "f1": np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)}


def bootstrap_intervals(counts: np.ndarray, *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED,
                        confidence: float = CONFIDENCE) -> list[dict[str, Interval | None]]:
    """Percentile-bootstrap intervals of precision, recall and F1 for several scopes at once.

    ``counts`` has one row per sentence, one column per scope and the sentence's (tp, fp, fn) along the last
    axis. Sentences are drawn with replacement, ``resamples`` times; a draw's counts are the sums over the
    sentences drawn (each sentence weighted by how often it was drawn). Returns, per scope, each measure's
    (low, high), None where the measure is undefined in every draw.
    """
    n_items, n_scopes, _ = counts.shape
    empty: list[dict[str, Interval | None]] = [dict.fromkeys(MEASURES) for _ in range(n_scopes)]
    if n_items == 0 or n_scopes == 0:
        return empty
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, n_items, size=(resamples, n_items))
    offsets = (np.arange(resamples) * n_items)[:, None]
    weights = np.bincount((drawn + offsets).ravel(), minlength=resamples * n_items).reshape(resamples, n_items)
    totals = np.einsum("bi,isk->bsk", weights.astype(np.float64), counts.astype(np.float64))
    values = _measures(totals[..., 0], totals[..., 1], totals[..., 2])
    tail = 100 * (1 - confidence) / 2
    out = empty
    for measure, draws in values.items():  # draws: resamples x scopes
        for scope in range(n_scopes):
            defined = draws[:, scope][~np.isnan(draws[:, scope])]
            if defined.size:
                low, high = np.percentile(defined, [tail, 100 - tail])
                out[scope][measure] = (float(low), float(high))
    return out


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
    # per sentence, the scopes it counts in: scope -> (tp, fp, fn); the bootstrap draws these
    per_item: list[dict[str, tuple[int, int, int]]] = field(default_factory=list, repr=False)

    @property
    def status_accuracy(self) -> float | None:
        """Share of items with a gold status other than none whose predicted status matches; None if no such item."""
        return self.status_correct / self.status_total if self.status_total else None

    def scopes(self) -> list[tuple[str, Counts]]:
        """Every scope in print order: the activities, then ``all`` (micro) and ``pairs``."""
        return [*self.activities.items(), ("all", self.overall), ("pairs", self.pairs)]

    @cached_property
    def intervals(self) -> dict[str, dict[str, Interval | None]]:
        """Scope -> measure -> its bootstrap interval (see the module docstring); None where undefined.

        Computed once, from the per-sentence counts that :func:`score` keeps."""
        names = [name for name, _ in self.scopes()]
        column = {name: index for index, name in enumerate(names)}
        counts = np.zeros((len(self.per_item), len(names), 3), dtype=np.int64)
        for row, item_counts in enumerate(self.per_item):
            for name, values in item_counts.items():
                counts[row, column[name]] = values
        found = bootstrap_intervals(counts)
        out = {}
        for name, (_, scope_counts), bounds in zip(names, self.scopes(), found):
            # an undefined point estimate has no interval, whatever a draw might give
            out[name] = {m: bounds[m] if getattr(scope_counts, m) is not None else None for m in MEASURES}
        return out

    def table(self) -> pd.DataFrame:
        """One row per activity, then ``all`` (micro) and ``pairs``: the gold and predicted events behind each
        score, true positives, precision, recall and F1 (NaN where undefined), each followed by its 95% interval
        written ``low-high`` (empty where undefined)."""
        rows = []
        for name, counts in self.scopes():
            row: dict[str, Any] = {"scope": name, "gold": counts.gold, "predicted": counts.predicted,
                                   "tp": counts.tp}
            for measure in MEASURES:
                row[measure] = getattr(counts, measure)
                bounds = self.intervals[name][measure]
                row[f"{measure} 95%"] = f"{_short(bounds[0])}-{_short(bounds[1])}" if bounds is not None else ""
            rows.append(row)
        frame = pd.DataFrame(rows).set_index("scope")
        for column in MEASURES:
            frame[column] = frame[column].astype(float)
        return frame

    def as_dict(self) -> dict[str, Any]:
        """Everything for JSON output, intervals as ``<measure>_ci: [low, high]`` and how they were drawn."""
        intervals = self.intervals
        return {
            "items": self.items,
            "activities": {name: counts.as_dict(intervals[name]) for name, counts in self.activities.items()},
            "all": self.overall.as_dict(intervals["all"]),
            "pairs": self.pairs.as_dict(intervals["pairs"]),
            "status": {"accuracy": self.status_accuracy, "correct": self.status_correct, "total": self.status_total,
                       "confusion": [{"gold": g, "predicted": p, "items": n}
                                     for (g, p), n in sorted(self.status_confusion.items())]},
            "intervals": {"method": "percentile bootstrap over sentences", "confidence": CONFIDENCE,
                          "resamples": BOOTSTRAP_RESAMPLES, "seed": BOOTSTRAP_SEED},
        }


def _short(value: float) -> str:
    """A bound as the table prints it: two decimals, trailing zeros dropped (1, 0.9, 0.87)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


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
        item_counts: dict[str, tuple[int, int, int]] = {}
        for activity, counts in per_activity.items():
            in_gold, in_predicted = activity in gold_activities, activity in predicted_activities
            counts.add({activity} & gold_activities, {activity} & predicted_activities)
            if in_gold or in_predicted:
                item_counts[activity] = (int(in_gold and in_predicted), int(in_predicted and not in_gold),
                                         int(in_gold and not in_predicted))
        if item_counts:
            item_counts["all"] = (sum(c[0] for c in item_counts.values()), sum(c[1] for c in item_counts.values()),
                                  sum(c[2] for c in item_counts.values()))
        gold_pairs = {frozenset(_canonical(m) for m in p) for p in item.pairs} if gold_is_event else set()
        predicted_pairs = {frozenset(_canonical(m) for m in p.pair) for p in events if p.pair is not None}
        pairs.add(gold_pairs, predicted_pairs)
        if gold_pairs or predicted_pairs:
            item_counts["pairs"] = (len(gold_pairs & predicted_pairs), len(predicted_pairs - gold_pairs),
                                    len(gold_pairs - predicted_pairs))
        result.per_item.append(item_counts)
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

