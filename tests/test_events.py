"""Event data: readers of the official formats, the mapping, actor resolution, dyad-day dedup and ingest."""

from __future__ import annotations

import csv
import difflib
import importlib.util
import re
import shutil
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from defdip.core.codebook import codebook
from defdip.core.errors import DefdipError
from defdip.events import formats
from defdip.events.actors import resolve
from defdip.events.ingest import TABLES, events_dir, ingest, prepare
from defdip.events.mapping import LAYERS, mapping
from defdip.events.pipeline import ORDER, run_duckdb, run_spark
from defdip.events.read import read_events, write_events

FIX = Path(__file__).resolve().parent / "fixtures" / "events"
GDELT2 = FIX / "20191024143000.export.CSV"


def test_format_widths_follow_the_codebooks() -> None:
    assert (len(formats.GDELT1_BACKFILE), len(formats.GDELT1_DAILY), len(formats.GDELT2)) == (57, 58, 61)
    assert formats.GDELT2[26] == "EventCode" and formats.GDELT2[-1] == "SOURCEURL"
    assert "Actor1Geo_ADM2Code" in formats.GDELT2 and "Actor1Geo_ADM2Code" not in formats.GDELT1_DAILY


def test_fixtures_read_every_format_and_quarantine_bad_rows() -> None:
    table, report = read_events(FIX)
    assert report.formats == {"gdelt1_backfile": 1, "gdelt1_daily": 1, "gdelt2": 1, "icews": 1, "polecat": 1}
    assert report.rows_read == report.kept + report.headers + len(report.quarantine)
    assert table.num_rows == report.kept
    where = {(q["file"], q["line"], q["column"]) for q in report.quarantine}
    assert (GDELT2.name, 10, "EventCode") in where  # "04X"
    assert (GDELT2.name, 11, "SQLDATE") in where  # dated after DATEADDED
    assert (GDELT2.name, 12, "SQLDATE") in where  # 7 digits
    assert (GDELT2.name, 13, "(columns)") in where
    assert ("events.2012.icews.tab", 5, "Event Date") in where
    assert ("polecat.2021.tsv", 5, "Event Type") in where


def test_zipped_and_headed_files_read_the_same(tmp_path: Path) -> None:
    plain, _ = read_events(GDELT2)
    archive = tmp_path / "20191024143000.export.CSV.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(GDELT2, GDELT2.name)
    zipped, _ = read_events(archive)
    assert zipped.drop(["file"]).equals(plain.drop(["file"]))
    headed = tmp_path / "headed.csv"
    headed.write_text("\t".join(formats.GDELT2) + "\n" + GDELT2.read_text())
    with_header, rep = read_events(headed)
    assert rep.headers == 1 and with_header.num_rows == plain.num_rows
    assert rep.formats == {"gdelt2": 1}  # a file whose header names its layout counts for that format too
    assert with_header.drop(["file", "line"]).equals(plain.drop(["file", "line"]))
    assert with_header["line"].to_pylist() == [n + 1 for n in plain["line"].to_pylist()]


def test_chunked_reading_gives_the_same_table_and_quarantine(monkeypatch: pytest.MonkeyPatch) -> None:
    whole, whole_report = read_events(FIX)
    monkeypatch.setattr("defdip.events.read.CHUNK_LINES", 2)  # every chunk boundary falls inside a file
    chunked, chunked_report = read_events(FIX)
    assert chunked.equals(whole)
    assert chunked_report.quarantine == whole_report.quarantine
    assert (chunked_report.rows_read, chunked_report.headers) == (whole_report.rows_read, whole_report.headers)


def test_truncated_zip_is_one_clear_failure_and_other_files_still_read(tmp_path: Path) -> None:
    archive = tmp_path / "a.export.CSV.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(GDELT2, GDELT2.name)
    (tmp_path / "b.export.CSV.zip").write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    table, report = read_events(tmp_path)
    assert len(report.failed_files) == 1 and "b.export.CSV.zip" in report.failed_files[0]
    assert "zip" in report.failed_files[0]
    assert table.num_rows == read_events(GDELT2)[0].num_rows


def test_a_file_no_format_has_is_refused_whole(tmp_path: Path) -> None:
    (tmp_path / "odd.csv").write_text("1\t2\t3\n")
    table, report = read_events(tmp_path)
    assert table.num_rows == 0 and "57 (1.0 backfile)" in report.failed_files[0]


def test_real_gdelt_files_of_all_three_formats(shared_data: Path) -> None:
    table, report = read_events(shared_data / "gdelt_events")
    assert report.formats == {"gdelt1_backfile": 1, "gdelt1_daily": 1, "gdelt2": 1}
    assert report.rows_read == 201 + 509 + 2111
    assert report.kept + len(report.quarantine) == report.rows_read
    import pyarrow.compute as pc

    v2 = table.filter(pc.equal(table["file"], "20191024143000.export.CSV"))
    assert v2.num_rows + sum(q["file"] == "20191024143000.export.CSV" for q in report.quarantine) == 2111
    assert sum(v2["defence"].to_pylist()) == 54  # PROVENANCE: 54 rows with a MIL actor type


def test_mapping_rows_are_codebook_entries_with_citations() -> None:
    frame = mapping()
    book = codebook().id_sets
    assert set(frame["layer"]) == set(LAYERS)
    assert set(frame["activity"]) <= book["activity"] and set(frame["instrument"]) <= book["instrument"]
    assert frame["rationale"].str.len().min() > 20 and frame["citation"].str.len().min() > 0
    cameo = dict(zip(frame.loc[frame.scheme == "cameo", "code"], frame.loc[frame.scheme == "cameo", "layer"]))
    assert cameo["042"] == cameo["043"] == cameo["044"] == "ev_contacts" and cameo["062"] == "ev_milcoop"
    assert cameo["074"] == cameo["0334"] == "ev_peacekeeping" and cameo["073"] == "ev_hadr"


def test_every_cameo_code_passes_and_codes_outside_the_roots_are_quarantined(shared_data: Path) -> None:
    with (shared_data / "gdelt_cameo" / "cameo_event_codes.csv").open(encoding="latin-1") as fh:
        rows = [r["CAMEOEVENTCODE"].strip() for r in csv.DictReader(fh)]
    official = [c for c in rows if len(c) > 1]  # the one-digit rows are the four quad classes, not event codes
    assert len(official) > 250 and set(rows) - set(official) == {"1", "2", "3", "4"}
    assert [c for c in official if formats.cameo_code_problem(c)] == []
    for wrong in ("999", "2104", "0", "00", "12345", "04X", ""):
        assert formats.cameo_code_problem(wrong), wrong


def test_mapping_codes_exist_in_the_cameo_codebook(shared_data: Path) -> None:
    with (shared_data / "gdelt_cameo" / "cameo_event_codes.csv").open(encoding="latin-1") as fh:
        labels = {r["CAMEOEVENTCODE"]: r["EVENTDESCRIPTION"] for r in csv.DictReader(fh)}
    frame = mapping()
    for row in frame[frame.scheme == "cameo"].itertuples():
        # the shared copy mangles the quotes around "third": compare the letters, not the bytes
        ours, theirs = (re.sub("[^a-z]", "", text.lower()) for text in (row.cameo_label, labels[row.code]))
        assert difflib.SequenceMatcher(None, ours, theirs).ratio() > 0.9, row.code


def test_actor_codes_resolve_in_the_event_year() -> None:
    table, _ = read_events(FIX)
    res = resolve(table)
    lookup = {(r["code"], r["year"]): r["ccode"] for r in res.table.to_pylist()}
    assert lookup[("RUS", 1985)] == 365 and lookup[("DEU", 1985)] == 260 and lookup[("DEU", 2019)] == 255
    assert lookup[("ROM", 1985)] == 360  # CAMEO's own code for Romania
    assert lookup[("United States", 2012)] == 2  # ICEWS names countries in words
    missing = {(u["code"], u["reason"]) for u in res.unresolved}
    assert missing == {("AFR", "region"), ("XYZ", "unknown code")}


def test_dyad_day_dedup_and_the_defence_filter() -> None:
    events, maps, res, _ = prepare(FIX)
    out = run_duckdb(events, maps, res.table)
    day = out["dyad_day"].set_index(["layer", "c1", "c2", "event_date"])
    visit = day.loc[("ev_contacts", 2, 750, pd_date("2019-10-24"))]
    assert (visit["events"], visit["sources"]) == (2, 4)  # two reports of one visit: one event-day
    year = out["dyad_year"].set_index(["c1", "c2", "year"])
    assert year.loc[(2, 750, 2019), "ev_contacts"] == 2  # 23 and 24 October
    assert year.loc[(2, 750, 2019), "ev_contacts_events"] == 3
    assert year.loc[(750, 2, 2019), "ev_contacts"] == 1  # the host side is the other direction
    assert (220, 220, 2019) not in year.index  # FRA-FRA: domestic
    assert year.loc[(365, 40, 1985), "ev_milaid"] == 1  # RUS->CUB 1985 = the Soviet Union
    assert (900, 950, 2021) in year.index  # POLECAT AID humanitarian by a military actor
    assert out["dyad_year"][list(LAYERS)].to_numpy().sum() == len(out["dyad_day"])


def pd_date(text: str):
    import pandas as pd

    return pd.Timestamp(text)


def test_ingest_writes_partitions_and_store_tables(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    duckdb.connect(str(store)).close()
    report = ingest(FIX, store)
    parts = events_dir(store)
    assert (parts / "year=1985" / "month=3").is_dir() and (parts / "year=2021").is_dir()
    con = duckdb.connect(str(store), read_only=True)
    try:
        n = con.execute(f"SELECT count(*) FROM read_parquet('{parts}/**/*.parquet', hive_partitioning=1)").fetchone()[0]
        assert n == report.kept
        assert con.execute("SELECT sum(events) FROM ev_dyad_day").fetchone()[0] == report.qualifying_events
        assert con.execute("SELECT count(*) FROM ev_quarantine").fetchone()[0] == report.quarantined == 6
        assert con.execute("SELECT count(*) FROM ev_unresolved").fetchone()[0] == 2
        assert sorted(r[0] for r in con.execute("SELECT DISTINCT year FROM ev_coverage").fetchall()) == [
            1985, 2012, 2016, 2019, 2021]
    finally:
        con.close()


def test_ingest_of_nothing_leaves_the_store_alone(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    duckdb.connect(str(store)).close()
    bad = tmp_path / "in"
    bad.mkdir()
    (bad / "x.csv").write_text("1\t2\n")
    with pytest.raises(DefdipError, match="nothing to ingest"):
        ingest(bad, store)
    con = duckdb.connect(str(store), read_only=True)
    assert not con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0]
    con.close()
    assert not events_dir(store).exists()
    shutil.rmtree(bad)


def test_events_streamed_to_parquet_give_the_aggregates_of_the_table_in_memory(tmp_path: Path) -> None:
    events, maps, res, report = prepare(FIX)
    folder = tmp_path / "read"
    streamed = write_events(FIX, folder)
    assert (streamed.rows_read, streamed.kept, streamed.quarantine) == (report.rows_read, report.kept,
                                                                        report.quarantine)
    assert len(list(folder.glob("part-*.parquet"))) == len(report.formats)  # one file per input file read
    in_memory = run_duckdb(events, maps, res.table)
    from_files = run_duckdb(folder, maps, res.table)
    engines = [from_files]
    if importlib.util.find_spec("pyspark") is not None:
        engines.append(run_spark(folder, maps, res.table))
    for other in engines:
        for name, frame in in_memory.items():
            theirs = other[name][list(frame.columns)].sort_values(ORDER[name]).reset_index(drop=True)
            if "event_date" in frame:
                theirs["event_date"] = pd.to_datetime(theirs["event_date"])
                frame = frame.assign(event_date=pd.to_datetime(frame["event_date"]))
            pd.testing.assert_frame_equal(frame, theirs, check_dtype=False)


def test_a_file_refused_whole_leaves_no_parquet_part(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    shutil.copy(GDELT2, source / GDELT2.name)
    (source / "odd.export.CSV").write_text("a\tb\tc\n")  # three columns: no GDELT layout
    report = write_events(source, tmp_path / "read")
    assert len(report.failed_files) == 1 and "odd.export.CSV" in report.failed_files[0]
    assert [p.name for p in (tmp_path / "read").iterdir()] == ["part-00000.parquet"]  # odd.* was file 1


def test_a_rebuild_keeps_the_event_tables_of_the_store_it_replaces(tmp_path: Path) -> None:
    from defdip.analysis import panels
    from defdip.ingest import build as store_mod

    store = tmp_path / "s.duckdb"
    empty = tmp_path / "no-sources"
    empty.mkdir()
    store_mod.build(store, empty)
    ingest(FIX, store)

    def event_rows() -> dict[str, int]:
        con = duckdb.connect(str(store), read_only=True)
        try:
            return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        finally:
            con.close()

    before = event_rows()
    assert before["ev_dyad_day"] > 0
    store_mod.build(store, empty)  # a plain rebuild: the events came from `events ingest`, not from a source
    assert event_rows() == before
    assert panels.available_layers(store, ["ev_contacts"]) == ["ev_contacts"]
