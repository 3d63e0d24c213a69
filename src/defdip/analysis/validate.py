"""The proof that ships with the store: every source's rows accounted for, its figures reconciled, its
records keeping the rules every record must keep.

``validate(store)`` reads a built store and returns one :class:`Check` per line:

* accounting: for every loaded source, the rows read equal the rows it kept (or set aside for a stated
  reason, e.g. blank rows or dyad-years aggregated into spells) plus the rows it quarantined;
* parity: each source module's own comparisons with the dataset's published figures or files
  (:meth:`Source.checks`), and the COW dyad-year base against the state-system file;
* invariants: no record lists a state twice, participants' codes agree with the registry, every
  participant existed in the record's years, years are possible, every citation key resolves.

A check that fails without a note explaining the difference is a bug; ``defdip validate`` exits non-zero.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from defdip.analysis.panels import ATOP_DERIVED_SQL, COW_END, LAYERS, dyad_year
from defdip.core.actors import Polity, registry
from defdip.core.citations import keys_in, unresolved_keys
from defdip.core.codebook import codebook
from defdip.ingest.genealogy import GenealogySource, load_genealogy
from defdip.ingest.sources import all_sources
from defdip.ingest.sources.atop import DDYR_FILE
from defdip.ingest.sources.base import Check
from defdip.store import checks
from defdip.store.queries import open_store

KINDS = ("accounting", "parity", "invariant")


def validate(store: str | Path | None = None) -> list[Check]:
    """Every check of the store at ``store`` (accounting, then parity, then invariants)."""
    with open_store(store) as reader:
        found = accounting(reader.con) + parity(reader.con) + invariants(reader.con)
    return sorted(found, key=lambda c: KINDS.index(c.kind) if c.kind in KINDS else len(KINDS))


def as_frame(checks: Iterable[Check], *, pretty: bool = False) -> pd.DataFrame:
    """The checks as a table (one row each); ``pretty`` prints counts with thousands separators."""
    rows = [{**asdict(c), "expected": _shown(c.expected, pretty), "actual": _shown(c.actual, pretty)}
            for c in checks]
    return pd.DataFrame(rows, columns=["kind", "source", "name", "expected", "actual", "ok", "note"])


def _shown(value: Any, pretty: bool) -> str:
    if value is None:
        return ""
    if pretty and isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def failures(checks: Iterable[Check]) -> list[Check]:
    return [c for c in checks if not c.ok]


# ----------------------------------------------------------------------------- accounting

def accounting(con: duckdb.DuckDBPyConnection) -> list[Check]:
    """rows read = rows accounted for (kept, or set aside for a stated reason) + rows quarantined."""
    quarantined = checks.quarantined_per_source(con)
    out: list[Check] = []
    for row in checks.ingest_report(con):
        if row["status"] != "loaded":
            continue
        sid = str(row["source"])
        accounted = json.loads(row.get("accounted") or "{}")
        rejected = int(quarantined.get(sid, 0))
        total = sum(int(v) for v in accounted.values()) + rejected
        parts = " + ".join(f"{v:,} {k}" for k, v in sorted(accounted.items())) or "nothing"
        out.append(Check(sid, "rows read = accounted + quarantined", int(row["rows_read"]), total,
                         total == int(row["rows_read"]), kind="accounting",
                         note=f"{parts} + {rejected:,} quarantined"))
    for sid, n in checks.merged_per_source(con):  # a report line: records of this source merged with another's
        out.append(Check(sid, "records merged with another source's", None, n, True, kind="accounting"))
    return out


# ----------------------------------------------------------------------------- parity

def parity(con: duckdb.DuckDBPyConnection) -> list[Check]:
    """Each loaded source's own checks, and the COW dyad-year base against the system file."""
    loaded = checks.loaded_sources(con)
    out: list[Check] = []
    for sid, source in all_sources().items():
        if sid in loaded:
            out += source.checks(con)
            out += [c for c in (more(con) for more in REGISTRY_CHECKS.get(sid, ())) if c is not None]
    base = _cow_base(con)
    if base is not None:
        out.append(base)
    return out


def atop_file_parity(con: duckdb.DuckDBPyConnection) -> Check | None:
    """The directed ATOP layers the registry derives from the member file against ATOP's own ddyr file (when
    the store holds it): how many directed dyad-years the derivation codes differently."""
    if not checks.has_atop_directed_file(con):
        return None
    total, differ = checks.atop_directed_differences(con, con.execute(ATOP_DERIVED_SQL).df())
    return Check("atop", f"directed ATOP layers vs {DDYR_FILE} (dyad-years that differ)", 0, differ, differ == 0,
                 note=f"{total:,} allied directed dyad-years in the file")


REGISTRY_CHECKS: dict[str, tuple[Callable[[duckdb.DuckDBPyConnection], Check | None], ...]] = {
    "atop": (atop_file_parity,),
}
"""Parity checks of a source that need the layer registry (which a source module may not import), run right
after the source's own checks."""


def _cow_base(con: duckdb.DuckDBPyConnection) -> Check | None:
    """The panel's non-directed COW dyad-years against pairs counted straight from system2016."""
    counted = checks.cow_system_pairs(con, COW_END)
    if counted is None:
        return None
    expected, first = counted
    actual = len(dyad_year(checks.store_file(con), from_year=first, to_year=COW_END, layers=["cowmaj"]))
    return Check("state_system", f"non-directed dyad-years {first}-{COW_END} vs system2016 pairs", expected,
                 actual, expected == actual)


# ----------------------------------------------------------------------------- invariants

def invariants(con: duckdb.DuckDBPyConnection) -> list[Check]:
    return [_no_state_twice(con), _codes_agree(con), _participants_exist(con), _years_possible(con),
            _participant_counts(con), _citations_resolve(con)]


def _examples(rows: list[tuple[Any, ...]]) -> str:
    return "; ".join(" ".join(str(v) for v in r) for r in rows[:5])


def _no_state_twice(con: duckdb.DuckDBPyConnection) -> Check:
    """The same state twice in one role, or a two-party record whose parties are one state.

    (A state may hold two roles in one record: Kenya both hosted and contributed to UNMIS in 2006.)"""
    rows = checks.states_twice(con)
    return Check("store", "no record lists a state twice in one role (no self-dyads)", 0, len(rows), not rows,
                 kind="invariant", note=_examples(rows))


def _codes_agree(con: duckdb.DuckDBPyConnection) -> Check:
    rows = checks.code_mismatches(con)
    return Check("store", "participants' COW codes agree with the registry", 0, len(rows), not rows,
                 kind="invariant", note=_examples(rows))


def _participants_exist(con: duckdb.DuckDBPyConnection) -> Check:
    """Every participant existed (or an organisation was founded) at some point in its years in the record.

    A participant the source itself names before or after the polity existed (an order placed before a
    recipient's independence, troops in a colony) is kept with a flag saying so; those are counted apart.
    """
    reg = registry()
    bad: list[tuple[Any, ...]] = []
    documented = 0
    for polity_id, start, end, is_flagged, example in checks.participant_spans(con):
        polity = reg.get(polity_id) if polity_id in reg else None
        if polity is not None and _overlaps(polity, start, max(start, end)):
            continue
        if is_flagged:
            documented += 1
        else:
            bad.append((example, polity_id, f"{start}-{end}"))
    bad.sort()
    note = f"{documented} flagged by their source as named outside the polity's existence; " if documented else ""
    return Check("store", "every participant existed in its years in the record", 0, len(bad), not bad,
                 kind="invariant", note=note + _examples(bad))


def _overlaps(polity: Polity, start: int, end: int) -> bool:
    spells = polity.spells or ((polity.start_year, polity.end_year),)
    return any((a is None or a <= end) and (b is None or start <= b) for a, b in spells)


def _years_possible(con: duckdb.DuckDBPyConnection) -> Check:
    this_year = _dt.date.today().year
    rows = checks.impossible_years(con, this_year + 1)
    return Check("store", f"no year 0, none after {this_year + 1}, no end before its start", 0, len(rows), not rows,
                 kind="invariant", note=_examples(rows))


def _participant_counts(con: duckdb.DuckDBPyConnection) -> Check:
    rows = checks.participant_count_mismatches(con)
    return Check("store", "each record's participant count matches its participants", 0, len(rows), not rows,
                 kind="invariant", note=_examples(rows))


def used_keys() -> dict[str, set[str]]:
    """Every citation key the package itself uses, by where it is used.

    ``source:ID`` (a dataset module's ``citation_keys`` and the keys its ``bibtex`` defines),
    ``layer:NAME`` (a panel layer's ``citation_keys``), ``genealogy`` (the records' sources and the seed
    paper) and ``codebook`` (the activities' citations); the report cites only these.
    """
    out: dict[str, set[str]] = {}
    for sid, source in all_sources().items():
        out[f"source:{sid}"] = set(source.citation_keys) | set(keys_in(source.bibtex or ""))
    for name, layer in LAYERS.items():
        out[f"layer:{name}"] = set(layer.citation_keys)
    out["genealogy"] = {key for eng in load_genealogy() for key in eng.citations} | set(GenealogySource.citation_keys)
    cb = codebook()
    out["codebook"] = {key for entry in cb.activities + cb.sub_activities + cb.cottey_forster
                       for key in entry.get("citations", [])}
    return out


def _citations_resolve(con: duckdb.DuckDBPyConnection) -> Check:
    """Every key on a record or provenance entry, and every key the package uses (sources, layers, genealogy,
    codebook), has a BibTeX entry (the bundled bibliography, the BibTeX the store recorded for its sources,
    or a dataset module's own), so `defdip cite KEY` prints it."""
    keys: set[str] = set().union(*used_keys().values())
    keys |= checks.stored_citation_keys(con)
    texts = [*checks.stored_bibtex(con), *(s.bibtex for s in all_sources().values())]
    missing = unresolved_keys(keys, texts)
    return Check("store", "every citation key resolves", 0, len(missing), not missing, kind="invariant",
                 note=", ".join(missing[:10]))
