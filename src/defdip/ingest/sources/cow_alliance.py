"""COW Formal Alliances 4.1 (Gibler 2009), 1816-2012, in either of two layouts.

**Official layout** (``alliance_v4.1_by_member.csv`` from COW's ``version4.1_csv.zip``,
optionally with ``alliance_v4.1_by_dyad_yearly.csv``): one engagement per alliance,
id ``cow_alliance-<version4id>``, activity ``agreements``, instrument
``alliance_treaty``. Members (role ``member``) span their earliest ``mem_st_year`` to
their latest ``mem_end_year``; a blank end year means the membership (or the
alliance, for ``all_end_year``) was still in force at the end of the data, which
gives ``ongoing = True`` and no end year. COW codes unknown days and months as ``-9``
(or blank); they become None and the date keeps the precision it has. The alliance's
``type`` attribute is its strongest commitment over all member rows (defense >
neutrality > nonaggression > entente); ``types`` lists every type coded.

**Dyad-year summary layout** (``cow_alliance_v4.1_dyad_year_summary.csv``, the
directed dyad-year summary of the peacesciencer R package, which is all the shared
data folder has): alliances cannot be rebuilt from it, so engagements are *dyadic
spells, not treaties*: one per unordered dyad, alliance type and run of consecutive
years in which that type was in force, id
``cow_alliance-dyad-<ccode_low>-<ccode_high>-<type>-<first year>`` (types ``defense``,
``neutrality``, ``nonaggression``, ``entente``). A spell still running in the last
year of the file (2012) is ``ongoing`` with no end year. ``attributes["unit"]`` says
``"dyad_spell"`` (``"alliance"`` in the official layout).

The official layout wins when both are present. Both layouts give the reference
table ``cow_alliance_dyad_year`` (directed: both orderings of each dyad, only
dyad-years with an alliance; columns ``ccode1``, ``ccode2``, ``year``,
``cow_defense``, ``cow_neutral``, ``cow_nonagg``, ``cow_entente`` as 0/1): the summary
file as it is, or, in the official layout, the dyad-yearly file collapsed the same
way (any alliance of a type in force in the year), or when that file is absent a
derivation from the member file: two members are allied in every year both their
spells cover (an open spell runs to 2012), with each type flag set when both
members' rows carry it (a commitment the pair shares); dyad-years with no shared
type are left out, as in the summary.

Bad rows: exact duplicates and repeated dyad-years are quarantined (the first kept);
rows without a usable code or year are quarantined; an impossible month or day
lowers the date's precision (noted in ``attributes["date_notes"]``); COW codes are
resolved year-aware (see :func:`defdip.ingest.sources.base.resolve_in_spell`), misses are
counted and listed in ``attributes["unresolved_members"]``, and an engagement none
of whose members resolves is quarantined.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from defdip.core.model import Engagement
from defdip.ingest.sources.base import (
    Download,
    IngestContext,
    LoadResult,
    Source,
    as_int,
    frame_records,
    iso,
    missing_one_of,
    precision_of,
    quarantine_duplicates,
    quarantine_reversed,
    quarantine_short_rows,
    quarantine_years,
    read_csv_checked,
    read_date,
    resolve_in_spell,
)

MEMBER_FILE = "alliance_v4.1_by_member.csv"
DYAD_YEARLY_FILE = "alliance_v4.1_by_dyad_yearly.csv"
SUMMARY_FILE = "cow_alliance_v4.1_dyad_year_summary.csv"

LAST_YEAR = 2012
"""Last year covered by COW alliances 4.1: open spells run to here."""

FIRST_YEAR = 1816
"""First year of COW's dyad-year files (the state system begins in 1816)."""

ALLIANCE_FIRST_YEAR = 1815
"""Earliest year a COW 4.1 alliance or membership starts (the 1815 settlement)."""

TYPES = ("defense", "neutrality", "nonaggression", "entente")
"""COW's alliance type flags, strongest first (as in the official files)."""

SUMMARY_COLUMNS = {"defense": "cow_defense", "neutrality": "cow_neutral", "nonaggression": "cow_nonagg",
                   "entente": "cow_entente"}
"""Official type flag -> dyad-year table column."""

TYPE_LABELS = {"defense": "defence pact", "neutrality": "neutrality pact", "nonaggression": "non-aggression pact",
               "entente": "entente"}

MEMBER_REQUIRED = ("version4id", "ccode", "all_st_day", "all_st_month", "all_st_year", "all_end_day",
                   "all_end_month", "all_end_year", "mem_st_day", "mem_st_month", "mem_st_year", "mem_end_day",
                   "mem_end_month", "mem_end_year", *TYPES)
DYAD_YEARLY_REQUIRED = ("ccode1", "ccode2", "year", *TYPES)
SUMMARY_REQUIRED = ("ccode1", "ccode2", "year", *SUMMARY_COLUMNS.values())


MemberSpell = tuple[int, int, int, int | None, dict[str, int]]
"""(alliance, ccode, first year, last year or None while in force, the alliance-type flags) of one membership."""


def _not_a_year(value: Any) -> bool:
    """COW's blank, 0 or negative year codes: no date (an end year coded so means the membership runs on)."""
    year = as_int(value)
    return year is None or year <= 0


def _names(participants: list[dict[str, Any]]) -> str:
    names = [p["name"] or p["id"] for p in participants]
    return ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")


class COWAlliance(Source):
    id = "cow_alliance"
    title = "Correlates of War Formal Alliances 4.1"
    folder = "cow_alliance_v4.1"
    version = "4.1"
    files = (MEMBER_FILE,)
    downloads = (
        Download(
            url="https://correlatesofwar.org/wp-content/uploads/version4.1_csv.zip",
            filename="version4.1_csv.zip",
            sha256=None,
            members=(MEMBER_FILE, DYAD_YEARLY_FILE),
        ),
    )
    homepage = "https://correlatesofwar.org/data-sets/formal-alliances/"
    terms = "Free for research use with citation (Correlates of War Project)."
    adds = ("Formal alliances 1816-2012 (defence, neutrality, non-aggression, entente): treaties with their "
            "members from the official files, or dyadic alliance spells from the dyad-year summary; "
            "directed dyad-year alliance flags for panels.")
    citation = ("Gibler, Douglas M. 2009. International Military Alliances, 1648-2008. Washington, DC: CQ Press. "
                "Data: Correlates of War Formal Alliances (v4.1).")
    bibtex = """@book{gibler_alliances_2009,
  author    = {Gibler, Douglas M.},
  title     = {International Military Alliances, 1648--2008},
  publisher = {CQ Press},
  address   = {Washington, DC},
  year      = {2009},
  isbn      = {978-1-56802-824-8},
  note      = {Data: Correlates of War Formal Alliances, version 4.1}
}"""
    citation_keys = ("gibler_alliances_2009",)
    coverage = (ALLIANCE_FIRST_YEAR, LAST_YEAR)
    min_rows = 1000
    """The smaller official file (by member) has some 2,000 rows; the dyad-year summary some 120,000."""

    def missing_files(self, folder: Path) -> list[str]:
        """Either the official member file or the dyad-year summary will do."""
        return missing_one_of(folder, MEMBER_FILE, SUMMARY_FILE)

    def load(self, folder: Path, ctx: IngestContext) -> LoadResult:
        folder = Path(folder)
        if (folder / MEMBER_FILE).is_file():
            return self._load_official(folder, ctx)
        return self._load_summary(folder, ctx)

    # ------------------------------------------------------------------ official by-member layout

    def _load_official(self, folder: Path, ctx: IngestContext) -> LoadResult:
        frame = read_csv_checked(folder / MEMBER_FILE, MEMBER_REQUIRED, lowercase=True)
        result = LoadResult(rows_read=len(frame))
        frame = quarantine_short_rows(frame, folder / MEMBER_FILE, ctx)
        frame = self._bounded_member_rows(frame, ctx)
        frame = quarantine_duplicates(frame, list(frame.columns), MEMBER_FILE, ctx)
        by_alliance: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        for idx, row in zip(frame.index, frame_records(frame)):
            line = int(idx) + 2
            aid, code = as_int(row["version4id"]), as_int(row["ccode"])
            if aid is None or code is None:
                field = "version4id" if aid is None else "ccode"
                ctx.reject(MEMBER_FILE, line, field, row[field], f"row without a usable {field} (truncated file?)")
                continue
            if _not_a_year(row["mem_st_year"]):
                ctx.reject(MEMBER_FILE, line, "mem_st_year", row["mem_st_year"],
                           f"alliance {aid}, ccode {code}: no usable membership start year")
                continue
            by_alliance.setdefault(aid, []).append((line, row))
        spells = []
        in_alliances = set_aside = 0
        for aid, rows in by_alliance.items():
            eng, kept = self._alliance(aid, rows, ctx)
            if eng is not None:
                result.engagements.append(eng)
                spells.extend(kept)
                in_alliances += len(rows)
            else:  # one row quarantined for the whole alliance
                set_aside += len(rows) - 1
        result.accounted = {"member rows (in alliances)": in_alliances}
        if set_aside:
            result.accounted["member rows of quarantined alliances"] = set_aside
        if (folder / DYAD_YEARLY_FILE).is_file():
            before = len({(r.file, str(r.row)) for r in ctx.rejections})
            read, table = self._dyad_yearly(folder / DYAD_YEARLY_FILE, ctx)
            result.rows_read += read
            quarantined = len({(r.file, str(r.row)) for r in ctx.rejections}) - before
            result.accounted["dyad-years (table)"] = read - quarantined
        else:
            table = self._dyads_from_members(spells)
        result.tables = {"cow_alliance_dyad_year": table}
        return result

    def _alliance(self, aid: int, rows: list[tuple[int, dict[str, Any]]], ctx: IngestContext
                  ) -> tuple[Engagement | None, list[MemberSpell]]:
        first_line, first = rows[0]
        notes: list[str] = []
        sy, sm, sd = read_date(first["all_st_year"], first["all_st_month"], first["all_st_day"], "start", notes)
        if sy is None:  # fall back on the earliest membership
            sy = min(y for _, r in rows if (y := as_int(r["mem_st_year"])) is not None)
            sm = sd = None
            notes.append("start: all_st_year missing; used the earliest mem_st_year")
        open_end = _not_a_year(first["all_end_year"])
        ey, em, ed = (None, None, None) if open_end else read_date(
            first["all_end_year"], first["all_end_month"], first["all_end_day"], "end", notes)

        order: list[int] = []
        member_rows: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        for line, row in rows:
            code = as_int(row["ccode"])
            assert code is not None  # (rows without a code were quarantined before)
            if code not in member_rows:
                order.append(code)
            member_rows.setdefault(code, []).append((line, row))
        participants: list[dict[str, Any]] = []
        unresolved: list[int] = []
        kept_spells: list[MemberSpell] = []
        for code in order:
            spells: list[tuple[int, int | None, dict[str, Any]]] = []
            for _line, row in member_rows[code]:
                s_notes: list[str] = []
                start = read_date(row["mem_st_year"], row["mem_st_month"], row["mem_st_day"], "member start", s_notes)
                begun = start[0]
                assert begun is not None  # (rows without a start year were quarantined before)
                still = _not_a_year(row["mem_end_year"])
                end = (None, None, None) if still else read_date(row["mem_end_year"], row["mem_end_month"],
                                                                 row["mem_end_day"], "member end", s_notes)
                flags = {t: int(as_int(row[t]) == 1) for t in TYPES}
                spell: dict[str, Any] = {"start": iso(*start), "end": iso(*end), **flags}
                if "ss_type" in row and isinstance(row["ss_type"], str):
                    spell["ss_type"] = row["ss_type"]
                if s_notes:
                    spell["date_notes"] = s_notes
                spells.append((begun, None if still else end[0], spell))
                kept_spells.append((aid, code, begun, None if still else end[0], flags))
            m_start = min(s[0] for s in spells)
            m_open = any(s[1] is None for s in spells)
            m_end = None if m_open else max(s[1] for s in spells if s[1] is not None)
            polity, year = resolve_in_spell(ctx, code, m_start, m_end, ongoing_until=LAST_YEAR)
            if polity is None:
                unresolved.append(code)
                continue
            attrs: dict[str, Any] = {t: max(s[2][t] for s in spells) for t in TYPES}
            if year != m_start:
                attrs["resolved_as_of"] = year
            if len(spells) > 1:
                attrs["spells"] = [s[2] for s in spells]
            participants.append({"id": polity.id, "name": polity.name, "role": "member", "ccode": code,
                                 "start_year": m_start, "end_year": m_end, "attributes": attrs})
        if not participants:
            codes = ", ".join(map(str, unresolved))
            ctx.reject(MEMBER_FILE, first_line, "ccode", codes,
                       f"alliance {aid}: no member resolves to a known polity (members: {codes})")
            return None, []

        types = [t for t in TYPES if any(as_int(r[t]) == 1 for _, r in rows)]
        kind = types[0] if types else None
        attributes: dict[str, Any] = {
            "unit": "alliance", "version4id": aid, "type": kind, "types": types,
            "left_censor": as_int(first.get("left_censor")), "right_censor": as_int(first.get("right_censor")),
        }
        ss = sorted({r["ss_type"] for _, r in rows if isinstance(r.get("ss_type"), str)})
        if ss:
            attributes["ss_type"] = ss
        if unresolved:
            attributes["unresolved_members"] = unresolved
        if notes:
            attributes["date_notes"] = notes
        label = TYPE_LABELS.get(kind, "alliance") if kind else "alliance"
        data = {
            "id": f"cow_alliance-{aid}",
            "title": f"COW alliance {aid} ({label}): {_names(participants)}",
            "summary": f"{'An' if label[0] in 'aeiou' else 'A'} {label} begun {iso(sy, sm, sd)}"
                       + (f", ended {iso(ey, em, ed)}" if ey else f", in force at the end of the data ({LAST_YEAR})")
                       + f"; {len(participants)} member(s).",
            "activity": "agreements",
            "instrument": "alliance_treaty",
            "start_year": sy, "start_month": sm, "start_day": sd,
            "end_year": ey, "end_month": em, "end_day": ed,
            "precision": precision_of(sm, sd),
            "ongoing": open_end,
            "participants": participants,
            "attributes": attributes,
            "provenance": [self.provenance(aid)],
        }
        eng = ctx.engagement(data, MEMBER_FILE, first_line)
        return eng, (kept_spells if eng is not None else [])

    @staticmethod
    def _empty_table() -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series(dtype="Int64") for c in ("ccode1", "ccode2", "year",
                                                                   *SUMMARY_COLUMNS.values())})

    @classmethod
    def _finish_table(cls, frame: pd.DataFrame) -> pd.DataFrame:
        """Directed (both orderings), one row per dyad-year, flags as 0/1, sorted."""
        if frame.empty:
            return cls._empty_table()
        swapped = frame.rename(columns={"ccode1": "ccode2", "ccode2": "ccode1"})
        both = pd.concat([frame, swapped], ignore_index=True)
        flags = list(SUMMARY_COLUMNS.values())
        out = both.groupby(["ccode1", "ccode2", "year"], as_index=False)[flags].max()
        out = out[["ccode1", "ccode2", "year", *flags]].sort_values(["ccode1", "ccode2", "year"])
        return out.astype("Int64").reset_index(drop=True)

    def _dyad_yearly(self, path: Path, ctx: IngestContext) -> tuple[int, pd.DataFrame]:
        """Rows read and the table from the official dyad-yearly file."""
        frame = read_csv_checked(path, DYAD_YEARLY_REQUIRED, lowercase=True)
        read = len(frame)
        frame = quarantine_short_rows(frame, path, ctx)
        year = pd.to_numeric(frame["year"], errors="coerce")
        frame = pd.concat([frame[year <= 0], quarantine_years(frame[~(year <= 0)], {"year": True}, FIRST_YEAR,
                                                              LAST_YEAR, DYAD_YEARLY_FILE, ctx)]).sort_index()
        cols = ["ccode1", "ccode2", "year", *TYPES]
        numeric = frame[cols].apply(pd.to_numeric, errors="coerce")
        bad = numeric[["ccode1", "ccode2", "year"]].isna().any(axis=1) | (numeric["year"] <= 0)
        for idx in frame.index[bad]:
            ctx.reject(DYAD_YEARLY_FILE, int(idx) + 2, "year", frame.at[idx, "year"],
                       "dyad-year without a usable ccode or year (COW's file has two year-0 errors)")
        good = numeric[~bad].fillna(0)
        good = good.rename(columns=SUMMARY_COLUMNS)
        for col in SUMMARY_COLUMNS.values():
            good[col] = (good[col] == 1).astype(int)
        return read, self._finish_table(good.astype(int))

    @staticmethod
    def _bounded_member_rows(frame: pd.DataFrame, ctx: IngestContext) -> pd.DataFrame:
        """Member rows whose years are within COW's coverage and whose membership does not end before it starts.

        End years of 0, -9 or blank mean "still in force" and pass; the start year must be given.
        """
        years = {c: pd.to_numeric(frame[c], errors="coerce") for c in
                 ("mem_st_year", "mem_end_year", "all_st_year", "all_end_year")}
        check = pd.DataFrame({c: v.where(~(v <= 0)) if c != "mem_st_year" else frame[c] for c, v in years.items()})
        check = quarantine_years(check, {"mem_st_year": False, "mem_end_year": False, "all_st_year": False,
                                         "all_end_year": False}, ALLIANCE_FIRST_YEAR, LAST_YEAR, MEMBER_FILE, ctx)
        check = quarantine_reversed(check, "mem_st_year", "mem_end_year", MEMBER_FILE, ctx)
        return frame.loc[check.index]

    @classmethod
    def _dyads_from_members(cls, spells: list[MemberSpell]) -> pd.DataFrame:
        rows: list[dict[str, Any]] = []
        by_alliance: dict[int, list[MemberSpell]] = {}
        for spell in spells:
            by_alliance.setdefault(spell[0], []).append(spell)
        for members in by_alliance.values():
            for i, (_, c1, s1, e1, f1) in enumerate(members):
                for _, c2, s2, e2, f2 in members[i + 1:]:
                    if c1 == c2:
                        continue
                    first = max(s1, s2)
                    last = min(LAST_YEAR if e1 is None else e1, LAST_YEAR if e2 is None else e2)
                    flags = {SUMMARY_COLUMNS[t]: min(f1[t], f2[t]) for t in TYPES}
                    if not any(flags.values()):
                        continue
                    rows.extend({"ccode1": c1, "ccode2": c2, "year": y, **flags} for y in range(first, last + 1))
        return cls._finish_table(pd.DataFrame(rows))

    # ------------------------------------------------------------------ dyad-year summary layout

    def _load_summary(self, folder: Path, ctx: IngestContext) -> LoadResult:
        frame = read_csv_checked(folder / SUMMARY_FILE, SUMMARY_REQUIRED, lowercase=True)
        result = LoadResult(rows_read=len(frame))
        frame = quarantine_short_rows(frame, folder / SUMMARY_FILE, ctx)
        frame = quarantine_years(frame, {"year": True}, FIRST_YEAR, LAST_YEAR, SUMMARY_FILE, ctx)
        cols = list(SUMMARY_REQUIRED)
        numeric = frame[cols].apply(pd.to_numeric, errors="coerce")
        key_ok = numeric[["ccode1", "ccode2", "year"]].notna().all(axis=1)
        integral = (numeric[["ccode1", "ccode2", "year"]].fillna(0) % 1 == 0).all(axis=1)
        bad = ~key_ok | ~integral | (numeric["year"] <= 0) | (numeric["ccode1"] == numeric["ccode2"])
        for idx in frame.index[bad]:
            reason = ("dyad-year without a usable ccode or year (truncated file?)" if not key_ok[idx] or not
                      integral[idx] or numeric.at[idx, "year"] <= 0 else "a state allied with itself")
            ctx.reject(SUMMARY_FILE, int(idx) + 2, "ccode1+ccode2+year",
                       f"{frame.at[idx, 'ccode1']}/{frame.at[idx, 'ccode2']}/{frame.at[idx, 'year']}", reason)
        good = numeric[~bad].copy()
        flags = list(SUMMARY_COLUMNS.values())
        good[flags] = (good[flags].fillna(0) == 1).astype(int)
        good[["ccode1", "ccode2", "year"]] = good[["ccode1", "ccode2", "year"]].astype(int)
        good = quarantine_duplicates(good, ["ccode1", "ccode2", "year"], SUMMARY_FILE, ctx)
        table = good[["ccode1", "ccode2", "year", *flags]].astype("Int64").reset_index(drop=True)
        result.tables = {"cow_alliance_dyad_year": table}

        pair = good[["ccode1", "ccode2"]]
        undirected = good.assign(low=pair.min(axis=1), high=pair.max(axis=1))
        undirected = undirected.groupby(["low", "high", "year"], as_index=False)[flags].max()
        last_year = min(int(good["year"].max()), LAST_YEAR) if len(good) else LAST_YEAR
        before = len(ctx.rejections)
        for kind, col in SUMMARY_COLUMNS.items():
            rows = undirected[undirected[col] == 1].sort_values(["low", "high", "year"])
            if rows.empty:
                continue
            brk = (rows["low"].diff() != 0) | (rows["high"].diff() != 0) | (rows["year"].diff() != 1)
            rows = rows.assign(spell=brk.cumsum())
            spells = rows.groupby("spell").agg(low=("low", "first"), high=("high", "first"),
                                               first=("year", "min"), last=("year", "max"), n=("year", "size"))
            for spell in spells.itertuples(index=False):
                eng = self._dyad_spell(kind, int(spell.low), int(spell.high), int(spell.first), int(spell.last),
                                       last_year, ctx)
                if eng is not None:
                    result.engagements.append(eng)
        # every dyad-year kept is in the table (and in a spell); a spell quarantined whole counts as one
        # quarantined record, so one of its rows is accounted for there
        result.accounted = {"dyad-years (table and spells)": len(good) - (len(ctx.rejections) - before)}
        return result

    def _dyad_spell(self, kind: str, low: int, high: int, first: int, last: int, last_year: int,
                    ctx: IngestContext) -> Engagement | None:
        ongoing = last >= last_year
        participants: list[dict[str, Any]] = []
        unresolved: list[int] = []
        for code in (low, high):
            polity, year = resolve_in_spell(ctx, code, first, None if ongoing else last, ongoing_until=last_year)
            if polity is None:
                unresolved.append(code)
                continue
            participant: dict[str, Any] = {"id": polity.id, "name": polity.name, "role": "member", "ccode": code,
                           "start_year": first, "end_year": None if ongoing else last}
            if year != first:
                participant["attributes"] = {"resolved_as_of": year}
            participants.append(participant)
        record = f"{low}-{high}-{kind}-{first}"
        if not participants:
            ctx.reject(SUMMARY_FILE, record, "ccode1+ccode2", f"{low}/{high}",
                       f"dyad spell {record}: neither state resolves to a known polity")
            return None
        attributes: dict[str, Any] = {"unit": "dyad_spell", "type": kind, "ccode1": low, "ccode2": high,
                                      "first_year": first, "last_year": last, "years": last - first + 1,
                                      "right_censored": ongoing}
        if unresolved:
            attributes["unresolved_members"] = unresolved
        label = TYPE_LABELS[kind]
        names = " - ".join([p["name"] or p["id"] for p in participants] + [f"ccode {c}" for c in unresolved])
        data = {
            "id": f"cow_alliance-dyad-{record}",
            "title": f"COW {label} spell: {names} ({first}-{'' if ongoing else last})",
            "summary": (f"The two states were linked by at least one {label} in every year from {first} to {last}"
                        + (" (still in force at the end of the data)" if ongoing else "")
                        + "; a dyadic spell from the COW dyad-year summary, not a single treaty."),
            "activity": "agreements",
            "instrument": "alliance_treaty",
            "start_year": first,
            "end_year": None if ongoing else last,
            "precision": "year",
            "ongoing": ongoing,
            "participants": participants,
            "attributes": attributes,
            "provenance": [self.provenance(f"dyad-{record}")],
        }
        return ctx.engagement(data, SUMMARY_FILE, record)


SOURCES = [COWAlliance()]
