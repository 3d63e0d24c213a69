"""How well event layers recover curated dyad-years: precision and recall by year where coverage overlaps.

Pairs are non-directed (least ccode, greatest ccode) dyad-years. For each comparison only years that both
the event files and the curated dataset cover count; US visits are compared on dyads with the US only.
precision = shared / event dyad-years; recall = shared / curated dyad-years (NA when a denominator is 0).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from defdip.core.errors import StoreError
from defdip.store import checks
from defdip.store.queries import open_store

COMPARISONS: tuple[tuple[str, str, int, int, Callable[[duckdb.DuckDBPyConnection], pd.DataFrame | None], bool],
                   ...] = (
    ("ev_milcoop", "exercises (MME/JME)", 1980, 2010, checks.exercise_dyad_years, False),
    ("ev_contacts", "US defence visits", 1992, 2012, checks.us_visit_dyad_years, True),
    ("ev_agreements", "DCAs signed (DCAD)", 1980, 2010, checks.dca_signed_dyad_years, False),
)
"""(event layer, curated dataset, first year, last year, curated dyad-years (None: not in the store), US dyads
only)."""


def precision_recall(events: pd.DataFrame, curated: pd.DataFrame, years: list[int] | set[int]) -> pd.DataFrame:
    """Per year: event dyad-years, curated dyad-years, shared, precision, recall (both frames: c1, c2, year)."""
    rows = []
    keys = ["c1", "c2", "year"]
    ev = events[keys].drop_duplicates()
    cu = curated[keys].drop_duplicates()
    shared = ev.merge(cu, on=keys)
    for year in sorted(years):
        n_ev = int((ev["year"] == year).sum())
        n_cu = int((cu["year"] == year).sum())
        n_sh = int((shared["year"] == year).sum())
        rows.append({"year": year, "event_dyad_years": n_ev, "curated_dyad_years": n_cu, "shared": n_sh,
                     "precision": n_sh / n_ev if n_ev else None, "recall": n_sh / n_cu if n_cu else None})
    return pd.DataFrame(rows, columns=["year", "event_dyad_years", "curated_dyad_years", "shared", "precision",
                                       "recall"])


def validate(store: str | Path | None = None) -> pd.DataFrame:
    """Every comparison the store allows, by year: layer, dataset, year, counts, precision, recall."""
    frames = []
    with open_store(store) as reader:
        con = reader.con
        covered = checks.event_years(con)
        if covered is None:
            raise StoreError("the store has no event layers: run `defdip events ingest PATH` first")
        for layer, dataset, first, last, curated_of, us_only in COMPARISONS:
            years = {y for y in covered if first <= y <= last}
            if not years:
                continue
            curated = curated_of(con)
            if curated is None or curated.empty:
                continue
            events = checks.event_dyad_years(con, layer)
            if us_only:
                events = events[(events["c1"] == 2) | (events["c2"] == 2)]
            table = precision_recall(events, curated, years)
            table.insert(0, "dataset", dataset)
            table.insert(0, "layer", layer)
            frames.append(table)
    if not frames:
        return pd.DataFrame(columns=["layer", "dataset", "year", "event_dyad_years", "curated_dyad_years", "shared",
                                     "precision", "recall"])
    return pd.concat(frames, ignore_index=True)
