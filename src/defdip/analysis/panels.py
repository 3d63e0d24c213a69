"""State-year and dyad-year panels with defence-diplomacy layers, in peacesciencer's conventions.

The population is the state system:

* ``system="cow"`` (default): COW ``system2016`` state-years 1816-2016 (store table ``cow_system``),
  extended to 2018 so that the panels reach the end of ATOP 5.1: every state in the COW system at the
  end of 2016 (COW closes running spells on 31 Dec 2016) is carried into 2017 and 2018, together with
  any other state that ATOP's state-year file (``atop_sy``) lists in those years. Codes: ``ccode``.
* ``system="gw"``: Gleditsch-Ward states (``gw_states``), one row per year in which a state is
  independent at any time, 1816-2017; codes ``gwcode``. Layers are joined on COW codes through a
  year-aware crosswalk (GW 260 from 1991 = COW 255 Germany; GW 340 Serbia = COW 345; GW 678 from 1991 =
  COW 679 Yemen; otherwise the codes agree). GW-only polities have no COW-coded ties (0 inside coverage).

Dyads: non-directed dyad-years have ``ccode1 < ccode2``; ``directed=True`` returns both orderings.
Every layer is a 0/1 indicator or a count per dyad-year; outside a layer's coverage its columns are
NA (never 0); inside coverage a dyad without a tie gets 0. All layers are written as DuckDB SQL over
the store's tables (see ``_TIES``): a directed "tie table" (ccode1, ccode2, year, values) per
source, combined over the two directions for non-directed panels (max for indicators and symmetric
counts; sum for arms TIV and visits), left-joined onto the state-system dyads.

ATOP directed dyad-years (``atop_*``), coded as ATOP codes its own directed dyad-year file, from the
member file (one row per alliance, member and phase, with the member's obligations and its entry and
exit dates) and the cited exceptions table ``atop_exception``:

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
  directed pair;
* several alliances in a year: the maximum over alliances. Non-directed panels take the maximum of
  the two directions.

When the ATOP source folder holds ATOP's own directed dyad-year file (``atop5_1ddyr.csv``, stored as
``atop_ddyr``) the layers are read from it instead, and ``defdip validate`` reports how many directed
dyad-years the derivation above codes differently.

``dd_index`` (defence-diplomacy index, 0-5): the number of distinct activities present in the
(non-directed) dyad-year among (1) agreements: any common ATOP alliance or a DCA in force; (2) joint
exercises; (3) arms transfers (TIV > 0 either way); (4) co-deployment in a UN peacekeeping mission;
(5) a visit either way. A component outside its coverage (or whose source is not in the store) is
left out of the count; the index is NA only when every component is NA. Its range therefore varies
with the years covered (only alliances before 1950): compare like with like.

State-year panels aggregate the same layers over each state's partners: each column is the number of
partners with a tie (value > 0 in either direction) that year, counted over the dyads inside the
layer's coverage (NA when none of the state's dyads is covered). ``cowmaj`` becomes the state's own
major-power indicator and ``conttype`` the number of land/river neighbours (``land_contig``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from defdip.core import config
from defdip.core.errors import DefdipError, StoreError

ATOP_END = 2018
"""Last year of ATOP 5.1; member exit year 0 means in force through it."""
COW_END = 2016
"""Last year of COW system2016 (and of COW contiguity and majors)."""


@dataclass(frozen=True)
class Layer:
    """One panel layer: its columns, the source it needs and the years it covers."""

    name: str
    columns: tuple[str, ...]
    source: str
    first_year: int
    last_year: int
    description: str
    citation_keys: tuple[str, ...]
    state_columns: tuple[str, ...] = ()
    """Column names in state-year panels (default: the same as ``columns``)."""
    tables: tuple[str, ...] = ()
    """Store tables the layer reads."""

    @property
    def state_cols(self) -> tuple[str, ...]:
        return self.state_columns or self.columns


@dataclass(frozen=True)
class _Tie:
    """A directed tie table computed once per panel and shared by the layers that read it."""

    tables: tuple[str, ...]
    source: str
    sql: str
    """SELECT ... AS c1, ... AS c2, ... AS year, value columns (directed: both orderings where symmetric)."""
    combine: dict[str, str]
    """Per value column: how the two directions combine in non-directed panels (max or sum)."""
    coverage: str
    """SQL condition on d.year, d.c1, d.c2 (COW codes) for the years and dyads the source covers."""
    types: dict[str, str]
    fill: bool = True
    """Whether a dyad-year inside coverage without a row reads 0 (ties) or stays NA (measures such as distance)."""


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

_EX_SOURCES = "('mme', 'jme', 'ru_exercises')"
_TIES: dict[str, _Tie] = {
    "atop": _Tie(
        tables=("atop_member", "atop_exception", "atop_ddyr"), source="atop", sql=ATOP_TIE_SQL,
        combine=dict.fromkeys(["atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul",
                               "atop_any"], "max"),
        coverage=f"d.year BETWEEN 1815 AND {ATOP_END}", types={}),
    "cow_alliance": _Tie(
        tables=("cow_alliance_dyad_year",), source="cow_alliance",
        sql="""
        SELECT ccode1 AS c1, ccode2 AS c2, year, max(cow_defense) AS cow_defense, max(cow_neutral) AS cow_neutral,
               max(cow_nonagg) AS cow_nonagg, max(cow_entente) AS cow_entente
        FROM (SELECT ccode1, ccode2, year, cow_defense, cow_neutral, cow_nonagg, cow_entente
                FROM cow_alliance_dyad_year
              UNION ALL
              SELECT ccode2, ccode1, year, cow_defense, cow_neutral, cow_nonagg, cow_entente
                FROM cow_alliance_dyad_year)
        GROUP BY ALL""",
        combine=dict.fromkeys(["cow_defense", "cow_neutral", "cow_nonagg", "cow_entente"], "max"),
        coverage="d.year BETWEEN 1816 AND 2012", types={}),
    "dcad": _Tie(
        tables=("dcad_agreement",), source="dcad",
        sql="""
        WITH y AS (
            SELECT ccode1, ccode2, lower(type) AS type,
                   unnest(range(sign_year::INTEGER, least(coalesce(end_year_estimate, 2010), 2010)::INTEGER + 1))
                     AS year
            FROM dcad_agreement
            WHERE ccode1 IS NOT NULL AND ccode2 IS NOT NULL AND ccode1 <> ccode2 AND sign_year IS NOT NULL),
        both_ways AS (SELECT ccode1 AS c1, ccode2 AS c2, type, year FROM y
                      UNION ALL SELECT ccode2, ccode1, type, year FROM y)
        SELECT c1, c2, year, max(CASE WHEN type = 'general' THEN 1 ELSE 0 END) AS dca_general,
               max(CASE WHEN type = 'sector' THEN 1 ELSE 0 END) AS dca_sector, 1 AS dca_any
        FROM both_ways GROUP BY ALL""",
        combine=dict.fromkeys(["dca_general", "dca_sector", "dca_any"], "max"),
        coverage="d.year BETWEEN 1980 AND 2010", types={}),
    "exercises": _Tie(
        tables=("engagements", "participants", "provenance"), source="mme",
        sql=f"""
        WITH ep AS (
            SELECT DISTINCT e.id, e.start_year AS year, p.ccode
            FROM engagements e JOIN participants p ON p.engagement_id = e.id
            WHERE e.activity = 'exercises' AND p.ccode IS NOT NULL
              AND e.id IN (SELECT engagement_id FROM provenance WHERE source IN {_EX_SOURCES})),
        n AS (SELECT id, count(*) AS n FROM ep GROUP BY id)
        SELECT a.ccode AS c1, b.ccode AS c2, a.year, count(*) AS exercises,
               count(*) FILTER (WHERE n.n = 2) AS exercises_bilateral,
               count(*) FILTER (WHERE n.n > 2) AS exercises_multilateral
        FROM ep a JOIN ep b ON a.id = b.id AND a.ccode <> b.ccode JOIN n ON n.id = a.id
        GROUP BY ALL""",
        combine=dict.fromkeys(["exercises", "exercises_bilateral", "exercises_multilateral"], "max"),
        coverage="(d.year BETWEEN 1980 AND 2010 OR (d.year BETWEEN 2011 AND 2018 AND 365 IN (d.c1, d.c2)))",
        types={}),
    "arms": _Tie(
        tables=("engagements", "participants", "provenance"), source="sipri",
        sql="""
        WITH t AS (
            SELECT e.id, e.attributes FROM engagements e
            WHERE e.instrument = 'equipment_transfer'
              AND e.id IN (SELECT engagement_id FROM provenance WHERE source = 'sipri')),
        deliveries AS (
            SELECT t.id, unnest(CAST(json_extract(t.attributes, '$.delivery_years') AS INTEGER[])) AS year,
                   coalesce(TRY_CAST(json_extract_string(t.attributes, '$.tiv_delivered') AS DOUBLE), 0)
                     / greatest(json_array_length(json_extract(t.attributes, '$.delivery_years')), 1) AS tiv
            FROM t),
        sides AS (
            SELECT d.id, d.year, d.tiv, s.ccode AS c1, r.ccode AS c2
            FROM deliveries d
            JOIN participants s ON s.engagement_id = d.id AND s.role = 'supplier' AND s.ccode IS NOT NULL
            JOIN participants r ON r.engagement_id = d.id AND r.role = 'recipient' AND r.ccode IS NOT NULL)
        SELECT c1, c2, year, sum(tiv) AS arms_tiv FROM sides WHERE c1 <> c2 GROUP BY ALL""",
        combine={"arms_tiv": "sum"}, coverage="d.year BETWEEN 1950 AND 2023", types={"arms_tiv": "DOUBLE"}),
    "pko": _Tie(
        tables=("pko_contributions",), source="un_pko",
        sql="""
        WITH c AS (SELECT DISTINCT ccode, year, mission FROM pko_contributions
                   WHERE ccode IS NOT NULL AND coalesce(total, 0) > 0)
        SELECT a.ccode AS c1, b.ccode AS c2, a.year, 1 AS pko_codeployed
        FROM c a JOIN c b ON a.year = b.year AND a.mission = b.mission AND a.ccode <> b.ccode
        GROUP BY ALL""",
        combine={"pko_codeployed": "max"}, coverage="d.year BETWEEN 2010 AND 2021", types={}),
    "visits": _Tie(
        tables=("engagements", "participants", "provenance"), source="us_visits",
        sql="""
        WITH v AS (SELECT DISTINCT e.id, e.start_year AS year FROM engagements e
                   JOIN provenance pv ON pv.engagement_id = e.id AND pv.source = 'us_visits'
                   WHERE e.instrument = 'visit')
        SELECT 2 AS c1, p.ccode AS c2, v.year, count(DISTINCT v.id) AS visits
        FROM v JOIN participants p ON p.engagement_id = v.id
        WHERE p.ccode IS NOT NULL AND p.ccode <> 2
        GROUP BY ALL""",
        combine={"visits": "sum"}, coverage="(d.year BETWEEN 1992 AND 2012 AND 2 IN (d.c1, d.c2))", types={}),
    "contiguity": _Tie(
        tables=("cow_contiguity",), source="cow_contiguity",
        sql="""
        WITH y AS (SELECT ccode1, ccode2, conttype, unnest(range(styear, endyear + 1)) AS year
                   FROM cow_contiguity WHERE conttype > 0),
        both_ways AS (SELECT ccode1 AS c1, ccode2 AS c2, conttype, year FROM y
                      UNION ALL SELECT ccode2, ccode1, conttype, year FROM y)
        SELECT c1, c2, year, min(conttype) AS conttype FROM both_ways GROUP BY ALL""",
        combine={"conttype": "min"}, coverage=f"d.year BETWEEN 1816 AND {COW_END}", types={}),
}

_LAYER_TIE: dict[str, str] = {}
"""Layer name -> tie table it reads (absent for node layers: cowmaj, and the derived dd_index)."""


def _layer(name: str, columns: Sequence[str], source: str, first: int, last: int, description: str,
           keys: Sequence[str], tie: str | None, state_columns: Sequence[str] = (),
           tables: Sequence[str] = ()) -> Layer:
    if tie:
        _LAYER_TIE[name] = tie
        tables = tables or _TIES[tie].tables
    return Layer(name, tuple(columns), source, first, last, description, tuple(keys), tuple(state_columns),
                 tuple(tables))


_ATOP_KEYS = ("leeds_atop_2002",)
_ATOP_OBLIG = {"defense": "defence", "offense": "offence", "neutral": "neutrality", "nonagg": "non-aggression",
               "consul": "consultation"}
LAYERS: dict[str, Layer] = {}
for _ob, _label in _ATOP_OBLIG.items():
    LAYERS[f"atop_{_ob}"] = _layer(
        f"atop_{_ob}", [f"atop_{_ob}"], "atop", 1815, ATOP_END,
        f"1 if an ATOP alliance in force that year carries a {_label} obligation of ccode1 towards ccode2 "
        "(non-directed: either way), coded as ATOP's directed dyad-year file: allied only when the two "
        "membership rows of one phase overlap by a day or more in the year; the obligation from the "
        "overlapping member-phase row, the phase in force at the end of the year where it changes; "
        "obligations owed to some co-members only from the cited table atop_exception. From atop_member, or "
        "from ATOP's own directed dyad-year file (atop_ddyr) where the store has it.",
        _ATOP_KEYS, "atop")
for _ob in ("defense", "neutral", "nonagg", "entente"):
    LAYERS[f"cow_{_ob}"] = _layer(
        f"cow_{_ob}", [f"cow_{_ob}"], "cow_alliance", 1816, 2012,
        f"1 if a COW Formal Alliances v4.1 {_ob} alliance links the dyad that year (peacesciencer's dyad-year "
        "summary).", ("gibler_alliances_2009",), "cow_alliance")
for _kind, _text in (("general", "a general (framework) DCA"), ("sector", "a sector-specific DCA"),
                     ("any", "any DCA")):
    LAYERS[f"dca_{_kind}"] = _layer(
        f"dca_{_kind}", [f"dca_{_kind}"], "dcad", 1980, 2010,
        f"1 if {_text} is in force: signed in or before the year and not ended (DCAD endYearEstimate; data "
        "end 2010).", ("kinne_dcad_2020",), "dcad")
LAYERS["exercises"] = _layer(
    "exercises", ["exercises", "exercises_bilateral", "exercises_multilateral"], "mme", 1980, 2018,
    "Number of joint military exercises that started that year with both states taking part (MME v7 and JME v3 "
    "1980-2010; the unofficial list of Russia's exercises extends Russia's dyads alone through 2011-2018, "
    "other dyads NA there; JME's 1974-79 records are too sparse to count as coverage). bilateral = exactly "
    "two states with COW codes among the participants; multilateral = more.",
    ("dorazio_galambos_2021", "dorazio_2013_jme", "milru_exercises_unofficial"), "exercises")
LAYERS["arms_tiv"] = _layer(
    "arms_tiv", ["arms_tiv"], "sipri", 1950, 2018,
    "SIPRI TIV (millions) of weapons delivered from ccode1 to ccode2 that year (a deal's delivered TIV spread "
    "evenly over its delivery years); non-directed: both ways summed. The shared development copy is an 8% "
    "sample of the register: figures from it are not totals.", ("sipri_arms_transfers",), "arms")
LAYERS["pko_codeployed"] = _layer(
    "pko_codeployed", ["pko_codeployed"], "un_pko", 2010, 2021,
    "1 if both states contributed personnel to the same UN peacekeeping mission that year.",
    ("un_dpo_contributions",), "pko")
LAYERS["visits"] = _layer(
    "visits", ["visits"], "us_visits", 1992, 2012,
    "Number of visits by US defence officials to the other state that year (directed from the US; only dyads "
    "with the US are covered, others NA).", ("flynn_troopdata_visits",), "visits")
LAYERS["dd_index"] = _layer(
    "dd_index", ["dd_index"], "defdip", 1815, ATOP_END,
    "Defence-diplomacy index 0-5: number of activities present among agreements (ATOP alliance or DCA), "
    "exercises, arms transfers, UN co-deployment and visits; components outside coverage are left out, NA "
    "only when all are.", ("leeds_atop_2002", "kinne_dcad_2020", "dorazio_galambos_2021", "dorazio_2013_jme",
     "milru_exercises_unofficial", "sipri_arms_transfers", "un_dpo_contributions", "flynn_troopdata_visits"),
    None, tables=())
LAYERS["conttype"] = _layer(
    "conttype", ["conttype"], "cow_contiguity", 1816, COW_END,
    "COW direct contiguity type: 1 land/river border, 2-5 water distance up to 12/24/150/400 miles, 0 none "
    "(closest type in force in the year). State-year: land_contig = number of land/river neighbours.",
    ("stinnett_etal2002",), "contiguity", state_columns=("land_contig",))
LAYERS["cowmaj"] = _layer(
    "cowmaj", ["cowmaj1", "cowmaj2"], "state_system", 1816, COW_END,
    "1 if the state is a COW major power that year (majors2016). State-year: cowmaj.",
    ("cow_states2016",), None, state_columns=("cowmaj",), tables=("cow_majors",))

# --- event layers (issue 12; defdip.events): begin ---------------------------------------------------------
_EV_LAYERS = {"ev_contacts": "visits and meetings (CAMEO 042/043/044; PLOVER CONSULT in visit, third-party or "
                             "multilateral mode)",
              "ev_milcoop": "military cooperation (CAMEO 062; PLOVER COOPERATE)",
              "ev_agreements": "agreements (CAMEO 057, 0312; PLOVER AGREE/SUPPORT)",
              "ev_milaid": "military aid (CAMEO 072, 0332; PLOVER AID in military mode)",
              "ev_peacekeeping": "peacekeeping (CAMEO 074, 0334; PLOVER AID in peacekeeping mode)",
              "ev_hadr": "humanitarian aid by a military actor (CAMEO 073; PLOVER AID in humanitarian mode)"}
_TIES["events"] = _Tie(
    tables=("ev_dyad_year", "ev_coverage"), source="events",
    sql=f"SELECT c1, c2, year, {', '.join(_EV_LAYERS)} FROM ev_dyad_year",
    combine=dict.fromkeys(_EV_LAYERS, "max"),
    coverage="d.year IN (SELECT year FROM ev_coverage)", types={})
for _ev, _text in _EV_LAYERS.items():
    LAYERS[_ev] = _layer(
        _ev, [_ev], "events", 1979, pd.Timestamp.now().year,
        f"Number of days with at least one defence event of {_text} from ccode1 to ccode2 that year: "
        "machine-coded events (GDELT, ICEWS, POLECAT) with a military or defence actor on one side, one per "
        "directed dyad-day however many reports; non-directed: the larger direction. NA in years with no event "
        "files loaded (`defdip events ingest`). Not part of dd_index.",
        ("leetaru_schrodt_gdelt_2013", "boschee_icews_2015", "halterman_plover_2023", "schrodt_cameo_2012"),
        "events")
# --- event layers: end --------------------------------------------------------------------------------------

# --- controls (issue 11.4): MID onset and ongoing dispute, capital distance: begin -------------------------
_TIES["gml_mid"] = _Tie(
    tables=("gml_mid_dyad_year",), source="gml_mid",
    sql="""
    WITH m AS (SELECT ccode1, ccode2, year, max(gmlmidonset) AS gmlmidonset, max(gmlmidongoing) AS gmlmidongoing
               FROM gml_mid_dyad_year GROUP BY ALL)
    SELECT ccode1 AS c1, ccode2 AS c2, year, gmlmidonset, gmlmidongoing FROM m
    UNION ALL SELECT ccode2, ccode1, year, gmlmidonset, gmlmidongoing FROM m""",
    combine={"gmlmidonset": "max", "gmlmidongoing": "max"}, coverage="d.year BETWEEN 1816 AND 2010", types={})
_TIES["capdist"] = _Tie(
    tables=("cow_capitals",), source="state_system",
    # the capital in force at the end of the year (the later-starting one when a state moved its capital);
    # great-circle (haversine) distance on a sphere of radius 6,371 km
    sql=f"""
    WITH y AS (SELECT ccode, unnest(range(year(stdate::DATE), year(enddate::DATE) + 1)) AS year,
                      stdate, lat, lng FROM cow_capitals
               WHERE ccode IS NOT NULL AND lat IS NOT NULL AND lng IS NOT NULL),
    c AS (SELECT ccode, year, arg_max(radians(lat), stdate) AS la, arg_max(radians(lng), stdate) AS lo
          FROM y WHERE year BETWEEN 1816 AND {ATOP_END} GROUP BY ccode, year)
    SELECT a.ccode AS c1, b.ccode AS c2, a.year,
           2 * 6371.0 * asin(sqrt(pow(sin((b.la - a.la) / 2), 2)
                                  + cos(a.la) * cos(b.la) * pow(sin((b.lo - a.lo) / 2), 2))) AS capdist
    FROM c a JOIN c b ON a.year = b.year AND a.ccode <> b.ccode""",
    combine={"capdist": "max"}, coverage=f"d.year BETWEEN 1816 AND {ATOP_END}", types={"capdist": "DOUBLE"},
    fill=False)
LAYERS["gml_mid"] = _layer(
    "gml_mid", ["gmlmidonset", "gmlmidongoing"], "gml_mid", 1816, 2010,
    "GML MID 2.2.1: gmlmidonset = 1 if a militarized dispute between the two states began that year; "
    "gmlmidongoing = 1 if one was under way (the onset year included). Non-directed: the dyad's dispute-years "
    "in gml_mid_ddydisps; directed: the same value both ways. State-year: the number of dispute partners.",
    ("gibler_miller_little2016",), "gml_mid")
LAYERS["capdist"] = _layer(
    "capdist", ["capdist"], "state_system", 1816, ATOP_END,
    "Great-circle distance in km between the two states' capitals in force at the end of the year (COW "
    "capitals compiled for peacesciencer, cow_capitals.csv; haversine on a 6,371 km sphere). NA where either "
    "capital is unknown that year. State-year: the number of states with a known capital distance.",
    ("miller2022peacesciencer", "cow_states2016"), "capdist")
LAYERS["peace_years"] = _layer(
    "peace_years", ["gmlmidspell", "gmlmidspell2", "gmlmidspell3"], "gml_mid", 1816, 2010,
    "Peace years: years since the dyad's last GML MID onset before this year (counted from the dyad's first "
    "year in the state system, left-censored at 1816, when it has had none; an onset year counts from the "
    "previous onset), with its square and cube (unscaled) for Carter and Signorino's (2010) cubic; "
    "peacesciencer's add_spells name. Dyad-years only; NA after 2010.",
    ("gibler_miller_little2016",), None, tables=("gml_mid_dyad_year",))
LAYERS["region"] = _layer(
    "region", ["region1", "region2"], "state_system", 1816, ATOP_END,
    "COW region of the state code: 1 Americas (2-165), 2 Europe (200-399), 3 Africa (400-626), 4 Middle East "
    "(630-698), 5 Asia and Oceania (700-999), as COW's MID and alliance files code region. State-year: region.",
    ("cow_states2016",), None, state_columns=("region",), tables=("cow_system",))
LAYERS["names"] = _layer(
    "names", ["stateabb1", "statename1", "stateabb2", "statename2"], "state_system", 1816, ATOP_END,
    "The state's abbreviation and name in the membership spell in force that year (COW states2016; G-W list "
    "for system='gw'); past the list's last year the latest spell's. State-year: stateabb, statename.",
    ("cow_states2016", "gleditsch_ward1999"), None, state_columns=("stateabb", "statename"),
    tables=("cow_states",))
DERIVED = ("peace_years", "region", "names")
"""Layers computed from the panel's own rows after its SQL; left out of the default (every-layer) selection."""
REGIONS = {1: "Americas", 2: "Europe", 3: "Africa", 4: "Middle East", 5: "Asia and Oceania"}
_REGION_BOUNDS = ((2, 165, 1), (200, 399, 2), (400, 626, 3), (630, 698, 4), (700, 999, 5))
def peace_years(frame: pd.DataFrame, event: str, keys: Sequence[str] = ("ccode1", "ccode2")) -> pd.Series:
    """Years since the dyad's last year before this one with ``event`` == 1 (float; the model and the pipeline
    share it).

    A dyad with no earlier event counts from its first year in ``frame`` (left-censored: start the frame in
    1816 for the full history). An event year itself counts the years since the previous one, as Carter and
    Signorino's (2010) time-since-event polynomial and peacesciencer's spells do.
    """
    ordered = frame.sort_values([*keys, "year"], kind="stable")
    groups = [ordered[k] for k in keys]
    years = ordered["year"].astype("float64")
    last = years.where(ordered[event] == 1).groupby(groups, sort=False).ffill()
    last = last.groupby(groups, sort=False).shift(1)
    first = years.groupby(groups, sort=False).transform("min")
    return pd.Series(np.where(last.notna(), years - last, years - first), index=ordered.index).reindex(frame.index)


def region_of(codes: pd.Series) -> pd.Series:
    """COW region (1-5, see :data:`REGIONS`) of each state code; NA for a code in no range."""
    values = pd.to_numeric(codes, errors="coerce")
    out = pd.Series(pd.NA, index=codes.index, dtype="Int32")
    for first, last, region in _REGION_BOUNDS:
        out[(values >= first) & (values <= last)] = region
    return out


def _name_spells(store: str | Path | None, system: str) -> pd.DataFrame:
    """code, stateabb, statename, first, last: the membership spells that carry names."""
    con = _open(store)
    try:
        table = "cow_states" if system == "cow" else "gw_states"
        if not _has(con, table):
            raise StoreError(f"layer 'names' needs the {table!r} table: build the store with the 'state_system' "
                             "source available (`defdip build --sources DIR`)")
        sql = ("SELECT ccode AS code, stateabb, statenme AS statename, styear AS first, endyear AS last FROM cow_states"
               if system == "cow" else
               "SELECT gwcode AS code, stateabb, statename, start_year AS first, end_year AS last FROM gw_states")
        return con.execute(sql).df().dropna(subset=["code", "first", "last"])
    finally:
        _TABLES.pop(id(con), None)
        con.close()


def _derive(frame: pd.DataFrame, names: list[str], store: str | Path | None, system: str,
            directed: bool | None) -> pd.DataFrame:
    """Add the DERIVED layers' columns to a fetched panel (``directed`` None: a state-year panel, which
    state_year has already checked asks for no peace years)."""
    prefix = "ccode" if system == "cow" else "gwcode"
    ids = [prefix] if directed is None else [f"{prefix}1", f"{prefix}2"]
    for name in names:
        suffixes = [""] if directed is None else ["1", "2"]
        if name == "region":
            for col, suf in zip(ids, suffixes):
                frame[f"region{suf}"] = region_of(frame[col])
        elif name == "names":
            spells = _name_spells(store, system).astype({"code": "int64", "first": "int64", "last": "int64"})
            years = pd.concat([frame[[c, "year"]].rename(columns={c: "code"}) for c in ids]).drop_duplicates()
            cand = years.astype("int64").merge(spells, on="code")
            cand = cand[cand["first"] <= cand["year"]]
            cand = cand.assign(inside=cand["year"] <= cand["last"]).sort_values(["inside", "first"])
            best = cand.drop_duplicates(["code", "year"], keep="last")
            for col, suf in zip(ids, suffixes):
                part = best.rename(columns={"code": col, "stateabb": f"stateabb{suf}",
                                            "statename": f"statename{suf}"})
                part = part[[col, "year", f"stateabb{suf}", f"statename{suf}"]].astype(
                    {col: frame[col].dtype, "year": frame["year"].dtype})
                frame = frame.merge(part, on=[col, "year"], how="left")
        elif name == "peace_years":
            first, last = (int(frame["year"].min()), int(frame["year"].max())) if len(frame) else (0, -1)
            last = min(last, LAYERS["gml_mid"].last_year)
            cols = list(LAYERS["peace_years"].columns)
            if last < first:  # no year the dispute data cover
                for col in cols:
                    frame[col] = pd.array([pd.NA] * len(frame), dtype="Int32")
                continue
            history = dyad_year(store, to_year=last, system=system, layers=["gml_mid"])
            spell = peace_years(history, "gmlmidonset", ids).astype("int64")
            history = history[ids + ["year"]].assign(**{cols[0]: spell, cols[1]: spell ** 2, cols[2]: spell ** 3})
            history = history.astype(dict.fromkeys(cols, "Int32"))
            if directed:
                history = pd.concat([history, history.rename(columns={ids[0]: ids[1], ids[1]: ids[0]})])
            frame = frame.merge(history, on=ids + ["year"], how="left")
    return frame
# --- controls (issue 11.4): end -----------------------------------------------------------------------------

_DD_COMPONENTS = {
    "agreements": (("atop", "atop_any"), ("dcad", "dca_any")),
    "exercises": (("exercises", "exercises"),),
    "arms": (("arms", "arms_tiv"),),
    "pko": (("pko", "pko_codeployed"),),
    "visits": (("visits", "visits"),),
}


# ---------------------------------------------------------------------------------------------------- helpers

def layers_table() -> pd.DataFrame:
    """The layers with their columns, source, coverage and citation keys (for `defdip panel layers`)."""
    return pd.DataFrame([{
        "layer": lay.name, "columns": ", ".join(lay.columns), "state_year_columns": ", ".join(lay.state_cols),
        "source": lay.source, "first_year": lay.first_year, "last_year": lay.last_year,
        "citations": ", ".join(lay.citation_keys), "description": lay.description} for lay in LAYERS.values()])


def resolve_layers(names: str | Iterable[str]) -> list[Layer]:
    """Layers by name (comma-separated or a list); one message for an unknown name wherever it is asked."""
    wanted = [s.strip() for s in names.split(",")] if isinstance(names, str) else [str(s).strip() for s in names]
    wanted = [n for n in wanted if n]
    unknown = [n for n in wanted if n not in LAYERS]
    if unknown:
        raise DefdipError(f"unknown layer(s) {', '.join(unknown)}; valid layers: {', '.join(LAYERS)}")
    return [LAYERS[n] for n in dict.fromkeys(wanted)]


def _select_layers(layers: str | Iterable[str] | None, con: duckdb.DuckDBPyConnection) -> list[str]:
    if layers is None:
        return [name for name in LAYERS if name not in DERIVED and _available(name, con)]
    names = [s.strip() for s in layers.split(",")] if isinstance(layers, str) else [str(s).strip() for s in layers]
    names = [n for n in names if n]
    if not names:
        raise DefdipError("empty layer selection; name one or more layers (or omit --layers for every layer): "
                          + ", ".join(LAYERS))
    unknown = [n for n in names if n not in LAYERS]
    if unknown:
        raise DefdipError(f"unknown layer(s) {', '.join(unknown)}; valid layers: {', '.join(LAYERS)}")
    for name in names:
        lay = LAYERS[name]
        for table in lay.tables:
            if not _has(con, table):
                raise StoreError(f"layer {name!r} needs the {table!r} table: build the store with the "
                                 f"{lay.source!r} source available (`defdip build --sources DIR`)")
        if name in _LAYER_TIE and not _tie_available(_LAYER_TIE[name], con):
            raise StoreError(f"layer {name!r} has no data: the store holds no records of the {lay.source!r} "
                             "source; build it with that source available")
    return list(dict.fromkeys(names))


_TABLES: dict[int, set[str]] = {}


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the attached store has ``table`` (names read once per connection)."""
    key = id(con)
    if key not in _TABLES:
        _TABLES[key] = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'store'").fetchall()}
    return table in _TABLES[key]


def _tie_available(tie: str, con: duckdb.DuckDBPyConnection) -> bool:
    spec = _TIES[tie]
    if not all(_has(con, t) for t in spec.tables):
        return False
    if "provenance" in spec.tables:
        sources = {"exercises": ("mme", "jme", "ru_exercises"), "arms": ("sipri",),
                   "visits": ("us_visits",)}[tie]
        marks = ", ".join("?" for _ in sources)
        return bool(con.execute(f"SELECT count(*) FROM provenance WHERE source IN ({marks})",
                                list(sources)).fetchall()[0][0])
    return True


def _available(name: str, con: duckdb.DuckDBPyConnection) -> bool:
    lay = LAYERS[name]
    if name == "dd_index":
        return _tie_available("atop", con) or _tie_available("dcad", con)
    if not all(_has(con, t) for t in lay.tables):
        return False
    return name not in _LAYER_TIE or _tie_available(_LAYER_TIE[name], con)


def _open(store: str | Path | None) -> duckdb.DuckDBPyConnection:
    path = config.store_path(store)
    if not path.is_file():
        raise StoreError(f"no store at {path}; run `defdip build` first (or pass --store / set DEFDIP_STORE)")
    con = duckdb.connect()
    _TABLES.pop(id(con), None)
    con.execute("ATTACH '" + str(path).replace("'", "''") + "' AS store (READ_ONLY)")
    con.execute("USE store")
    return con


def _system_years(con: duckdb.DuckDBPyConnection, system: str) -> tuple[int, int]:
    if system == "cow":
        if not _has(con, "cow_system"):
            raise StoreError("the store has no 'cow_system' table: build it with the 'state_system' source")
        return 1816, ATOP_END
    if not _has(con, "gw_states"):
        raise StoreError("the store has no 'gw_states' table: build it with the 'state_system' source")
    lo, hi = con.execute("SELECT min(start_year), max(end_year) FROM gw_states").fetchall()[0]
    return int(lo), int(hi)


def _years(con: duckdb.DuckDBPyConnection, system: str, from_year: int | None,
           to_year: int | None) -> tuple[int, int]:
    lo, hi = _system_years(con, system)
    first = lo if from_year is None else int(from_year)
    last = hi if to_year is None else int(to_year)
    if first > last:
        raise DefdipError(f"empty selection: --from {first} is after --to {last}")
    if last < lo or first > hi:
        raise DefdipError(f"no {system.upper()} state-system years in {first}-{last}: the panels cover {lo}-{hi}")
    return max(first, lo), min(last, hi)


def _make_nodes(con: duckdb.DuckDBPyConnection, system: str, lo: int, hi: int) -> None:
    """TEMP table _nodes(code, ccode, year): the state-years, with the COW code layers join on."""
    if system == "cow":
        extra = ""
        if _has(con, "atop_sy"):
            extra = f"UNION SELECT state, year FROM atop_sy WHERE year > {COW_END} AND year <= {ATOP_END}"
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _nodes AS
            SELECT code::INTEGER AS code, code::INTEGER AS ccode, year::INTEGER AS year FROM (
                SELECT ccode AS code, year FROM cow_system
                UNION SELECT s.ccode, y.year FROM cow_system s, range({COW_END} + 1, {ATOP_END} + 1) y(year)
                      WHERE s.year = {COW_END}
                {extra})
            WHERE year BETWEEN {lo} AND {hi}""")
    else:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _nodes AS
            SELECT DISTINCT code::INTEGER AS code,
                   (CASE WHEN code = 260 AND year >= 1991 THEN 255 WHEN code = 340 THEN 345
                         WHEN code = 678 AND year >= 1991 THEN 679 ELSE code END)::INTEGER AS ccode,
                   year::INTEGER AS year
            FROM (SELECT gwcode AS code, unnest(range(start_year, end_year + 1)) AS year FROM gw_states)
            WHERE year BETWEEN {lo} AND {hi}""")
    if not con.execute("SELECT count(*) FROM _nodes").fetchall()[0][0]:
        raise DefdipError(f"empty selection: no states in the {system.upper()} system in {lo}-{hi}")


def _make_ties(con: duckdb.DuckDBPyConnection, ties: Iterable[str], lo: int, hi: int,
               undirected: Iterable[str] | None = None) -> None:
    """TEMP tables _t_<tie> (directed values) and _u_<tie> (the two directions combined, c1 < c2).

    ``undirected``: the ties whose _u_ table is needed (default: every one).
    """
    ties = list(ties)
    wanted = set(ties if undirected is None else undirected)
    for tie in ties:
        spec = _TIES[tie]
        # keys as INTEGER, the type of _nodes, so joins compare without casts (a code no INTEGER holds
        # matched no state before either)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _t_{tie} AS SELECT * REPLACE (TRY_CAST(c1 AS INTEGER) AS c1, "
                    f"TRY_CAST(c2 AS INTEGER) AS c2, TRY_CAST(year AS INTEGER) AS year) FROM ({spec.sql}) "
                    f"WHERE year BETWEEN {lo} AND {hi}")
        if tie not in wanted:
            continue
        aggs = ", ".join(f"{how}({col}) AS {col}" for col, how in spec.combine.items())
        con.execute(f"CREATE OR REPLACE TEMP TABLE _u_{tie} AS SELECT least(c1, c2) AS c1, greatest(c1, c2) AS c2, "
                    f"year, {aggs} FROM _t_{tie} GROUP BY ALL")


def _value(tie: str, col: str, alias: str) -> str:
    """A layer column: NA outside the source's coverage, 0 inside it where no tie is recorded."""
    spec = _TIES[tie]
    typ = spec.types.get(col, "INTEGER")
    value = f"coalesce({alias}.{col}, 0)" if spec.fill else f"{alias}.{col}"
    return f"CASE WHEN {spec.coverage} THEN {value}::{typ} END"


def _dd_flags(dd_ties: list[str]) -> tuple[str, list[str]]:
    """SELECT of non-directed component flags (dd_<component> = 1 when the tie is present) and their names."""
    parts, names = [], []
    for comp, members in _DD_COMPONENTS.items():
        for tie, col in members:
            if tie in dd_ties:
                parts.append(f"SELECT c1, c2, year, ({col} > 0)::INTEGER AS dd_{comp} FROM _u_{tie}")
                names.append(f"dd_{comp}")
    return " UNION ALL BY NAME ".join(parts), list(dict.fromkeys(names))


def _dd_expr(dd_ties: list[str], alias: str) -> str:
    """SQL for dd_index from the component flags joined under ``alias``; coverage decides NA per component."""
    comps = []
    for comp, members in _DD_COMPONENTS.items():
        covs = [_TIES[tie].coverage for tie, _ in members if tie in dd_ties]
        if covs:
            cov = " OR ".join(f"({c})" for c in dict.fromkeys(covs))
            comps.append(f"CASE WHEN {cov} THEN coalesce({alias}.dd_{comp}, 0) END")
    if not comps:
        return "NULL::INTEGER"
    return (f"CASE WHEN coalesce({', '.join(comps)}) IS NULL THEN NULL ELSE "
            + " + ".join(f"coalesce({c}, 0)" for c in comps) + " END")


def _panel_sql(con: duckdb.DuckDBPyConnection, names: list[str], *, directed: bool, symmetric: bool) -> str:
    """SELECT for the dyad-year panel over _nodes. symmetric: directed rows carrying non-directed values.

    The sparse tie tables of every requested layer (each one row per dyad-year with a tie) are combined
    into one table ``_ties`` (one row per dyad-year with any tie, a column per tie value), which is
    left-joined once onto the state-system dyads. ``_ties`` is built on the union of the tie tables' keys,
    each tie table left-joined onto it: the joins probe the few hundred thousand tied dyad-years, not the
    millions of dyads. Directed panels read the directed tie tables; non-directed and symmetric ones the
    combined tables (c1 < c2). The defence-diplomacy flags are a property of the pair (table ``_dd``,
    c1 < c2), read in both directions for directed panels.
    """
    ties = list(dict.fromkeys(_LAYER_TIE[n] for n in names if n in _LAYER_TIE))
    dd_ties: list[str] = []
    if "dd_index" in names:
        dd_ties = [t for parts in _DD_COMPONENTS.values() for t, _ in parts if _tie_available(t, con)]
    lo, hi = con.execute("SELECT min(year), max(year) FROM _nodes").fetchall()[0]
    use_directed = directed and not symmetric
    _make_ties(con, list(dict.fromkeys(ties + dd_ties)), lo, hi,
               undirected=dd_ties + ([] if use_directed else ties))
    keys, tie_joins, tie_cols = [], [], []
    for i, tie in enumerate(ties):
        table = f"{'_t_' if use_directed else '_u_'}{tie}"
        keys.append(f"SELECT c1, c2, year FROM {table}")
        tie_joins.append(f"LEFT JOIN {table} t{i} ON t{i}.c1 = k.c1 AND t{i}.c2 = k.c2 AND t{i}.year = k.year")
        tie_cols.extend(f"t{i}.{col}" for col in _TIES[tie].combine)
    if dd_ties:
        flags, flag_cols = _dd_flags(dd_ties)
        aggs = ", ".join(f"max({c}) AS {c}" for c in flag_cols)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _dd AS SELECT c1, c2, year, {aggs} FROM ({flags}) "
                    "GROUP BY c1, c2, year")
        keys.append("SELECT c1, c2, year FROM _dd")
        if use_directed:  # the index is a property of the pair: the same in both directions
            keys.append("SELECT c2, c1, year FROM _dd")
        tie_joins.append("LEFT JOIN _dd f ON f.c1 = least(k.c1, k.c2) AND f.c2 = greatest(k.c1, k.c2) "
                         "AND f.year = k.year")
        tie_cols.extend(f"f.{col}" for col in flag_cols)
    ctes, joins = [], []
    if keys:
        ctes.append(f"k AS ({' UNION '.join(keys)})")
        ctes.append(f"t AS (SELECT k.c1, k.c2, k.year, {', '.join(tie_cols)} FROM k {' '.join(tie_joins)})")
        if use_directed:
            joins.append("LEFT JOIN t ON t.c1 = d.c1 AND t.c2 = d.c2 AND t.year = d.year")
        else:
            joins.append("LEFT JOIN t ON t.c1 = least(d.c1, d.c2) AND t.c2 = greatest(d.c1, d.c2) AND t.year = d.year")
    cols = []
    nodes = "_nodes"
    for name in names:
        if name == "dd_index":
            cols.append(f"{_dd_expr(dd_ties, 't')} AS dd_index")
        elif name == "cowmaj":  # a property of each state-year: flagged on the nodes, not joined per dyad
            nodes = "n"
            for i in (1, 2):
                cols.append(f"CASE WHEN d.year <= {COW_END} THEN d.maj{i}::INTEGER END AS cowmaj{i}")
        else:
            tie = _LAYER_TIE[name]
            cols.extend(f"{_value(tie, col, 't')} AS {col}" for col in LAYERS[name].columns)
    maj = ""
    if "cowmaj" in names:
        con.execute("""CREATE OR REPLACE TEMP TABLE _maj AS SELECT DISTINCT ccode, unnest(range(styear, endyear + 1))
                       AS year FROM cow_majors""")
        ctes.insert(0, "n AS (SELECT _nodes.*, m.ccode IS NOT NULL AS maj FROM _nodes "
                       "LEFT JOIN _maj m ON m.ccode = _nodes.ccode AND m.year = _nodes.year)")
        maj = ", a.maj AS maj1, b.maj AS maj2"
    pair = "a.code <> b.code" if directed else "a.code < b.code"
    ctes.insert(1 if maj else 0, f"""d AS (SELECT a.code AS code1, b.code AS code2, a.ccode AS c1, b.ccode AS c2,
                   a.year{maj} FROM {nodes} a JOIN {nodes} b ON a.year = b.year AND {pair})""")
    select = ", ".join(["d.code1", "d.code2", "d.year"] + cols)
    return f"""
        WITH {', '.join(ctes)}
        SELECT {select} FROM d {' '.join(joins)}"""


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """Run the panel query; integer columns come back as nullable Int32 (NA outside coverage).

    DuckDB hands over Arrow. Each integer column is joined into one Arrow array (a copy the process
    owns) and becomes a pandas masked array over that memory plus its null mask -- what pyarrow's
    ``types_mapper`` path builds too, but without copying every chunk twice (fresh memory is much of
    the cost of a panel of millions of rows). Other columns go through ``to_pandas``.
    """
    import pyarrow as pa

    table = con.sql(sql).to_arrow_table()
    ints = {pa.int8(): pa.int32(), pa.int16(): pa.int32(), pa.int32(): pa.int32(), pa.int64(): pa.int64()}
    others = [name for name, typ in zip(table.column_names, table.schema.types) if typ not in ints]
    rest = table.select(others).to_pandas() if others else None
    columns: dict[str, Any] = {}
    for name, col in zip(table.column_names, table.columns):
        target = ints.get(col.type)
        if target is None:
            columns[name] = rest[name]
            continue
        arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        if arr.type != target:
            arr = arr.cast(target)
        dtype = np.int32 if target == pa.int32() else np.int64
        if len(arr):
            values = np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr),
                                   offset=arr.offset * np.dtype(dtype).itemsize)
            if not values.flags.writeable:  # DuckDB's own buffer (a single chunk): pandas gets a copy it owns
                values = values.copy()
        else:
            values = np.empty(0, dtype=dtype)
        mask = (arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count
                else np.zeros(len(arr), dtype=bool))
        columns[name] = pd.arrays.IntegerArray(values, mask)
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows), copy=False)


# -------------------------------------------------------------------------------------------------------- API

@contextmanager
def _session(store: str | Path | None, system: str, layers: str | Iterable[str] | None, from_year: int | None,
             to_year: int | None, countries: str | Iterable[str] | None):
    """An open store with the selected layers, the state-years (_nodes) and the chosen countries (_pick)."""
    con = _open(store)
    try:
        names = _select_layers(layers, con)
        lo, hi = _years(con, system, from_year, to_year)
        _make_nodes(con, system, lo, hi)
        yield con, names, _pick_countries(con, system, countries, lo, hi)
    finally:
        _TABLES.pop(id(con), None)
        con.close()


def _pick_countries(con: duckdb.DuckDBPyConnection, system: str, countries: str | Iterable[str] | None,
                    lo: int, hi: int) -> bool:
    """TEMP table _pick(code) of the requested states; False when no selection was asked for.

    Each name goes through the actor registry; a state with no code in the system, or not in the
    system during the selected years, is a clear error rather than an empty panel.
    """
    from defdip.core.actors import registry

    if countries is None:
        return False
    names = [countries] if isinstance(countries, str) else list(countries)
    if not names:
        raise DefdipError("empty selection: no countries given")
    codes = []
    for name in names:
        polity = registry().resolve(str(name), strict=False)
        code = polity.ccode if system == "cow" else polity.gwcode
        if code is None:
            raise DefdipError(f"{polity.name} ({polity.id}) has no {system.upper()} code: panels cover states only")
        present = con.execute("SELECT min(year), max(year) FROM _nodes WHERE code = ?", [code]).fetchone()
        if present[0] is None:
            raise DefdipError(f"{polity.name} ({system.upper()} {code}) was not in the {system.upper()} state "
                              f"system in {lo}-{hi}")
        codes.append(int(code))
    con.execute("CREATE OR REPLACE TEMP TABLE _pick AS SELECT unnest(?::INTEGER[]) AS code", [codes])
    return True


def dyad_year(store: str | Path | None = None, *, directed: bool = False, from_year: int | None = None,
              to_year: int | None = None, system: str = "cow",
              layers: str | Iterable[str] | None = None,
              countries: str | Iterable[str] | None = None) -> pd.DataFrame:
    """Dyad-years of the state system with layers (None: every layer the store can supply).

    Columns: ccode1, ccode2, year (gwcode1, gwcode2 for ``system="gw"``), then each layer's columns.
    Non-directed dyads have ccode1 < ccode2; ``directed=True`` gives both orderings. Outside a layer's
    coverage its columns are NA; inside it, 0 means no tie. ``countries`` keeps the dyads of those states
    (names or codes the registry resolves). Raises DefdipError for an unknown layer, an empty selection,
    years outside the state system or a country not in the system in those years.
    """
    system = _check_system(system)
    with _session(store, system, layers, from_year, to_year, countries) as (con, names, picked):
        derived = [n for n in names if n in DERIVED]
        sql = _panel_sql(con, [n for n in names if n not in DERIVED], directed=directed, symmetric=False)
        if picked:
            sql = (f"SELECT * FROM ({sql}) d WHERE d.code1 IN (SELECT code FROM _pick) "
                   f"OR d.code2 IN (SELECT code FROM _pick)")
        frame = _fetch(con, sql + " ORDER BY d.year, d.code1, d.code2")
    prefix = "ccode" if system == "cow" else "gwcode"
    frame = frame.rename(columns={"code1": f"{prefix}1", "code2": f"{prefix}2"})
    return _derive(frame, derived, store, system, directed) if derived else frame


def state_year(store: str | Path | None = None, *, from_year: int | None = None, to_year: int | None = None,
               system: str = "cow", layers: str | Iterable[str] | None = None,
               countries: str | Iterable[str] | None = None) -> pd.DataFrame:
    """State-years with each layer aggregated over the state's partners (see the module docstring).

    Columns: ccode (gwcode), year, then per layer its state-year columns: the number of partners with a
    tie that year (``cowmaj``: the state's own major-power indicator; ``conttype``: ``land_contig``).
    """
    system = _check_system(system)
    with _session(store, system, layers, from_year, to_year, countries) as (con, names, picked):
        derived = [n for n in names if n in DERIVED]
        if "peace_years" in derived:
            raise DefdipError("layer 'peace_years' is dyadic (years since the dyad's last dispute): use it in "
                              "dyad-year panels")
        names = [n for n in names if n not in DERIVED]
        panel_names = [n for n in names if n != "cowmaj"]
        aggs = []
        for name in names:
            if name == "cowmaj":
                continue
            if name == "conttype":
                aggs.append("CASE WHEN count(p.conttype) = 0 THEN NULL ELSE "
                            "count(*) FILTER (WHERE p.conttype = 1) END::INTEGER AS land_contig")
                continue
            for col in LAYERS[name].columns:
                aggs.append(f"CASE WHEN count(p.{col}) = 0 THEN NULL ELSE count(*) FILTER (WHERE p.{col} > 0) "
                            f"END::INTEGER AS {col}")
        select = ["n.code", "n.year"]
        for name in names:
            if name == "cowmaj":
                select.append(f"CASE WHEN n.year <= {COW_END} THEN (m.ccode IS NOT NULL)::INTEGER END AS cowmaj")
            else:
                select.extend(f"s.{c}" for c in LAYERS[name].state_cols)
        if panel_names:
            inner = _panel_sql(con, panel_names, directed=True, symmetric=True)
            con.execute(f"CREATE OR REPLACE TEMP TABLE _sy AS SELECT p.code1 AS code, p.year, {', '.join(aggs)} "
                        f"FROM ({inner}) p GROUP BY ALL")
        else:
            con.execute("CREATE OR REPLACE TEMP TABLE _sy AS SELECT code, year FROM _nodes")
        join_maj = ""
        if "cowmaj" in names:
            con.execute("""CREATE OR REPLACE TEMP TABLE _maj AS SELECT DISTINCT ccode,
                           unnest(range(styear, endyear + 1)) AS year FROM cow_majors""")
            join_maj = "LEFT JOIN _maj m ON m.ccode = n.ccode AND m.year = n.year"
        frame = _fetch(con, f"""SELECT {', '.join(select)} FROM _nodes n
                                LEFT JOIN _sy s ON s.code = n.code AND s.year = n.year {join_maj}
                                {"WHERE n.code IN (SELECT code FROM _pick)" if picked else ""}
                                ORDER BY n.year, n.code""")
    frame = frame.rename(columns={"code": "ccode" if system == "cow" else "gwcode"})
    return _derive(frame, derived, store, system, None) if derived else frame


def _check_system(system: str) -> str:
    system = str(system).lower()
    if system not in ("cow", "gw"):
        raise DefdipError(f"unknown state system {system!r}; use 'cow' or 'gw'")
    return system
