"""The CAMEO/PLOVER -> codebook mapping (package data ``events_mapping.csv``) and its bibliography."""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources

import pandas as pd

from defdip.codebook import codebook
from defdip.errors import SourceFormatError

VERSION = "1"
"""Version of the mapping table; bump when a row changes meaning."""

LAYERS = ("ev_contacts", "ev_milcoop", "ev_agreements", "ev_milaid", "ev_peacekeeping", "ev_hadr")
"""The event layers, in the order panels list them."""

BIBTEX = """@techreport{schrodt_cameo_2012,
  author = {Schrodt, Philip A.}, title = {{CAMEO}: Conflict and Mediation Event Observations Event and Actor
  Codebook}, institution = {Pennsylvania State University}, year = {2012}, note = {Version 1.1b3}}
@misc{halterman_plover_2023,
  author = {Halterman, Andrew and Schrodt, Philip A. and Beger, Andreas and Bagozzi, Benjamin E. and
  Scarborough, Grace I.}, title = {Creating Custom Event Data Without Dictionaries: A Bag-of-Tricks},
  year = {2023}, note = {PLOVER and POLECAT codebooks, arXiv:2304.01331}}
@inproceedings{leetaru_schrodt_gdelt_2013,
  author = {Leetaru, Kalev and Schrodt, Philip A.}, title = {{GDELT}: Global Data on Events, Location and
  Tone, 1979--2012}, booktitle = {ISA Annual Convention}, year = {2013}}
@misc{boschee_icews_2015,
  author = {Boschee, Elizabeth and Lautenschlager, Jennifer and O'Brien, Sean and Shellman, Steve and Starz,
  James and Ward, Michael}, title = {{ICEWS} Coded Event Data}, publisher = {Harvard Dataverse},
  year = {2015}, doi = {10.7910/DVN/28075}}
"""
"""BibTeX of the event manuals and datasets (for the lead to merge into references.bib)."""

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
