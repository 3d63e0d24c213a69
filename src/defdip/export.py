"""Exports of engagements in the formats researchers' tools read, with citations beside them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from defdip import store as store_mod
from defdip.citations import bibtex_for_store
from defdip.codebook import codebook
from defdip.errors import DefdipError

FORMATS = ("csv", "parquet", "json")


def engagements_frame(store: str | Path | None = None, source: str | None = None,
                      activity: str | None = None) -> pd.DataFrame:
    """One row per engagement; ``source`` keeps every engagement with a provenance from it."""
    if activity and activity not in codebook().activity_ids + codebook().sub_activity_ids:
        raise DefdipError(f"unknown activity {activity!r}; expected one of "
                          f"{', '.join(codebook().activity_ids + codebook().sub_activity_ids)}")
    con = store_mod.connect(store)
    try:
        if source:
            known = [r[0] for r in con.execute("SELECT DISTINCT source FROM provenance").fetchall()]
            if source not in known:
                raise DefdipError(f"no engagements from source {source!r} in the store; present: {', '.join(sorted(known))}")
        frame = con.execute(
            """
            WITH parts AS (
              SELECT engagement_id,
                     list(struct_pack(id := polity_id, name := name, role := role) ORDER BY polity_id, role) AS participants
              FROM participants GROUP BY engagement_id)
            SELECT e.id, array_to_string(e.datasets, ';') AS source, e.activity, e.sub_activities, e.instrument,
                   e.title, e.start_year, e.start_month, e.start_day, e.end_year, e.end_month, e.end_day,
                   e.precision, e.circa, e.ongoing, parts.participants,
                   (SELECT list(record_id) FROM provenance p WHERE p.engagement_id = e.id) AS source_record_ids,
                   e.citations, e.attributes
            FROM engagements e JOIN parts ON parts.engagement_id = e.id
            WHERE ($source IS NULL OR list_contains(e.datasets, $source))
              AND ($activity IS NULL OR e.activity = $activity OR list_contains(e.sub_activities, $activity))
            ORDER BY e.start_year, e.id
            """, {"source": source, "activity": activity}).df()
    finally:
        con.close()
    return frame


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists and structs as plain strings, for CSV."""
    out = frame.copy()
    out["participants"] = out["participants"].map(
        lambda ps: "; ".join(f"{p['id']}:{p['role']}" for p in ps))
    for col in ("sub_activities", "source_record_ids", "citations"):
        out[col] = out[col].map(lambda xs: ";".join(map(str, xs)) if xs is not None else "")
    return out


def export_engagements(output: str | Path, fmt: str | None = None, store: str | Path | None = None,
                       source: str | None = None, activity: str | None = None) -> tuple[Path, Path, int]:
    """Write engagements to ``output`` and ``CITATION.bib`` beside it; returns paths and row count."""
    output = Path(output)
    fmt = fmt or output.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise DefdipError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    frame = engagements_frame(store, source, activity)
    if frame.empty:
        raise DefdipError("the selection is empty: nothing to export")
    output.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        _flat(frame).to_csv(output, index=False)
    elif fmt == "parquet":
        frame.to_parquet(output, index=False)
    else:
        records = frame.assign(attributes=frame["attributes"].map(json.loads)).to_dict(orient="records")
        output.write_text(json.dumps(records, indent=1, ensure_ascii=False, default=_plain), encoding="utf-8")
    bib = output.parent / "CITATION.bib"
    datasets = sorted({d for ds in frame["source"] for d in ds.split(";")})
    keys = sorted({k for ks in frame["citations"] for k in ks})
    bib.write_text(bibtex_for_store(datasets, keys, store), encoding="utf-8")
    return output, bib, len(frame)


def _plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if pd.isna(value):
        return None
    return str(value)
