"""ATOP 5.1: Alliance Treaty Obligations and Provisions (Leeds et al.), 1815-2018.

One engagement per alliance of the alliance-level file ``atop5_1a.csv`` (789 in
version 5.1), activity ``agreements``, instrument ``alliance_treaty``, id
``atop-<atopid>``. Members come from the member file ``atop5_1m.csv``; phases from
``atop5_1aph.csv`` and institutionalisation (``milinst``, ``formal``) from
``atopinst5_1.csv``.

Conventions of the ATOP files, and how they are read here:

* Unknown month or day is coded ``0`` or left blank; both become "unknown" and the
  date keeps only the precision it has (``precision`` = day, month or year).
* An alliance (or a membership) still in effect at the end of the data
  (``ineffect == 1``) has its end coded ``0/0/0``: such engagements get
  ``end_year = None`` and ``ongoing = True`` (members: ``end_year = None``).
* An impossible month or day (month 13, 31 February) is not a reason to lose an
  alliance: the date is dropped to the precision that is still valid (a bad day
  keeps year and month, a bad month keeps the year) and the correction is listed
  in ``attributes["date_notes"]``. Only a row without a usable start year is
  quarantined, and so is a row whose last column (``version``, always filled in
  ATOP) is empty: a line cut short by a truncated download.
* The member file has one row per alliance, member and phase (``phase`` 0 for a
  one-phase alliance). Each member becomes one participant (role ``member``)
  spanning its earliest entry to its latest exit; its own obligations (the
  maximum over its phase rows) sit in ``Participant.attributes`` and, when it has
  several rows, each spell is listed under ``attributes["spells"]``.
* Member codes are COW ``ccode``s, resolved through the year-aware registry in the
  first year of the membership in which the state existed (see
  :func:`defdip.ingest.sources.base.resolve_in_spell`; ``attributes["resolved_as_of"]`` when that is not the
  entry year). A few ATOP members are not COW states (e.g. 8152). Misses are
  counted through the ingest context and listed in the engagement's
  ``attributes["unresolved_members"]``; an alliance none of whose members resolves
  is quarantined.

Bounds (ATOP 5.1 covers 1815-2018): a start or end year outside 1815-2018 (or after the present year),
such as a mistyped 99999, quarantines its row (alliance, phase, member or state-year) with the file,
line, field and reason, and so does a member whose exit date falls before its entry date. A quarantined
row is left out of the engagements and of the reference tables, so no impossible year reaches the
panels. ``LoadResult.rows_read`` counts the rows of every file read; ``accounted`` says how many of each
file's rows went into its table.

Asymmetric obligations: where a member's obligation is owed to some co-members only (ATOP codes the
alliance ``asymm``/``obvary`` but its member file cannot say to whom), the package-data table
``data/atop_exceptions.csv`` (one row per atopid, member and partner, with the obligation dummies that
differ from the member file's, and the treaty articles as citation) is stored as ``atop_exception``
and read by the directed ATOP panel layers. When the source folder also holds ATOP's own directed
dyad-year file ``atop5_1ddyr.csv`` its allied rows are stored as ``atop_ddyr`` (stateA, stateB, year,
obligations): the panel layers then read ATOP's own coding, and ``defdip validate`` reports how many
dyad-years the derivation from the member file codes differently. Without the file ``atop_ddyr`` is
stored empty.

Sub-activities (a coding rule of defdip, not of ATOP):

* ``interoperability`` when the treaty sets up an integrated command
  (``intcom == 1``) or military contact of level 2 or more (``milcon >= 2``:
  common defence policy, or integrated command / joint troop placement);
* ``education_training`` when military aid includes training or the provision of
  military technology (``milaid == 3``, or ``milaid == 4``, which the ATOP
  codebook uses for grants or loans *and* training/technology).

Directedness in ``atop_member``: each row is one member's own commitment in one
phase, so obligations are directed from ``member`` to its allies. ``asymm == 1``
marks alliances whose members took on different obligations and ``obvary == 1``
alliances whose obligations vary across members or phases; in those cases the
obligation dummies of different members of the same ``atopid`` differ, and a
directed dyad (A, B) carries A's row.

Reference tables (tidy copies, lowercase original column names, integral columns as
nullable integers, exact duplicate rows removed): ``atop_alliance`` (atop5_1a),
``atop_phase`` (atop5_1aph), ``atop_member`` (atop5_1m), ``atop_sy`` (atop5_1sy) and
``atop_inst`` (atopinst5_1). ``atopidphase`` is a string in both phase tables,
``"<atopid>"`` for one-phase alliances and ``"<atopid>.<phase>"`` otherwise (the
institution file stores it as an imprecise float such as 2050.1001).
"""

from __future__ import annotations

import datetime as dt
import math
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from defdip.core.model import Engagement
from defdip.ingest.sources.base import (
    Check,
    Download,
    IngestContext,
    LoadResult,
    Source,
    as_int,
    frame_records,
    iso,
    precision_of,
    quarantine_duplicates,
    read_csv_checked,
    read_date,
    resolve_in_spell,
)
from defdip.store import checks

ALLIANCE_FILE = "atop5_1a.csv"
PHASE_FILE = "atop5_1aph.csv"
MEMBER_FILE = "atop5_1m.csv"
STATE_YEAR_FILE = "atop5_1sy.csv"
INST_FILE = "atopinst5_1.csv"
DDYR_FILE = "atop5_1ddyr.csv"
"""ATOP's directed dyad-year file: optional (read when present, for the parity check)."""

FIRST_YEAR, LAST_YEAR = 1815, 2018
"""ATOP 5.1's coverage."""
ALLIANCES = 789
"""Alliances in ATOP 5.1 (the codebook's count, and the rows of atop5_1a.csv)."""

OBLIGATIONS = ("defense", "offense", "neutral", "nonagg", "consul")
"""The five obligation dummies, in ATOP's order."""

OBLIGATION_LABELS = {"defense": "defence", "offense": "offence", "neutral": "neutrality",
                     "nonagg": "non-aggression", "consul": "consultation"}

ALLIANCE_ATTRIBUTES = (
    "cowid", "cow4id", "bilat", "maxphase", "wartime", "estmode", "pubsecr", "secrart", "speclgth", "length",
    "renounce", "term", "active", "conditio", "asymm", "notaiden", "dipaid", "specthrt", "milcon", "milaid",
    "intcom", "subord", "organ1", "orgpurp1", "organ2", "orgpurp2", "base", "contrib", "armred", "nomicoop",
    "ecaid", "interv", "new5", "rev5",
)
"""Alliance-level provisions copied (as integers, or None when blank) into the engagement's attributes."""

MEMBER_ATTRIBUTES = ("active", "conditio", "asymm", "obvary", "cowsys")

ALLIANCE_REQUIRED = ("atopid", "begyr", "begmo", "begday", "endyr", "endmo", "endday", "ineffect", *OBLIGATIONS,
                     "bilat", "milcon", "milaid", "intcom")
MEMBER_REQUIRED = ("atopid", "member", "yrent", "moent", "dayent", "yrexit", "moexit", "dayexit", "ineffect",
                   "phase", *OBLIGATIONS)
PHASE_REQUIRED = ("atopid", "atopidphase", "phase", "begyr", "begmo", "begday", "endyr", "endmo", "endday",
                  "ineffect")
STATE_YEAR_REQUIRED = ("state", "year", "atopally", *OBLIGATIONS, "number")
INST_REQUIRED = ("atopid", "atopidphase", "milinst", "formal")
DDYR_REQUIRED = ("statea", "stateb", "year", *OBLIGATIONS)
EXCEPTION_COLUMNS = ("atopid", "member", "partner", *OBLIGATIONS, "citation")


def exceptions() -> pd.DataFrame:
    """The cited table of obligations owed to some co-members only (package data)."""
    with resources.files("defdip").joinpath("data/atop_exceptions.csv").open("rb") as handle:
        table = pd.read_csv(handle)
    for col in EXCEPTION_COLUMNS[:-1]:
        table[col] = table[col].astype("Int64")
    return table[list(EXCEPTION_COLUMNS)]


def out_of_bounds(frame: pd.DataFrame, file: str, ctx: IngestContext, start: str, end: str | None,
                  *, zero_open: bool = True) -> pd.DataFrame:
    """Quarantine rows whose ``start`` (or ``end``) year lies outside ATOP's coverage or after this year.

    An ``end`` of 0 or blank means still in effect when ``zero_open``; a missing start is left to the
    caller (the alliance loader names it)."""
    last = min(LAST_YEAR, dt.date.today().year)
    bad = []
    for idx, first, final in zip(frame.index, frame[start].tolist(),
                                 frame[end].tolist() if end else [None] * len(frame)):
        for field, value, open_ok in ((start, first, False), (end, final, zero_open)):
            if field is None or value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            year = as_int(value)
            if open_ok and year == 0:
                continue
            if year is None or not FIRST_YEAR <= year <= last:
                ctx.reject(file, int(idx) + 2, field, value,
                           f"impossible year {value!r}: ATOP 5.1 covers {FIRST_YEAR}-{LAST_YEAR}")
                bad.append(idx)
                break
    return frame.drop(index=bad)


def exit_before_entry(members: pd.DataFrame, ctx: IngestContext) -> pd.DataFrame:
    """Quarantine member rows whose exit date (unknown month or day read as the latest) precedes entry."""
    bad = []
    for idx, row in zip(members.index, frame_records(members[["yrent", "moent", "dayent", "yrexit", "moexit",
                                                              "dayexit"]])):
        exit_year = as_int(row["yrexit"])
        if not exit_year:
            continue
        entry = (as_int(row["yrent"]) or 0, as_int(row["moent"]) or 0, as_int(row["dayent"]) or 0)
        leave = (exit_year, as_int(row["moexit"]) or 0, as_int(row["dayexit"]) or 0)
        if (leave[0], leave[1] or 13, leave[2] or 32) < entry:
            shown = [iso(*(v or None for v in date)) for date in (leave, entry)]
            ctx.reject(MEMBER_FILE, int(idx) + 2, "yrexit", f"{row['yrexit']}-{row['moexit']}-{row['dayexit']}",
                       f"member exit ({shown[0]}) is before its entry ({shown[1]})")
            bad.append(idx)
    return members.drop(index=bad)


# ----------------------------------------------------------------------------- small readers

def drop_incomplete(frame: pd.DataFrame, file: str, ctx: IngestContext, last: str = "version") -> pd.DataFrame:
    """Quarantine rows whose last column (ATOP's ``version``, always filled) is empty: a cut-off line."""
    if last not in frame.columns:
        return frame
    cut = frame[last].isna()
    for idx in frame.index[cut]:
        ctx.reject(file, int(idx) + 2, last, "", f"incomplete row: no value in the last column '{last}' "
                                                  "(truncated file?)")
    return frame[~cut]


def tidy(frame: pd.DataFrame, keep_float: tuple[str, ...] = ()) -> pd.DataFrame:
    """A copy with integral float columns as nullable integers and exact duplicate rows removed."""
    out = frame.drop_duplicates().reset_index(drop=True).copy()
    integral = {}
    for col in out.columns:
        if col in keep_float or not pd.api.types.is_float_dtype(out[col]):
            continue
        series = out[col]
        if series.dtype == np.float64:  # plain floats (what read_csv gives): the same test on the array, faster
            values = series.to_numpy()
            values = values[~np.isnan(values)]
            whole = bool((values == np.round(values)).all())
        else:
            values = series.dropna()
            whole = bool((values == values.round()).all())
        if whole:
            integral[col] = series.astype("Int64")
    if integral:  # one assignment for all columns (column order is kept)
        out[list(integral)] = pd.DataFrame(integral, index=out.index)
    return out


def phase_id(atopid: int, phase: int | None) -> str:
    return str(atopid) if not phase else f"{atopid}.{phase}"


def _title(atopid: int, names: list[str]) -> str:
    shown = ", ".join(names[:4])
    more = f" and {len(names) - 4} more" if len(names) > 4 else ""
    return f"ATOP alliance {atopid}: {shown}{more}"


# ----------------------------------------------------------------------------- the source

class ATOP(Source):
    id = "atop"
    title = "Alliance Treaty Obligations and Provisions (ATOP) 5.1"
    folder = "atop_v5.1"
    version = "5.1"
    files = (ALLIANCE_FILE, PHASE_FILE, MEMBER_FILE, STATE_YEAR_FILE, INST_FILE)
    downloads = (
        Download(
            url="http://www.atopdata.org/uploads/6/9/1/3/69134503/atop_5.1__.csv_.zip",
            filename="ATOP_5.1_csv.zip",
            sha256=None,
            members=files,
        ),
    )
    homepage = "http://www.atopdata.org/data.html"
    terms = "Free for research use with citation of the ATOP project (no licence file ships with the data)."
    adds = ("Every written alliance 1815-2018 with its members, obligations, military-cooperation provisions, "
            "phases and institutionalisation; state-year alliance portfolios for panels.")
    citation = ("Leeds, Brett Ashley, Jeffrey M. Ritter, Sara McLaughlin Mitchell, and Andrew G. Long. 2002. "
                "\"Alliance Treaty Obligations and Provisions, 1815-1944.\" International Interactions 28: 237-60. "
                "Data: ATOP version 5.1 (Leeds et al. 2022).")
    bibtex = """@article{leeds_atop_2002,
  author  = {Leeds, Brett Ashley and Ritter, Jeffrey M. and Mitchell, Sara McLaughlin and Long, Andrew G.},
  title   = {Alliance Treaty Obligations and Provisions, 1815--1944},
  journal = {International Interactions},
  year    = {2002},
  volume  = {28},
  number  = {3},
  pages   = {237--260},
  doi     = {10.1080/03050620213653},
  note    = {Data: ATOP version 5.1, \\url{http://www.atopdata.org}}
}"""
    citation_keys = ("leeds_atop_2002",)
    coverage = (FIRST_YEAR, LAST_YEAR)
    min_rows = 700
    """ATOP 5.1 has 789 alliances (and 16,920 rows over its five files)."""

    def checks(self, con: duckdb.DuckDBPyConnection) -> list[Check]:
        """Alliances stored against ATOP's count (the derived directed layers are compared with ATOP's own
        ddyr file by :func:`defdip.analysis.validate.atop_file_parity`, which needs the layer registry)."""
        stored = checks.records_of_source(con, self.id)
        found = [Check(self.id, f"alliances stored vs {ALLIANCE_FILE}", ALLIANCES, stored, stored == ALLIANCES)]
        flagged, coded = checks.atop_asymmetric_alliances(con)
        if flagged and not checks.has_atop_directed_file(con):
            covered = sorted(set(flagged) & set(coded))
            rest = ", ".join(str(a) for a in flagged if a not in coded)
            found.append(Check(self.id, "asymmetric alliances (asymm, obvary) coded pair by pair in atop_exception",
                               len(flagged), len(covered), True,
                               note=f"not coded (member file's obligations used for every co-member): {rest}; "
                                    f"add {DDYR_FILE} to the source folder for ATOP's own directed coding"))
        return found

    # -- load
    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        folder = Path(folder)
        alliances = read_csv_checked(folder / ALLIANCE_FILE, ALLIANCE_REQUIRED, lowercase=True)
        members = read_csv_checked(folder / MEMBER_FILE, MEMBER_REQUIRED, lowercase=True)
        phases = read_csv_checked(folder / PHASE_FILE, PHASE_REQUIRED, lowercase=True)
        state_years = read_csv_checked(folder / STATE_YEAR_FILE, STATE_YEAR_REQUIRED, lowercase=True)
        inst = read_csv_checked(folder / INST_FILE, INST_REQUIRED, lowercase=True)
        ddyr = (read_csv_checked(folder / DDYR_FILE, DDYR_REQUIRED, lowercase=True)
                if (folder / DDYR_FILE).is_file() else None)
        read = {ALLIANCE_FILE: len(alliances), MEMBER_FILE: len(members), PHASE_FILE: len(phases),
                STATE_YEAR_FILE: len(state_years), INST_FILE: len(inst)}

        alliances = drop_incomplete(alliances, ALLIANCE_FILE, ctx)
        members = drop_incomplete(members, MEMBER_FILE, ctx)
        phases = drop_incomplete(phases, PHASE_FILE, ctx)
        state_years = drop_incomplete(state_years, STATE_YEAR_FILE, ctx)
        inst = drop_incomplete(inst, INST_FILE, ctx)
        alliances = quarantine_duplicates(alliances, ["atopid"], ALLIANCE_FILE, ctx)
        members = quarantine_duplicates(members, list(members.columns), MEMBER_FILE, ctx)
        state_years = quarantine_duplicates(state_years, ["state", "year"], STATE_YEAR_FILE, ctx)
        phases = phases.copy()
        phases["atopidphase"] = [phase_id(as_int(a) or 0, as_int(p)) for a, p in zip(phases["atopid"],
                                                                                     phases["phase"])]
        phases = quarantine_duplicates(phases, ["atopidphase"], PHASE_FILE, ctx)
        inst = inst.copy()
        inst["atopidphase"] = [self._inst_phase_id(a, p) for a, p in zip(inst["atopid"], inst["atopidphase"])]
        inst = quarantine_duplicates(inst, ["atopidphase"], INST_FILE, ctx)
        alliances = out_of_bounds(alliances, ALLIANCE_FILE, ctx, "begyr", "endyr")
        members = exit_before_entry(out_of_bounds(members, MEMBER_FILE, ctx, "yrent", "yrexit"), ctx)
        phases = out_of_bounds(phases, PHASE_FILE, ctx, "begyr", "endyr")
        state_years = out_of_bounds(state_years, STATE_YEAR_FILE, ctx, "year", None)

        inst_by_phase = {row["atopidphase"]: row for row in frame_records(inst)}
        phases_by_alliance: dict[int, list[dict[str, Any]]] = {}
        for row in frame_records(phases):
            aid = as_int(row["atopid"])
            if aid is not None:
                phases_by_alliance.setdefault(aid, []).append(row)
        members_by_alliance: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        for idx, row in zip(members.index, frame_records(members)):
            aid = as_int(row["atopid"])
            if aid is None:
                ctx.reject(MEMBER_FILE, int(idx) + 2, "atopid", row["atopid"], "member row without an atopid")
                continue
            members_by_alliance.setdefault(aid, []).append((int(idx) + 2, row))

        result = LoadResult()
        listed = {as_int(a) for a in alliances["atopid"]}
        kept = []
        for idx, row in zip(alliances.index, frame_records(alliances)):
            eng = self._engagement(row, int(idx) + 2, members_by_alliance, phases_by_alliance, inst_by_phase, ctx)
            if eng is not None:
                result.engagements.append(eng)
                kept.append(idx)
        alliances = alliances.loc[kept]
        orphans = sorted(set(members_by_alliance) - listed)
        for aid in orphans:
            line, row = members_by_alliance[aid][0]
            ctx.reject(MEMBER_FILE, line, "atopid", aid, f"member rows for atopid {aid}, which {ALLIANCE_FILE} lacks")
        rejected = {(r.file, r.row) for r in ctx.rejections}
        members = members[[(MEMBER_FILE, int(i) + 2) not in rejected for i in members.index]]

        result.tables = {
            "atop_alliance": tidy(alliances, keep_float=("version",)),
            "atop_phase": tidy(phases, keep_float=("version",)),
            "atop_member": tidy(members, keep_float=("version",)),
            "atop_sy": tidy(state_years, keep_float=("version",)),
            "atop_inst": tidy(inst.assign(version=inst["version"].round(2)) if "version" in inst else inst,
                              keep_float=("version",)),
            "atop_exception": exceptions(),
        }
        if ddyr is not None:
            read[DDYR_FILE] = len(ddyr)
        result.tables["atop_ddyr"] = self._ddyr(ddyr if ddyr is not None else
                                                pd.DataFrame(columns=list(DDYR_REQUIRED)), ctx)
        result.rows_read = sum(read.values())
        named = {"atop_alliance": ALLIANCE_FILE, "atop_member": MEMBER_FILE, "atop_phase": PHASE_FILE,
                 "atop_sy": STATE_YEAR_FILE, "atop_inst": INST_FILE}
        result.accounted = {f"{file} rows kept": len(result.tables[table]) for table, file in named.items()}
        if ddyr is not None:
            allied = len(result.tables["atop_ddyr"])
            result.accounted[f"{DDYR_FILE} allied rows kept"] = allied
            result.accounted[f"{DDYR_FILE} rows without an alliance"] = (
                read[DDYR_FILE] - allied - len({r.row for r in ctx.rejections if r.file == DDYR_FILE}))
        return result

    @staticmethod
    def _ddyr(frame: pd.DataFrame, ctx: IngestContext) -> pd.DataFrame:
        """ATOP's directed dyad-years that carry an alliance, with the five obligations (0/1)."""
        frame = out_of_bounds(frame, DDYR_FILE, ctx, "year", None)
        values = frame[list(OBLIGATIONS)].apply(pd.to_numeric, errors="coerce").fillna(0).astype(int).clip(0, 1)
        allied = values.max(axis=1) == 1
        if "atopally" in frame:
            allied |= pd.to_numeric(frame["atopally"], errors="coerce").fillna(0).astype(int) == 1
        out = pd.concat([frame[["statea", "stateb", "year"]].apply(pd.to_numeric, errors="coerce"), values],
                        axis=1)[allied]
        return out.astype("Int64").reset_index(drop=True)

    @staticmethod
    def _inst_phase_id(atopid: Any, value: Any) -> str:
        """'2050.1' from the institution file's 2050.1001 (phase numbers are single digits)."""
        aid = as_int(atopid)
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        if aid is None or math.isnan(number):
            return str(value)
        return phase_id(aid, int(round((number - aid) * 10)))

    def _engagement(self, row: dict[str, Any], line: int,
                    members_by_alliance: dict[int, list[tuple[int, dict[str, Any]]]],
                    phases_by_alliance: dict[int, list[dict[str, Any]]], inst_by_phase: dict[str, dict[str, Any]],
                    ctx: IngestContext) -> Engagement | None:
        atopid = as_int(row["atopid"])
        if atopid is None:
            ctx.reject(ALLIANCE_FILE, line, "atopid", row["atopid"], "row without an atopid (truncated file?)")
            return None
        notes: list[str] = []
        by, bm, bd = read_date(row["begyr"], row["begmo"], row["begday"], "begin", notes)
        if by is None:
            ctx.reject(ALLIANCE_FILE, line, "begyr", row["begyr"], f"alliance {atopid} has no usable start year")
            return None
        ineffect = as_int(row["ineffect"]) == 1
        ey, em, ed = (None, None, None) if ineffect else read_date(row["endyr"], row["endmo"], row["endday"],
                                                                     "end", notes)
        if not ineffect and ey is None:
            notes.append("end: no end year although the alliance is not in effect at the end of the data")

        rows = members_by_alliance.get(atopid, [])
        participants, unresolved = self._participants(atopid, rows, by, ctx)
        if not participants:
            codes = ", ".join(str(c) for c in unresolved) or "none listed"
            ctx.reject(ALLIANCE_FILE, line, "member", codes,
                       f"alliance {atopid}: no member resolves to a known polity (members: {codes})")
            return None

        obligations = [k for k in OBLIGATIONS if as_int(row[k]) == 1]
        attributes: dict[str, Any] = {"atopid": atopid, "ineffect": int(ineffect), "obligations": obligations}
        for key in (*OBLIGATIONS, *ALLIANCE_ATTRIBUTES):
            if key in row:
                attributes[key] = as_int(row[key])
        attributes["phases"] = self._phases(atopid, phases_by_alliance.get(atopid, []), inst_by_phase)
        inst_values = [p for p in attributes["phases"] if p.get("milinst") is not None or p.get("formal") is not None]
        attributes["milinst"] = max((p["milinst"] for p in inst_values if p.get("milinst") is not None), default=None)
        attributes["formal"] = max((p["formal"] for p in inst_values if p.get("formal") is not None), default=None)
        if unresolved:
            attributes["unresolved_members"] = unresolved
        if notes:
            attributes["date_notes"] = notes

        subs = []
        if attributes.get("intcom") == 1 or (attributes.get("milcon") or 0) >= 2:
            subs.append("interoperability")
        if attributes.get("milaid") in (3, 4):
            subs.append("education_training")

        labels = [OBLIGATION_LABELS[k] for k in obligations] or ["no listed obligation"]
        kind = "bilateral" if attributes.get("bilat") == 1 else "multilateral"
        summary = (f"A {kind} alliance ({', '.join(labels)}) concluded {iso(by, bm, bd)}"
                   + (", in effect at the end of the data (2018)" if ineffect else
                      f", ended {iso(ey, em, ed)}" if ey else "")
                   + f"; {len(participants)} member(s).")
        data = {
            "id": f"atop-{atopid}",
            "title": _title(atopid, [p["name"] or p["id"] for p in participants]),
            "summary": summary,
            "activity": "agreements",
            "sub_activities": subs,
            "instrument": "alliance_treaty",
            "start_year": by, "start_month": bm, "start_day": bd,
            "end_year": ey, "end_month": em, "end_day": ed,
            "precision": precision_of(bm, bd),
            "ongoing": ineffect,
            "participants": participants,
            "attributes": attributes,
            "provenance": [self.provenance(atopid)],
        }
        return ctx.engagement(data, ALLIANCE_FILE, line)

    def _participants(self, atopid: int, rows: list[tuple[int, dict[str, Any]]], begin_year: int,
                      ctx: IngestContext) -> tuple[list[dict[str, Any]], list[int]]:
        by_member: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        order: list[int] = []
        for line, row in rows:
            code = as_int(row["member"])
            if code is None:
                ctx.reject(MEMBER_FILE, line, "member", row["member"], f"alliance {atopid}: member row without a code")
                continue
            if code not in by_member:
                order.append(code)
            by_member.setdefault(code, []).append((line, row))
        participants, unresolved = [], []
        for code in order:
            spells = []
            for _line, row in by_member[code]:
                notes: list[str] = []
                ent = read_date(row["yrent"], row["moent"], row["dayent"], "entry", notes)
                still = as_int(row["ineffect"]) == 1 or as_int(row["yrexit"]) in (None, 0)
                ext = (None, None, None) if still else read_date(row["yrexit"], row["moexit"], row["dayexit"],
                                                                 "exit", notes)
                spell: dict[str, Any] = {"phase": as_int(row["phase"]), "entry": iso(*ent), "exit": iso(*ext),
                                         "ineffect": int(still), **{k: as_int(row[k]) for k in OBLIGATIONS}}
                if notes:
                    spell["date_notes"] = notes
                spells.append((ent[0], None if still else ext[0], spell))
            start = min((s[0] for s in spells if s[0] is not None), default=None)
            ongoing = any(s[2]["ineffect"] for s in spells)
            end = None if ongoing else max((s[1] for s in spells if s[1] is not None), default=None)
            polity, year = resolve_in_spell(ctx, code, start or begin_year, None if ongoing else end)
            if polity is None:
                unresolved.append(code)
                continue
            first = by_member[code][0][1]
            attrs: dict[str, Any] = {k: max((s[2][k] or 0) for s in spells) for k in OBLIGATIONS}
            attrs["obligations"] = [k for k in OBLIGATIONS if attrs[k] == 1]
            for key in MEMBER_ATTRIBUTES:
                if key in first:
                    attrs[key] = as_int(first[key])
            if year is not None and year != (start or begin_year):
                attrs["resolved_as_of"] = year
            if len(spells) > 1:
                attrs["spells"] = [s[2] for s in spells]
            elif "date_notes" in spells[0][2]:
                attrs["date_notes"] = spells[0][2]["date_notes"]
            participants.append({
                "id": polity.id, "name": polity.name, "role": "member", "ccode": code,
                "start_year": start, "end_year": end, "attributes": attrs,
            })
        return participants, unresolved

    @staticmethod
    def _phases(atopid: int, rows: list[dict[str, Any]], inst_by_phase: dict[str, dict[str, Any]]
                ) -> list[dict[str, Any]]:
        out = []
        for row in sorted(rows, key=lambda r: as_int(r["phase"]) or 0):
            notes: list[str] = []
            ineffect = as_int(row["ineffect"]) == 1
            entry = {
                "atopidphase": row["atopidphase"],
                "phase": as_int(row["phase"]),
                "start": iso(*read_date(row["begyr"], row["begmo"], row["begday"], "begin", notes)),
                "end": None if ineffect else iso(*read_date(row["endyr"], row["endmo"], row["endday"], "end", notes)),
                "ineffect": int(ineffect),
            }
            inst = inst_by_phase.get(row["atopidphase"])
            entry["milinst"] = as_int(inst["milinst"]) if inst is not None else None
            entry["formal"] = as_int(inst["formal"]) if inst is not None else None
            out.append(entry)
        return out


SOURCES = [ATOP()]
