"""The store's record tables: engagements flattened into typed Arrow columns.

Flattening is the build's hot path (every engagement of every source passes through it), and
the flat form is also what a build worker hands back, since pickling pydantic models costs more
than loading them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from defdip.core.model import Engagement

ENGAGEMENT_COLUMNS = ("id", "title", "summary", "activity", "sub_activities", "instrument", "start_year",
                       "start_month", "start_day", "end_year", "end_month", "end_day", "precision", "circa", "ongoing",
                       "n_participants", "attributes", "datasets", "citations")
PARTICIPANT_COLUMNS = ("engagement_id", "polity_id", "name", "role", "ccode", "start_year", "end_year", "attributes")
PROVENANCE_COLUMNS = ("engagement_id", "source", "version", "record_id", "citations")


_Flat = tuple[dict[str, list[Any]], dict[str, list[Any]], dict[str, list[Any]], list[int]]
"""Engagements flattened to column lists: engagements, participants, provenance, and provenance rows per engagement."""


def _flatten(engagements: Iterable[Engagement]) -> _Flat:
    """Flatten engagements, in the order given, into column lists of plain values.

    One pass, column by column (building a frame from per-row dicts costs more than the flattening);
    attributes are JSON with sorted keys, anything JSON lacks written as its str(). Plain lists are
    also what a build worker hands back cheaply (pickling pydantic models costs more than loading).
    """
    dumps = json.JSONEncoder(sort_keys=True, default=str).encode  # what json.dumps(..., sort_keys, default) runs
    eng: dict[str, list[Any]] = {c: [] for c in ENGAGEMENT_COLUMNS}
    part: dict[str, list[Any]] = {c: [] for c in PARTICIPANT_COLUMNS}
    prov: dict[str, list[Any]] = {c: [] for c in PROVENANCE_COLUMNS}
    n_prov: list[int] = []
    (e_id, e_title, e_summary, e_activity, e_subs, e_instrument, e_sy, e_sm, e_sd, e_ey, e_em, e_ed, e_precision,
     e_circa, e_ongoing, e_n, e_attrs, e_datasets, e_citations) = eng.values()
    p_eid, p_pid, p_name, p_role, p_ccode, p_sy, p_ey, p_attrs = part.values()
    v_eid, v_source, v_version, v_record, v_citations = prov.values()
    for e in engagements:
        eid = e.id
        e_id.append(eid)
        e_title.append(e.title)
        e_summary.append(e.summary)
        e_activity.append(e.activity)
        e_subs.append(e.sub_activities)
        e_instrument.append(e.instrument)
        e_sy.append(e.start_year)
        e_sm.append(e.start_month)
        e_sd.append(e.start_day)
        e_ey.append(e.end_year)
        e_em.append(e.end_month)
        e_ed.append(e.end_day)
        e_precision.append(e.precision)
        e_circa.append(e.circa)
        e_ongoing.append(e.ongoing)
        e_n.append(len(e.participants))
        e_attrs.append(dumps(e.attributes))
        e_datasets.append(e.sources)
        e_citations.append(e.citations)
        for p in e.participants:
            p_eid.append(eid)
            p_pid.append(p.id)
            p_name.append(p.name)
            p_role.append(p.role)
            p_ccode.append(p.ccode)
            p_sy.append(p.start_year)
            p_ey.append(p.end_year)
            p_attrs.append(dumps(p.attributes) if p.attributes else None)
        n_prov.append(len(e.provenance))
        for pv in e.provenance:
            v_eid.append(eid)
            v_source.append(pv.source)
            v_version.append(pv.version)
            v_record.append(pv.record_id)
            v_citations.append(pv.citations)
    return eng, part, prov, n_prov


def _segments(counts: np.ndarray, order: list[int]) -> np.ndarray:
    """Row positions of the child rows (participants, provenance) of engagements taken in ``order``."""
    n = np.asarray(counts, dtype=np.int64)
    starts = (np.cumsum(n) - n)[order]
    picked = n[order]
    out_starts = np.cumsum(picked) - picked
    rows: np.ndarray = np.arange(int(picked.sum()), dtype=np.int64) + np.repeat(starts - out_starts, picked)
    return rows


_STR, _STRS = pa.string(), pa.list_(pa.string())
_TYPES = {  # the column types of the record tables, as they go to DuckDB (which casts them to the schema's)
    "engagements": dict(zip(ENGAGEMENT_COLUMNS, (
        _STR, _STR, _STR, _STR, _STRS, _STR, pa.int64(), pa.int32(), pa.int32(), pa.int32(), pa.int32(), pa.int32(),
        _STR, pa.bool_(), pa.bool_(), pa.int64(), _STR, _STRS, _STRS))),
    "participants": dict(zip(PARTICIPANT_COLUMNS, (
        _STR, _STR, _STR, _STR, pa.int32(), pa.int32(), pa.int32(), _STR))),
    "provenance": dict(zip(PROVENANCE_COLUMNS, (_STR, _STR, _STR, _STR, _STRS))),
}


RECORD_TABLES = ("engagements", "participants", "provenance")


class Chunk(NamedTuple):
    """Engagements flattened into the record tables (Arrow: typed columns built straight from the lists,
    cheaper than a DataFrame and cheap to hand back from a build worker), with the number of provenance
    rows per engagement (participants per engagement is the ``n_participants`` column)."""

    engagements: pa.Table
    participants: pa.Table
    provenance: pa.Table
    n_prov: np.ndarray

    @property
    def ids(self) -> list[str]:
        ids: list[str] = self.engagements.column("id").to_pylist()
        return ids


def chunk(engagements: Iterable[Engagement]) -> Chunk:
    """Flatten engagements, in the order given, into a chunk of the record tables."""
    eng, part, prov, n_prov = _flatten(engagements)
    engagements_t, participants_t, provenance_t = (
        pa.table({c: pa.array(cols[c], type=t) for c, t in _TYPES[name].items()})
        for name, cols in zip(RECORD_TABLES, (eng, part, prov)))
    return Chunk(engagements_t, participants_t, provenance_t, np.asarray(n_prov, dtype=np.int64))


def assemble(chunks: list[Chunk], *, by_id: bool) -> dict[str, pa.Table]:
    """The store's three record tables from chunks, in chunk order or (``by_id``) sorted by engagement id
    (each engagement's participants and provenance in their own order, as the engagement lists them)."""
    tables: dict[str, pa.Table] = {}
    for name in RECORD_TABLES:  # (the chunk's fields are named as the tables)
        parts: list[pa.Table] = [getattr(ch, name) for ch in chunks]
        tables[name] = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
    if by_id:
        ids = tables["engagements"].column("id").to_pylist()
        order = sorted(range(len(ids)), key=ids.__getitem__)
        if order != list(range(len(ids))):
            n_part = tables["engagements"].column("n_participants").to_numpy()
            n_prov = np.concatenate([ch.n_prov for ch in chunks])
            rows = {"engagements": np.asarray(order, dtype=np.int64), "participants": _segments(n_part, order),
                    "provenance": _segments(n_prov, order)}
            tables = {k: t.take(rows[k]) for k, t in tables.items()}
    return tables


def frames(engagements: list[Engagement]) -> dict[str, pa.Table]:
    """Flatten engagements, in the order given, into the store's three record tables."""
    return assemble([chunk(engagements)], by_id=False)
