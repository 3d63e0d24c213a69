"""DCAD 1.0: the Defense Cooperation Agreement Dataset (Kinne 2020), agreements signed 1980-2010.

One engagement per row of ``DCAD-v1.0-main.csv`` (1,871 rows, 1,869 kept), activity
``agreements``, instrument ``defence_cooperation_agreement``, id ``dcad-<DCAid>``
(e.g. ``dcad-DCADv1.0-0001``). The two signatories (``ccode1``, ``ccode2``) are the
participants, role ``signatory``, resolved by COW code in the year of signature or,
when the state did not exist yet (Czech Republic 316 for 1991-92 agreements of
Czechoslovakia, Brunei before 1984), in the first year of the agreement's life in
which it did (``Participant.attributes["resolved_as_of"]``).

Dates and codes:

* start = signature date (``signYear/signMonth/signDay``); DCAD marks unknown or
  inapplicable values with blanks or negative codes (-44, -55, -66, -77, -88, -99, ...),
  which all become None. An impossible month or day is dropped to the precision that
  is still valid and noted in ``attributes["date_notes"]``; a row without a usable
  signature year or DCAid is quarantined.
* end_year = ``endYearEstimate``. DCAD right-censors at 2010: an agreement still in
  force at the end of the data has ``endYearEstimate == 2010``, so
  ``attributes["in_force_2010"]`` is true when ``endYearEstimate >= 2010`` and the
  agreement is not coded as terminated (``terminated != 1``). Such an agreement is
  ``ongoing`` with no end year: right-censored at 2010, not ended then (the estimate
  stays in ``attributes["end_year_estimate"]``; the ``dca_*`` panel layers stop at 2010,
  where the data end). The end is a year only (an agreement signed and ended in the same
  year has ``end_year == start_year``).
* Entry into force (``EIF*``) is kept in the attributes as an ISO date (it is missing
  for many agreements and may fall after 2010).

Sub-activities from the sector categories (``category1..3``, kept lowercased in
``attributes["categories"]``): ``trex`` (training and exercises) and ``training`` give
``education_training``; ``peacekeeping`` / ``pko`` give ``peacekeeping`` (no such
category in v1.0, kept for later versions). DCA, DIC (defence-industrial cooperation),
PROCUREMENT, RESEARCH and COMMISSION add no sub-activity.

Codes against names (each signatory has a COW code and a COW abbreviation, ``cowName1/2``):

* the abbreviation is resolved in the year of signature (DCAD writes ``GER`` for unified Germany, COW's
  ``GMY``; other variants such as ``KOR`` and ``FRG`` the registry knows). A name that does not resolve
  cannot be checked and the code stands.
* Code and name naming different states: the name wins when it names a state that existed in the
  signature year, because the number is the field a slip turns into a neighbour's code (record 0108:
  652 Syria for EGY 651, an agreement between the United States and Egypt) or into a copy of the
  other signatory's code (0297: 145 Bolivia twice, the second named VEN: the 2006 Bolivia-Venezuela
  agreement), whereas the abbreviation is the coder's reading of the treaty. The correction is kept in
  ``attributes["code_corrections"]`` and in the table's codes. When the name's state did not exist
  that year neither field can be trusted and the row is quarantined.
* Two signatories that are the same state after this check (1625 Mozambique-Mozambique, 1847
  India-India: code and name agree, so the partner is unknown) are quarantined: a bilateral record
  never lists one state twice.

Years are bounded by DCAD's coverage: a signature year outside 1980-2010, or an entry-into-force or
estimated end year before 1980 or after the present year (e.g. a mistyped 99999) quarantines the row
with its field and reason; such a value never reaches the data.

Reference table ``dcad_agreement``: one row per kept agreement with ``dcaid``,
``ccode1``, ``ccode2``, ``sign_year``, ``sign_month``, ``sign_day``, ``eif_year``,
``end_year_estimate``, ``terminated`` (1, 0 or null for DCAD's -88/-99), ``in_force_2010``,
``type`` (general / sector), ``general`` (1 for framework DCAs), ``categories``
(";"-joined lowercase list), one 0/1 column per category (``cat_dca``, ``cat_dic``,
``cat_trex``, ``cat_procurement``, ``cat_research``, ``cat_commission``) and
``asymmetry`` (DCAD's 0/1/2 code). Dyads are undirected: ``ccode1`` and ``ccode2``
are as DCAD lists them. Panels derive dca_general / dca_sector / dca_any layers from it
(an agreement counts in the years from ``sign_year`` to ``end_year_estimate``).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from defdip.core.actors import Polity
from defdip.core.model import Engagement
from defdip.ingest.sources.base import (
    Check,
    Download,
    IngestContext,
    LoadResult,
    Source,
    as_int,
    as_text,
    frame_records,
    iso,
    precision_of,
    quarantine_duplicates,
    read_csv_checked,
    read_date,
    resolve_in_spell,
)
from defdip.store import checks

MAIN_FILE = "DCAD-v1.0-main.csv"

REQUIRED = ("ccode1", "ccode2", "signday", "signmonth", "signyear", "eifday", "eifmonth", "eifyear", "type",
            "category1", "category2", "category3", "terminated", "endyearestimate", "asymmetry", "dcaid")
"""Header columns the loader needs (compared case-insensitively)."""

CATEGORIES = ("dca", "dic", "trex", "procurement", "research", "commission")

SUB_ACTIVITIES = {"trex": "education_training", "training": "education_training",
                  "peacekeeping": "peacekeeping", "pko": "peacekeeping"}

FIRST_YEAR = 1980
END_OF_DATA = 2010

FILE_ROWS = 1871
"""Agreements in the released ``DCAD-v1.0-main.csv``. Kinne (2020) reports 1,872; the codebook does not say
which agreement the released file lacks, so the parity check compares with the file."""

NAME_VARIANTS = {"GER": "GMY"}
"""DCAD's abbreviations that are not COW's (DCAD writes GER for unified Germany, COW 255 GMY)."""


def code(value: Any) -> int | None:
    """An integer, with DCAD's negative missing-value codes and blanks as None."""
    number = as_int(value)
    return number if number is not None and number >= 0 else None


class DCAD(Source):
    id = "dcad"
    title = "Defense Cooperation Agreement Dataset (DCAD) 1.0"
    folder = "dcad_v1.0"
    version = "1.0"
    files = (MAIN_FILE,)
    downloads = (
        Download(
            url="https://correlatesofwar.org/wp-content/uploads/kinne_dca.zip",
            filename="kinne_dca.zip",
            sha256=None,
            members=(MAIN_FILE, "DCAD-v1.0-dyadic.csv"),
        ),
    )
    homepage = "https://correlatesofwar.org/data-sets/defense-cooperation-agreement-dataset/"
    terms = "Free for research use with citation of Kinne (2020)."
    adds = ("Bilateral framework and sector defence cooperation agreements signed 1980-2010, with sectors, "
            "entry into force and estimated end, for dca_general / dca_sector / dca_any panel layers.")
    citation = ("Kinne, Brandon J. 2020. \"The Defense Cooperation Agreement Dataset (DCAD).\" "
                "Journal of Conflict Resolution 64(4): 729-755.")
    bibtex = """@article{kinne_dcad_2020,
  author  = {Kinne, Brandon J.},
  title   = {The Defense Cooperation Agreement Dataset ({DCAD})},
  journal = {Journal of Conflict Resolution},
  year    = {2020},
  volume  = {64},
  number  = {4},
  pages   = {729--755},
  doi     = {10.1177/0022002719857796}
}"""
    citation_keys = ("kinne_dcad_2020",)
    coverage = (FIRST_YEAR, END_OF_DATA)
    min_rows = 1500

    def checks(self, con: duckdb.DuckDBPyConnection) -> list[Check]:
        """Rows in the file against the released file's count; no agreement of one state with itself."""
        out = []
        read = checks.rows_read(con, self.id)
        if read is not None:
            out.append(Check(self.id, "agreements in DCAD-v1.0-main.csv", FILE_ROWS, read, read == FILE_ROWS,
                             note="Kinne (2020) reports 1,872 agreements; the released file has 1,871 rows"))
        selves = checks.dcad_self_dyads(con)
        if selves is not None:
            out.append(Check(self.id, "no bilateral self-dyads in dcad_agreement", 0, len(selves), not selves,
                             kind="invariant", note=", ".join(selves[:5])))
        return out

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        frame = read_csv_checked(Path(folder) / MAIN_FILE, REQUIRED, lowercase=True)
        result = LoadResult(rows_read=len(frame))
        frame = quarantine_duplicates(frame, ["dcaid"], MAIN_FILE, ctx)
        rows: list[dict[str, Any]] = []
        for idx, row in zip(frame.index, frame_records(frame)):
            eng, table_row = self._engagement(row, int(idx) + 2, ctx)
            if eng is not None and table_row is not None:
                result.engagements.append(eng)
                rows.append(table_row)
        result.tables = {"dcad_agreement": self._table(rows)}
        result.accounted = {"kept": len(result.engagements)}
        return result

    @staticmethod
    def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
        columns = ["dcaid", "ccode1", "ccode2", "sign_year", "sign_month", "sign_day", "eif_year",
                   "end_year_estimate", "terminated", "in_force_2010", "type", "general", "categories",
                   *[f"cat_{c}" for c in CATEGORIES], "asymmetry"]
        table = pd.DataFrame(rows, columns=columns)
        for col in ("ccode1", "ccode2", "sign_year", "sign_month", "sign_day", "eif_year", "end_year_estimate",
                    "terminated", "general", *[f"cat_{c}" for c in CATEGORIES], "asymmetry"):
            table[col] = table[col].astype("Int64")
        table["in_force_2010"] = table["in_force_2010"].astype(bool)
        return table

    def _engagement(self, row: dict[str, Any], line: int, ctx: IngestContext
                    ) -> tuple[Engagement | None, dict[str, Any] | None]:
        dcaid = as_text(row["dcaid"])
        if dcaid is None:
            ctx.reject(MAIN_FILE, line, "DCAid", "", "row without a DCAid (truncated file?)")
            return None, None
        notes: list[str] = []
        sy, sm, sd = read_date(code(row["signyear"]), code(row["signmonth"]), code(row["signday"]), "signature",
                               notes)
        if sy is None:
            ctx.reject(MAIN_FILE, line, "signYear", row["signyear"], f"{dcaid} has no usable signature year")
            return None, None
        if not FIRST_YEAR <= sy <= END_OF_DATA:
            ctx.reject(MAIN_FILE, line, "signYear", row["signyear"],
                       f"{dcaid}: impossible signature year {sy}: DCAD covers agreements signed "
                       f"{FIRST_YEAR}-{END_OF_DATA}")
            return None, None
        this_year = dt.date.today().year
        for field in ("EIFYear", "endYearEstimate"):
            value = code(row[field.lower()])
            if value is not None and not FIRST_YEAR <= value <= this_year:
                ctx.reject(MAIN_FILE, line, field, row[field.lower()],
                           f"{dcaid}: impossible year {value}: expected a year between {FIRST_YEAR} and "
                           f"{this_year}")
                return None, None
        ey, em, ed = read_date(code(row["eifyear"]), code(row["eifmonth"]), code(row["eifday"]), "entry into force",
                               notes)
        end_year = code(row["endyearestimate"])
        if end_year is not None and end_year < sy:
            notes.append(f"end: endYearEstimate {end_year} is before signature; dropped")
            end_year = None
        terminated = code(row["terminated"])
        in_force = end_year is not None and end_year >= END_OF_DATA and terminated != 1

        participants: list[dict[str, Any]] = []
        unresolved: list[Any] = []
        corrections: list[str] = []
        codes: dict[str, int | None] = {}
        for key in ("ccode1", "ccode2"):
            ccode = code(row[key])
            polity, year = resolve_in_spell(ctx, row[key], sy, end_year)
            named = self._named(ctx, row.get(key.replace("ccode", "cowname")), sy)
            if named is not None and named.id != (polity.id if polity is not None else None):
                if not named.existed(sy):
                    ctx.reject(MAIN_FILE, line, key, f"{row[key]}/{named.id}",
                               f"{dcaid}: {key} {row[key]} and its name {named.id} disagree, and {named.id} did "
                               f"not exist in {sy}: cannot tell which signatory is meant")
                    return None, None
                was = f"{ccode} ({polity.id})" if polity is not None else str(row[key])
                corrections.append(f"{key} {was} disagrees with its name {named.id}; "
                                   f"kept the name ({named.ccode})")
                polity, year, ccode = named, sy, named.ccode
            codes[key] = ccode
            if polity is None:
                unresolved.append(row[key] if ccode is None else ccode)
                continue
            participants.append({"id": polity.id, "name": polity.name, "role": "signatory", "ccode": ccode,
                                 **({"attributes": {"resolved_as_of": year}} if year != sy else {})})
        if not participants:
            ctx.reject(MAIN_FILE, line, "ccode1+ccode2", f"{row['ccode1']}/{row['ccode2']}",
                       f"{dcaid}: neither signatory resolves to a known polity")
            return None, None
        if len(participants) == 2 and participants[0]["id"] == participants[1]["id"]:
            ctx.reject(MAIN_FILE, line, "ccode1+ccode2", f"{row['ccode1']}/{row['ccode2']}",
                       f"{dcaid}: both signatories are {participants[0]['id']} (codes and names agree): "
                       "the partner is unknown, and a bilateral agreement needs two states")
            return None, None

        categories: list[str] = []
        for key in ("category1", "category2", "category3"):
            category = as_text(row[key])
            if category and category.lower() not in categories:
                categories.append(category.lower())
        subs = sorted({SUB_ACTIVITIES[c] for c in categories if c in SUB_ACTIVITIES})
        kind = (as_text(row["type"]) or "").lower() or None

        attributes: dict[str, Any] = {
            "dcaid": dcaid, "type": kind, "categories": categories,
            "entry_into_force": iso(ey, em, ed), "eif_year": ey,
            "span": code(row.get("span")), "renew_type": _raw_code(row.get("renewtype")),
            "renew_years": code(row.get("renewyears")),
            "terminated": terminated, "terminated_code": _raw_code(row["terminated"]),
            "duration_actual": code(row.get("durationactual")),
            "end_year_estimate": end_year, "in_force_2010": in_force,
            "asymmetry": code(row["asymmetry"]), "category_confidence": as_text(row.get("categoryconf")),
            "unts": code(row.get("unts")), "full_text": as_text(row.get("fulltext")),
            "source_type": as_text(row.get("sourcetype")), "source": as_text(row.get("source")),
        }
        if unresolved:
            attributes["unresolved_signatories"] = unresolved
        if corrections:
            attributes["code_corrections"] = corrections
        if notes:
            attributes["date_notes"] = notes
        names = [p["name"] or p["id"] for p in participants] + [f"ccode {c}" for c in unresolved]
        what = "Defence cooperation agreement" if kind == "general" else "Sector defence agreement"
        label = ", ".join(c.upper() for c in categories) or "unspecified sector"
        data = {
            "id": f"dcad-{dcaid}",
            "title": f"{what}: {' - '.join(names)} ({sy})",
            "summary": f"{what} ({label}) signed {iso(sy, sm, sd)}"
                       + (f", in force from {iso(ey, em, ed)}" if ey else "")
                       + ("; still in force at the end of the data (2010)." if in_force else
                          f"; estimated to end {end_year}." if end_year else "."),
            "activity": "agreements",
            "sub_activities": subs,
            "instrument": "defence_cooperation_agreement",
            "start_year": sy, "start_month": sm, "start_day": sd,
            "end_year": None if in_force else end_year,
            "ongoing": in_force,
            "precision": precision_of(sm, sd),
            "participants": participants,
            "attributes": attributes,
            "provenance": [self.provenance(dcaid)],
        }
        eng = ctx.engagement(data, MAIN_FILE, line)
        if eng is None:
            return None, None
        table_row = {
            "dcaid": dcaid, "ccode1": codes["ccode1"], "ccode2": codes["ccode2"],
            "sign_year": sy, "sign_month": sm, "sign_day": sd, "eif_year": ey, "end_year_estimate": end_year,
            "terminated": terminated if terminated in (0, 1) else None, "in_force_2010": in_force,
            "type": kind, "general": None if kind is None else int(kind == "general"),
            "categories": ";".join(categories),
            **{f"cat_{c}": int(c in categories) for c in CATEGORIES},
            "asymmetry": code(row["asymmetry"]),
        }
        return eng, table_row


    @staticmethod
    def _named(ctx: IngestContext, name: Any, year: int) -> Polity | None:
        """The state a signatory's COW abbreviation names (uncounted: a cross-check, not a participant)."""
        text = as_text(name)
        if text is None:
            return None
        text = NAME_VARIANTS.get(text.upper(), text)
        return ctx.registry.try_resolve(text, year) or ctx.registry.try_resolve(text, year, strict=False)


def _raw_code(value: Any) -> int | None:
    """A numeric code kept as is (DCAD's negative codes carry meaning for renewal terms)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else int(number)


SOURCES = [DCAD()]
