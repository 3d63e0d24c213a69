"""Defence attaché postings a researcher compiles, read from the documented CSV template.

No dataset of attaché postings exists: appointments, accreditations and expulsions appear only in
gazettes, diplomatic lists, memoirs and news. This source lets a researcher keep their own list in
``data/templates/attache_postings.csv``'s format (documented in ``docs/attaches.md``) and build it into
the store like any dataset. Folder ``attache_postings/`` in the sources folder; every ``*.csv`` in it is
read (in name order), with any ``*.bib`` beside them for the citations.

Columns (header names, any case): ``sending_state``, ``receiving_state``, ``service`` (defence, army,
navy, air, joint), ``rank`` (free text, may be blank), ``post`` (defence attaché, military attaché, naval
attaché, air attaché, defence adviser; accents, case and the US spelling "defense" do not matter),
``accredited_from`` (further states covered from the post, ``;``-separated, may be blank),
``start_date`` and ``end_date`` (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; a blank end is not known,
``ongoing`` a posting still held), ``source`` and ``note``.

States are given by name, COW code (digits) or ISO3 code (three capital letters; COW's letter codes
are not read, since some spell another state's ISO3 code: AUS is Austria in COW, Australia in ISO3),
each resolved through the registry in the posting's start year.

One engagement per posting: activity ``attaches``, instrument ``posting``, id
``attache_postings-<file>-<line>``; participants the sending state (``sender``), the receiving state
(``receiver``, attribute ``accreditation: resident``) and each accredited-from state (``receiver``,
``accreditation: non-resident``). Service, post, rank and note are attributes.

Citations: ``source`` is a BibTeX key (defined in a ``*.bib`` beside the CSV or in defdip's own
bibliography), a URL, or free text (an archive reference, a gazette issue). A URL or free text becomes a
``@misc`` entry with a stable key (``attache_ref_`` and a hash of the text). Every reference is kept in
the ``attache_references`` table (key, BibTeX, file), the posting's ``attributes["citation"]`` and its
provenance citations; the entries that are not defdip's own go into the store's ``sources`` row, so
exports' ``CITATION.bib`` and ``defdip validate`` resolve every posting's key.

Bad rows are quarantined with file, line, field and reason: a wrong field count, a blank required
cell, an unknown service or post, a state that does not resolve (or did not exist in the start year),
the sending state as receiver or in ``accredited_from``, a state listed twice, a date that is not one
of the three forms, a year outside 1800 to the present, an end before the start, a missing source, a
key-like source that no ``.bib`` defines, and exact duplicate rows. Two CSV files whose names give the same
ids (``my list.csv``, ``my-list.csv``) are refused.

Reference table ``attache_postings``: one row per kept posting and receiving state -- ``engagement_id``,
``sender_ccode``, ``receiver_ccode``, ``sender_id``, ``receiver_id``, ``resident``, ``service``, ``post``,
``start_year``, ``end_year`` (null: not known or ongoing), ``ongoing``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd

from defdip.core.actors import Polity
from defdip.core.citations import bibliography
from defdip.core.dates import check_month_day, present_year, sort_key
from defdip.core.errors import SourceFormatError
from defdip.core.model import Engagement
from defdip.ingest.genealogy import bibliography_beside
from defdip.ingest.sources.base import (
    Check,
    IngestContext,
    LoadResult,
    Source,
    as_text,
    frame_records,
    iso,
    precision_of,
    quarantine_duplicates,
    quarantine_short_rows,
    read_csv_checked,
    slug,
)
from defdip.store import checks

FOLDER = "attache_postings"
COLUMNS = ("sending_state", "receiving_state", "service", "rank", "post", "accredited_from", "start_date",
           "end_date", "source", "note")
"""The template's header, in its order."""

REQUIRED = ("sending_state", "receiving_state", "service", "post", "start_date", "source")
"""Cells a posting cannot do without."""

SERVICES = ("defence", "army", "navy", "air", "joint")

POSTS = {
    "defence attache": "defence_attache",
    "military attache": "military_attache",
    "naval attache": "naval_attache",
    "air attache": "air_attache",
    "defence adviser": "defence_adviser",
}
"""Post titles (folded: lowercase, no accents, British spelling) and the id each is stored as."""

POST_LABELS = {pid: text.replace("attache", "attaché") for text, pid in POSTS.items()}

FIRST_YEAR = 1800
"""Permanent service attachés are a nineteenth-century office; older envoys belong in the genealogy."""

ONGOING = "ongoing"
KEY_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9_:.\-]*")
DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")

TEMPLATE_BIB = """@misc{defdip_attache_postings,
  author       = {{defdip}},
  title        = {Defence attach{\\'e} postings compiled by the user in the defdip template},
  howpublished = {CSV files in the \\texttt{attache_postings} sources folder, in the format of
                  \\texttt{defdip/data/templates/attache_postings.csv}},
  note         = {Each posting cites its own source; see the store's attache\\_references table}
}"""


def fold(text: str) -> str:
    """Lowercase, accents removed, spaces collapsed, US 'defense' as 'defence': how titles are compared."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(plain.lower().replace("defense", "defence").split())


def parse_date(text: str) -> tuple[int, int | None, int | None] | None:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as (year, month, day); None when it is none of them."""
    match = DATE.fullmatch(text)
    if match is None:
        return None
    year = int(match.group(1))
    month, day = (int(g) if g else None for g in match.groups()[1:])
    try:
        check_month_day(year, month, day)
    except ValueError:
        return None
    return year, month, day


def reference_key(text: str) -> str:
    """A stable citation key for a URL or free-text source (the same text always gives the same key)."""
    return "attache_ref_" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def misc_entry(key: str, text: str) -> str:
    """A ``@misc`` BibTeX entry for a URL or free-text source, braces and backslashes neutralised."""
    safe = text.replace("\\", "/").replace("{", "(").replace("}", ")")
    field = f"  url          = {{{safe}}}" if re.match(r"https?://", safe) else f"  howpublished = {{{safe}}}"
    return f"@misc{{{key},\n  title        = {{Source of a defence attach{{\\'e}} posting}},\n{field}\n}}"


class AttachePostings(Source):
    id = "attache_postings"
    title = "Defence attaché postings (the researcher's own list, defdip template)"
    folder = FOLDER
    version = "template 1"
    files = ("*.csv",)
    downloads = ()
    homepage = "https://legal.un.org/ilc/texts/instruments/english/conventions/9_1_1961.pdf"
    """The list has no home of its own; this is the text that defines the posts it records (VCDR art. 7)."""
    terms = ("No official download (a manual source): no dataset of attaché postings exists. The researcher "
             "compiles the list in defdip's template (docs/attaches.md) and each posting cites its own source, "
             "under that source's terms. The homepage is the Vienna Convention on Diplomatic Relations, whose "
             "article 7 defines the service attaché posts the list records.")
    adds = ("Defence, military, naval and air attachés and defence advisers posted by one state to another, with "
            "the further states each covers from the post, as attaches engagements dated to the day where known.")
    citation = ("Defence attaché postings compiled by the user in the defdip template; each posting cites its own "
                "source.")
    bibtex = TEMPLATE_BIB
    citation_keys = ("defdip_attache_postings",)
    coverage = (FIRST_YEAR, None)
    """Postings from 1800 (the first permanent military attachés) to the present; other years are quarantined."""
    min_rows = 1
    """A researcher's list may be short, but a header-only file holds no postings and fails the build."""

    def missing_files(self, folder: Path) -> list[str]:
        return [] if any(Path(folder).glob("*.csv")) else ["*.csv (attaché postings in the template's format)"]

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        folder = Path(folder)
        own = bibliography_beside(folder)
        bib = {**bibliography(), **own}
        bundled = set(bib) - set(own)  # a key the researcher redefines beside the CSV is theirs, not defdip's
        result = LoadResult()
        references: dict[str, dict[str, str]] = {}
        rows: list[dict[str, Any]] = []
        paths = sorted(folder.glob("*.csv"))
        stems = [slug(p.stem) for p in paths]
        clash = next((p for p, stem in zip(paths, stems) if stems.count(stem) > 1), None)
        if clash is not None:
            raise SourceFormatError(f"{clash.name}: another CSV in {folder} gives the same record ids "
                                    f"(attache_postings-{slug(clash.stem)}-<line>); rename one of them")
        for path in paths:
            frame = read_csv_checked(path, COLUMNS, lowercase=True, dtype=str, keep_default_na=False)
            result.rows_read += len(frame)
            frame = quarantine_short_rows(frame, path, ctx)
            frame = quarantine_duplicates(frame, list(COLUMNS), path.name, ctx, show=["sending_state", "start_date"])
            for idx, row in zip(frame.index, frame_records(frame[list(COLUMNS)])):
                line = int(idx) + 2
                posting = self.posting(row, path.name, line, ctx, bib)
                if posting is None:
                    continue
                eng, key, entry, table_rows = posting
                references.setdefault(key, {"key": key, "bibtex": entry, "file": path.name})
                result.engagements.append(eng)
                rows += table_rows
        result.accounted = {"kept": len(result.engagements)}
        result.tables["attache_postings"] = pd.DataFrame(rows, columns=[
            "engagement_id", "sender_ccode", "receiver_ccode", "sender_id", "receiver_id", "resident", "service",
            "post", "start_year", "end_year", "ongoing"]).astype({"sender_ccode": "Int64", "receiver_ccode": "Int64",
                                                                  "start_year": "Int64", "end_year": "Int64"})
        result.tables["attache_references"] = pd.DataFrame(list(references.values()),
                                                           columns=["key", "bibtex", "file"])
        result.bibtex = "\n\n".join(r["bibtex"].strip() for r in references.values()
                                     if r["bibtex"] and r["key"] not in bundled)
        return result

    def posting(self, row: dict[str, Any], file: str, line: int, ctx: IngestContext,
                bib: dict[str, str]) -> tuple[Engagement, str, str, list[dict[str, Any]]] | None:
        """One row as (engagement, citation key, its BibTeX, table rows); None when it is quarantined."""
        cells = {c: as_text(row[c]) or "" for c in COLUMNS}
        for col in REQUIRED:
            if not cells[col]:
                ctx.reject(file, line, col, "", f"{col} is blank (a posting needs it)")
                return None
        service = fold(cells["service"])
        if service not in SERVICES:
            ctx.reject(file, line, "service", cells["service"],
                       f"unknown service; expected one of {', '.join(SERVICES)}")
            return None
        post = POSTS.get(fold(cells["post"]))
        if post is None:
            ctx.reject(file, line, "post", cells["post"],
                       f"unknown post; expected one of {', '.join(POST_LABELS.values())}")
            return None

        dates = self.dates(cells, file, line, ctx)
        if dates is None:
            return None
        start, end, ongoing = dates
        year = start[0]

        sender = self.state(cells["sending_state"], year, file, line, "sending_state", ctx)
        if sender is None:
            return None
        receivers: list[tuple[Polity, bool, str]] = []
        receiver = self.state(cells["receiving_state"], year, file, line, "receiving_state", ctx)
        if receiver is None:
            return None
        receivers.append((receiver, True, "receiving_state"))
        for name in (n.strip() for n in cells["accredited_from"].split(";")):
            if not name:
                continue
            polity = self.state(name, year, file, line, "accredited_from", ctx)
            if polity is None:
                return None
            receivers.append((polity, False, "accredited_from"))
        seen: dict[str, str] = {sender.id: "sending_state"}
        for polity, _, col in receivers:
            if polity.id in seen:
                what = "the sending state" if seen[polity.id] == "sending_state" else "already a receiving state"
                ctx.reject(file, line, col, polity.name, f"{polity.name} is {what}: a posting is to another state")
                return None
            seen[polity.id] = col

        source = cells["source"]
        key, entry = self.reference(source, bib)
        if entry is None:
            ctx.reject(file, line, "source", source, "looks like a citation key, but no .bib beside the CSV (nor "
                       "defdip's bibliography) defines it; add the entry or give a URL or a description")
            return None

        eid = f"{self.id}-{slug(Path(file).stem)}-{line:04d}"
        label = POST_LABELS[post]
        covered = [p.name for p, resident, _ in receivers if not resident]
        participants: list[dict[str, Any]] = [
            {"id": sender.id, "name": sender.name, "role": "sender", "ccode": sender.ccode}]
        participants += [{"id": p.id, "name": p.name, "role": "receiver", "ccode": p.ccode,
                          "attributes": {"accreditation": "resident" if resident else "non-resident"}}
                         for p, resident, _ in receivers]
        attributes: dict[str, Any] = {"service": service, "post": post, "rank": cells["rank"] or None,
                                      "citation": key, "source_text": source, "file": file}
        if covered:
            attributes["accredited_from"] = [p.id for p, resident, _ in receivers if not resident]
        if cells["note"]:
            attributes["note"] = cells["note"]
        span = f"{iso(*start)} to {iso(*end)}" if end else f"from {iso(*start)}" + (" (ongoing)" if ongoing else "")
        also = f", also accredited to {', '.join(covered)}" if covered else ""
        data = {
            "id": eid,
            "title": f"{sender.name} {label} in {receiver.name}",
            "summary": f"{sender.name} posts {'an' if label[0] in 'aeiou' else 'a'} {label}"
                       + (f" ({cells['rank']})" if cells["rank"] else "")
                       + f" to {receiver.name}{also}, {span}.",
            "activity": "attaches", "instrument": "posting",
            "start_year": start[0], "start_month": start[1], "start_day": start[2],
            "end_year": end[0] if end else None, "end_month": end[1] if end else None,
            "end_day": end[2] if end else None, "precision": precision_of(start[1], start[2]), "ongoing": ongoing,
            "participants": participants, "attributes": attributes,
            "provenance": [{**self.provenance(f"{file}:{line}"),
                            "citations": [*self.citation_keys, key]}],
        }
        eng = ctx.engagement(data, file, line)
        if eng is None:
            return None
        table = [{"engagement_id": eid, "sender_ccode": sender.ccode, "receiver_ccode": p.ccode,
                  "sender_id": sender.id, "receiver_id": p.id, "resident": resident, "service": service,
                  "post": post, "start_year": start[0], "end_year": end[0] if end else None, "ongoing": ongoing}
                 for p, resident, _ in receivers]
        return eng, key, entry, table

    def dates(self, cells: dict[str, str], file: str, line: int, ctx: IngestContext
              ) -> tuple[tuple[int, int | None, int | None], tuple[int, int | None, int | None] | None, bool] | None:
        """(start, end or None, ongoing), with each bad date quarantined naming its column."""
        start = self.date(cells, "start_date", file, line, ctx)
        if start is None:
            return None
        ongoing = cells["end_date"].lower() == ONGOING
        if not cells["end_date"] or ongoing:
            return start, None, ongoing
        end = self.date(cells, "end_date", file, line, ctx)
        if end is None:
            return None
        # compared at the precision both share: a posting from 14 May to "May" does not run backwards
        months = start[1] is not None and end[1] is not None
        days = months and start[2] is not None and end[2] is not None

        def key(d: tuple[int, int | None, int | None]) -> tuple[int, int, int]:
            return sort_key(d[0], d[1] if months else None, d[2] if days else None)

        if key(end) < key(start):
            ctx.reject(file, line, "end_date", cells["end_date"],
                       f"ends ({cells['end_date']}) before it starts ({cells['start_date']})")
            return None
        return start, end, False

    def date(self, cells: dict[str, str], col: str, file: str, line: int, ctx: IngestContext
             ) -> tuple[int, int | None, int | None] | None:
        """One date cell within 1800 to the present year; otherwise the row is quarantined naming ``col``."""
        text = cells[col]
        value = parse_date(text)
        last = present_year()
        if value is None:
            ctx.reject(file, line, col, text, "not a date: expected YYYY, YYYY-MM or YYYY-MM-DD"
                       + (" (or 'ongoing')" if col == "end_date" else ""))
            return None
        if not FIRST_YEAR <= value[0] <= last:
            ctx.reject(file, line, col, text, f"impossible year {value[0]}: expected {FIRST_YEAR} to {last}")
            return None
        return value

    def state(self, text: str, year: int, file: str, line: int, col: str, ctx: IngestContext) -> Polity | None:
        """A state by name, COW code or ISO3 code in ``year``; a miss is quarantined (and counted)."""
        if text.isdigit():
            polity = ctx.resolve_code("ccode", text, year)
        elif re.fullmatch(r"[A-Z]{3}", text):
            polity = ctx.resolve_code("iso3", text, year)
        else:
            polity = ctx.resolve(text, year)
        if polity is None:
            ctx.reject(file, line, col, text, f"unknown state, or no state of that name or code existed in {year}")
        return polity

    def reference(self, source: str, bib: dict[str, str]) -> tuple[str, str | None]:
        """The citation key and BibTeX of a ``source`` cell; a key-like cell no .bib defines has no entry."""
        if source in bib:
            return source, bib[source]
        if KEY_LIKE.fullmatch(source):  # (a URL never matches: it has slashes)
            return source, None
        key = reference_key(source)
        return key, misc_entry(key, source)

    def checks(self, con: Any) -> list[Check]:
        """Every posting's citation has its BibTeX in the store; the table has a row per receiving state."""
        missing, pairs, rows = checks.attache_figures(con)
        return [
            Check(self.id, "every posting's citation is in attache_references", 0, int(missing), missing == 0,
                  kind="invariant"),
            Check(self.id, "attache_postings rows = receiving states of the postings", int(pairs), int(rows),
                  pairs == rows),
        ]


SOURCES = [AttachePostings()]
