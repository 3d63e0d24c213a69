"""ATOP 5.1 alliance obligations as directed dyad-years (``atop_*``), coded as ATOP codes its own directed
dyad-year file, from the member file (one row per alliance, member and phase, with the member's obligations
and its entry and exit dates) and the cited exceptions table ``atop_exception``:

* two members are allied in a year only if their membership rows for the same phase overlap by at
  least one day inside that year (a member that left the day another entered, as the two Germanies
  and unified Germany on 3 October 1990 or Yugoslavia and Croatia in 1992, is never allied with it).
  An exit date is the first day out; an unknown entry day or month counts from the first day, an
  unknown exit day or month to the last; exit 0 means in force to the end of 2018;
* the obligation of the directed dyad (a, b) is a's coded obligation in the member-phase row whose
  dates overlap b's, never the maximum over the year (a phase that began after b left owes b nothing);
* in a year in which the phase changes, the phase in force at the end of the year (the latest overlap
  in that year) counts;
* where an alliance restricts an obligation to some co-members only (ATOP codes such alliances
  ``asymm`` with ``obvary``; the member file cannot say to whom), ``atop_exception`` (package data
  ``atop_exceptions.csv``, with the treaty articles it follows) overrides the obligation for that
  directed pair. It codes 14 of the 17 alliances ATOP flags so (mostly guarantees, whose guarantors owe
  the guaranteed state and not one another); ``defdip validate`` names the other three, whose texts do not
  say plainly enough to whom each obligation runs;
* several alliances in a year: the maximum over alliances. Non-directed panels take the maximum of
  the two directions.

When the ATOP source folder holds ATOP's own directed dyad-year file (``atop5_1ddyr.csv``, stored as
``atop_ddyr``) the layers are read from it instead, and ``defdip validate`` reports how many directed
dyad-years the derivation above codes differently.
"""

from __future__ import annotations

from defdip.analysis.panels.registry import ATOP_END, Layer, Tie, register

ATOP_DERIVED_SQL = f"""
    WITH m AS (
        SELECT atopid, member, coalesce(phase, 0) AS phase, defense, offense, neutral, nonagg, consul,
               make_date(yrent::INTEGER, CASE WHEN moent BETWEEN 1 AND 12 THEN moent ELSE 1 END::INTEGER, 1)
                 + (CASE WHEN moent BETWEEN 1 AND 12 AND dayent >= 1 THEN least(dayent, day(last_day(
                      make_date(yrent::INTEGER, moent::INTEGER, 1)))) ELSE 1 END)::INTEGER - 1 AS entered,
               CASE WHEN coalesce(yrexit, 0) = 0 THEN make_date({ATOP_END} + 1, 1, 1)
                    WHEN moexit BETWEEN 1 AND 12 AND dayexit >= 1
                      THEN make_date(yrexit::INTEGER, moexit::INTEGER, 1)
                           + (least(dayexit, day(last_day(make_date(yrexit::INTEGER, moexit::INTEGER, 1))))
                              - 1)::INTEGER
                    WHEN moexit BETWEEN 1 AND 12 THEN last_day(make_date(yrexit::INTEGER, moexit::INTEGER, 1))
                    ELSE make_date(yrexit::INTEGER, 12, 31) END AS exited
        FROM atop_member WHERE member IS NOT NULL AND yrent IS NOT NULL),
    pairs AS (
        SELECT a.atopid, a.member AS c1, b.member AS c2, a.defense, a.offense, a.neutral, a.nonagg, a.consul,
               greatest(a.entered, b.entered) AS since, least(a.exited, b.exited) AS until
        FROM m a JOIN m b ON a.atopid = b.atopid AND a.phase = b.phase AND a.member <> b.member
        WHERE greatest(a.entered, b.entered) < least(a.exited, b.exited)),
    years AS (
        SELECT *, unnest(range(year(since), year(until - 1) + 1)) AS year FROM pairs),
    at_year_end AS (
        SELECT * FROM years
        QUALIFY row_number() OVER (PARTITION BY atopid, c1, c2, year
                                   ORDER BY least(until, make_date(year + 1, 1, 1)) DESC, since DESC) = 1)
    SELECT y.c1, y.c2, y.year,
           max(coalesce(x.defense, y.defense)) AS atop_defense, max(coalesce(x.offense, y.offense)) AS atop_offense,
           max(coalesce(x.neutral, y.neutral)) AS atop_neutral, max(coalesce(x.nonagg, y.nonagg)) AS atop_nonagg,
           max(coalesce(x.consul, y.consul)) AS atop_consul, 1 AS atop_any
    FROM at_year_end y
    LEFT JOIN atop_exception x ON x.atopid = y.atopid AND x.member = y.c1 AND x.partner = y.c2
    GROUP BY ALL"""
"""ATOP's directed dyad-years (c1 owes c2) derived from the member file by ATOP's rules (module docstring)."""

ATOP_TIE_SQL = f"""
    WITH derived AS ({ATOP_DERIVED_SQL})
    SELECT * FROM derived WHERE NOT EXISTS (SELECT 1 FROM atop_ddyr)
    UNION ALL
    SELECT statea, stateb, year, max(defense), max(offense), max(neutral), max(nonagg), max(consul), 1
    FROM atop_ddyr GROUP BY ALL"""
"""The ATOP tie: ATOP's own directed dyad-year file where the store has it (``atop_ddyr``), else derived."""

TIE = Tie(
    name="atop", tables=("atop_member", "atop_exception", "atop_ddyr"), sql=ATOP_TIE_SQL,
    combine=dict.fromkeys(["atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul",
                           "atop_any"], "max"),
    coverage=f"d.year BETWEEN 1815 AND {ATOP_END}", types={})

OBLIGATIONS = {"defense": "defence", "offense": "offence", "neutral": "neutrality", "nonagg": "non-aggression",
               "consul": "consultation"}
"""ATOP's obligation codes and their names in the descriptions."""

register(*(Layer(
    name=f"atop_{code}", columns=(f"atop_{code}",), source="atop", first_year=1815, last_year=ATOP_END,
    description=f"1 if an ATOP alliance in force that year carries a {label} obligation of ccode1 towards ccode2 "
    "(non-directed: either way), coded as ATOP's directed dyad-year file: allied only when the two "
    "membership rows of one phase overlap by a day or more in the year; the obligation from the "
    "overlapping member-phase row, the phase in force at the end of the year where it changes; "
    "obligations owed to some co-members only from the cited table atop_exception. From atop_member, or "
    "from ATOP's own directed dyad-year file (atop_ddyr) where the store has it.",
    citation_keys=("leeds_atop_2002",),
    role="tie", family="atop", scale="indicator", tables=TIE.tables, tie=TIE)
    for code, label in OBLIGATIONS.items()))
