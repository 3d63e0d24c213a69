"""SIPRI Arms Transfers Database: the trade register of major conventional arms, 1950 onwards.

One engagement per deal (one row of the register), activity ``agreements``, instrument
``equipment_transfer``, id ``sipri-<12 hex digits>`` (a digest of the row's fields: the
export has no deal number, so the id is stable for as long as SIPRI does not edit the row).
Participants: the supplier (role ``supplier``) and the recipient (role ``recipient``).

Getting the file
    SIPRI publishes the register through a web form, not a fixed file:
    https://armstrade.sipri.org/armstrade/page/trade_register.php . Choose every supplier
    and recipient, the full year range and the CSV output; the form answers a POST with a
    file SIPRI names ``trade-register.csv``. Save it under that name in the source folder.
    (``defdip fetch`` downloads with GET only, so this source lists no automatic download.)
    SIPRI's terms limit reproduction to 10% of the database without permission: the
    register must never be committed into a repository.

    The loader also accepts ``sipri_trade_register_sample8pct.csv``, an 8% random sample of
    the export in the same layout (used by the development data folder and the tests); the
    official file wins when both are present.

Layout of the export, and how it is read
    * Windows-1252 text (UTF-8 is accepted too). SIPRI may put a few lines of title text
      above the header; the header is the first line naming ``Recipient`` and ``Supplier``.
    * Three header cells are blank: they hold SIPRI's uncertainty flag (``?`` = estimate)
      for the column to their left (year of order, number ordered, number delivered).
      pandas would name them `` ``, `` .1`` and `` .2``; they are found by position.
    * ``Year(s) of delivery`` is a ``;``-separated list of years.
    * Names carry SIPRI's suffixes: ``*`` marks a non-state actor (``Contras (Nicaragua)*``)
      and ``**`` an international organisation (``NATO**``); they are stripped before
      resolving and kept as ``Participant.attributes["sipri_actor_type"]``. "unknown
      supplier(s)" / "unknown recipient(s)" resolve to the registry's ``unknown`` polity.

Rows of the full register (about 29,000 deals), and how they are read
    * A line break inside a deal's Comments cell (written without quotes) splits the deal over two
      physical lines, each with fewer fields than the header: when a short row and the next one
      together have exactly the header's fields, the break is joined (the cell keeps the line break)
      and the deal is read from its first line; ``accounted["line breaks joined"]`` counts them.
    * The export has no deal number, and two deals may look identical (the same supplier, recipient,
      weapon, years and numbers, e.g. two orders of the same batch). Identical rows are kept, each as
      its own engagement: the first with the id of its digest, the n-th copy with ``-n`` appended;
      every copy carries ``attributes["identical_rows"]`` (how many rows of the file look the same)
      and ``attributes["copy"]``, and later copies ``attributes["identical_to_line"]``.
    * A supplier that did not exist in the year of order (a 1992 order from Czechia or Slovakia,
      delivered after the split of Czechoslovakia) is resolved in the first year of delivery, and
      that participant carries ``attributes["resolved_as_of"]``.

Dates
    ``start_year`` = year of order (``circa`` when SIPRI flags it ``?``); ``end_year`` = last
    year of delivery (None when nothing has been delivered). ``ongoing`` is true when SIPRI
    records fewer weapons delivered than ordered (deliveries still pending at export).
    A year of order that is not a whole year between 1900 and the present year (e.g. ``3.5``),
    an impossible delivery year (after the present year: deliveries are recorded once made), or
    a last delivery before the order, quarantines the row with the field and the reason.

Bad rows
    A row with more or fewer fields than the header that no line break explains (a truncated
    file) is quarantined. A deal whose
    supplier and recipient both fail to resolve is quarantined; one unresolved side is
    counted in the ``unresolved`` table and listed in ``attributes["unresolved"]``.
    Suppliers resolve in the year of order only; a recipient that did not exist yet (an
    order placed before its independence) is taken whatever the year, and that participant
    carries ``attributes["resolved_outside_existence"] = true``.

Attributes: weapon designation and description, numbers ordered / delivered (with their
estimate flags), delivery years, status (new / second hand ...), comments, SIPRI TIV per
unit, for the total order and of the weapons delivered (millions of TIV), and the line of
the file the deal was read from.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb

from defdip.core.errors import SourceFormatError
from defdip.core.model import Engagement
from defdip.ingest.sources.base import Check, IngestContext, LoadResult, Source, decode_text, missing_one_of
from defdip.store import checks

REGISTER_FILE = "trade-register.csv"
"""The official export, as SIPRI names it."""
SAMPLE_FILE = "sipri_trade_register_sample8pct.csv"
"""An 8% sample in the same layout (development data only)."""
REGISTER_FORM = "https://armstrade.sipri.org/armstrade/page/trade_register.php"

COLUMNS = {
    "recipient": "Recipient",
    "supplier": "Supplier",
    "year of order": "Year of order",
    "number ordered": "Number ordered",
    "weapon designation": "Weapon designation",
    "weapon description": "Weapon description",
    "number delivered": "Number delivered",
    "year(s) of delivery": "Year(s) of delivery",
    "status": "Status",
    "comments": "Comments",
    "sipri tiv per unit": "SIPRI TIV per unit",
    "sipri tiv for total order": "SIPRI TIV for total order",
    "sipri tiv of delivered weapons": "SIPRI TIV of delivered weapons",
}
"""Header cells (compared case-insensitively, spaces trimmed) and their canonical spelling."""

REQUIRED = ("Recipient", "Supplier", "Year of order", "Number ordered", "Weapon designation", "Weapon description",
            "Number delivered", "Year(s) of delivery")
FLAGGED = {"Year of order": "order_year_flag", "Number ordered": "ordered_flag", "Number delivered": "delivered_flag"}
"""Columns followed by a blank-named uncertainty-flag column."""

FIRST_YEAR = 1900


def last_year() -> int:
    """The present year: an order or a delivery after it is a typo (the register records what happened)."""
    return dt.date.today().year


def parse_year(text: str) -> tuple[int | None, bool]:
    """(year, estimated) from a cell such as '1964', '1964?'; (None, _) for anything else."""
    value = text.strip()
    estimated = value.endswith("?")
    value = value.rstrip("?").strip()
    if not re.fullmatch(r"\d{4}", value):
        return None, estimated
    year = int(value)
    if not FIRST_YEAR <= year <= last_year():
        return None, estimated
    return year, estimated


def parse_int(text: str) -> int | None:
    value = text.strip().rstrip("?").replace(",", "").strip()
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number == int(number) else None


def parse_float(text: str) -> float | None:
    value = text.strip().replace(",", "")
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def clean_name(name: str) -> tuple[str, str | None]:
    """SIPRI name without its suffix, and the actor type the suffix marks."""
    text = name.strip()
    kind = "organisation" if text.endswith("**") else "non_state" if text.endswith("*") else None
    return text.rstrip("*").strip(), kind


def read_register(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The canonical header and (line number, cells) of every data row.

    Raises SourceFormatError when the file is empty or has no header naming the
    required columns.
    """
    text = decode_text(path.read_bytes())  # SIPRI's own encoding is cp1252
    if not text.strip():
        raise SourceFormatError(f"{path.name}: the file is empty; expected a SIPRI trade register with columns "
                                f"{', '.join(REQUIRED)}")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, line_of, previous = [], [], 0
    for cells in reader:
        rows.append(cells)
        line_of.append(previous + 1)  # the physical line on which this row starts
        previous = reader.line_num
    header_at = None
    for i, cells in enumerate(rows[:60]):
        names = {c.strip().lower() for c in cells}
        if "recipient" in names and "supplier" in names:
            header_at = i
            break
    first = rows[header_at] if header_at is not None else next((r for r in rows if any(c.strip() for c in r)), [])
    header = []
    for cell in first:
        key = cell.strip().lower()
        header.append(COLUMNS.get(key, cell.strip()))
    missing = [c for c in REQUIRED if c not in header]
    if missing or header_at is None:
        raise SourceFormatError(f"{path.name}: header is missing column(s) {', '.join(missing or REQUIRED)}; "
                                f"found {', '.join(repr(c) for c in first[:12])}")
    # blank header cells after a flagged column are that column's flag
    for i, name in enumerate(header):
        if name in FLAGGED and i + 1 < len(header) and not header[i + 1].strip(". 0123456789"):
            header[i + 1] = FLAGGED[name]
    out = []
    for i in range(header_at + 1, len(rows)):
        cells = rows[i]
        if not any(c.strip() for c in cells):
            continue
        out.append((line_of[i], cells))
    return header, out


def join_broken_lines(rows: list[tuple[int, list[str]]], width: int) -> tuple[list[tuple[int, list[str]]], int]:
    """Rows with a line break inside a cell joined back into one deal; and how many breaks were joined.

    A row shorter than the header whose next row makes up exactly the missing fields (the two share the
    broken cell) is joined to it; any other short row is left as it is, for the caller to quarantine.
    """
    out, joined, i = [], 0, 0
    while i < len(rows):
        line, cells = rows[i]
        cells, j = list(cells), i + 1
        while len(cells) < width and j < len(rows) and len(cells) + len(rows[j][1]) - 1 <= width:
            rest = rows[j][1]
            cells = cells[:-1] + [f"{cells[-1]}\n{rest[0]}" if cells else rest[0]] + rest[1:]
            j += 1
        if len(cells) == width and j > i + 1:
            out.append((line, cells))
            joined += j - i - 1
            i = j
        else:
            out.append(rows[i])
            i += 1
    return out, joined


class SIPRIArmsTransfers(Source):
    id = "sipri"
    title = "SIPRI Arms Transfers Database: trade register"
    folder = "sipri_arms_transfers"
    version = "register export 2024 (data through 2023)"
    files = (REGISTER_FILE,)
    downloads = ()
    homepage = "https://www.sipri.org/databases/armstransfers"
    terms = ("Free to use with attribution to SIPRI for research and analysis; reproducing more than 10% of the "
             "database needs SIPRI's written permission, so the register is never redistributed: download it "
             f"yourself from the trade-register form ({REGISTER_FORM}, a form POST with CSV output) and save it "
             f"as {REGISTER_FILE} in the source folder.")
    adds = ("Deals for major conventional weapons since 1950: supplier, recipient (states, organisations and "
            "non-state actors), weapon, numbers, order and delivery years and trend-indicator values.")
    citation = ("Stockholm International Peace Research Institute (SIPRI). SIPRI Arms Transfers Database, "
                "trade register. Stockholm: SIPRI. https://www.sipri.org/databases/armstransfers")
    bibtex = """@misc{sipri_arms_transfers,
  author       = {{Stockholm International Peace Research Institute}},
  title        = {{SIPRI} Arms Transfers Database},
  howpublished = {Trade register, \\url{https://www.sipri.org/databases/armstransfers}},
  publisher    = {SIPRI},
  address      = {Stockholm},
  year         = {2024},
  note         = {Register of transfers of major conventional weapons from 1950; data through 2023}
}"""
    citation_keys = ("sipri_arms_transfers",)
    coverage = (1950, 2023)
    min_rows = 2000
    """The 8% development sample has 2,325 deals, the full register about 29,000."""

    def missing_files(self, folder: Path) -> list[str]:
        return missing_one_of(folder, REGISTER_FILE, SAMPLE_FILE)

    def register_path(self, folder: Path) -> Path:
        folder = Path(folder)
        official = folder / REGISTER_FILE
        return official if official.is_file() else folder / SAMPLE_FILE

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        path = self.register_path(folder)
        header, rows = read_register(path)
        result = LoadResult(rows_read=len(rows))
        deals, joined = join_broken_lines(rows, len(header))
        keys = [tuple(c.strip() for c in cells) for _, cells in deals]
        copies = Counter(keys)
        seen: dict[tuple[str, ...], list[int]] = {}
        for (line, cells), key in zip(deals, keys):
            if len(cells) != len(header):
                ctx.reject(path.name, line, header[min(len(cells), len(header)) - 1] if cells else "",
                           ",".join(cells)[:80],
                           f"row has {len(cells)} fields, the header {len(header)} (truncated or malformed row)")
                continue
            lines = seen.setdefault(key, [])
            lines.append(line)
            row = dict(zip(header, (c.strip() for c in cells)))
            eng = self._engagement(row, line, path.name, ctx, copy=len(lines), copies=copies[key],
                                   first_line=lines[0])
            if eng is not None:
                result.engagements.append(eng)
        result.accounted = {"kept": len(result.engagements)}
        if joined:
            result.accounted["line breaks joined"] = joined
        return result

    def checks(self, con: duckdb.DuckDBPyConnection) -> list[Check]:
        """Deals in the file (rows less joined line breaks) against deals stored plus quarantined."""
        figures = checks.ingest_figures(con, self.id)
        if figures is None:
            return []
        rows_read, accounted = figures
        deals = rows_read - accounted.get("line breaks joined", 0)
        stored = checks.records_of_source(con, self.id)
        rejected = len(checks.quarantined_rows(con, self.id))
        sample = "the 8% development sample; " if checks.records_from_file(con, self.id, SAMPLE_FILE) else ""
        return [Check(self.id, "deals in the register vs deals stored", deals, stored, stored == deals - rejected,
                      note=f"{sample}{rejected:,} quarantined; identical-looking deals kept apart")]

    def _engagement(self, row: dict[str, str], line: int, file: str, ctx: IngestContext, *, copy: int = 1,
                    copies: int = 1, first_line: int | None = None) -> Engagement | None:
        supplier_raw, recipient_raw = row["Supplier"], row["Recipient"]
        for field, cell in (("Supplier", supplier_raw), ("Recipient", recipient_raw)):
            if not cell:
                ctx.reject(file, line, field, "", f"deal without a {field.lower()}")
                return None
        year, order_flag = parse_year(row["Year of order"])
        order_flag = order_flag or row.get("order_year_flag", "") == "?"
        if year is None:
            ctx.reject(file, line, "Year of order", row["Year of order"],
                       f"impossible year of order {row['Year of order']!r}: expected a whole year between "
                       f"{FIRST_YEAR} and {last_year()}")
            return None
        deliveries: list[int] = []
        for token in re.split(r"[;,]", row["Year(s) of delivery"]):
            if not token.strip():
                continue
            value, _ = parse_year(token)
            if value is None:
                ctx.reject(file, line, "Year(s) of delivery", row["Year(s) of delivery"],
                           f"impossible delivery year {token.strip()!r}: expected whole years between {FIRST_YEAR} "
                           f"and {last_year()}")
                return None
            deliveries.append(value)
        deliveries = sorted(set(deliveries))
        if deliveries and deliveries[-1] < year:
            ctx.reject(file, line, "Year(s) of delivery", row["Year(s) of delivery"],
                       f"last delivery ({deliveries[-1]}) is before the year of order ({year})")
            return None

        participants, unresolved = [], []
        for role, raw in (("supplier", supplier_raw), ("recipient", recipient_raw)):
            name, actor_type = clean_name(raw)
            # an order may precede the recipient's independence (placed for it by the colonial power
            # or a movement that became the state): the recipient is taken whatever the year
            as_of = year
            if (role == "supplier" and deliveries and ctx.registry.try_resolve(name, year) is None
                    and ctx.registry.try_resolve(name, deliveries[0]) is not None):
                as_of = deliveries[0]  # a supplier born between order and delivery (Czechia, 1992 -> 1993)
            polity = ctx.resolve(name, as_of, strict=role != "recipient")
            if polity is None:
                unresolved.append(f"{role}: {name}")
                continue
            attrs: dict[str, Any] = {"sipri_actor_type": actor_type} if actor_type else {}
            if as_of != year:
                attrs["resolved_as_of"] = as_of
            if not polity.existed(as_of):
                attrs["resolved_outside_existence"] = True
            participants.append({"id": polity.id, "name": name, "role": role, "ccode": polity.ccode,
                                 "attributes": attrs})
        if not participants:
            ctx.reject(file, line, "Supplier+Recipient", f"{supplier_raw} / {recipient_raw}",
                       f"neither supplier {supplier_raw!r} nor recipient {recipient_raw!r} resolves to a known polity")
            return None

        ordered, delivered = parse_int(row["Number ordered"]), parse_int(row["Number delivered"])
        digest = hashlib.sha1("\x1f".join(f"{k}={v}" for k, v in sorted(row.items())).encode("utf-8")).hexdigest()[:12]
        if copy > 1:
            digest = f"{digest}-{copy}"
        supplier, _ = clean_name(supplier_raw)
        recipient, _ = clean_name(recipient_raw)
        weapon = row["Weapon designation"] or "weapons"
        what = f"{ordered} {weapon}" if ordered is not None else weapon
        desc = f" ({row['Weapon description']})" if row["Weapon description"] else ""
        attributes: dict[str, Any] = {
            "weapon_designation": row["Weapon designation"] or None,
            "weapon_description": row["Weapon description"] or None,
            "number_ordered": ordered,
            "number_ordered_estimated": row.get("ordered_flag", "") == "?",
            "number_delivered": delivered,
            "number_delivered_estimated": row.get("delivered_flag", "") == "?",
            "delivery_years": deliveries,
            "status": row.get("Status") or None,
            "comments": row.get("Comments") or None,
            "tiv_per_unit": parse_float(row.get("SIPRI TIV per unit", "")),
            "tiv_total_order": parse_float(row.get("SIPRI TIV for total order", "")),
            "tiv_delivered": parse_float(row.get("SIPRI TIV of delivered weapons", "")),
            "order_year_estimated": order_flag,
            "file": file,
            "line": line,
        }
        if unresolved:
            attributes["unresolved"] = unresolved
        if copies > 1:
            attributes.update({"identical_rows": copies, "copy": copy})
            if copy > 1:
                attributes["identical_to_line"] = first_line
        data = {
            "id": f"sipri-{digest}",
            "title": f"{supplier} to {recipient}: {what}{desc}",
            "summary": (f"Ordered {'c. ' if order_flag else ''}{year}"
                        + (f"; delivered {deliveries[0]}" + (f"-{deliveries[-1]}" if len(deliveries) > 1 else "")
                           if deliveries else "; no deliveries recorded")
                        + (f". {row['Comments']}" if row.get("Comments") else "")),
            "activity": "agreements",
            "instrument": "equipment_transfer",
            "start_year": year,
            "end_year": deliveries[-1] if deliveries else None,
            "precision": "year",
            "circa": order_flag,
            "ongoing": ordered is not None and (delivered or 0) < ordered,
            "participants": participants,
            "attributes": attributes,
            "provenance": [self.provenance(digest)],
        }
        return ctx.engagement(data, file, line)


SOURCES = [SIPRIArmsTransfers()]
