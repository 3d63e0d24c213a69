import pytest

from defdip.core import dates


def test_no_year_zero_and_bce_spans():
    with pytest.raises(ValueError, match="no year 0"):
        dates.check_year(0)
    assert dates.years_between(-500, 500) == 999
    assert dates.years_between(-1, 1) == 1
    assert dates.to_astronomical(-1) == 0 and dates.from_astronomical(0) == -1


def test_format_and_order():
    assert dates.format_year(-478) == "478 BCE"
    assert dates.format_year(-1259, circa=True) == "c. 1259 BCE"
    assert dates.format_year(1949) == "1949"
    assert sorted([1949, -478, -2500, 1], key=dates.sort_key) == [-2500, -478, 1, 1949]


@pytest.mark.parametrize("year,month,day", [(2001, 2, 29), (1990, 13, None), (1990, None, 3), (1990, 4, 31)])
def test_impossible_dates(year, month, day):
    with pytest.raises(ValueError):
        dates.check_month_day(year, month, day)


def test_leap_day_and_eras():
    dates.check_month_day(2000, 2, 29)
    assert dates.era_of(-2500) == "antiquity"
    assert dates.era_of(1066) == "medieval"
    assert dates.era_of(1815) == "concert"
    assert dates.era_of(1949) == "cold_war"
    assert dates.era_of(1992) == "post_cold_war"
    assert dates.decade_of(1987) == 1980 and dates.decade_of(-478) == -480
    assert dates.decade_of(-471) == -480 and dates.decade_of(-470) == -470
    assert dates.decade_of(-1) == -10 and dates.decade_of(9) == 0
