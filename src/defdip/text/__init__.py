"""Coding defence diplomacy from text: documents, rules, review files and their evaluation.

``read_documents`` reads files, folders or stdin; ``code_documents`` runs the rule-based coder; ``write_review``
writes the candidates as user records (YAML + BibTeX) or CSV. ``defdip.text.scoring.evaluate`` measures the coder
on gold sentences. The modules are imported on first use, so the gold sets and the scorer load without spaCy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["code_documents", "read_documents", "write_review"]

_HOMES = {"code_documents": "defdip.text.coder", "read_documents": "defdip.text.documents",
          "write_review": "defdip.text.review"}


def __getattr__(name: str) -> Any:
    """``defdip.text.code_documents`` and friends, imported from their modules when first asked for."""
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'defdip.text' has no attribute {name!r}")
