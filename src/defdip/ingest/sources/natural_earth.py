"""Natural Earth 1:110m Admin-0 countries: country shapes for the report's and the web's maps.

A reference source: it adds no engagements, only the ``ne_countries`` table (one row per
country shape: ISO3 code, name, continent and the geometry as GeoJSON text). Maps join it
to polities by ISO3 through the actor registry.

``ISO_A3`` is "-99" for a few shapes (France, Norway, Northern Cyprus, Somaliland, Kosovo);
the code then falls back to ``ISO_A3_EH`` and, where that is "-99" too, to ``ADM0_A3``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from defdip.core.errors import SourceFormatError
from defdip.ingest.sources.base import Download, IngestContext, LoadResult, Source

FILE = "ne_110m_admin_0_countries.geojson"
MISSING = {"", "-99", "-099", None}
COLUMNS = ["iso3", "name", "admin", "continent", "subregion", "iso_a3", "adm0_a3", "geometry"]


def iso3_of(props: dict[str, Any]) -> str | None:
    """The ISO3 code of one feature: ISO_A3, else ISO_A3_EH, else ADM0_A3 (skipping "-99")."""
    for key in ("ISO_A3", "ISO_A3_EH", "ADM0_A3"):
        value = props.get(key)
        value = None if value is None else str(value).strip()
        if value not in MISSING:
            return value
    return None


def read_countries(path: Path, ctx: IngestContext | None = None) -> pd.DataFrame:
    """The ``ne_countries`` table from a Natural Earth Admin-0 GeoJSON file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceFormatError(f"{path}: not a readable GeoJSON file ({exc})") from None
    if not isinstance(raw, dict) or raw.get("type") != "FeatureCollection" or not isinstance(raw.get("features"), list):
        raise SourceFormatError(f"{path}: expected a GeoJSON FeatureCollection of Admin-0 countries")
    rows, seen = [], set()
    for i, feature in enumerate(raw["features"]):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties") or {}, dict):
            if ctx:
                ctx.reject(path.name, i, "feature", str(feature)[:80], "not a GeoJSON feature with properties")
            continue
        props = feature.get("properties") or {}
        geometry = feature.get("geometry")
        if i == 0 and not any(k in props for k in ("ISO_A3", "ADM0_A3")):
            raise SourceFormatError(f"{path}: features lack ISO_A3/ADM0_A3 properties; is this an Admin-0 file? "
                                    f"found {', '.join(list(props)[:12])}")
        iso3 = iso3_of(props)
        name = props.get("NAME") or props.get("ADMIN") or props.get("NAME_EN")
        if iso3 is None:
            if ctx:
                ctx.reject(path.name, i, "ISO_A3", props.get("ISO_A3"), "no ISO3 code (ISO_A3, ISO_A3_EH, ADM0_A3)")
            continue
        if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            if ctx:
                kind = geometry.get("type") if isinstance(geometry, dict) else geometry
                ctx.reject(path.name, i, "geometry", kind, "not a polygon")
            continue
        if iso3 in seen:
            if ctx:
                ctx.reject(path.name, i, "iso3", iso3, "duplicate ISO3 code")
            continue
        seen.add(iso3)
        rows.append({
            "iso3": iso3, "name": str(name or iso3), "admin": props.get("ADMIN"),
            "continent": props.get("CONTINENT"), "subregion": props.get("SUBREGION"),
            "iso_a3": props.get("ISO_A3"), "adm0_a3": props.get("ADM0_A3"),
            "geometry": json.dumps(geometry, separators=(",", ":")),
        })
    return pd.DataFrame(rows, columns=COLUMNS)


class NaturalEarthCountries(Source):
    id = "natural_earth"
    title = "Natural Earth 1:110m Admin-0 countries"
    folder = "natural_earth"
    version = "5.1"
    files = (FILE,)
    downloads = (
        Download(
            url="https://raw.githubusercontent.com/nvkelso/natural-earth-vector/v5.1.2/geojson/"
                "ne_110m_admin_0_countries.geojson",
            filename=FILE,
        ),
    )
    homepage = "https://www.naturalearthdata.com/downloads/110m-cultural-vectors/"
    terms = "Public domain (Natural Earth terms of use); credit appreciated: \"Made with Natural Earth.\""
    adds = "country shapes (ne_countries) for maps, joined to polities by ISO3"
    citation = ("Natural Earth (2022). Admin 0 - Countries, 1:110m cultural vectors, version 5.1. "
                "Made with Natural Earth. https://www.naturalearthdata.com/")
    citation_keys = ("natural_earth",)
    bibtex = """@misc{natural_earth,
  author = {{Natural Earth}},
  title = {Admin 0 -- Countries, 1:110m Cultural Vectors},
  version = {5.1},
  year = {2022},
  howpublished = {\\url{https://www.naturalearthdata.com/downloads/110m-cultural-vectors/}},
  note = {Public domain. Made with Natural Earth}
}"""
    kind = "reference"
    coverage = (2022, 2022)
    min_rows = 100
    """The 1:110m file has 177 country shapes."""

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        frame = read_countries(Path(folder) / FILE, ctx)
        return LoadResult(engagements=[], tables={"ne_countries": frame}, rows_read=len(frame) + len(ctx.rejections),
                          accounted={"country shapes": len(frame)})


SOURCES = [NaturalEarthCountries()]
