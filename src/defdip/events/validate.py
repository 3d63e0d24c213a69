"""How well event layers recover curated dyad-years: precision and recall by year where coverage overlaps.

Pairs are non-directed (least ccode, greatest ccode) dyad-years. For each comparison only years that both
the event files and the curated dataset cover count; US visits are compared on dyads with the US only.
precision = shared / event dyad-years; recall = shared / curated dyad-years (NA when a denominator is 0).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from defdip.core.errors import StoreError
from defdip.store import build as store_mod

COMPARISONS = (
    ("ev_milcoop", "exercises (MME/JME)", 1980, 2010, """
        SELECT DISTINCT least(a.ccode, b.ccode) AS c1, greatest(a.ccode, b.ccode) AS c2, e.start_year AS year
        FROM engagements e JOIN participants a ON a.engagement_id = e.id JOIN participants b ON b.engagement_id = e.id
        WHERE e.activity = 'exercises' AND a.ccode IS NOT NULL AND b.ccode IS NOT NULL AND a.ccode <> b.ccode
          AND e.id IN (SELECT engagement_id FROM provenance WHERE source IN ('mme', 'jme'))""", False),
    ("ev_contacts", "US defence visits", 1992, 2012, """
        SELECT DISTINCT least(2, p.ccode) AS c1, greatest(2, p.ccode) AS c2, e.start_year AS year
        FROM engagements e JOIN participants p ON p.engagement_id = e.id
        WHERE e.instrument = 'visit' AND p.ccode IS NOT NULL AND p.ccode <> 2
          AND e.id IN (SELECT engagement_id FROM provenance WHERE source = 'us_visits')""", True),
    ("ev_agreements", "DCAs signed (DCAD)", 1980, 2010, """
        SELECT DISTINCT least(ccode1, ccode2) AS c1, greatest(ccode1, ccode2) AS c2, sign_year AS year
        FROM dcad_agreement WHERE ccode1 IS NOT NULL AND ccode2 IS NOT NULL AND ccode1 <> ccode2""", False),
)
"""(event layer, curated dataset, first year, last year, curated dyad-years SQL, US dyads only)."""


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
    con = store_mod.connect(store)
    try:
        if not store_mod.has_table(con, "ev_dyad_year"):
            raise StoreError("the store has no event layers: run `defdip events ingest PATH` first")
        covered = {int(r[0]) for r in con.execute("SELECT DISTINCT year FROM ev_coverage").fetchall()}
        frames = []
        for layer, dataset, first, last, sql, us_only in COMPARISONS:
            years = {y for y in covered if first <= y <= last}
            needed = "dcad_agreement" if "dcad_agreement" in sql else "engagements"
            if not years or not store_mod.has_table(con, needed):
                continue
            events = con.execute(f"""SELECT DISTINCT least(c1, c2) AS c1, greatest(c1, c2) AS c2, year
                                     FROM ev_dyad_year WHERE {layer} > 0""").df()
            curated = con.execute(sql).df()
            if curated.empty:
                continue
            if us_only:
                events = events[(events["c1"] == 2) | (events["c2"] == 2)]
            table = precision_recall(events, curated, years)
            table.insert(0, "dataset", dataset)
            table.insert(0, "layer", layer)
            frames.append(table)
    finally:
        con.close()
    if not frames:
        return pd.DataFrame(columns=["layer", "dataset", "year", "event_dyad_years", "curated_dyad_years", "shared",
                                     "precision", "recall"])
    return pd.concat(frames, ignore_index=True)
