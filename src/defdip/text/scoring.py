"""The coder measured on gold sentences: its candidates turned into the scorer's predictions.

The scorer and the gold sets are :mod:`defdip.text.evaluate` and :mod:`defdip.text.gold`; this module only says
how a candidate reads as a prediction, so ``defdip code --evaluate`` and the tests score one thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from defdip.core.errors import DefdipError
from defdip.text.coder import Candidate, Coder, coder
from defdip.text.documents import Document
from defdip.text.evaluate import GoldItem, Prediction, Scores, load_gold, score

__all__ = ["evaluate", "predict", "predictions"]


def predictions(candidates: Sequence[Candidate]) -> list[Prediction]:
    """One prediction per unordered pair of distinct participants (states or organisations) in each candidate,
    or one without a pair; the gold sets pair organisations too (NATO and Sweden in BALTOPS)."""
    out = []
    for cand in candidates:
        pairs = cand.pairs()
        out += [Prediction(cand.activity, pair, cand.status) for pair in pairs] or [
            Prediction(cand.activity, None, cand.status)]
    return out


def predict(item: GoldItem, engine: Coder | None = None) -> list[Prediction]:
    """The coder's predictions for one gold sentence, read with the item's date as the document date."""
    result = (engine or coder()).code([Document(item.id, item.text, item.date)])
    return predictions(result.candidates)


def evaluate(path: str | Path, *, corpus: str | None = None, split: str | None = None) -> Scores:
    """Scores of the bundled coder on a gold file (defdip JSONL or the PLOVER records), optionally one corpus
    or split of it."""
    items = load_gold(path)
    if corpus is not None:
        items = [i for i in items if i.corpus == corpus]
    if split is not None:
        items = [i for i in items if i.split == split]
    if not items:
        raise DefdipError(f"{path}: no gold items" + (f" in corpus {corpus!r}" if corpus else "")
                          + (f" in split {split!r}" if split else ""))
    engine = coder()
    return score(items, lambda item: predict(item, engine))
