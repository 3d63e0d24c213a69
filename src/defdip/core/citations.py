"""The project bibliography: BibTeX entries for every citation key, read from ``data/references.bib``
and from the BibTeX texts a caller gives (a store's recorded source entries, the dataset modules' own), and
their rendering as HTML references.

This module is the one home of BibTeX handling: the report and the web app parse, look up and format
entries only through it. The parser is deliberately small: an entry starts at ``@type{key,`` and ends at
the brace that closes the one after ``type``; ``@comment``, ``@preamble`` and ``@string`` blocks are skipped.

It belongs to the core and imports only the core: the texts it resolves keys against are given to it. A
dataset's own entry (a source module's ``bibtex``) resolves when the caller passes it -- the store's recorded
BibTeX (:func:`defdip.store.queries.source_bibtex`) or every source module's
(:func:`defdip.present.export.dataset_texts`); the dataset BibTeX of an export is put together in
:mod:`defdip.present.export`, and the keys the package itself uses are gathered by ``defdip validate``
(:func:`defdip.analysis.validate.used_keys`).
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

from defdip.core.errors import DefdipError

__all__ = [
    "all_entries",
    "bibliography",
    "bibtex_text",
    "cite",
    "entry_fields",
    "format_reference",
    "keys_in",
    "parse_bibtex",
    "references",
    "sort_key",
    "unresolved_keys",
]

_SKIP_TYPES = {"comment", "preamble", "string"}
_HEAD = re.compile(r"@\s*([A-Za-z]+)\s*([{(])")


def bibtex_text() -> str:
    """The full text of the bundled ``references.bib``."""
    return resources.files("defdip").joinpath("data/references.bib").read_text(encoding="utf-8")


def _closing(text: str, start: int, opener: str) -> int:
    """Index of the delimiter closing the one at ``start`` (braces nest; ``(`` closes at ``)``)."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":  # an escaped character never opens or closes anything
            i += 2
            continue
        if i == start or ch == "{":
            depth += 1
        elif ch == "}" or (opener == "(" and ch == ")" and depth == 1):
            if opener == "(" and ch == "}" and depth == 1:
                return -1  # a stray brace cannot close a parenthesised entry
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def parse_bibtex(text: str, source: str = "references.bib") -> dict[str, str]:
    """Map each citation key to its entry text (from ``@`` to the closing brace), in file order.

    Raises :class:`DefdipError` for an unterminated entry, a missing key or a key defined twice.
    """
    entries: dict[str, str] = {}
    pos = 0
    while True:
        match = _HEAD.search(text, pos)
        if match is None:
            break
        kind, opener = match.group(1).lower(), match.group(2)
        line_start = text.rfind("\n", 0, match.start()) + 1
        if text[line_start:match.start()].lstrip().startswith("%"):  # a commented-out line
            pos = text.find("\n", match.start())
            pos = len(text) if pos < 0 else pos
            continue
        end = _closing(text, match.end() - 1, opener)
        line = text.count("\n", 0, match.start()) + 1
        if end < 0:
            raise DefdipError(f"{source}, line {line}: @{kind} entry is never closed")
        pos = end + 1
        if kind in _SKIP_TYPES:
            continue
        body = text[match.end():end]
        key, comma, _ = body.partition(",")
        key = key.strip()
        if not comma or not key or re.search(r"\s", key):
            raise DefdipError(f"{source}, line {line}: @{kind} entry has no citation key")
        if key in entries:
            raise DefdipError(f"{source}, line {line}: citation key {key!r} is defined twice")
        entries[key] = text[match.start():end + 1].strip()
    return entries


@lru_cache(maxsize=1)
def _bibliography() -> dict[str, str]:
    return parse_bibtex(bibtex_text())


def bibliography() -> dict[str, str]:
    """Citation key -> BibTeX entry text for every entry in the bundled ``references.bib``."""
    return dict(_bibliography())


def keys_in(text: str) -> list[str]:
    """The citation keys a BibTeX text defines, in order."""
    return list(parse_bibtex(text or "", source="BibTeX text"))


def all_entries(extra_texts: Iterable[str] = ()) -> dict[str, str]:
    """Every entry of ``references.bib``, then of ``extra_texts`` (a store's recorded BibTeX, the datasets'
    own); the first definition of a key wins."""
    entries = bibliography()
    for text in extra_texts:
        for key, entry in parse_bibtex(text or "", source="dataset BibTeX").items():
            entries.setdefault(key, entry)
    return entries


def references(keys: Iterable[str], extra_texts: Iterable[str] = ()) -> list[dict[str, str | bool | None]]:
    """For each key (each once, in order): ``key``, ``found``, ``text`` (the HTML-safe formatted reference)
    and ``bibtex`` (the entry text); ``text`` and ``bibtex`` are None for a key no entry defines."""
    entries = all_entries(extra_texts)
    out: list[dict[str, str | bool | None]] = []
    for key in dict.fromkeys(str(k) for k in keys):
        entry = entries.get(key)
        if entry is None:
            out.append({"key": key, "found": False, "text": None, "bibtex": None})
        else:
            out.append({"key": key, "found": True, "text": format_reference(entry), "bibtex": entry})
    return out


def entry_fields(entry: str) -> dict[str, str]:
    """The fields of one BibTeX entry text as plain strings (outer braces or quotes removed).

    The entry type and key come back as ``ENTRYTYPE`` and ``ID``; nested braces inside values are kept.
    """
    match = _HEAD.match(entry.strip())
    if match is None:
        raise DefdipError(f"not a BibTeX entry: {entry[:40]!r}")
    body = entry.strip()[match.end():]
    body = body[:-1] if body.endswith(("}", ")")) else body
    key, _, rest = body.partition(",")
    fields = {"ENTRYTYPE": match.group(1).lower(), "ID": key.strip()}
    i = 0
    while i < len(rest):
        m = re.compile(r"\s*([A-Za-z][\w-]*)\s*=\s*").match(rest, i)
        if m is None:
            break
        name, i = m.group(1).lower(), m.end()
        if i < len(rest) and rest[i] == "{":
            end = _closing(rest, i, "{")
            value, i = rest[i + 1:end], end + 1
        elif i < len(rest) and rest[i] == '"':
            end = rest.index('"', i + 1)
            value, i = rest[i + 1:end], end + 1
        else:
            end = rest.find(",", i)
            end = len(rest) if end < 0 else end
            value, i = rest[i:end].strip(), end
        fields[name] = value.strip()
        comma = rest.find(",", i)
        i = len(rest) if comma < 0 else comma + 1
    return fields


def _clean(text: str) -> str:
    """Plain text from a BibTeX value: URLs, emphasis, escapes, accents and braces removed."""
    text = re.sub(r"\\url\{([^}]*)\}", r"\1", text or "")
    text = re.sub(r"\\(?:emph|textit|textbf)\{([^}]*)\}", r"\1", text)
    text = text.replace("\\&", "&").replace("--", "–").replace("~", " ")
    text = re.sub(r"\\['`^\"~=.]\{?(\w)\}?", r"\1", text)
    return text.replace("{", "").replace("}", "").strip()


def _fields(entry: str) -> dict[str, str]:
    """An entry's fields with whitespace runs collapsed (values may span lines)."""
    return {k: re.sub(r"\s+", " ", v).strip() for k, v in entry_fields(entry).items()}


def format_reference(entry: str) -> str:
    """A plain author-year rendering of one BibTeX entry text, HTML-escaped (links as ``<a>``)."""
    h = html.escape
    f = {k: _clean(v) for k, v in _fields(entry).items()}
    authors = f.get("author") or f.get("editor") or f.get("organization") or f.get("institution") or ""
    names = [a.strip() for a in authors.split(" and ") if a.strip()]
    who = "; ".join(names[:6]) + (" et al." if len(names) > 6 else "")
    year = f.get("year") or (f.get("date", "")[:4])
    title = f.get("title", "")
    venue = f.get("journal") or f.get("booktitle") or f.get("publisher") or f.get("howpublished") or ""
    extra = []
    if f.get("volume"):
        extra.append(f["volume"] + (f"({f['number']})" if f.get("number") else ""))
    if f.get("pages"):
        extra.append(f"pp. {f['pages']}")
    if f.get("version"):
        extra.append(f"version {f['version']}")
    text = f"{h(who)} ({h(year)}). {h(title)}."
    if venue:
        text += f" <em>{h(venue)}</em>" + (", " + h(", ".join(extra)) if extra else "") + "."
    elif extra:
        text += " " + h(", ".join(extra)) + "."
    if f.get("note"):
        text += f" {h(f['note'])}."
    link = f"https://doi.org/{f['doi']}" if f.get("doi") else f.get("url", "")
    if link:
        text += f' <a href="{h(link)}" rel="external noopener">{h(link)}</a>'
    return text


def sort_key(key: str, entry: str | None = None) -> str:
    """What a bibliography sorts ``key`` by: its entry's first author (or editor, organisation or title),
    lower case; the key itself when there is no entry."""
    if not entry:
        return key.lower()
    f = _fields(entry)
    return _clean(f.get("author") or f.get("editor") or f.get("organization") or f.get("title") or key).lower()


def _unknown_key(key: str, known: Iterable[str]) -> DefdipError:
    close = difflib.get_close_matches(key, list(known), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return DefdipError(f"unknown citation key {key!r}{hint}")


def cite(keys: Iterable[str], extra_texts: Iterable[str] = ()) -> str:
    """BibTeX for ``keys`` (each once, in the order given); an unknown key raises DefdipError.

    A key resolves in ``references.bib`` or in ``extra_texts``: pass the datasets' BibTeX (a store's recorded
    entries, or :func:`defdip.present.export.dataset_texts`) so that every key a record or a layer shows can
    be cited.
    """
    bib = all_entries(extra_texts)
    out: list[str] = []
    seen: set[str] = set()
    for key in keys:
        key = str(key).strip()
        if key in seen:
            continue
        if key not in bib:
            raise _unknown_key(key, bib)
        seen.add(key)
        out.append(bib[key])
    return "\n\n".join(out) + ("\n" if out else "")


def unresolved_keys(keys: Iterable[str], extra_texts: Iterable[str] = ()) -> list[str]:
    """The keys (sorted, each once) that no entry defines: what `defdip cite` would refuse."""
    known = all_entries(extra_texts)
    return sorted({str(k).strip() for k in keys} - set(known))
