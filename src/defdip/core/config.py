"""Where defdip keeps its store and finds source files; environment variables override."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "defdip"


def store_path(override: str | Path | None = None) -> Path:
    """The DuckDB store: ``--store``, else ``DEFDIP_STORE``, else the user data directory."""
    if override:
        return Path(override)
    if os.environ.get("DEFDIP_STORE"):
        return Path(os.environ["DEFDIP_STORE"])
    return Path(platformdirs.user_data_dir(APP)) / "defdip.duckdb"


def cache_dir() -> Path:
    """Where `defdip fetch` saves official downloads, one folder per dataset."""
    if os.environ.get("DEFDIP_CACHE"):
        return Path(os.environ["DEFDIP_CACHE"])
    return Path(platformdirs.user_cache_dir(APP)) / "sources"


def sources_dir(override: str | Path | None = None) -> Path:
    """The folder of source files a build reads: ``--sources``, ``DEFDIP_SOURCES``, else the fetch cache."""
    if override:
        return Path(override)
    if os.environ.get("DEFDIP_SOURCES"):
        return Path(os.environ["DEFDIP_SOURCES"])
    return cache_dir()
