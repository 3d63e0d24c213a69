"""Historical years: signed integers with no year zero (478 BCE is -478).

Astronomical numbering (which has a year 0) is used internally only to count
spans; every public value follows the historians' convention.
"""

from __future__ import annotations

import calendar
import datetime as _dt

ERAS: list[tuple[str, int | None, int | None, str]] = [
    # id, first year, last year, label
    ("antiquity", None, 500, "Antiquity (to 500 CE)"),
    ("medieval", 501, 1500, "Middle Ages (501-1500)"),
    ("early_modern", 1501, 1814, "Early modern (1501-1814)"),
    ("concert", 1815, 1913, "Concert and alliance systems (1815-1913)"),
    ("world_wars", 1914, 1945, "World wars (1914-1945)"),
    ("cold_war", 1946, 1991, "Cold War (1946-1991)"),
    ("post_cold_war", 1992, None, "Post-Cold War (1992-)"),
]
"""Eras used by every evolution table; boundaries are inclusive."""


def check_year(year: int) -> int:
    """Return ``year`` if it is a valid historical year, else raise ValueError."""
    if isinstance(year, bool) or not isinstance(year, int):
        raise ValueError(f"year must be an integer, got {year!r}")
    if year == 0:
        raise ValueError("there is no year 0: 1 BCE is -1 and 1 CE is 1")
    return year


def to_astronomical(year: int) -> int:
    """Map a historical year to astronomical numbering (1 BCE -> 0)."""
    check_year(year)
    return year + 1 if year < 0 else year


def from_astronomical(value: int) -> int:
    """Inverse of :func:`to_astronomical`."""
    return value - 1 if value <= 0 else value


def years_between(start: int, end: int) -> int:
    """Number of calendar years from ``start`` to ``end`` (500 BCE to 500 CE is 999)."""
    return to_astronomical(end) - to_astronomical(start)


def check_month_day(year: int, month: int | None, day: int | None) -> None:
    """Raise ValueError for an impossible month or day (proleptic Gregorian)."""
    if month is None:
        if day is not None:
            raise ValueError("a day needs a month")
        return
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} is not between 1 and 12")
    if day is None:
        return
    leap = year > 0 and calendar.isleap(year)
    last = 29 if (month == 2 and leap) else calendar.monthrange(2001, month)[1]
    if not 1 <= day <= last:
        raise ValueError(f"day {day} does not exist in month {month} of {format_year(year)}")


def sort_key(year: int, month: int | None = None, day: int | None = None) -> tuple[int, int, int]:
    """A key that orders dates chronologically whatever their precision."""
    return (to_astronomical(year), month or 0, day or 0)


def format_year(year: int | None, circa: bool = False) -> str:
    """'478 BCE', '1949', 'c. 1259 BCE'."""
    if year is None:
        return ""
    text = f"{-year} BCE" if year < 0 else str(year)
    return f"c. {text}" if circa else text


def era_of(year: int) -> str:
    """The id of the era containing ``year``."""
    for era, first, last, _ in ERAS:
        if (first is None or year >= first) and (last is None or year <= last):
            return era
    raise ValueError(f"no era contains {year}")  # unreachable: eras cover every year


def decade_of(year: int) -> int:
    """Ten-year bin labelled by its first year: 1987 -> 1980 (1980-1989); 478 BCE -> -480 (480-471 BCE).

    There is no year 0, so 10-1 BCE form the bin -10 and 1-9 CE the bin 0 (nine years).
    """
    check_year(year)
    if year < 0:
        return -(((-year - 1) // 10 + 1) * 10)
    return (year // 10) * 10


def present_year() -> int:
    """This year: the latest any record may name (a later year is a typo or a coded blank, not an event)."""
    return _dt.date.today().year
