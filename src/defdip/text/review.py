"""The review file: candidates as user records (YAML) that ``defdip build --records`` accepts, or as CSV.

Only occurred and intended candidates with a participant and a date become records; each keeps its evidence,
confidence and rule under ``attributes.coded`` and cites its document through a BibTeX entry written beside the
YAML (``FILE.bib``), so every coded number in the store traces back to its sentence. Negated, hypothetical and
cancelled candidates, and sentences a rule fired in but that could not be coded, are listed in a comment block
at the end of the YAML for the reviewer to see; they never enter the store.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from defdip.core.codebook import codebook
from defdip.core.dates import present_year
from defdip.core.errors import DefdipError
from defdip.text.coder import Candidate, CodingResult, Evidence
from defdip.text.documents import Document

__all__ = ["bib_key", "candidate_rows", "record_of", "review_yaml", "split_candidates", "write_review",
           "REVIEW_SUFFIXES"]

REVIEW_SUFFIXES = (".yaml", ".yml", ".csv")
CSV_COLUMNS = ["document", "sentence_index", "start", "end", "status", "record", "activity", "instrument",
               "sub_activities", "participants", "name", "year", "month", "day", "precision", "confidence", "rule",
               "status_rule", "reason", "sentence"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "doc"


def bib_key(document_id: str) -> str:
    """The citation key of a document: ``doc_`` and its id made safe for BibTeX."""
    return "doc_" + _slug(document_id).replace("-", "_")


def _why_not_record(cand: Candidate) -> str:
    """Why a candidate cannot become a record ('' when it can)."""
    if not cand.is_event:
        return f"{cand.status}: not an event"
    if cand.date is None:
        return "no date: give the document a date (--date or a date column) to make it a record"
    if cand.date.year > present_year():
        return f"dated {cand.date.year}, after the present year: a plan, not yet a record"
    return ""


def split_candidates(result: CodingResult) -> tuple[list[Candidate], list[tuple[Candidate, str]]]:
    """(candidates that become records, [(candidate, why not)] for the rest)."""
    keep, flagged = [], []
    for cand in result.candidates:
        why = _why_not_record(cand)
        if why:
            flagged.append((cand, why))
        else:
            keep.append(cand)
    return keep, flagged


def _ev(ev: Evidence | None) -> dict[str, Any] | None:
    return ev.as_dict() if ev is not None else None


def record_of(cand: Candidate, record_id: str) -> dict[str, Any]:
    """One candidate as a user record in the genealogy's format (every field the loader accepts)."""
    if cand.date is None:
        raise DefdipError(f"{cand.document}, sentence {cand.sentence_index}: an undated candidate is no record")
    label = codebook().entry(cand.instrument)["label"]
    names = ", ".join(p.name for p in cand.participants)
    title = f"{cand.name}: {names}" if cand.name else f"{label}: {names}"
    record: dict[str, Any] = {
        "id": record_id, "title": title, "summary": cand.sentence, "activity": cand.activity,
        "sub_activities": list(cand.sub_activities), "instrument": cand.instrument, "start_year": cand.date.year}
    if cand.date.month is not None:
        record["start_month"] = cand.date.month
    if cand.date.day is not None:
        record["start_day"] = cand.date.day
    record["precision"] = cand.date.precision
    record["participants"] = [
        {"id": p.id, "role": p.role, "attributes": {"evidence": p.evidence.as_dict(),
                                                    **({"service": p.service} if p.service else {})}}
        for p in cand.participants]
    coded: dict[str, Any] = {
        "document": cand.document, "status": cand.status, "rule": cand.rule, "confidence": cand.confidence,
        "sentence_index": cand.sentence_index, "sentence": cand.sentence,
        "evidence": {"activity": _ev(cand.evidence), "status": _ev(cand.status_evidence),
                     "date": _ev(cand.date.evidence), "name": _ev(cand.name_evidence)},
        "date_from": cand.date.origin}
    if cand.status_rule:
        coded["status_rule"] = cand.status_rule
    if cand.name:
        coded["name"] = cand.name
    if cand.attache_event:
        coded["attache_event"] = cand.attache_event
    if cand.notes:
        coded["notes"] = list(cand.notes)
    record["attributes"] = {"coded": coded}
    record["sources"] = [bib_key(cand.document)]
    return record


def _bibtex(documents: Iterable[Document], keys: set[str]) -> str:
    """One @misc entry per cited document: title, date, URL and the source it was read from."""
    out = []
    for doc in documents:
        key = bib_key(doc.id)
        if key not in keys:
            continue
        keys.discard(key)
        fields = {"title": doc.title or doc.id, "howpublished": doc.source,
                  "note": "coded by defdip code; the record's attributes.coded holds the sentence"}
        if doc.date is not None:
            fields["year"] = str(doc.date.year)
            fields["date"] = doc.date.isoformat()
        if doc.url:
            fields["url"] = doc.url
        body = ",\n".join(f"  {k} = {{{re.sub(r'[{}]', '', v)}}}" for k, v in fields.items())
        out.append(f"@misc{{{key},\n{body}\n}}\n")
    return "\n".join(out)


def _comment(text: str) -> str:
    return "# " + " ".join(str(text).split())


def review_yaml(result: CodingResult) -> tuple[str, str]:
    """(YAML of the records with the flagged and uncoded listed in comments, BibTeX of the cited documents)."""
    keep, flagged = split_candidates(result)
    records, used = [], set()
    for cand in keep:
        rid = f"text-{_slug(cand.document)}-s{cand.sentence_index}-{cand.activity}"
        n = 2
        base = rid
        while rid in used:
            rid, n = f"{base}-{n}", n + 1
        used.add(rid)
        records.append(record_of(cand, rid))
    head = ["# defdip code: candidate engagements for review. Edit or delete records, then:",
            "#   defdip build --records THIS_FILE", "# Evidence, confidence and the rule that fired are under "
            "attributes.coded; the documents are cited in the .bib beside this file."]
    body = yaml.safe_dump(records, sort_keys=False, allow_unicode=True, width=110) if records else ""
    tail = []
    if flagged:
        tail.append("# --- not coded as events (never stored): status or reason, rule, document/sentence ---")
        for cand, why in flagged:
            parts = ", ".join(f"{p.id}:{p.role}" for p in cand.participants)
            tail.append(_comment(f"[{why}] {cand.activity} ({parts}) rule {cand.rule} {cand.status_rule}; "
                                 f"{cand.document} sentence {cand.sentence_index}: {cand.sentence}"))
    if result.uncoded:
        tail.append("# --- sentences a rule fired in but not coded ---")
        for un in result.uncoded:
            tail.append(_comment(f"[{un.reason}] rule {un.rule}; {un.document} sentence {un.sentence_index} "
                                 f"(chars {un.start}-{un.end}): {un.text[:300]}"))
    if not records:
        tail.append("# no candidate became a record; the file holds none, so build --records would refuse it")
    text = "\n".join(head) + "\n" + body + ("\n".join(tail) + "\n" if tail else "")
    return text, _bibtex(result.documents, {bib_key(c.document) for c in keep})


def candidate_rows(result: CodingResult) -> list[dict[str, Any]]:
    """Every candidate and uncoded sentence as a flat row (the CSV review file and the stdout table)."""
    rows: list[dict[str, Any]] = []
    reasons = {id(c): why for c, why in split_candidates(result)[1]}
    for cand in result.candidates:
        d = cand.date
        rows.append({
            "document": cand.document, "sentence_index": cand.sentence_index, "start": cand.evidence.start,
            "end": cand.evidence.end, "status": cand.status, "record": id(cand) not in reasons,
            "activity": cand.activity, "instrument": cand.instrument, "sub_activities": ";".join(cand.sub_activities),
            "participants": ";".join(f"{p.id}:{p.role}" for p in cand.participants), "name": cand.name,
            "year": d.year if d else None, "month": d.month if d else None, "day": d.day if d else None,
            "precision": d.precision if d else "", "confidence": cand.confidence, "rule": cand.rule,
            "status_rule": cand.status_rule, "reason": reasons.get(id(cand), ""), "sentence": cand.sentence})
    for un in result.uncoded:
        rows.append({"document": un.document, "sentence_index": un.sentence_index, "start": un.start, "end": un.end,
                     "status": "uncoded", "record": False, "rule": un.rule, "reason": un.reason,
                     "sentence": un.text})
    return rows


def write_review(result: CodingResult, path: str | Path) -> list[Path]:
    """Write the review file (``.yaml``/``.yml`` with a ``.bib`` beside it, or ``.csv``); returns the paths."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in REVIEW_SUFFIXES:
        raise DefdipError(f"-o {path}: the review file must end in {', '.join(REVIEW_SUFFIXES)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(candidate_rows(result))
        path.write_text(out.getvalue(), encoding="utf-8")
        return [path]
    text, bib = review_yaml(result)
    path.write_text(text, encoding="utf-8")
    bib_path = path.with_suffix(".bib")
    bib_path.write_text(bib, encoding="utf-8")
    return [path, bib_path]

