"""The bad-input corpus: each source file mutated the ways real copies go wrong, built over a store.

Every case ends in one clear line (a DefdipError naming the file or the source; the previous store stays
byte-identical) or in a build whose quarantine names the file (and the row, where the mutation touched
one). Never a traceback, never a silent change. The fixtures are the small official-format files under
tests/fixtures; each case copies its source's folder into tmp_path and builds only that source.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from defdip.core.errors import DefdipError
from defdip.ingest import build as store_mod
from defdip.ingest.sources import all_sources
from defdip.ingest.sources.base import decode_text

pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.ParserWarning")  # (the long row is quarantined)

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass(frozen=True)
class Target:
    """One source file to mutate: the source, its fixture folder, the file, a year column, a start-end pair."""

    source: str
    fixture: str
    file: str
    year: str | None = None
    span: tuple[str, str] | None = None


CSV_TARGETS = [
    Target("cow_alliance", "cow_alliance/summary", "cow_alliance_v4.1_dyad_year_summary.csv", "year"),
    Target("cow_alliance", "cow_alliance/official", "alliance_v4.1_by_member.csv", "mem_st_year",
           ("mem_st_year", "mem_end_year")),
    Target("un_pko", "un_pko", "un_pko_contributions_country_year_mission.csv", "Year"),
    Target("geopko", "un_pko", "geopko_v2.3_frontmap_location_year.csv", "year"),
    Target("geopko", "un_pko", "geopko_v2.3_tccmap_location_year.csv", "year"),
    Target("us_presence", "us_presence", "troopdata.csv", "year"),
    Target("us_presence", "us_presence", "basedata.csv"),
    Target("state_system", "reference/state_system", "cow_states2016.csv", "styear", ("styear", "endyear")),
    Target("state_system", "reference/state_system", "system2016.csv", "year"),
    Target("state_system", "reference/state_system", "majors2016.csv", "styear", ("styear", "endyear")),
    Target("state_system", "reference/state_system", "gw_states.csv", "startdate", ("startdate", "enddate")),
    Target("gml_mid", "reference/mid_conflict", "gml_mid_ddydisps.csv", "year"),
    Target("gml_mid", "reference/mid_conflict", "gml_mid_disps.csv", "styear"),
    Target("cow_mid", "reference/mid_conflict", "cow_mid_ddydisps.csv", "year"),
    Target("cow_contiguity", "reference/cow_contiguity", "cow_contdir_v3.2.csv", "stdate", ("stdate", "enddate")),
    Target("attache_postings", "attaches/attache_postings", "postings.csv", "start_date", ("start_date", "end_date")),
]


def _rows(raw: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(decode_text(raw), newline="")))


def _write_rows(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def _set(rows: list[list[str]], column: str, value: str) -> tuple[bytes, int]:
    rows[1][rows[0].index(column)] = value
    return _write_rows(rows), 2


def _earlier(value: str) -> str:
    """A value one year before ``value`` in the same format (a year, 1816.0, or a date)."""
    if "-" in value:
        return f"{int(value[:4]) - 1:04d}{value[4:]}"
    return str(int(float(value)) - 1)


def mutate(case: str, raw: bytes, target: Target) -> tuple[bytes, int | None]:
    """The mutated file and the line the quarantine must name (None: any line, or an error)."""
    rows = _rows(raw)
    if case == "truncated":  # a download cut off in the second field of its last row
        text = raw.rstrip(b"\r\n")
        last = text.rfind(b"\n") + 1
        return text[: text.index(b",", last) + 2], len(rows)
    if case == "empty":
        return b"", None
    if case == "header_only":
        return _write_rows(rows[:1]), None
    if case == "missing_column":
        return _write_rows([[f"{c}_renamed" for c in rows[0]]] + rows[1:]), None
    if case == "wrong_encoding":
        return decode_text(raw).encode("utf-16"), None
    if case == "binary":
        return bytes(random.Random(5).randrange(256) for _ in range(4096)), None
    if case == "duplicate_row":
        return _write_rows(rows + [rows[1]]), len(rows) + 1
    if case == "impossible_date":
        return _set(rows, target.year, "99999-01-01" if "date" in target.year else "99999")
    if case == "end_before_start":
        start, end = target.span
        return _set(rows, end, _earlier(rows[1][rows[0].index(start)]))
    if case == "huge_field":
        rows[-1][-1] = "x" * 200_000
        return _write_rows(rows), None
    if case == "extra_field":
        rows[1] = rows[1] + ["surplus"]
        return _write_rows(rows), 2
    if case == "other_format":
        return json.dumps({"type": "FeatureCollection", "features": []}).encode(), None
    raise AssertionError(case)


CSV_CASES = ["truncated", "empty", "header_only", "missing_column", "wrong_encoding", "binary", "duplicate_row",
             "impossible_date", "end_before_start", "huge_field", "extra_field", "other_format"]


def _params():
    for target in CSV_TARGETS:
        for case in CSV_CASES:
            if case == "impossible_date" and target.year is None or case == "end_before_start" and not target.span:
                continue
            yield pytest.param(target, case, id=f"{target.file}-{case}")


@pytest.fixture(autouse=True)
def small_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixtures are a handful of rows: every source's minimum is lowered to one row for these tests."""
    for source in all_sources().values():
        monkeypatch.setattr(type(source), "min_rows", 1)
    monkeypatch.setenv("DEFDIP_BUILD_WORKERS", "1")


_BUILT: dict[tuple[str, bytes], bytes] = {}
"""Stores built from pristine fixtures, by source and fixture content (each is built once per session)."""


def _prepare(tmp_path: Path, source: str, fixture: Path) -> tuple[Path, Path]:
    """A sources folder with the fixture and a store built from it (the 'previous store')."""
    folder = tmp_path / "sources" / all_sources()[source].folder
    shutil.copytree(fixture, folder)
    target = tmp_path / "store.duckdb"
    key = (source, b"".join(p.name.encode() + p.read_bytes() for p in sorted(folder.iterdir())))
    if key not in _BUILT:
        store_mod.build(target, tmp_path / "sources", only=[source])
        _BUILT[key] = target.read_bytes()
    target.write_bytes(_BUILT[key])
    return folder, target


def _quarantine(path: Path, source: str) -> list[tuple[str, str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT file, row FROM quarantine WHERE source = ?", [source]).fetchall()
    finally:
        con.close()


def _outcome(target_store: Path, sources: Path, source: str, file: str, line: int | None) -> str:
    """Build over the store and check the rule; returns 'error' or 'quarantine'."""
    before = hashlib.sha256(target_store.read_bytes()).hexdigest()
    try:
        store_mod.build(target_store, sources, only=[source])
    except DefdipError as exc:
        message = str(exc)
        assert "\n" not in message and (file in message or source in message), message
        assert hashlib.sha256(target_store.read_bytes()).hexdigest() == before
        assert not list(target_store.parent.glob("*.building-*"))
        return "error"
    quarantined = _quarantine(target_store, source)
    assert any(f == file for f, _ in quarantined), f"{file}: the build changed the store and quarantined nothing"
    if line is not None:
        assert (file, str(line)) in quarantined, quarantined
    return "quarantine"


@pytest.mark.parametrize(("target", "case"), list(_params()))
def test_bad_csv_ends_in_a_clear_error_or_a_quarantine(tmp_path, target: Target, case: str):
    folder, store = _prepare(tmp_path, target.source, FIXTURES / target.fixture)
    path = folder / target.file
    mutated, line = mutate(case, path.read_bytes(), target)
    path.write_bytes(mutated)
    outcome = _outcome(store, tmp_path / "sources", target.source, target.file, line)
    if case in ("empty", "header_only", "missing_column", "wrong_encoding", "binary", "huge_field",
                "other_format"):
        assert outcome == "error", f"{case} should fail the build"
    if case in ("duplicate_row", "impossible_date", "end_before_start"):
        assert outcome == "quarantine", f"{case} should quarantine the row"


@pytest.mark.parametrize("case", ["truncated", "empty", "binary", "other_format"])
def test_bad_workbook_ends_in_a_clear_error(tmp_path, case):
    folder, store = _prepare(tmp_path, "us_visits", FIXTURES / "us_visits")
    path = folder / "visits.xls"
    raw = path.read_bytes()
    path.write_bytes({"truncated": raw[: len(raw) // 2], "empty": b"",
                      "binary": bytes(random.Random(3).randrange(256) for _ in range(4096)),
                      "other_format": b"Title,Name,Start Year\nSecretary,Someone,2001\n"}[case])
    assert _outcome(store, tmp_path / "sources", "us_visits", "visits.xls", None) == "error"


def _feature(iso3: str, name: str) -> dict:
    ring = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
    return {"type": "Feature", "properties": {"ISO_A3": iso3, "ADM0_A3": iso3, "NAME": name, "ADMIN": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


GEOJSON = {"type": "FeatureCollection", "features": [_feature("FRA", "France"), _feature("DEU", "Germany"),
                                                     _feature("ITA", "Italy")]}


@pytest.mark.parametrize("case", ["truncated", "empty", "wrong_encoding", "binary", "duplicate_feature",
                                  "no_features", "missing_properties", "other_format"])
def test_bad_geojson_ends_in_a_clear_error_or_a_quarantine(tmp_path, case):
    fixture = tmp_path / "fixture"
    fixture.mkdir()
    file = "ne_110m_admin_0_countries.geojson"
    (fixture / file).write_text(json.dumps(GEOJSON))
    folder, store = _prepare(tmp_path, "natural_earth", fixture)
    raw = json.dumps(GEOJSON).encode()
    data = {
        "truncated": raw[: len(raw) // 2], "empty": b"", "wrong_encoding": raw.decode().encode("utf-16"),
        "binary": bytes(random.Random(4).randrange(256) for _ in range(4096)),
        "duplicate_feature": json.dumps({**GEOJSON, "features": GEOJSON["features"] * 2}).encode(),
        "no_features": json.dumps({**GEOJSON, "features": []}).encode(),
        "missing_properties": json.dumps({**GEOJSON, "features": [
            {**f, "properties": {"NAME": "x"}} for f in GEOJSON["features"]]}).encode(),
        "other_format": b"iso3,name\nFRA,France\n",
    }[case]
    (folder / file).write_bytes(data)
    outcome = _outcome(store, tmp_path / "sources", "natural_earth", file, None)
    assert outcome == ("quarantine" if case == "duplicate_feature" else "error")


@pytest.mark.parametrize(("target", "changes"), [
    (CSV_TARGETS[0], {"ccode1": "9998", "ccode2": "9999"}),
    (CSV_TARGETS[2], {"Country": "Lemuria"}),
    (CSV_TARGETS[5], {"countryname": "Lemuria", "ccode": "1998", "troops": "5"}),
], ids=["cow-codes", "un-pko-name", "troopdata-name-and-code"])
def test_unknown_names_and_codes_are_quarantined_or_counted(tmp_path, target: Target, changes: dict[str, str]):
    folder, store = _prepare(tmp_path, target.source, FIXTURES / target.fixture)
    path = folder / target.file
    rows = _rows(path.read_bytes())
    for column, value in changes.items():
        rows[1][rows[0].index(column)] = value
    path.write_bytes(_write_rows(rows))
    store_mod.build(store, tmp_path / "sources", only=[target.source])
    con = duckdb.connect(str(store), read_only=True)
    try:
        quarantined = con.execute("SELECT file, row, value FROM quarantine WHERE source = ?",
                                  [target.source]).fetchall()
        unresolved = con.execute("SELECT name FROM unresolved WHERE source = ?", [target.source]).fetchall()
    finally:
        con.close()
    shown = " ".join(str(v) for row in quarantined + unresolved for v in row)
    assert any(value in shown for value in changes.values() if value != "5"), (quarantined, unresolved)
