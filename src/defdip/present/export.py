"""Files researchers' tools read — engagements and panels — each with a ``CITATION.bib`` of exactly the
datasets behind it, and panels with a ``CODEBOOK.md`` and, in Stata files, variable, value and data labels.

The dataset BibTeX of an export is assembled here (:func:`bibtex_for_store`, :func:`cite_sources`,
:func:`dataset_texts`): the datasets' entries come from the store's ``sources`` table or the source modules,
and :mod:`defdip.core.citations` only parses, formats and resolves the texts it is given.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

from defdip import __version__
from defdip.analysis.panels import LAYERS, REGIONS, Layer
from defdip.core import config
from defdip.core.citations import bibliography, parse_bibtex
from defdip.core.codebook import codebook
from defdip.core.errors import DefdipError, StoreError
from defdip.ingest.sources import all_sources, get_source
from defdip.store.queries import EngagementFilter, engagements, participants_text, source_bibtex
from defdip.store.queries import sources as stored_sources

FORMATS = ("csv", "parquet", "json")
PANEL_FORMATS = ("csv", "parquet", "dta", "feather")
_SUFFIX = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".dta": "dta", ".feather": "feather",
           ".arrow": "feather", ".json": "json"}
_STATA_NAME = 32
_STATA_LABEL = 80


def _format(path: Path, fmt: str | None, allowed: tuple[str, ...], what: str) -> str:
    fmt = (fmt or _SUFFIX.get(path.suffix.lower(), "")).lower()
    if fmt not in allowed:
        raise DefdipError(f"unknown {what} format {fmt or path.suffix!r} for {path}; use one of {', '.join(allowed)}")
    return fmt


def _prepare(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DefdipError(f"cannot create the folder {path.parent}: {exc.strerror or exc}") from None


GENEALOGY_KEY = "khalid_ahmed_2024"
"""The paper that seeds the curated genealogy: the genealogy's dataset entry."""


def dataset_texts() -> list[str]:
    """Each dataset module's own BibTeX (``Source.bibtex``), for resolving keys that only a dataset defines."""
    return [source.bibtex for source in all_sources().values() if source.bibtex]


def citable_texts(store: str | Path | None = None) -> list[str]:
    """Every BibTeX a key may be defined in besides the bibliography: the dataset modules' own entries and
    what the store recorded for its sources (a researcher's ``.bib`` beside their records or postings), so
    that each key on a stored record can be cited. A missing store adds nothing."""
    try:
        recorded = source_bibtex(store)
    except StoreError:
        recorded = []
    return [*dataset_texts(), *recorded]


def cite_sources(source_ids: Iterable[str]) -> str:
    """BibTeX for datasets: ``genealogy`` (the curated record and its seed paper) or a source id (an unknown
    one is a DefdipError naming it)."""
    parts: list[str] = []
    for sid in source_ids:
        sid = str(sid).strip()
        parts.append(bibliography()[GENEALOGY_KEY] if sid == "genealogy" else get_source(sid).bibtex.strip())
    return "\n\n".join(parts) + ("\n" if parts else "")


def _stored_bibtex(store: str | Path | None) -> dict[str, str]:
    """Source id -> the BibTeX the store recorded for it (empty without a store or a sources table)."""
    if store is None:
        return {}
    try:
        frame = stored_sources(store)
    except StoreError:  # no store file: the source modules' entries stand in
        return {}
    return {str(sid): str(bib) for sid, bib in zip(frame["id"], frame["bibtex"], strict=True)
            if isinstance(bib, str) and bib}


def bibtex_for_store(datasets: Iterable[str], keys: Iterable[str], store: str | Path | None = None) -> str:
    """One BibTeX file for an export: each dataset's entry and each citation key, without duplicates.

    Dataset entries come from the store's ``sources`` table when ``store`` has one, else from the source
    modules. Keys that neither the bibliography nor a dataset entry define are listed in a comment.
    """
    entries: dict[str, str] = {}
    stored = _stored_bibtex(store)
    for sid in datasets:
        sid = str(sid).strip()
        if not sid:
            continue
        if sid in stored and sid != "genealogy":
            text = stored[sid]
        else:
            try:
                text = cite_sources([sid])
            except DefdipError:
                continue
        for key, entry in parse_bibtex(text, source=f"dataset {sid}").items():
            entries.setdefault(key, entry)
    bib = bibliography()
    missing: list[str] = []
    for key in keys:
        key = str(key).strip()
        if key in entries:
            continue
        if key in bib:
            entries[key] = bib[key]
        else:
            missing.append(key)
    text = "\n\n".join(entries.values())
    if missing:
        text += (("\n\n" if text else "") + "% citation keys not found in the bibliography: "
                 + ", ".join(sorted(set(missing))))
    return text + "\n" if text else ""


def _write_bib(folder: Path, datasets: set[str], keys: set[str], store: str | Path | None) -> Path:
    bib = folder / "CITATION.bib"
    try:
        bib.write_text(bibtex_for_store(sorted(datasets), sorted(keys), store), encoding="utf-8")
    except OSError as exc:
        raise DefdipError(f"cannot write {bib}: {exc.strerror or exc}") from None
    return bib


# ----------------------------------------------------------------------------- engagements

def engagements_frame(store: str | Path | None = None, source: str | None = None,
                      activity: str | None = None) -> pd.DataFrame:
    """One row per engagement; ``source`` keeps those with a provenance from it, ``activity`` may be an
    activity or a sub-activity id."""
    cb = codebook()
    if activity and activity not in cb.activity_ids + cb.sub_activity_ids:
        raise DefdipError(f"unknown activity {activity!r}; expected one of "
                          f"{', '.join(cb.activity_ids + cb.sub_activity_ids)}")
    sub = activity in cb.sub_activity_ids if activity else False
    f = EngagementFilter(source=source, activity=None if sub else activity, sub_activity=activity if sub else None)
    return engagements(f, store)


def flat_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists and structs as plain strings, for CSV."""
    out = frame.copy()
    if "participants" in out:
        out["participants"] = out["participants"].map(participants_text)
    for col in ("sub_activities", "source_record_ids", "citations", "datasets"):
        if col in out:
            out[col] = out[col].map(lambda xs: "" if xs is None else ";".join(map(str, xs)))
    return out


def write_engagements(frame: pd.DataFrame, output: str | Path, fmt: str | None = None,
                      store: str | Path | None = None) -> tuple[Path, Path]:
    """Write engagements (wide or long, as :func:`queries.engagements` returns them) and ``CITATION.bib``."""
    output = Path(output)
    fmt = _format(output, fmt, FORMATS, "export")
    if frame.empty:
        raise DefdipError("the selection is empty: nothing to export")
    _prepare(output)
    try:
        if fmt == "csv":
            flat_frame(frame).to_csv(output, index=False)
        elif fmt == "parquet":
            frame.to_parquet(output, index=False)
        else:
            records = frame.to_dict(orient="records")
            for rec in records:
                if isinstance(rec.get("attributes"), str):
                    rec["attributes"] = json.loads(rec["attributes"])
            output.write_text(json.dumps(records, indent=1, ensure_ascii=False, default=_plain), encoding="utf-8")
    except OSError as exc:
        raise DefdipError(f"cannot write {output}: {exc.strerror or exc}") from None
    datasets = {d for ds in frame["datasets"] for d in ds}
    keys = {k for ks in frame["citations"] for k in ks}
    return output, _write_bib(output.parent, datasets, keys, store)


def export_engagements(output: str | Path, fmt: str | None = None, store: str | Path | None = None,
                       source: str | None = None, activity: str | None = None) -> tuple[Path, Path, int]:
    """Write engagements to ``output`` and ``CITATION.bib`` beside it; returns paths and row count."""
    output = Path(output)
    _format(output, fmt, FORMATS, "export")
    frame = engagements_frame(store, source, activity)
    path, bib = write_engagements(frame, output, fmt, store)
    return path, bib, len(frame)


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return None
    return str(value)


# ----------------------------------------------------------------------------- panels

_KEYS = {
    "ccode": "COW state code", "ccode1": "COW code of the first state", "ccode2": "COW code of the second state",
    "gwcode": "Gleditsch-Ward state code", "gwcode1": "G-W code of the first state",
    "gwcode2": "G-W code of the second state", "year": "Calendar year",
}
_VALUE_LABELS = {
    "conttype": {0: "not contiguous", 1: "land or river", 2: "water, up to 12 miles", 3: "water, up to 24 miles",
                 4: "water, up to 150 miles", 5: "water, up to 400 miles"},
    **{col: dict(REGIONS) for col in ("region", "region1", "region2")},
}


@dataclass(frozen=True)
class PanelColumn:
    """What a panel column means and where it comes from (one line of CODEBOOK.md)."""

    name: str
    meaning: str
    layer: str | None = None
    source: str = "state system"
    coverage: str = ""
    citation_keys: tuple[str, ...] = ()


def panel_columns(columns: list[str], *, state_year: bool = False) -> list[PanelColumn]:
    """Each column's meaning, layer, source, coverage and citation keys (from the layer registry)."""
    by_column: dict[str, Layer] = {}
    for layer in LAYERS.values():
        for col in (layer.state_cols if state_year else layer.columns):
            by_column.setdefault(col, layer)
    out = []
    for col in columns:
        found = by_column.get(col)
        if found is None:
            out.append(PanelColumn(col, _KEYS.get(col, col)))
        else:
            out.append(PanelColumn(col, found.description, found.name, found.source,
                                   f"{found.first_year}-{found.last_year}", tuple(found.citation_keys)))
    return out


def _stata_names(columns: list[str]) -> dict[str, str]:
    """Column -> a Stata name (letters, digits, underscores; at most 32 characters; unique)."""
    names: dict[str, str] = {}
    for col in columns:
        name = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in str(col))[:_STATA_NAME] or "v"
        if name[0].isdigit():
            name = ("_" + name)[:_STATA_NAME]
        base, i = name, 1
        while name in names.values():
            suffix = f"_{i}"
            name, i = base[:_STATA_NAME - len(suffix)] + suffix, i + 1
        names[col] = name
    return names


def _compact(series: pd.Series) -> pd.Series:
    """The smallest nullable integer type that holds a whole-number column (NA stays NA), else as it is."""
    s = series.reset_index(drop=True)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("Int8")
    if pd.api.types.is_float_dtype(s.dtype):
        values = s.dropna()
        if len(values) and not (values == values.round()).all():
            return s.astype("float64")
        s = s.astype("Int64")
    if pd.api.types.is_integer_dtype(s.dtype):
        values = s.dropna()
        low, high = (int(values.min()), int(values.max())) if len(values) else (0, 0)
        # Stata reserves the top of each integer range for missing values
        for dtype, lo, hi in (("Int8", -127, 100), ("Int16", -32767, 32740), ("Int32", -2147483647, 2147483620)):
            if lo <= low and high <= hi:
                return s.astype(dtype)
        return s.astype("float64")
    return s.astype("object").where(s.notna(), "").astype(str)


def _data_label(store: str | Path | None, unit: str, cols: list[PanelColumn]) -> str:
    layers = list(dict.fromkeys(c.layer for c in cols if c.layer))
    return f"defdip {__version__} {unit} panel, store built {_built(store)}; layers: {', '.join(layers) or 'none'}"


def _built(store: str | Path | None) -> str:
    path = config.store_path(store)
    if not path.is_file():
        return "unknown"
    return _dt.datetime.fromtimestamp(path.stat().st_mtime, _dt.UTC).strftime("%Y-%m-%d")


def write_panel(frame: pd.DataFrame, path: str | Path, fmt: str | None = None, *, store: str | Path | None = None,
                unit: str = "dyad-year") -> list[Path]:
    """Write a panel with ``CITATION.bib`` (the datasets of its layers) and ``CODEBOOK.md`` beside it.

    Stata files carry a variable label per column (from its layer's description), a data label (defdip
    version, store build date, layers), value labels for coded columns, and the smallest integer storage
    type with Stata missing values for NA; parquet and feather keep each column's meaning in its field
    metadata. Returns the panel, citation and codebook paths.
    """
    path = Path(path)
    fmt = _format(path, fmt, PANEL_FORMATS, "panel")
    cols = panel_columns(list(map(str, frame.columns)), state_year=unit == "state-year")
    _prepare(path)
    try:
        if fmt == "csv":
            frame.to_csv(path, index=False)
        elif fmt == "dta":
            _write_dta(frame, path, cols, _data_label(store, unit, cols))
        else:
            _write_arrow(frame, path, fmt, cols, _data_label(store, unit, cols))
    except OSError as exc:
        raise DefdipError(f"cannot write {path}: {exc.strerror or exc}") from None
    datasets = {c.source for c in cols if c.layer and c.source != "defdip"}
    keys = {k for c in cols for k in c.citation_keys}
    bib = _write_bib(path.parent, datasets, keys, store)
    book = path.parent / "CODEBOOK.md"
    book.write_text(codebook_text(path.name, unit, cols, store), encoding="utf-8")
    return [path, bib, book]


def _write_dta(frame: pd.DataFrame, path: Path, cols: list[PanelColumn], label: str) -> None:
    names = _stata_names([c.name for c in cols])
    out = pd.DataFrame({names[c]: _compact(frame[c]) for c in frame.columns})
    labels = {names[c.name]: _cut(f"{c.name}: {c.meaning}" if names[c.name] != c.name else c.meaning)
              for c in cols}
    values = {names[c]: v for c, v in _VALUE_LABELS.items()
              if c in names and pd.api.types.is_integer_dtype(out[names[c]])}
    out.to_stata(path, write_index=False, version=118, variable_labels=labels, data_label=_cut(label),
                 value_labels=values or None)


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _STATA_LABEL else text[:_STATA_LABEL - 3] + "..."


def _write_arrow(frame: pd.DataFrame, path: Path, fmt: str, cols: list[PanelColumn], label: str) -> None:
    data = pd.DataFrame({c: _compact(frame[c]) for c in frame.columns})
    table = pa.Table.from_pandas(data, preserve_index=False)
    fields = []
    for fld, col in zip(table.schema, cols):
        meta = {"description": col.meaning, "layer": col.layer or "", "source": col.source,
                "coverage": col.coverage, "citation_keys": ",".join(col.citation_keys)}
        fields.append(fld.with_metadata({k: v.encode() for k, v in meta.items()}))
    schema = pa.schema(fields, metadata={**(table.schema.metadata or {}), b"defdip": label.encode()})
    table = table.cast(schema)
    if fmt == "parquet":
        pq.write_table(table, path)
    else:
        feather.write_feather(table, path)


def codebook_text(filename: str, unit: str, cols: list[PanelColumn], store: str | Path | None = None) -> str:
    """CODEBOOK.md: one line per column with its meaning, coverage, source and citation keys."""
    lines = [f"# {filename}", "", f"A {unit} panel written by defdip {__version__} from the store built "
             f"{_built(store)}. Outside a layer's coverage its columns are NA (missing), never 0. Cite the "
             "entries in CITATION.bib (`defdip cite --layers ...` prints them again).", "",
             "| column | meaning | coverage | source | cite |", "|---|---|---|---|---|"]
    for c in cols:
        meaning = " ".join(c.meaning.split()).replace("|", "/")
        lines.append(f"| `{c.name}` | {meaning} | {c.coverage} | {c.source} | {', '.join(c.citation_keys)} |")
    return "\n".join(lines) + "\n"
