"""Dataset modules, one per source; discovered so adding a module is all it takes."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from defdip.core.errors import DefdipError
from defdip.ingest.sources.base import Source


@lru_cache(maxsize=1)
def all_sources() -> dict[str, Source]:
    """Every source module's sources, by id, in a stable order."""
    found: dict[str, Source] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == "base" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for source in getattr(module, "SOURCES", ()):
            if source.id in found:
                raise DefdipError(f"source id {source.id!r} is defined twice")
            found[source.id] = source
    return dict(sorted(found.items()))


def get_source(source_id: str) -> Source:
    """One source by id, with a clear error listing the known ids."""
    sources = all_sources()
    if source_id not in sources:
        raise DefdipError(f"unknown source {source_id!r}; known sources: {', '.join(sources)}")
    return sources[source_id]
