"""The actor registry: every polity defdip knows, and how names and codes resolve to it.

Three hand-written package-data files feed it:

* ``data/states.csv`` -- modern states: COW and Gleditsch-Ward codes, ISO3 and membership spells;
* ``data/aliases.csv`` -- name variants and withdrawn ISO codes, each valid for a span of years;
* ``data/polities.yaml`` -- historical polities, organisations, non-state actors and territories.

Names are matched after normalisation (case, accents, punctuation, "&"/"and", "the", "of",
"St."/"Saint", SIPRI's trailing ``*``, and UTF-8 text mis-read as Latin-1 are all ignored).
A year narrows a name to the polity that bore it then and, by default, refuses a polity that
did not exist that year (``strict=False`` keeps the year only for choosing among namesakes).
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import yaml

from defdip.core.errors import DefdipError

__all__ = ["Polity", "Registry", "UnknownPolityError", "normalize_name", "registry", "KINDS"]

KINDS = ("state", "historical", "organisation", "non_state")

Spell = tuple[int, "int | None"]


@dataclass(frozen=True)
class Polity:
    """One actor: a modern state, a historical polity, an organisation or a non-state actor."""

    id: str  # COW abbreviation for modern states (e.g. "USA"), lowercase slug otherwise
    name: str
    kind: str  # "state" | "historical" | "organisation" | "non_state"
    ccode: int | None = None
    gwcode: int | None = None
    iso3: str | None = None
    start_year: int | None = None  # first year of existence (COW entry for states)
    end_year: int | None = None  # last year, None = still exists
    variants: tuple[str, ...] = ()
    # --- extensions (all optional) ---
    spells: tuple[Spell, ...] = ()  # existence spells; states: union of COW and G-W spells
    cow_spells: tuple[Spell, ...] = ()  # COW system membership (end None = running in v2016)
    gw_spells: tuple[tuple[int, int, int | None], ...] = ()  # (gwcode, start, end) in G-W
    successor: str | None = None  # id of the modern state that continues it
    part_of: str | None = None  # administering state of a dependent territory
    note: str = field(default="", compare=False)

    def existed(self, year: int) -> bool:
        """True when ``year`` falls inside one of the polity's spells of existence."""
        if self.spells:
            for start, end in self.spells:
                if start <= year and (end is None or year <= end):
                    return True
            return False
        if self.start_year is not None and year < self.start_year:
            return False
        if self.end_year is not None and year > self.end_year:
            return False
        return True

    def years(self) -> str:
        """Human-readable existence, e.g. ``1816-1945, 1990-present``."""
        spells = self.spells or ((self.start_year, self.end_year),)
        return ", ".join(f"{_fmt_year(a)}-{_fmt_year(b) if b is not None else 'present'}" for a, b in spells)


def _fmt_year(year: int | None) -> str:
    if year is None:
        return "?"
    return f"{-year} BCE" if year < 0 else str(year)


class UnknownPolityError(DefdipError, KeyError):
    """No polity matches a name or code (in the year given); carries close suggestions."""

    def __init__(self, name: str, year: int | None = None, suggestions: Iterable[str] = (), message: str | None = None):
        self.name = name
        self.year = year
        self.suggestions = list(suggestions)[:5]
        if message is None:
            message = f"unknown polity {name!r}" + (f" in {year}" if year is not None else "")
        if self.suggestions:
            message += "; did you mean: " + ", ".join(self.suggestions) + "?"
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


# ---------------------------------------------------------------------------------- normalising

_MOJIBAKE = re.compile("[\u00c3\u00c2\u00e2\u00c5]")
_DROP = str.maketrans("", "", ".'\u2019\u2018`\u00b4*")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_STOPWORDS = frozenset({"the", "and", "of"})
_TOKEN_MAP = {"st": "saint", "ste": "sainte", "is": "islands", "isl": "islands", "rep": "republic"}


def _repair_mojibake(text: str) -> str:
    for encoding in ("cp1252", "latin-1"):
        try:
            return text.encode(encoding).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


@lru_cache(maxsize=65536)
def normalize_name(text: str) -> str:
    """The matching key of a name: lowercase ASCII words without punctuation or filler words."""
    if _MOJIBAKE.search(text):
        text = _repair_mojibake(text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().replace("&", " and ").translate(_DROP)
    words = [_TOKEN_MAP.get(w, w) for w in _NON_ALNUM.split(text) if w and w not in _STOPWORDS]
    return " ".join(words)


def _sorted_key(key: str) -> str:
    return " ".join(sorted(key.split()))


# ---------------------------------------------------------------------------------- registry


class _Cand(NamedTuple):
    pid: str
    lo: int | None
    hi: int | None

    @property
    def ranged(self) -> bool:
        return self.lo is not None or self.hi is not None

    def covers(self, year: int) -> bool:
        return (self.lo is None or self.lo <= year) and (self.hi is None or year <= self.hi)


class Registry:
    """All polities, with indexes for fast name/code resolution."""

    def __init__(self, polities: Iterable[Polity],
                 aliases: Iterable[tuple[str, str, int | None, int | None, str]] = ()):
        self._by_id: dict[str, Polity] = {}
        self._names: dict[str, list[_Cand]] = {}
        self._sorted: dict[str, list[_Cand]] = {}
        self._codes: dict[str, list[_Cand]] = {}  # COW ids first, then ISO3
        self._iso: dict[str, list[_Cand]] = {}
        self._display: dict[str, str] = {}  # normalised key -> a display form
        self._ccode: dict[int, str] = {}
        self._gw: dict[int, list[tuple[int, int | None, str]]] = {}
        self._cache: dict[tuple[str, int | None, bool], str | None] = {}
        self._historical: dict[str, list[tuple[int, int, str]]] = {}  # id -> (from, to, name) of dated names
        extra_variants: dict[str, list[str]] = {}

        polities = list(polities)
        for p in polities:
            if p.id in self._by_id:
                raise ValueError(f"duplicate polity id {p.id!r}")
            if p.kind not in KINDS:
                raise ValueError(f"polity {p.id!r} has unknown kind {p.kind!r}")
            self._by_id[p.id] = p
            if p.ccode is not None:
                self._ccode[p.ccode] = p.id
            for code, start, end in p.gw_spells:
                self._gw.setdefault(code, []).append((start, end, p.id))
        alias_rows = list(aliases)
        for name, pid, lo, hi, scheme in alias_rows:
            if pid not in self._by_id:
                raise ValueError(f"alias {name!r} points to unknown polity {pid!r}")
            if scheme == "iso3":
                self._add(self._iso, name.upper(), _Cand(pid, lo, hi))
                self._add(self._codes, name.upper(), _Cand(pid, lo, hi))
            else:
                extra_variants.setdefault(pid, []).append(name)
        # names: the polity's own name, its variants, then aliases (ranged ones win at selection)
        for p in polities:
            if p.kind == "state" and p.id.isupper():
                self._add(self._codes, p.id, _Cand(p.id, None, None))
            else:
                self._add_name(p.id.replace("-", " "), _Cand(p.id, None, None), display=p.name)
            self._add_name(p.name, _Cand(p.id, None, None))
            for v in p.variants:
                self._add_name(v, _Cand(p.id, None, None))
        for name, pid, lo, hi, scheme in alias_rows:
            if scheme != "iso3":
                self._add_name(name, _Cand(pid, lo, hi))
        for p in polities:
            if p.iso3:
                self._add(self._iso, p.iso3, _Cand(p.id, None, None))
                self._add(self._codes, p.iso3, _Cand(p.id, None, None))
        # variants shown on the Polity include the alias names
        for pid, names in extra_variants.items():
            p = self._by_id[pid]
            seen = {normalize_name(p.name)} | {normalize_name(v) for v in p.variants}
            new = []
            for n in names:
                k = normalize_name(n)
                if k not in seen:
                    seen.add(k)
                    new.append(n)
            if new:
                self._by_id[pid] = replace(p, variants=p.variants + tuple(new))
        for lst in self._gw.values():
            lst.sort(key=lambda t: t[0])
        self._keys = sorted(self._names)
        own_names = {normalize_name(p.name): p.id for p in polities}
        for name, pid, lo, hi, scheme in alias_rows:  # a name bounded on both sides is a name of its years
            if scheme != "iso3" and lo is not None and hi is not None and own_names.get(normalize_name(name),
                                                                                          pid) == pid:
                self._historical.setdefault(pid, []).append((lo, hi, name))

    # ------------------------------------------------------------------ building helpers
    @staticmethod
    def _add(index: dict[str, list[_Cand]], key: str, cand: _Cand) -> None:
        lst = index.setdefault(key, [])
        if cand not in lst:
            lst.append(cand)

    def _add_name(self, name: str, cand: _Cand, display: str | None = None) -> None:
        key = normalize_name(name)
        if not key:
            return
        self._display.setdefault(key, display or name)
        self._add(self._names, key, cand)
        self._add(self._sorted, _sorted_key(key), cand)

    # ------------------------------------------------------------------ selection
    def _select(self, cands: list[_Cand], year: int | None, strict: bool) -> Polity | None:
        by_id = self._by_id
        if year is None:
            order = [c for c in cands if not c.ranged] + [c for c in cands if c.ranged]
            for c in order:
                if by_id[c.pid].end_year is None:
                    return by_id[c.pid]
            return by_id[order[0].pid]
        pool = [c for c in cands if c.ranged and c.covers(year)]
        pool += [c for c in cands if not c.ranged]
        pool += [c for c in cands if c.ranged and not c.covers(year)]
        for c in pool:
            p = by_id[c.pid]
            if not strict or p.existed(year):
                return p
        return None

    def _not_in_year(self, name: str, year: int, cands: list[_Cand]) -> UnknownPolityError:
        seen: list[Polity] = []
        for c in cands:
            p = self._by_id[c.pid]
            if p not in seen:
                seen.append(p)
        desc = "; ".join(f"{p.name} [{p.id}] existed {p.years()}" for p in seen[:5])
        return UnknownPolityError(
            name, year, [], message=f"{name!r} names no polity that existed in {_fmt_year(year)} ({desc})"
        )

    def _candidates(self, name: str) -> list[_Cand]:
        key = normalize_name(name)
        cands = list(self._names.get(key, ()))
        raw = name.strip().rstrip("*").strip()
        if 2 <= len(raw) <= 4 and raw.isalnum():
            for c in self._codes.get(raw.upper(), ()):
                if c not in cands:
                    cands.append(c)
        if not cands and key:
            cands = list(self._sorted.get(_sorted_key(key), ()))
        if not cands and name in self._by_id:
            cands = [_Cand(name, None, None)]
        return cands

    # ------------------------------------------------------------------ public API
    def get(self, polity_id: str) -> Polity:
        """The polity with this id (COW abbreviation or slug); UnknownPolityError if absent."""
        for pid in (polity_id, polity_id.upper(), polity_id.lower()):
            p = self._by_id.get(pid)
            if p is not None:
                return p
        raise UnknownPolityError(polity_id, None, self._suggest(polity_id, None),
                                 message=f"no polity with id {polity_id!r}")

    def __contains__(self, polity_id: str) -> bool:
        return polity_id in self._by_id

    def __len__(self) -> int:
        return len(self._by_id)

    def resolve(self, name: str, year: int | None = None, *, strict: bool = True) -> Polity:
        """The polity a name, variant, alias, COW abbreviation or ISO3 code refers to (in ``year``).

        With ``strict`` (default) a polity that did not exist in ``year`` is refused.
        Where a three-letter code is both a COW abbreviation and another state's ISO3 code
        (AUS, SWZ, CZE, MNG, SLV, KOR) the COW meaning wins; use :meth:`by_iso3` for ISO data.
        """
        p = self.try_resolve(name, year, strict=strict)
        if p is not None:
            return p
        if not isinstance(name, str) or not name.strip():
            raise UnknownPolityError(str(name), year, [], message=f"empty polity name {name!r}")
        cands = self._candidates(name)
        if cands and year is not None:
            raise self._not_in_year(name, year, cands)
        raise UnknownPolityError(name, year, self._suggest(name, year))

    def try_resolve(self, name: str, year: int | None = None, *, strict: bool = True) -> Polity | None:
        """Like :meth:`resolve` but returns None instead of raising."""
        ck = (name, year, strict)
        try:
            pid = self._cache[ck]
        except KeyError:
            pid = None
            if year is None and name in self._by_id:  # an exact id is always itself
                pid = name
            elif isinstance(name, str) and name.strip():
                cands = self._candidates(name)
                if cands:
                    p = self._select(cands, year, strict)
                    pid = p.id if p is not None else None
            if len(self._cache) > 500_000:
                self._cache.clear()
            self._cache[ck] = pid
        return self._by_id[pid] if pid is not None else None

    def by_ccode(self, ccode: int, year: int | None = None) -> Polity:
        """The state with this COW code; refuses a year in which it did not exist."""
        try:
            code = int(ccode)
        except (TypeError, ValueError):
            raise UnknownPolityError(str(ccode), year, [], message=f"not a COW code: {ccode!r}") from None
        pid = self._ccode.get(code)
        if pid is None:
            raise UnknownPolityError(str(ccode), year, [], message=f"no state has COW code {code}")
        p = self._by_id[pid]
        if year is not None and not p.existed(year):
            raise UnknownPolityError(
                str(ccode), year, [p.name],
                message=f"COW code {code} ({p.name}) names no state in {year}: it existed {p.years()}"
            )
        return p

    def _gw_pid(self, gwcode: int, year: int | None) -> str | None:
        spans = self._gw.get(gwcode)
        if not spans:
            return None
        if year is None:
            return max(spans, key=lambda t: t[0])[2]
        for start, end, pid in spans:  # earliest-starting span first
            if start <= year and (end is None or year <= end):
                return pid
        return None

    def by_gwcode(self, gwcode: int, year: int | None = None) -> Polity:
        """The state with this Gleditsch-Ward code (in ``year``: e.g. 260 is GFR in 1960, GMY in 2000)."""
        try:
            code = int(gwcode)
        except (TypeError, ValueError):
            raise UnknownPolityError(str(gwcode), year, [], message=f"not a Gleditsch-Ward code: {gwcode!r}") from None
        if code not in self._gw:
            raise UnknownPolityError(str(gwcode), year, [], message=f"no state has Gleditsch-Ward code {code}")
        pid = self._gw_pid(code, year)
        if pid is None:
            names = sorted({self._by_id[t[2]].name for t in self._gw[code]})
            spans = ", ".join(f"{a}-{b if b is not None else 'present'}" for a, b, _ in self._gw[code])
            raise UnknownPolityError(
                str(gwcode), year, names, message=f"Gleditsch-Ward code {code} is not in use in {year} (in use {spans})"
            )
        return self._by_id[pid]

    def by_iso3(self, iso3: str, year: int | None = None) -> Polity:
        """The polity with this ISO 3166-1 alpha-3 code (current or withdrawn), year-aware.

        DEU is GFR in 1949-1990 and GMY otherwise; SRB/SCG/YUG are YUG; SUN and RUS are RUS;
        CZE is Czechoslovakia up to 1992 and the Czech Republic after; YEM is the Yemen Arab
        Republic before 1990. Case is ignored.
        """
        code = (iso3 or "").strip().upper()
        cands = self._iso.get(code)
        if not cands:
            raise UnknownPolityError(iso3, year, self._suggest(iso3, year), message=f"unknown ISO3 code {iso3!r}")
        p = self._select(cands, year, True)
        if p is None:
            raise self._not_in_year(iso3, year, cands)  # type: ignore[arg-type]
        return p

    def search(self, query: str, limit: int = 10) -> list[Polity]:
        """Polities for a search box: exact, prefix and substring matches, then fuzzy ones."""
        key = normalize_name(query or "")
        if not key:
            return []
        out: list[Polity] = []

        def take(pids: Iterable[str]) -> None:
            for pid in pids:
                p = self._by_id[pid]
                if p not in out:
                    out.append(p)

        raw = query.strip()
        if raw.upper() in self._codes:
            take(c.pid for c in self._codes[raw.upper()])
        if raw in self._by_id:
            take([raw])
        take(c.pid for c in self._names.get(key, ()))
        prefix = [k for k in self._keys if k.startswith(key) and k != key]
        prefix.sort(key=len)
        for k in prefix:
            take(c.pid for c in self._names[k])
        if len(out) < limit:
            words = [k for k in self._keys if key in k and not k.startswith(key)]
            words.sort(key=len)
            for k in words:
                take(c.pid for c in self._names[k])
        if len(out) < limit:
            for k in difflib.get_close_matches(key, self._keys, n=limit * 2, cutoff=0.6):
                take(c.pid for c in self._names[k])
        return out[:limit]

    def display_name(self, polity_id: str, year: int | None = None) -> str:
        """The polity's name as of ``year``: the narrowest dated name of the registry covering it (aliases
        with a first and a last year, e.g. Soviet Union 1922-1991 for RUS, West Germany for GFR; never another
        polity's own name), else its own name. Without a year, or for an unknown id, its own name (or the id)."""
        p = self._by_id.get(polity_id)
        if p is None:
            return str(polity_id)
        if year is None:
            return p.name
        dated = [(hi - lo, i, name) for i, (lo, hi, name) in enumerate(self._historical.get(p.id, ()))
                 if lo <= year <= hi]
        return min(dated)[2] if dated else p.name

    def dated_name(self, name: str) -> tuple[Polity, int, int, str] | None:
        """When ``name`` is a dated name of one polity (``USSR``: Russia in 1922-1991), that polity, the
        name's first and last year and the name as the registry writes it; else None."""
        key = normalize_name(name or "")
        for lo, hi, pid in sorted({(c.lo, c.hi, c.pid) for c in self._names.get(key, ())
                                   if c.lo is not None and c.hi is not None}):
            for dlo, dhi, dname in self._historical.get(pid, ()):
                if (dlo, dhi) == (lo, hi) and normalize_name(dname) == key:
                    return self._by_id[pid], lo, hi, dname
        return None

    def ambiguity_note(self, name: str, year: int | None = None) -> str | None:
        """One line naming the polity ``name`` resolves to (in ``year``) and the other polities it could name
        (namesakes, and states whose name contains every word of it: "Korea", "Congo", "Germany" in 1960;
        without a year only states count); None when the name is unambiguous or is an id or a code."""
        raw = (name or "").strip()
        if not raw or raw in self._by_id or raw.upper() in self._codes:
            return None
        chosen = self.try_resolve(raw, year)
        if chosen is None:
            return None
        key = normalize_name(raw)
        words = set(key.split())
        pids = [c.pid for c in self._candidates(raw)]
        for k in self._keys:
            if words <= set(k.split()):
                pids += [c.pid for c in self._names[k] if self._by_id[c.pid].kind == "state"]
        others = [self._by_id[pid] for pid in dict.fromkeys(pids) if pid != chosen.id]
        # in a year: whatever existed then; without one: other states of any period (not ancient namesakes)
        others = [p for p in others if p.existed(year)] if year is not None else [
            p for p in others if p.kind == "state"]
        if not others:
            return None
        when = f" in {_fmt_year(year)}" if year is not None else ""
        alts = "; ".join(f"{self.display_name(p.id, year)} [{p.id}] ({p.years()})" for p in others[:6])
        return (f"{raw!r}{when} is ambiguous: chose {self.display_name(chosen.id, year)} [{chosen.id}]; it could "
                f"also name {alts} (give an id to choose)")

    def polities(self, kind: str | None = None) -> list[Polity]:
        """All polities (or those of one kind), in registry order."""
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown polity kind {kind!r}; expected one of {', '.join(KINDS)}")
        return [p for p in self._by_id.values() if kind is None or p.kind == kind]

    def ccode_to_gwcode(self, ccode: int, year: int) -> int | None:
        """The Gleditsch-Ward code of COW state ``ccode`` in ``year`` (None when G-W has none)."""
        pid = self._ccode.get(int(ccode))
        if pid is None:
            return None
        for code, start, end in self._by_id[pid].gw_spells:
            if start <= year and (end is None or year <= end):
                return code
        return None

    def gwcode_to_ccode(self, gwcode: int, year: int) -> int | None:
        """The COW code of the state G-W calls ``gwcode`` in ``year`` (None when COW has none)."""
        pid = self._gw_pid(int(gwcode), year)
        return self._by_id[pid].ccode if pid is not None else None

    # ------------------------------------------------------------------ suggestions
    def _suggest(self, name: str, year: int | None) -> list[str]:
        key = normalize_name(name or "")
        if not key:
            return []
        matches = [
            k for k in difflib.get_close_matches(key, self._keys, n=25, cutoff=0.6) if 2 * len(k) >= len(key)
        ]
        scored: list[tuple[int, int, str]] = []
        for rank, k in enumerate(matches):
            ok = year is None or any(self._by_id[c.pid].existed(year) for c in self._names[k])
            scored.append((0 if ok else 1, rank, k))
        scored.sort()
        out: list[str] = []
        seen: set[str] = set()
        for _, _, k in scored:
            pid = self._names[k][0].pid
            if pid in seen:
                continue
            seen.add(pid)
            out.append(self._display[k])
            if len(out) == 5:
                break
        return out


# ---------------------------------------------------------------------------------- loading


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text else None


def _parse_spans(text: str, default_code: int | None = None) -> list[tuple[int | None, int, int | None]]:
    out = []
    for part in filter(None, (s.strip() for s in (text or "").split(";"))):
        code = default_code
        if ":" in part:
            c, part = part.split(":", 1)
            code = int(c)
        start, _, end = part.partition("-")
        out.append((code, int(start), _int(end)))
    return out


def _merge(spells: Iterable[tuple[int, int | None]]) -> tuple[Spell, ...]:
    merged: list[tuple[int, int | None]] = []
    for start, end in sorted(spells, key=lambda s: s[0]):
        if merged and (merged[-1][1] is None or start <= merged[-1][1] + 1):
            first, last = merged[-1]
            if last is not None and (end is None or end > last):
                merged[-1] = (first, end)
        else:
            merged.append((start, end))
    return tuple(merged)


def _csv_rows(text: str) -> list[dict[str, str]]:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def _gw_code(row: dict[str, str], code: int | None) -> int:
    """A G-W spell's code: its own or the row's; a spell with neither is an error in ``states.csv``."""
    if code is None:
        raise DefdipError(f"states.csv: {row['id']}: a gw_spells span has no code and the row no gwcode")
    return code


def load_states(text: str) -> list[Polity]:
    """Parse ``states.csv`` into state polities."""
    out = []
    for row in _csv_rows(text):
        ccode, gwcode = _int(row["ccode"]), _int(row["gwcode"])
        cow = tuple((a, b) for _, a, b in _parse_spans(row["cow_spells"]))
        gw = tuple((_gw_code(row, c), a, b) for c, a, b in _parse_spans(row["gw_spells"], gwcode))
        other = [(a, b) for _, a, b in _parse_spans(row.get("other_spells") or "")]
        spells = _merge(list(cow) + [(a, b) for _, a, b in gw] + other)
        start = cow[0][0] if cow else (spells[0][0] if spells else None)
        end = spells[-1][1] if spells else None
        out.append(
            Polity(
                id=row["id"].strip(),
                name=row["name"].strip(),
                kind="state",
                ccode=ccode,
                gwcode=gwcode,
                iso3=(row["iso3"] or "").strip() or None,
                start_year=start,
                end_year=end,
                spells=spells,
                cow_spells=cow,
                gw_spells=gw,
            )
        )
    return out


def load_polities_yaml(text: str) -> list[Polity]:
    """Parse a polity list: a mapping with a ``polities`` list, or a bare list."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(text, Loader=loader) or {}
    items = data.get("polities", []) if isinstance(data, dict) else data
    out = []
    for item in items:
        start, end = item.get("start_year"), item.get("end_year")
        out.append(
            Polity(
                id=str(item["id"]),
                name=str(item["name"]),
                kind=str(item["kind"]),
                iso3=item.get("iso3"),
                start_year=start,
                end_year=end,
                variants=tuple(str(v) for v in item.get("variants") or ()),
                successor=item.get("successor"),
                part_of=item.get("part_of"),
                note=str(item.get("note", "")),
            )
        )
    return out


def load_aliases(text: str) -> list[tuple[str, str, int | None, int | None, str]]:
    """Parse ``aliases.csv`` into (name, id, from_year, to_year, scheme) rows."""
    return [
        (r["name"].strip(), r["id"].strip(), _int(r["from_year"]), _int(r["to_year"]), (r.get("scheme") or "").strip())
        for r in _csv_rows(text)
        if r["name"].strip() and r["id"].strip()
    ]


def _data_text(name: str) -> str:
    return resources.files("defdip").joinpath("data", name).read_text(encoding="utf-8")


def _extra_polity_files() -> list[str]:
    """Further polity lists in ``data/polities/`` (e.g. those only the genealogy needs), in name order."""
    folder = resources.files("defdip").joinpath("data", "polities")
    if not folder.is_dir():
        return []
    return sorted(f"polities/{item.name}" for item in folder.iterdir() if item.name.endswith(".yaml"))


def load_registry() -> Registry:
    """Build a fresh registry from the package data."""
    polities = load_states(_data_text("states.csv")) + load_polities_yaml(_data_text("polities.yaml"))
    for name in _extra_polity_files():
        polities += load_polities_yaml(_data_text(name))
    return Registry(polities, load_aliases(_data_text("aliases.csv")))


@lru_cache(maxsize=1)
def registry() -> Registry:
    """The shared registry, loaded once from the package data."""
    return load_registry()
