"""Shared fixtures: the real sources folder, stores built once per test session (from the real sources,
the genealogy alone, or hand-made engagements with known answers) and the browser for the browser tests."""

from __future__ import annotations

import importlib.util
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
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
    from defdip.ingest.build import build

    path = tmp_path_factory.mktemp("full") / "defdip.duckdb"
    build(path, shared_data)
    return path


@pytest.fixture(scope="session")
def genealogy_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding only the curated genealogy (no sources folder)."""
    from defdip.ingest.build import build

    root = tmp_path_factory.mktemp("gen")
    empty = root / "no-sources"
    empty.mkdir()
    path = root / "defdip.duckdb"
    build(path, empty)
    return path


# --- a hand-made store with known answers (evolution, network and profile tests) ---------------------------

def _eng(id_, activity, instrument, start, parts, end=None, ongoing=False, attributes=None, subs=(),
         source="synthetic", month=None):
    from defdip.core.model import Engagement

    return Engagement.model_validate({
        "id": id_, "title": f"synthetic {id_}", "activity": activity, "instrument": instrument,
        "sub_activities": list(subs), "start_year": start, "start_month": month, "end_year": end,
        "ongoing": ongoing, "attributes": attributes or {},
        "participants": [{"id": p, "name": p, "role": "participant" if activity == "exercises" else "member",
                          "ccode": c} for p, c in parts],
        "provenance": [{"source": source, "version": "1", "record_id": id_, "citations": ["khalid_ahmed_2024"]}],
    })


USA, UKG, FRN, JPN, GFR = ("USA", 2), ("UKG", 200), ("FRN", 220), ("JPN", 740), ("GFR", 260)
ATH, SPA, COR = ("athens", None), ("sparta", None), ("corinth", None)


def synthetic_engagements():
    """Hand-made engagements with known answers (see the tests)."""
    return [
        # antiquity, BCE: a defence pact 481-404 BCE (Hellenic League-like), three members, institutionalised
        _eng("s-01", "agreements", "alliance_treaty", -481, [ATH, SPA, COR], end=-404,
             attributes={"defense": 1, "organ1": 1}),
        # a bilateral BCE agreement without defence obligation, one year
        _eng("s-02", "agreements", "alliance_treaty", -446, [ATH, SPA], attributes={"nonagg": 1}),
        # modern defence pact, ongoing: in force to the last year its dataset covers (2001 here)
        _eng("s-03", "agreements", "alliance_treaty", 1949, [USA, UKG, FRN], ongoing=True,
             attributes={"defense": 1, "organ1": 1}),
        # exercises
        _eng("s-04", "exercises", "exercise", 1985, [USA, UKG, FRN]),
        _eng("s-05", "exercises", "exercise", 1995, [USA, JPN]),
        # DCAs: general (institutionalised) and sector
        _eng("s-06", "agreements", "defence_cooperation_agreement", 1992, [USA, JPN], end=1999,
             attributes={"type": "general"}),
        _eng("s-07", "agreements", "defence_cooperation_agreement", 1998, [UKG, JPN], end=2000,
             attributes={"type": "sector"}),
        # contacts and attaches
        _eng("s-08", "contacts", "visit", 2001, [USA, JPN], month=5),
        _eng("s-09", "attaches", "posting", 1889, [USA, UKG]),
        # a bilateral DCA between two allies: never a partnership dyad while the pact is in force
        _eng("s-10", "agreements", "defence_cooperation_agreement", 1990, [USA, UKG], end=1991,
             attributes={"type": "sector"}),
    ]


def tiny_panel_tables() -> dict:
    """Three states 1979-1991 with one asymmetric ATOP alliance, a second one that ends mid-1985 and one DCA,
    in the store's reference-table layouts (for panel tests with answers worked out by hand)."""
    import pandas as pd

    system = pd.DataFrame([(c, y) for y in range(1979, 1992) for c in (2, 200, 220)], columns=["ccode", "year"])
    member = pd.DataFrame({
        "atopid": [1, 1, 2, 2], "member": [2, 200, 200, 220], "yrent": [1980, 1980, 1979, 1979],
        "yrexit": [0, 0, 1985, 1985], "defense": [1, 0, 1, 1], "offense": [0, 0, 0, 0], "neutral": [0, 0, 0, 0],
        "nonagg": [0, 1, 0, 0], "consul": [1, 1, 0, 0], "phase": 0, "moent": 1, "dayent": 1,
        "moexit": [None, None, 6, 6], "dayexit": None})
    dca = pd.DataFrame({"dcaid": ["d1"], "ccode1": [220], "ccode2": [2], "sign_year": [1988],
                        "end_year_estimate": [2010], "type": ["general"]})
    majors = pd.DataFrame({"ccode": [2], "styear": [1898], "endyear": [2016]})
    gw = pd.DataFrame({"gwcode": [2, 260], "start_year": [1816, 1949], "end_year": [2017, 2017]})
    exception = pd.DataFrame(columns=["atopid", "member", "partner", "defense", "offense", "neutral", "nonagg",
                                      "consul", "citation"]).astype({"atopid": "Int64", "member": "Int64",
                                                                     "partner": "Int64"})
    ddyr = pd.DataFrame(columns=["statea", "stateb", "year", "defense", "offense", "neutral", "nonagg", "consul"],
                        dtype="Int64")
    return {"cow_system": system, "atop_member": member, "atop_exception": exception, "atop_ddyr": ddyr,
            "dcad_agreement": dca, "cow_majors": majors, "gw_states": gw}


def write_tables(path: Path, tables: dict) -> str:
    """A store holding only the given reference tables."""
    con = duckdb.connect(str(path))
    for name, frame in tables.items():
        con.register("f", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM f")
        con.unregister("f")
    con.close()
    return str(path)


def table_dump(path: Path) -> dict[str, list]:
    """Every table's rows, sorted (two builds of the same inputs write the same rows, not the same bytes)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return {n: con.execute(f'SELECT * FROM "{n}" ORDER BY ALL').fetchall() for n in names}
    finally:
        con.close()


def write_store(path: Path, engagements) -> Path:
    """Write a store with the build's own schema and flattening, from hand-made engagements."""
    from defdip.ingest.build import SCHEMA, _polities_frame, _write
    from defdip.ingest.records import frames as record_tables

    frames = record_tables(sorted(engagements, key=lambda e: e.id))
    con = duckdb.connect(str(path))
    try:
        con.execute(SCHEMA)
        for name in ("engagements", "participants", "provenance"):
            _write(con, name, frames[name])
        _write(con, "polities", _polities_frame())
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def synthetic_store(tmp_path_factory) -> Path:
    return write_store(tmp_path_factory.mktemp("synthetic") / "s.duckdb", synthetic_engagements())


@pytest.fixture(scope="session")
def records_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The genealogy and the synthetic records of tests/synthetic.py, built by the real build (no dataset)."""
    from synthetic import build_store

    return build_store(tmp_path_factory.mktemp("records"))


@pytest.fixture(scope="session")
def records_only_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic records of tests/synthetic.py alone, for exact answers (no genealogy, no build tables)."""
    from synthetic import records_only_store as write

    return write(tmp_path_factory.mktemp("records-only"))


# --- a running server -------------------------------------------------------------------------------------

@contextmanager
def served(store: Path) -> Iterator[tuple[str, Any]]:
    """``defdip serve``'s server (:func:`defdip.present.web.server_config`) over ``store`` in a thread on a free
    loopback port: its base URL and the uvicorn server, stopped at the end. Fails if it has not started in 30 s."""
    import uvicorn

    from defdip.present.web import server_config

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(server_config(store, "127.0.0.1", port))
    thread = threading.Thread(target=srv.run, name="defdip-serve", daemon=True)
    thread.start()
    deadline = time.time() + 30
    try:
        while not srv.started:
            if time.time() > deadline or not thread.is_alive():
                pytest.fail("the dashboard server did not start within 30 s")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", srv
    finally:
        srv.should_exit = True
        thread.join(timeout=15)


# --- the browser (tests marked `browser`) ------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="session")
def browser_available() -> None:
    """Skips when DEFDIP_NO_BROWSER=1; fails (never skips) when chromium or Playwright is missing.

    Request it before slow fixtures (a store build), so a skip or failure comes at once.
    """
    if os.environ.get("DEFDIP_NO_BROWSER") == "1":
        pytest.skip("DEFDIP_NO_BROWSER=1: browser tests are switched off")
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get update && apt-get install -y "
                    "chromium) or set DEFDIP_NO_BROWSER=1 to skip the browser tests")
    if importlib.util.find_spec("playwright") is None:
        pytest.fail("the playwright package is missing (pip install -e '.[test]'), or set DEFDIP_NO_BROWSER=1")


@pytest.fixture(scope="module")
def browser(browser_available: None):
    """Debian's chromium, headless, driven by Playwright (one per test module)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
