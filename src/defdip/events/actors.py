"""Event actors to registry polities, year-aware (an event of 1985 coded RUS is the Soviet Union, COW 365).

GDELT and ICEWS-CAMEO use ISO 3166 alpha-3 codes with CAMEO's own exceptions; ICEWS names countries in
words; POLECAT uses ISO codes. Each distinct (code, year) is resolved once into a small lookup table that
both engines join; codes that resolve to no state are counted and listed, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from defdip.core.actors import UnknownPolityError, registry
from defdip.events.read import parquet_glob

CAMEO_SPECIAL = {"ROM": "ROU", "ZAR": "COD", "TMP": "TLS", "BUR": "MMR", "KOS": "KSV", "SCG": "SRB",
                 "YUG": "SRB", "SUN": "RUS", "DDR": "DDR", "GDR": "DDR"}
"""CAMEO country codes that differ from ISO 3166-1 alpha-3 (CAMEO codebook, country list)."""

CAMEO_REGIONS = frozenset({"AFR", "ASA", "BLK", "CAS", "CAU", "CFR", "CRB", "EAF", "EEU", "EIN", "EUR", "LAM",
                           "MEA", "MDT", "NAF", "NMR", "PGS", "SAF", "SAM", "SAS", "SCN", "SEA", "WAF", "WST",
                           "CEU"})
"""CAMEO region codes: actors that name no single state (counted as unresolved with reason 'region')."""


@dataclass
class Resolution:
    """The lookup table (source, code, year -> ccode) and the codes that did not resolve."""

    table: pa.Table
    unresolved: list[dict[str, object]] = field(default_factory=list)


def _ccode(source: str, code: str, year: int) -> tuple[int | None, str]:
    reg = registry()
    if source == "icews":
        polity = reg.try_resolve(code, year, strict=False)
        return (polity.ccode, "") if polity is not None and polity.ccode is not None else (None, "unknown name")
    upper = code.upper()
    if upper in CAMEO_REGIONS:
        return None, "region"
    try:
        polity = reg.by_iso3(CAMEO_SPECIAL.get(upper, upper), year)
    except UnknownPolityError:
        polity = reg.try_resolve(upper, year, strict=False)
    if polity is None or polity.ccode is None:
        return None, "unknown code" if polity is None else "no COW code"
    return polity.ccode, ""


def resolve(events: pa.Table) -> Resolution:
    """Resolve every distinct actor code of the events (both sides), in the year of each event."""
    pairs: dict[tuple[str, str, int], int] = {}
    for side in ("a1", "a2"):
        keys = pa.table({"source": events["source"], "code": events[side], "year": events["year"]})
        keys = keys.filter(pc.not_equal(keys["code"], ""))
        grouped = keys.group_by(["source", "code", "year"]).aggregate([([], "count_all")])
        for s, c, y, n in zip(*(grouped[k].to_pylist() for k in ("source", "code", "year", "count_all"))):
            pairs[(s, c, y)] = pairs.get((s, c, y), 0) + n
    return resolve_counts(pairs)


def resolve_parquet(folder: Path) -> Resolution:
    """Resolve the actor codes of a folder of parquet events files, counted by DuckDB without loading them."""
    glob = parquet_glob(folder)
    con = duckdb.connect()
    try:
        rows = con.execute(f"""
            SELECT source, code, year, count(*) FROM (
                SELECT source, a1 AS code, year FROM read_parquet({glob})
                UNION ALL SELECT source, a2 AS code, year FROM read_parquet({glob}))
            WHERE code <> '' GROUP BY source, code, year""").fetchall()
    finally:
        con.close()
    return resolve_counts({(s, c, int(y)): int(n) for s, c, y, n in rows})


def resolve_counts(pairs: dict[tuple[str, str, int], int]) -> Resolution:
    """Resolve distinct (source, code, year) keys, each with the number of actor mentions it stands for
    (computed by :func:`resolve` from a table in memory, or by the engine from the parquet events files)."""
    rows: dict[str, list[Any]] = {"source": [], "code": [], "year": [], "ccode": []}
    misses: dict[tuple[str, str, str], list[Any]] = {}
    for (source, code, year), n in sorted(pairs.items()):
        ccode, reason = _ccode(source, code, year)
        if ccode is None:
            entry = misses.setdefault((source, code, reason), [0, year, year])
            entry[0] += n
            entry[1], entry[2] = min(entry[1], year), max(entry[2], year)
            continue
        for name, value in zip(rows, (source, code, year, ccode)):
            rows[name].append(value)
    schema = pa.schema([("source", pa.string()), ("code", pa.string()), ("year", pa.int32()),
                        ("ccode", pa.int32())])
    unresolved = [{"source": s, "code": c, "reason": r, "mentions": v[0], "first_year": v[1], "last_year": v[2]}
                  for (s, c, r), v in sorted(misses.items(), key=lambda kv: -kv[1][0])]
    return Resolution(pa.table(rows, schema=schema), unresolved)
