"""The CAMEO/PLOVER -> codebook mapping (package data ``events_mapping.csv``) and its bibliography."""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources

import pandas as pd

from defdip.core.codebook import codebook
from defdip.core.errors import SourceFormatError

VERSION = "1"
"""Version of the mapping table; bump when a row changes meaning."""

LAYERS = ("ev_contacts", "ev_milcoop", "ev_agreements", "ev_milaid", "ev_peacekeeping", "ev_hadr")
"""The event layers, in the order panels list them."""

CITATION_KEYS = ("schrodt_cameo_2012", "halterman_plover_2023", "leetaru_schrodt_gdelt_2013", "boschee_icews_2015")


@lru_cache(maxsize=1)
def mapping() -> pd.DataFrame:
    """The mapping rows, checked against the codebook: an id the codebook lacks is an error, not a silent row."""
    text = resources.files("defdip").joinpath("data/events_mapping.csv").read_text(encoding="utf-8")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL)
    book = codebook().id_sets
    for number, row in enumerate(frame.itertuples(index=False), start=2):
        for column, kind in (("activity", "activity"), ("sub_activity", "sub_activity"),
                             ("instrument", "instrument")):
            value = getattr(row, column)
            if value and value not in book[kind]:
                raise SourceFormatError(f"events_mapping.csv, line {number}, column {column}: {value!r} is not "
                                        f"a codebook {kind}")
        if row.layer not in LAYERS:
            raise SourceFormatError(f"events_mapping.csv, line {number}, column layer: unknown layer {row.layer!r}")
    if frame.duplicated(["scheme", "code", "mode"]).any():
        raise SourceFormatError("events_mapping.csv: a (scheme, code, mode) appears twice")
    return frame
