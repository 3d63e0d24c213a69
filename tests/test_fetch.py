"""Fetching official downloads: checksums, archives, and a clear word per source when offline."""

import hashlib
import io
import zipfile

import httpx
import pytest

from defdip.ingest.fetch import fetch_source
from defdip.ingest.sources.base import Download, Source


def make_source(downloads, files=("data.csv",)):
    class Demo(Source):
        id = "demo"
        title = "Demo"
        folder = "demo"
        version = "1"
        citation = "Demo"
        bibtex = "@misc{demo, title={Demo}}"
        citation_keys = ("demo",)

    Demo.files = files
    Demo.downloads = tuple(downloads)
    return Demo()


PAYLOAD = b"ccode,year\n2,1816\n"


def client_serving(body: bytes) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body)))


def test_download_verified_by_checksum(tmp_path):
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    source = make_source([Download("https://example.org/data.csv", "data.csv", digest)])
    result = fetch_source(source, tmp_path, client=client_serving(PAYLOAD))
    assert result.status == "ok"
    assert (tmp_path / "demo" / "data.csv").read_bytes() == PAYLOAD
    again = fetch_source(source, tmp_path, client=client_serving(b"never fetched"))
    assert again.status == "cached"


def test_checksum_mismatch_keeps_nothing(tmp_path):
    source = make_source([Download("https://example.org/data.csv", "data.csv", "0" * 64)])
    result = fetch_source(source, tmp_path, client=client_serving(PAYLOAD))
    assert result.status == "failed" and "checksum mismatch" in result.message
    assert not any((tmp_path / "demo").iterdir())


def test_archive_members_are_extracted(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("release/data.csv", PAYLOAD)
    source = make_source([Download("https://example.org/d.zip", "d.zip", None, ("data.csv",))])
    assert fetch_source(source, tmp_path, client=client_serving(buf.getvalue())).status == "ok"
    assert (tmp_path / "demo" / "data.csv").read_bytes() == PAYLOAD


def test_offline_is_reported_per_source(tmp_path):
    def refuse(request):
        raise httpx.ConnectError("no route to host", request=request)

    source = make_source([Download("https://example.org/data.csv", "data.csv")])
    result = fetch_source(source, tmp_path, client=httpx.Client(transport=httpx.MockTransport(refuse)))
    assert result.status == "offline"
    assert "cannot reach https://example.org/data.csv" in result.message and "--sources" in result.message


def test_every_source_declares_how_to_get_it(tmp_path):
    from defdip.ingest.sources import all_sources

    for source in all_sources().values():
        assert source.missing_files(tmp_path), f"{source.id} names no file it needs"
        assert source.homepage.startswith("http"), source.id
        assert source.downloads or "manual" in source.terms.lower() or source.terms, source.id
        for item in source.downloads:
            assert item.url.startswith(("http://", "https://")), source.id


@pytest.mark.shared
def test_export_engagements_and_citation(full_store, tmp_path):
    import pandas as pd

    from defdip.present.export import export_engagements

    path, bib, n = export_engagements(tmp_path / "mme.csv", store=full_store, source="mme")
    frame = pd.read_csv(path)
    assert n == len(frame) and n > 3000
    assert frame["datasets"].str.contains("mme").all()
    merged = frame[frame["datasets"].str.contains("jme")]
    assert len(merged) > 1000  # de-duplicated exercises carry both provenances
    text = bib.read_text()
    assert "@" in text and "dorazio_galambos_2021" in text and "dorazio_2013_jme" in text
    for fmt in ("parquet", "json"):
        out, _, m = export_engagements(tmp_path / f"x.{fmt}", store=full_store, source="dcad")
        assert m == 1869  # DCAD: 1,871 rows less the two self-dyads (1625, 1847) quarantined
    with pytest.raises(Exception, match="unknown source 'nope'; the store holds"):
        export_engagements(tmp_path / "x.csv", store=full_store, source="nope")
