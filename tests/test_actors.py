"""The actor registry: crosswalk checked against the real state lists, year-aware resolution,
and coverage of the names the real datasets use."""

from __future__ import annotations

import collections
import csv
import os
import re
import time
from pathlib import Path

import pytest

from defdip.core.actors import Polity, Registry, UnknownPolityError, normalize_name, registry
from defdip.core.errors import DefdipError

SHARED = Path(os.environ.get("DEFDIP_SOURCES", str(Path(__file__).resolve().parents[2] / "shared" / "data")))


@pytest.fixture(scope="module")
def reg() -> Registry:
    return registry()


@pytest.fixture(scope="module")
def shared() -> Path:
    """The real datasets; tests using them fail (never skip) when the folder is missing."""
    if not (SHARED / "state_system").is_dir():
        pytest.fail(f"real sources folder missing at {SHARED}; set DEFDIP_SOURCES")
    return SHARED


def _rows(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with open(path, newline="", encoding=encoding) as fh:
        return list(csv.DictReader(fh))


def _merge(spans):
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return {tuple(s) for s in merged}


# ------------------------------------------------------------------ crosswalk against the state lists


@pytest.mark.shared
def test_every_cow_spell_matches(reg: Registry, shared: Path) -> None:
    truth = collections.defaultdict(set)
    abbrev = {}
    for r in _rows(shared / "state_system" / "cow_states2016.csv"):
        ccode = int(float(r["ccode"]))
        truth[ccode].add((int(float(r["styear"])), int(float(r["endyear"]))))
        abbrev[ccode] = r["stateabb"]
    assert sum(len(v) for v in truth.values()) == 243
    mine = collections.defaultdict(set)
    for p in reg.polities("state"):
        if p.ccode is not None:
            for a, b in p.cow_spells:
                mine[p.ccode].add((a, 2016 if b is None else b))
    assert dict(mine) == dict(truth)
    for ccode, abb in abbrev.items():
        p = reg.by_ccode(ccode)
        assert p.id == abb and p.kind == "state"
        first = min(truth[ccode])
        assert reg.resolve(abb, first[0]) is p  # COW abbreviations resolve (COW beats a clashing ISO3)
        assert p.start_year == min(a for a, _ in truth[ccode])


@pytest.mark.shared
def test_system_membership_years_match(reg: Registry, shared: Path) -> None:
    truth = {(int(r["ccode"]), int(r["year"])) for r in _rows(shared / "state_system" / "system2016.csv")}
    mine = set()
    for p in reg.polities("state"):
        for a, b in p.cow_spells:
            mine.update((p.ccode, y) for y in range(a, (2016 if b is None else b) + 1))
    assert mine == truth
    for ccode, year in list(truth)[::97]:
        assert reg.by_ccode(ccode, year).existed(year)


@pytest.mark.shared
def test_every_gw_spell_matches(reg: Registry, shared: Path) -> None:
    truth = collections.defaultdict(set)
    for r in _rows(shared / "state_system" / "gw_states.csv"):
        truth[int(float(r["gwcode"]))].add((int(r["startdate"][:4]), int(r["enddate"][:4])))
    spans = collections.defaultdict(list)
    for p in reg.polities("state"):
        for code, a, b in p.gw_spells:
            spans[code].append((a, 2017 if b is None else b))
    mine = {code: _merge(s) for code, s in spans.items()}
    assert mine == dict(truth)
    # every G-W code resolves, in a year inside each of its spells
    for code, ss in truth.items():
        for a, b in ss:
            assert reg.by_gwcode(code, (a + b) // 2).gw_spells


def test_crosswalk_integrity(reg: Registry) -> None:
    states = reg.polities("state")
    ids = [p.id for p in reg.polities()]
    assert len(ids) == len(set(ids))
    ccodes = [p.ccode for p in states if p.ccode is not None]
    assert len(ccodes) == len(set(ccodes))
    for p in states:
        if p.ccode is not None or p.gwcode is not None:
            assert re.fullmatch(r"[A-Z]{3}|GW-[A-Z]{3}", p.id), p.id
        assert p.iso3 is None or re.fullmatch(r"[A-Z]{3}", p.iso3)
        assert p.spells or p.start_year is not None, p.id
    for p in reg.polities():
        if p.kind != "state":
            assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", p.id), p.id
        if p.successor:
            assert reg.get(p.successor).kind == "state"
    assert 60 <= len(reg.polities("historical")) <= 120
    assert {"nato", "un", "asean", "au", "oau", "eu", "csto", "sco", "warsaw-pact", "gcc", "osce"} <= {
        p.id for p in reg.polities("organisation")
    }
    assert reg.get("unknown").kind == "non_state"
    for p in reg.polities():
        assert reg.resolve(p.id) is p  # an id always resolves to itself


def test_germany_yemen_serbia_codes_across_systems(reg: Registry) -> None:
    assert reg.ccode_to_gwcode(255, 2000) == 260
    assert reg.ccode_to_gwcode(255, 1900) == 255
    assert reg.gwcode_to_ccode(260, 2000) == 255
    assert reg.gwcode_to_ccode(260, 1960) == 260
    assert reg.gwcode_to_ccode(265, 1960) == 265
    assert reg.ccode_to_gwcode(679, 2000) == 678
    assert reg.gwcode_to_ccode(678, 1980) == 678
    assert reg.gwcode_to_ccode(678, 2000) == 679
    assert reg.ccode_to_gwcode(345, 1990) == 345
    assert reg.ccode_to_gwcode(345, 2010) == 340
    assert reg.gwcode_to_ccode(340, 1900) == 345
    assert reg.gwcode_to_ccode(711, 1930) is None  # Tibet: G-W only
    assert reg.ccode_to_gwcode(54, 2000) is None  # Dominica: COW only
    assert reg.by_gwcode(260, 1960).id == "GFR"
    assert reg.by_gwcode(260, 2000).id == "GMY"
    assert reg.by_gwcode(711, 1930).id == "GW-TBT"
    with pytest.raises(UnknownPolityError):
        reg.by_gwcode(265, 2000)


# ------------------------------------------------------------------ resolution


@pytest.mark.parametrize(
    ("name", "year", "expected"),
    [
        ("Soviet Union", 1950, "RUS"),
        ("USSR", 1980, "RUS"),
        ("Russia", 2000, "RUS"),
        ("Russian Federation", 2015, "RUS"),
        ("Germany", 1960, "GFR"),
        ("Germany", 1990, "GFR"),
        ("Germany", 2000, "GMY"),
        ("Germany", 1900, "GMY"),
        ("Germany", None, "GMY"),
        ("West Germany", 1970, "GFR"),
        ("Federal Republic of Germany", 1985, "GFR"),
        ("Federal Republic of Germany", 1995, "GMY"),
        ("East Germany (GDR)", 1975, "GDR"),
        ("Yugoslavia", 1990, "YUG"),
        ("Serbia and Montenegro", 2004, "YUG"),
        ("Serbia", 2010, "YUG"),
        ("Montenegro", 2010, "MNG"),
        ("Vietnam", 1960, "DRV"),
        ("North Vietnam", 1965, "DRV"),
        ("South Vietnam", 1965, "RVN"),
        ("Vietnam", 1990, "DRV"),
        ("Viet Nam", 2015, "DRV"),
        ("Czechoslovakia", 1980, "CZE"),
        ("Czech Republic", 2000, "CZR"),
        ("Czechia", 2020, "CZR"),
        ("Burma", 1970, "MYA"),
        ("Zaire", 1980, "DRC"),
        ("Democratic Republic of the Congo", 2015, "DRC"),
        ("Congo, Democratic Republic of", 2015, "DRC"),
        ("Congo", 2015, "CON"),
        ("Ivory Coast", 2000, "CDI"),
        ("Côte d’Ivoire", 2015, "CDI"),
        ("CÃ´te dâ\x80\x99Ivoire", 2000, "CDI"),  # UTF-8 read as Latin-1 (MME)
        ("Swaziland", 1990, "SWA"),
        ("eSwatini", 2019, "SWA"),
        ("FYROM", 2000, "MAC"),
        ("East Timor", 2005, "ETM"),
        ("Cabo Verde", 2015, "CAP"),
        ("Korea, South", 2000, "ROK"),
        ("Republic of Korea", 2000, "ROK"),
        ("Iran (Islamic Republic of)", 2015, "IRN"),
        ("Bolivia (Plurinational State of)", 2015, "BOL"),
        ("Venezuela (Bolivarian Republic of)", 2015, "VEN"),
        ("United Republic of Tanzania", 2015, "TAZ"),
        ("Republic of Moldova", 2015, "MLD"),
        ("Türkiye", 2023, "TUR"),
        ("Lao People's Democratic Republic", 2015, "LAO"),
        ("Syrian Arab Republic", 2015, "SYR"),
        ("UK", 2000, "UKG"),
        ("Great Britain", 1900, "UKG"),
        ("United Kingdom of Great Britain and Northern Ireland", 2015, "UKG"),
        ("US", 2000, "USA"),
        ("united states", 2000, "USA"),
        ("St. Kitts & Nevis", 1990, "SKN"),
        ("Bahamas, The", 2000, "BHM"),
        ("Yemen", 1980, "YAR"),
        ("Yemen", 2000, "YEM"),
        ("Austria", 1900, "AUH"),
        ("Austria", 1990, "AUS"),
        ("Korea", 1890, "KOR"),
        ("Korea", 1990, "ROK"),
        ("Kosovo", 2001, "kosovo-unmik"),
        ("Kosovo", 2010, "KOS"),
        ("Tonga", 1990, "TON"),  # independent 1970, COW member only from 1999
    ],
)
def test_year_aware_resolution(reg: Registry, name: str, year: int | None, expected: str) -> None:
    assert reg.resolve(name, year).id == expected


def test_same_ccode_across_names(reg: Registry) -> None:
    assert reg.resolve("Soviet Union", 1950).ccode == reg.resolve("Russia", 2000).ccode == 365
    assert reg.resolve("Czechoslovakia", 1980).ccode == 315
    assert reg.resolve("Czech Republic", 2000).ccode == 316


def test_codes(reg: Registry) -> None:
    assert reg.resolve("GMY", 2000).id == "GMY"
    assert reg.resolve("usa").id == "USA"
    assert reg.resolve("DEU", 2000).id == "GMY"
    assert reg.resolve("AUS", 2000).id == "AUS"  # COW abbreviation wins in resolve ...
    assert reg.by_iso3("AUS", 2000).id == "AUL"  # ... ISO3 in by_iso3
    assert reg.by_iso3("DEU", 1960).id == "GFR"
    assert reg.by_iso3("DEU", 2000).id == "GMY"
    assert reg.by_iso3("deu").id == "GMY"
    assert reg.by_iso3("RUS", 1980).id == "RUS"
    assert reg.by_iso3("SUN", 1980).id == "RUS"
    assert reg.by_iso3("SRB", 2005).id == "YUG"
    assert reg.by_iso3("CZE", 1980).id == "CZE"
    assert reg.by_iso3("CZE", 2000).id == "CZR"
    assert reg.by_iso3("CSK", 1980).id == "CZE"
    assert reg.by_iso3("DDR", 1980).id == "GDR"
    assert reg.by_iso3("YEM", 1980).id == "YAR"
    assert reg.by_iso3("YEM", 2000).id == "YEM"
    assert reg.by_iso3("MNG", 2000).id == "MON"
    assert reg.by_iso3("KOR", 2000).id == "ROK"
    assert reg.by_iso3("HKG", 2000).id == "hong-kong"
    assert reg.by_ccode(365, 1950).id == "RUS"
    assert reg.by_ccode(260, 1960).id == "GFR"
    with pytest.raises(UnknownPolityError):
        reg.by_ccode(255, 1960)
    with pytest.raises(UnknownPolityError):
        reg.by_ccode(9999)
    with pytest.raises(UnknownPolityError):
        reg.by_iso3("QQQ")


def test_historical_and_organisations(reg: Registry) -> None:
    hit = reg.resolve("Hittites", -1274)
    assert hit.id == "hittite-empire" and hit.kind == "historical" and hit.existed(-1300) and not hit.existed(-1000)
    assert reg.resolve("Athens", -431).id == "athens"
    assert reg.resolve("Lacedaemonians", -431).id == "sparta"
    assert reg.resolve("egypt-new-kingdom").id == "egypt-new-kingdom"
    assert reg.resolve("Achaemenid Empire", -480).id == "achaemenid-persia"
    assert reg.resolve("England", 1500).id == "england"  # kingdom before the union
    assert reg.resolve("England", 1900).id == "UKG"
    assert reg.get("england").successor == "UKG"
    assert reg.resolve("Egypt", -1274).id == "egypt-new-kingdom"
    assert reg.resolve("Egypt", 1990).id == "EGY"
    assert reg.resolve("France", 1700).id == "kingdom-of-france"
    assert reg.resolve("France", 1810).id == "napoleonic-france"
    assert reg.resolve("France", 1820).id == "FRN"
    assert reg.resolve("Macedonia", -340).id == "macedon"
    assert reg.resolve("Persia", -480).id == "achaemenid-persia"
    nato = reg.resolve("NATO", 2000)
    assert nato.id == "nato" and nato.kind == "organisation"
    assert reg.resolve("NATO**", 2010) is nato
    assert reg.resolve("United Nations**", 1995).id == "un"
    assert reg.resolve("Warsaw Pact", 1970).id == "warsaw-pact"
    assert reg.resolve("unknown recipient(s)", 1990).id == "unknown"
    assert reg.resolve("Provisional IRA (UK)*", 1985).kind == "non_state"
    with pytest.raises(UnknownPolityError):
        reg.resolve("Warsaw Pact", 2000)


def test_nonexistent_in_year_is_clear(reg: Registry) -> None:
    with pytest.raises(UnknownPolityError) as err:
        reg.resolve("Bangladesh", 1950)
    e = err.value
    assert isinstance(e, DefdipError) and isinstance(e, KeyError)
    assert e.name == "Bangladesh" and e.year == 1950
    assert "1950" in str(e) and "Bangladesh" in str(e) and "1971" in str(e)
    assert reg.try_resolve("Bangladesh", 1950) is None
    assert reg.resolve("Bangladesh", 1950, strict=False).id == "BNG"
    with pytest.raises(UnknownPolityError):
        reg.resolve("South Vietnam", 1990)
    with pytest.raises(UnknownPolityError):
        reg.resolve("Czechoslovakia", 2000)


def test_unknown_name_suggests(reg: Registry) -> None:
    with pytest.raises(UnknownPolityError) as err:
        reg.resolve("Fraance", 2000)
    assert "France" in err.value.suggestions
    assert len(err.value.suggestions) <= 5
    assert "Fraance" in str(err.value) and "France" in str(err.value)
    with pytest.raises(UnknownPolityError) as err:
        reg.get("XXX")
    assert reg.try_resolve("Atlantis") is None
    assert reg.try_resolve("") is None


def test_get_and_polities(reg: Registry) -> None:
    usa = reg.get("USA")
    assert isinstance(usa, Polity) and usa.ccode == 2 and usa.gwcode == 2 and usa.iso3 == "USA"
    assert usa.start_year == 1816 and usa.end_year is None and usa.existed(2024)
    gmy = reg.get("GMY")
    assert gmy.existed(1900) and not gmy.existed(1960) and gmy.existed(2000)
    assert "West Germany" in reg.get("GFR").variants
    assert all(p.kind == "organisation" for p in reg.polities("organisation"))
    with pytest.raises(ValueError):
        reg.polities("empire")


def test_search(reg: Registry) -> None:
    assert reg.search("germany")[0].id == "GMY"
    assert {"GMY", "GFR", "GDR"} <= {p.id for p in reg.search("germ")}
    assert reg.search("hitite")[0].id == "hittite-empire" or "hittite-empire" in {p.id for p in reg.search("hitite")}
    assert len(reg.search("a", limit=3)) == 3
    assert reg.search("USA")[0].id == "USA"
    assert reg.search("") == []


def test_normalisation() -> None:
    assert normalize_name("St. Vincent & Grenadines") == normalize_name("Saint Vincent and the Grenadines")
    assert normalize_name("Côte d’Ivoire") == normalize_name("Cote d'Ivoire") == normalize_name("Cote Divoire")
    assert normalize_name("SÃ£o TomÃ© & PrÃ\xadncipe") == normalize_name("Sao Tome and Principe")
    assert normalize_name("NATO**") == "nato"


def test_resolution_is_fast(reg: Registry) -> None:
    names = ["United States", "Soviet Union", "Germany", "Viet Nam", "Côte d’Ivoire", "NATO**"]
    for n in names:
        reg.resolve(n, 1985)
    start = time.perf_counter()
    for i in range(60_000):
        reg.try_resolve(names[i % 6], 1985)
    per_call = (time.perf_counter() - start) / 60_000
    assert per_call < 20e-6


# ------------------------------------------------------------------ coverage of the real datasets


def _coverage(reg: Registry, pairs) -> tuple[int, collections.Counter]:
    total, bad = 0, collections.Counter()
    for name, year in pairs:
        name = (name or "").strip()
        if name in {"", "-9"}:  # -9 is the datasets' missing-value code
            continue
        total += 1
        y = int(float(year)) if year and re.fullmatch(r"-?\d+(\.0)?", year) else None
        if reg.try_resolve(name, y) is None:
            bad[name] += 1
    return total, bad


@pytest.mark.shared
def test_mme_participants_resolve(reg: Registry, shared: Path) -> None:
    rows = _rows(shared / "military_exercises" / "mme_v7.csv", encoding="latin-1")
    cols = [c for c in rows[0] if re.fullmatch(r"State[A-Z]{1,2}", c)]
    assert len(cols) >= 30
    total, bad = _coverage(reg, ((r[c], r["s.year"]) for r in rows for c in cols))
    assert total > 10_000
    assert sum(bad.values()) / total <= 0.01, bad.most_common(20)


@pytest.mark.shared
def test_un_pko_countries_resolve(reg: Registry, shared: Path) -> None:
    rows = _rows(shared / "un_peacekeeping" / "un_pko_contributions_country_year_mission.csv")
    total, bad = _coverage(reg, ((r["Country"], r["Year"]) for r in rows))
    assert total > 50_000
    assert sum(bad.values()) / total <= 0.01, bad.most_common(20)
