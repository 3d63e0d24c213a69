"""Shared fixtures: the real sources folder and stores built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_data_dir() -> Path:
    """The folder of real datasets: DEFDIP_SOURCES, else ../shared/data beside the clone."""
    return Path(os.environ.get("DEFDIP_SOURCES") or ROOT.parent / "shared" / "data")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Real datasets; integration tests fail (never skip) when they are absent."""
    path = shared_data_dir()
    if not (path / "atop_v5.1").is_dir():
        pytest.fail(f"the real sources folder is missing at {path}; set DEFDIP_SOURCES")
    return path


@pytest.fixture(scope="session")
def full_store(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store built once from every real source (read-only for tests: copy it to modify)."""
    from defdip.store import build

    path = tmp_path_factory.mktemp("full") / "defdip.duckdb"
    build(path, shared_data)
    return path


@pytest.fixture(scope="session")
def genealogy_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding only the curated genealogy (no sources folder)."""
    from defdip.store import build

    root = tmp_path_factory.mktemp("gen")
    empty = root / "no-sources"
    empty.mkdir()
    path = root / "defdip.duckdb"
    build(path, empty)
    return path
