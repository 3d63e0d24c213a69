"""Event layers in panels, `defdip events` commands, validation arithmetic, GDELT fetch and the two engines."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import httpx
import pandas as pd
import pytest
from typer.testing import CliRunner

from defdip.analysis import panels
from defdip.cli.app import app
from defdip.core.errors import DefdipError
from defdip.events import fetch as ev_fetch
from defdip.events.ingest import ingest, prepare
from defdip.events.pipeline import ORDER, run_duckdb, run_spark
from defdip.events.validate import precision_recall, validate

FIX = Path(__file__).resolve().parent / "fixtures"
EVENTS = FIX / "events"


@pytest.fixture(scope="module")
def event_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with a small state system and the event fixtures ingested."""
    path = tmp_path_factory.mktemp("ev") / "s.duckdb"
    con = duckdb.connect(str(path))  # a state system of four states is all the panel needs here
    con.execute("CREATE TABLE cow_system AS SELECT c.ccode, y.year FROM (VALUES (2), (40), (365), (750)) c(ccode), "
                "range(1984, 1987) y(year)")
    con.close()
    ingest(EVENTS, path)
    return path


def test_event_layers_are_listed_and_in_panels(event_store: Path) -> None:
    table = panels.layers_table()
    assert {"ev_contacts", "ev_milcoop", "ev_agreements", "ev_milaid", "ev_peacekeeping", "ev_hadr"} <= set(
        table["layer"])
    frame = panels.dyad_year(event_store, directed=True, layers=["ev_contacts", "ev_milaid"], from_year=1984,
                             to_year=1986)
    assert frame.loc[frame.year == 1984, "ev_contacts"].isna().all()  # no event file covers 1984
    row = frame[(frame.ccode1 == 365) & (frame.ccode2 == 40) & (frame.year == 1985)]
    assert row["ev_milaid"].tolist() == [1]
    covered = frame[frame.year == 1985]
    assert covered["ev_milaid"].notna().all() and covered["ev_milaid"].sum() == 1


def test_cli_mapping_ingest_and_spark_without_pyspark(event_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["events", "mapping", "--format", "csv"])
    assert out.exit_code == 0 and "schrodt_cameo_2012" in out.stdout and "ev_hadr" in out.stdout
    out = runner.invoke(app, ["events", "ingest", str(EVENTS), "--store", str(event_store)])
    assert out.exit_code == 0 and "XYZ" in out.stdout
    import builtins

    real_import = builtins.__import__

    def no_pyspark(name, *args, **kwargs):
        if name.startswith("pyspark"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    with pytest.raises(DefdipError, match=r"pip install 'defdip\[spark\]'"):
        ingest(EVENTS, event_store, engine="spark")


def test_precision_recall_arithmetic() -> None:
    events = pd.DataFrame({"c1": [2, 2, 20, 2], "c2": [200, 220, 200, 200], "year": [1990, 1990, 1990, 1991]})
    curated = pd.DataFrame({"c1": [2, 2, 2], "c2": [200, 255, 200], "year": [1990, 1990, 1992]})
    table = precision_recall(events, curated, [1990, 1991, 1992]).set_index("year")
    assert table.loc[1990, "shared"] == 1
    assert table.loc[1990, "precision"] == pytest.approx(1 / 3) and table.loc[1990, "recall"] == pytest.approx(1 / 2)
    assert table.loc[1991, "precision"] == 0 and pd.isna(table.loc[1991, "recall"])
    assert pd.isna(table.loc[1992, "precision"]) and table.loc[1992, "recall"] == 0


def test_validate_needs_event_layers(tmp_path: Path) -> None:
    store = tmp_path / "x.duckdb"
    duckdb.connect(str(store)).close()
    with pytest.raises(DefdipError, match="events ingest"):
        validate(store)


def _transport(files: dict[str, bytes], listing: str, fail_after: dict[str, int] | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url.endswith(("masterfilelist.txt", "index.html")):
            return httpx.Response(200, text=listing)
        name = url.rsplit("/", 1)[-1]
        body = files[name]
        start = int(request.headers.get("range", "bytes=0-")[6:].rstrip("-") or 0)
        if fail_after and name in fail_after:
            cut = fail_after.pop(name)
            return httpx.Response(200, content=body[:cut])
        return httpx.Response(206 if start else 200, content=body[start:])
    return httpx.MockTransport(handler)


def test_gdelt2_fetch_verifies_size_and_md5_and_resumes(tmp_path: Path) -> None:
    good, bad = b"a" * 1000, b"b" * 500
    listing = "\n".join([
        f"{len(good)} {hashlib.md5(good).hexdigest()} http://x/gdeltv2/20200101000000.export.CSV.zip",
        f"99 {hashlib.md5(good).hexdigest()} http://x/gdeltv2/20200101000000.mentions.CSV.zip",
        f"{len(bad)} {'0' * 32} http://x/gdeltv2/20200101001500.export.CSV.zip",
        f"{len(good)} {hashlib.md5(good).hexdigest()} http://x/gdeltv2/20200105000000.export.CSV.zip"])
    files = {"20200101000000.export.CSV.zip": good, "20200101001500.export.CSV.zip": bad}
    client = httpx.Client(transport=_transport(files, listing, {"20200101000000.export.CSV.zip": 400}))
    results = ev_fetch.fetch(date(2020, 1, 1), date(2020, 1, 2), tmp_path, client=client)
    status = {r.file: r.status for r in results}
    assert status == {"20200101000000.export.CSV.zip": "failed", "20200101001500.export.CSV.zip": "failed"}
    assert "MD5" in next(r.message for r in results if r.file.endswith("1500.export.CSV.zip"))
    (tmp_path / "20200101000000.export.CSV.zip.part").write_bytes(good[:300])  # an interrupted download
    results = ev_fetch.fetch(date(2020, 1, 1), date(2020, 1, 1), tmp_path, client=client)
    assert results[0].status == "ok" and (tmp_path / "20200101000000.export.CSV.zip").read_bytes() == good
    again = ev_fetch.fetch(date(2020, 1, 1), date(2020, 1, 1), tmp_path, client=client)
    assert again[0].status == "cached"


def test_gdelt1_index_and_offline(tmp_path: Path) -> None:
    body = b"zip bytes"
    index = (f'<LI><A HREF="20130401.export.CSV.zip">20130401.export.CSV.zip</A> 1.2MB '
             f'{hashlib.md5(body).hexdigest()}\n<LI><A HREF="1985.zip">1985.zip</A> 9MB {"1" * 32}\n')
    items = ev_fetch.parse_index(index, "http://x/events/index.html")
    assert [(i.name, i.day) for i in items] == [("20130401.export.CSV.zip", date(2013, 4, 1)),
                                                 ("1985.zip", date(1985, 1, 1))]
    client = httpx.Client(transport=_transport({"20130401.export.CSV.zip": body}, index))
    results = ev_fetch.fetch(date(2013, 4, 1), date(2013, 4, 1), tmp_path, version=1, client=client)
    assert [r.status for r in results] == ["ok"]

    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no network", request=request)

    results = ev_fetch.fetch(date(2013, 4, 1), date(2013, 4, 2), tmp_path, version=1,
                             client=httpx.Client(transport=httpx.MockTransport(offline)))
    assert results[0].status == "offline" and "offline" in results[0].message


def test_duckdb_and_spark_give_identical_aggregates() -> None:
    pytest.importorskip("pyspark", reason="PySpark not installed: pip install 'defdip[spark]' to run the Spark engine")
    events, maps, res, _ = prepare(EVENTS)
    ours = run_duckdb(events, maps, res.table)
    theirs = run_spark(events, maps, res.table)
    for name, frame in ours.items():
        other = theirs[name][list(frame.columns)].sort_values(ORDER[name]).reset_index(drop=True)
        if "event_date" in frame:
            other["event_date"] = pd.to_datetime(other["event_date"])
            frame = frame.assign(event_date=pd.to_datetime(frame["event_date"]))
        pd.testing.assert_frame_equal(frame, other, check_dtype=False)
