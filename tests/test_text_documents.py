"""Documents for the text coder: every supported format, stdin, and bad input as notices or one-line errors."""

import datetime
import io
import sys
from pathlib import Path

import pytest

from defdip.core.errors import DefdipError
from defdip.text.documents import decode_bytes, html_text, read_documents

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "text"


def test_a_folder_reads_every_format_with_its_metadata():
    docs, notices = read_documents([FIXTURES])
    assert not notices
    by_id = {d.id: d for d in docs}
    assert set(by_id) == {"news/attache.html", "news/malabar.md", "plain.txt", "mod-001", "mod-002", "mod-003",
                          "wire-1", "wire-2"}
    md = by_id["news/malabar.md"]
    assert md.date == datetime.date(2024, 11, 8) and md.url == "https://example.org/news/malabar-2024"
    assert md.title == "Four navies open Malabar off Okinawa" and md.source == "Example Maritime Review"
    assert md.text.startswith("# Four navies open Malabar") and "---" not in md.text
    html = by_id["news/attache.html"]
    assert html.date == datetime.date(2024, 3, 12) and html.url == "https://example.org/news/warsaw-attache"
    assert html.title == "Warsaw expels Russian military attaché"
    assert "Poland expelled the Russian military attaché in Warsaw" in html.text
    assert by_id["mod-001"].date == datetime.date(2023, 6, 3) and by_id["mod-001"].url.endswith("/mod/001")
    assert by_id["mod-003"].date is None and by_id["mod-003"].source == "Example Ministry"
    assert by_id["wire-1"].date == datetime.date(2022, 5, 2)
    assert by_id["plain.txt"].date is None


def test_html_scripts_styles_and_head_are_dropped():
    text, title, date, url = html_text((FIXTURES / "news" / "attache.html").read_text())
    assert "tracker" not in text and "document.write" not in text and "font-weight" not in text
    assert "India and Japan" not in text  # the text a script would write is not the page's text
    assert text.count("\n\n") >= 2  # block elements become paragraph breaks
    assert date.startswith("2024-03-12") and title and url


def test_a_head_left_open_does_not_hide_the_body():
    text, title, _, _ = html_text("<html><head><title>Drills</title><body><p>Japan and India held drills.</p>")
    assert text == "Japan and India held drills." and title == "Drills"


def test_a_default_date_fills_only_undated_documents():
    docs, _ = read_documents([FIXTURES / "releases.csv"], date=datetime.date(2023, 9, 1))
    assert [d.date for d in docs] == [datetime.date(2023, 6, 3), datetime.date(2023, 8, 14),
                                      datetime.date(2023, 9, 1)]


def test_stdin_is_sniffed(monkeypatch):
    raw = b'{"id": "s1", "text": "Japan and India held talks on defence.", "date": "2021-01-05"}\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    docs, _ = read_documents(["-"])
    assert [(d.id, d.date) for d in docs] == [("s1", datetime.date(2021, 1, 5))]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"<html><body><p>Hello</p></body></html>")))
    docs, _ = read_documents(["-"])
    assert docs[0].text == "Hello" and docs[0].id == "stdin"


def test_empty_binary_and_undecodable_files_are_skipped_with_a_reason(tmp_path):
    (tmp_path / "empty.txt").write_text("   \n")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (tmp_path / "noise.txt").write_bytes(b"\x81\x8d\x8f\x90\x9d words")
    (tmp_path / "latin.txt").write_bytes("Chile and Peru held a naval exercise, se\xf1or.".encode("cp1252"))
    (tmp_path / "wide.txt").write_bytes("Japan and India held a joint naval exercise.".encode("utf-16"))
    (tmp_path / "blank.html").write_text("<html><head><script>var x = 1;</script></head><body> </body></html>")
    docs, notices = read_documents([tmp_path])
    assert {d.id for d in docs} == {"latin.txt", "wide.txt"}
    assert "señor" in next(d.text for d in docs if d.id == "latin.txt")
    reasons = {Path(n.source).name: n.message for n in notices}
    assert reasons["empty.txt"].startswith("empty file")
    assert reasons["image.txt"].startswith("binary file")
    assert reasons["noise.txt"].startswith("unknown encoding")
    assert reasons["blank.html"].startswith("HTML page with no visible text")
    assert all(n.skipped for n in notices)


def test_control_bytes_without_nul_are_binary():
    with pytest.raises(ValueError, match="binary"):
        decode_bytes(bytes(range(1, 32)) * 50)


def test_table_without_a_text_column_is_one_clear_error(tmp_path):
    bad = tmp_path / "docs.csv"
    bad.write_text("id,body\n1,Japan and India held talks.\n")
    with pytest.raises(DefdipError, match=r"docs.csv: no 'text' column \(columns: id, body\)"):
        read_documents([bad])


def test_a_malformed_jsonl_line_names_its_line(tmp_path):
    bad = tmp_path / "docs.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": broken}\n')
    with pytest.raises(DefdipError, match=r"docs.jsonl, line 2: not a JSON object"):
        read_documents([bad])


def test_a_bad_date_is_noted_and_the_document_kept(tmp_path):
    table = tmp_path / "docs.csv"
    table.write_text("id,date,text\nx1,the day after never,Japan and India held talks on defence.\nx2,,\n")
    docs, notices = read_documents([table])
    assert [(d.id, d.date) for d in docs] == [("x1", None)]
    messages = [(n.source.rsplit("/", 1)[-1], n.message, n.skipped) for n in notices]
    assert ("docs.csv, row 2", "field 'date': cannot read 'the day after never' as a date; the document is coded "
            "without a date", False) in messages
    assert ("docs.csv, row 3", "empty text; nothing to code", True) in messages


def test_a_missing_path_is_an_error_and_duplicate_ids_stay_apart(tmp_path):
    with pytest.raises(DefdipError, match="no file or folder at"):
        read_documents([tmp_path / "nope.txt"])
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("one")
    (tmp_path / "x.txt").write_text("two")
    docs, _ = read_documents([tmp_path / "a" / "x.txt", tmp_path / "x.txt"])
    assert [d.id for d in docs] == ["x.txt", "x.txt#2"]
