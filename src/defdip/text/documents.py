"""Documents to code: plain text, Markdown, HTML, CSV or JSONL of documents, and stdin.

Every reader yields :class:`Document` objects whose ``text`` is what the coder reads and what evidence offsets
point into (for HTML the visible text, for Markdown the body after any front matter). A file that cannot be
read as text -- empty, binary, in an encoding defdip cannot tell -- does not stop the others: it comes back as a
:class:`Notice` saying why, so a folder of mixed files is coded as far as it can be.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path

import dateparser
import yaml

from defdip.core.errors import DefdipError

__all__ = ["Document", "Notice", "parse_document_date", "read_documents", "decode_bytes", "html_text"]

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml", ".csv", ".jsonl", ".ndjson"}
"""File types a folder is searched for; a file named on the command line is read whatever its suffix."""

TABLE_TEXT_COLUMN = "text"
TABLE_OPTIONAL = ("id", "title", "date", "source", "url")


@dataclass(frozen=True)
class Document:
    """One document: its id (unique in a run), text, publication date and where it came from."""

    id: str
    text: str
    date: datetime.date | None = None
    source: str = ""
    url: str = ""
    title: str = ""


@dataclass(frozen=True)
class Notice:
    """Something about the input the user must hear: a file skipped, a date not understood."""

    source: str
    message: str
    skipped: bool = True


def parse_document_date(value: object) -> datetime.date | None:
    """A document's date from ISO text, a datetime, or any English date dateparser reads; None when blank.

    Raises ValueError for text that names no date, so the caller can say which file and row held it.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    try:
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        pass
    parsed = dateparser.parse(text, languages=["en"], settings={"STRICT_PARSING": True})
    if not isinstance(parsed, datetime.datetime):
        raise ValueError(f"cannot read {text!r} as a date")
    return parsed.date()


def decode_bytes(data: bytes) -> str:
    """Text from bytes: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252.

    Raises ValueError naming the problem for bytes that are binary or in no encoding defdip can tell.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ValueError(f"UTF-16 byte-order mark but bad UTF-16 at byte {exc.start}") from None
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise ValueError(f"unknown encoding: neither UTF-8 nor Windows-1252 (byte {exc.start})") from None
    sample = text[:8192]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    if sample and controls > len(sample) // 20:
        raise ValueError("binary file (control bytes), not text")
    return text


class _VisibleText(HTMLParser):
    """Collects the text a browser shows, the title and the page's own date and URL metadata."""

    HIDDEN = {"script", "style", "noscript", "template", "svg", "head"}
    BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "header",
              "footer", "blockquote", "pre", "table", "ul", "ol", "dd", "dt", "figcaption", "title"}
    DATE_META = {"article:published_time", "date", "dc.date", "pubdate", "publish-date", "og:published_time"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.hidden = 0
        self.in_title = False
        self.date = ""
        self.url = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "title":
            self.in_title = True
        elif tag == "body":  # a body ends a head left open, as browsers do
            self.hidden = 0
        elif tag in self.HIDDEN:
            self.hidden += 1
        if tag == "meta":
            key = (values.get("property") or values.get("name") or "").lower()
            if key in self.DATE_META and not self.date:
                self.date = values.get("content", "")
            if key == "og:url" and not self.url:
                self.url = values.get("content", "")
        elif tag == "link" and values.get("rel", "").lower() == "canonical" and not self.url:
            self.url = values.get("href", "")
        elif tag == "time" and not self.date:
            self.date = values.get("datetime", "")
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag in self.HIDDEN and self.hidden:
            self.hidden -= 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        elif not self.hidden:
            self.parts.append(data)


def html_text(markup: str) -> tuple[str, str, str, str]:
    """(visible text, title, date text, url) of an HTML page; scripts, styles and the head are dropped."""
    parser = _VisibleText()
    parser.feed(markup)
    parser.close()
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parser.parts))
    text = re.sub(r" *\n[\n ]*", "\n\n", text).strip()
    return text, " ".join("".join(parser.title).split()), parser.date, parser.url


_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


def _markdown(text: str) -> tuple[str, dict[str, object]]:
    """The body and the front-matter fields (date, title, url, source) of a Markdown document."""
    match = _FRONT.match(text)
    if not match:
        return text, {}
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return text, {}
    return (text[match.end():], meta) if isinstance(meta, dict) else (text, {})


def _with_date(doc: Document, raw: object, where: str, notices: list[Notice]) -> Document:
    try:
        return replace(doc, date=parse_document_date(raw))
    except ValueError as exc:
        notices.append(Notice(where, f"field 'date': {exc}; the document is coded without a date", skipped=False))
        return doc


def _table_rows(text: str, name: str, suffix: str) -> Iterator[tuple[int, dict[str, object]]]:
    """(row number, row) of a CSV (header line 1) or JSONL file; a malformed line is a DefdipError."""
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        if TABLE_TEXT_COLUMN not in columns:
            raise DefdipError(f"{name}: no {TABLE_TEXT_COLUMN!r} column (columns: {', '.join(columns) or 'none'}); "
                              f"a table of documents needs {TABLE_TEXT_COLUMN!r} and may have "
                              f"{', '.join(TABLE_OPTIONAL)}")
        for number, row in enumerate(reader, start=2):
            yield number, {(k or "").strip().lower(): v for k, v in row.items()}
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DefdipError(f"{name}, line {number}: not a JSON object ({exc.msg})") from None
        if not isinstance(row, dict):
            raise DefdipError(f"{name}, line {number}: not a JSON object")
        yield number, {str(k).lower(): v for k, v in row.items()}


def _table_documents(text: str, name: str, suffix: str, notices: list[Notice]) -> list[Document]:
    out = []
    stem = Path(name).stem
    for number, row in _table_rows(text, name, suffix):
        where = f"{name}, {'row' if suffix == '.csv' else 'line'} {number}"
        body = row.get(TABLE_TEXT_COLUMN)
        if suffix != ".csv" and TABLE_TEXT_COLUMN not in row:
            raise DefdipError(f"{where}: no {TABLE_TEXT_COLUMN!r} field")
        if not isinstance(body, str) or not body.strip():
            notices.append(Notice(where, "empty text; nothing to code"))
            continue
        doc = Document(id=str(row.get("id") or f"{stem}-{number}"), text=body, source=str(row.get("source") or name),
                       url=str(row.get("url") or ""), title=str(row.get("title") or ""))
        out.append(_with_date(doc, row.get("date"), where, notices))
    return out


def _sniff(text: str) -> str:
    """The suffix stdin's text most likely has."""
    head = text.lstrip()[:2000].lower()
    if head.startswith(("<!doctype html", "<html")) or "<body" in head:
        return ".html"
    first = head.split("\n", 1)[0]
    if first.startswith("{") and first.rstrip().endswith("}"):
        return ".jsonl"
    return ".txt"


def documents_from_text(text: str, name: str, suffix: str, notices: list[Notice], doc_id: str | None = None) -> \
        list[Document]:
    """The documents in one file's decoded text, read by its type."""
    doc_id = doc_id or name
    if not text.strip():
        notices.append(Notice(name, "empty file; nothing to code"))
        return []
    if suffix in (".csv", ".jsonl", ".ndjson"):
        return _table_documents(text, name, ".csv" if suffix == ".csv" else ".jsonl", notices)
    if suffix in (".html", ".htm", ".xhtml"):
        body, title, date_text, url = html_text(text)
        if not body:
            notices.append(Notice(name, "HTML page with no visible text; nothing to code"))
            return []
        return [_with_date(Document(doc_id, body, source=name, url=url, title=title), date_text, name, notices)]
    body, meta = _markdown(text) if suffix in (".md", ".markdown") else (text, {})
    doc = Document(doc_id, body, source=str(meta.get("source") or name), url=str(meta.get("url") or ""),
                   title=str(meta.get("title") or ""))
    return [_with_date(doc, meta.get("date"), name, notices)]


def _files(path: Path) -> list[tuple[Path, str]]:
    """(file, document id) pairs: the file itself, or a folder's text files by relative path."""
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
        return [(p, p.relative_to(path).as_posix()) for p in found]
    return [(path, path.name)]


def read_documents(inputs: Iterable[str | Path], *, date: datetime.date | None = None) -> \
        tuple[list[Document], list[Notice]]:
    """Every document in the inputs (files, folders, ``-`` for stdin) and the notices about them.

    ``date`` is given to documents that carry none of their own. A path that does not exist, or a table of
    documents without a text column, is a DefdipError; a file that is empty, binary or undecodable is a notice.
    """
    docs: list[Document] = []
    notices: list[Notice] = []
    for item in inputs:
        if str(item) == "-":
            try:
                text = decode_bytes(sys.stdin.buffer.read()) if hasattr(sys.stdin, "buffer") else sys.stdin.read()
            except ValueError as exc:
                notices.append(Notice("stdin", f"{exc}; skipped"))
                continue
            docs += documents_from_text(text, "stdin", _sniff(text), notices)
            continue
        path = Path(item)
        if not path.exists():
            raise DefdipError(f"no file or folder at {path}")
        for file, doc_id in _files(path):
            try:
                text = decode_bytes(file.read_bytes())
            except ValueError as exc:
                notices.append(Notice(str(file), f"{exc}; skipped"))
                continue
            except OSError as exc:
                notices.append(Notice(str(file), f"cannot read ({exc.strerror}); skipped"))
                continue
            docs += documents_from_text(text, str(file), file.suffix.lower(), notices, doc_id)
    seen: dict[str, int] = {}
    unique = []
    for doc in docs:  # ids are evidence keys: two files of one name in different folders stay apart
        n = seen.get(doc.id, 0)
        seen[doc.id] = n + 1
        unique.append(doc if n == 0 else replace(doc, id=f"{doc.id}#{n + 1}"))
    if date is not None:
        unique = [d if d.date is not None else replace(d, date=date) for d in unique]
    return unique, notices
