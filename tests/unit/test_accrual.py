"""Tree accrual arithmetic: a year of daily credits sums exactly to the annual uptake."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from chalicelib.domain.accrual import (
    YEAR_DAYS,
    day_amount,
    due_days,
    is_complete,
    last_day,
    total_after,
)

ADOPTED = date(2027, 3, 1)  # its 365th day is 29 February 2028: a year of credit is 365 days, leap or not


@pytest.mark.parametrize("annual_mg", [0, 1, 364, 365, 366, 1000, 7_000_000, 18_000_000, 18_000_001,
                                       9_999_999_999, 123_456_789_012])
def test_a_whole_year_sums_exactly_to_the_annual_uptake(annual_mg):
    days = [day_amount(annual_mg, n) for n in range(1, YEAR_DAYS + 1)]
    assert sum(days) == annual_mg
    assert all(d >= 0 for d in days)


def test_many_random_annual_uptakes_sum_exactly_and_days_differ_by_at_most_one_mg():
    rng = random.Random(20261123)
    for _ in range(500):
        annual_mg = rng.randrange(0, 10**11)
        days = [day_amount(annual_mg, n) for n in range(1, YEAR_DAYS + 1)]
        assert sum(days) == annual_mg
        assert max(days) - min(days) <= 1


def test_camphor_18_kg_a_year_earns_49_or_50_g_a_day():
    days = {day_amount(18_000_000, n) for n in range(1, YEAR_DAYS + 1)}
    assert days == {49_315, 49_316}
    assert day_amount(18_000_000, 1) == 18_000_000 // 365


def test_day_one_is_the_day_after_adoption_and_day_365_the_last():
    days = due_days(ADOPTED, ADOPTED, ADOPTED + timedelta(days=400), 7_000_000)
    assert len(days) == YEAR_DAYS
    assert (days[0].day, days[0].n) == (ADOPTED + timedelta(days=1), 1)
    assert (days[-1].day, days[-1].n) == (last_day(ADOPTED), YEAR_DAYS)
    assert sum(d.carbon_mg for d in days) == 7_000_000


def test_nothing_is_due_on_the_adoption_day_itself():
    assert due_days(ADOPTED, ADOPTED, ADOPTED, 7_000_000) == []


def test_a_gap_of_several_days_is_caught_up_day_by_day():
    credited_through = ADOPTED + timedelta(days=10)
    days = due_days(ADOPTED, credited_through, credited_through + timedelta(days=5), 18_000_001)
    assert [d.n for d in days] == [11, 12, 13, 14, 15]
    assert sum(d.carbon_mg for d in days) == total_after(18_000_001, 15) - total_after(18_000_001, 10)


def test_a_day_already_credited_is_not_due_again():
    through = ADOPTED + timedelta(days=3)
    assert due_days(ADOPTED, through, through, 18_000_000) == []


def test_due_days_can_be_taken_in_chunks_that_add_up_to_the_whole():
    whole = due_days(ADOPTED, ADOPTED, last_day(ADOPTED), 18_000_001)
    taken, through = [], ADOPTED
    while chunk := due_days(ADOPTED, through, last_day(ADOPTED), 18_000_001, limit=40):
        taken += chunk
        through = chunk[-1].day
    assert taken == whole
    assert is_complete(ADOPTED, through)


def test_uptake_after_the_year_is_never_credited():
    assert due_days(ADOPTED, last_day(ADOPTED), last_day(ADOPTED) + timedelta(days=30), 18_000_000) == []


@pytest.mark.parametrize("n", [0, -1, 366])
def test_days_outside_the_year_earn_nothing(n):
    with pytest.raises(ValueError):
        day_amount(18_000_000, n)


def test_a_year_is_365_days_even_across_a_leap_day():
    assert last_day(ADOPTED) == date(2028, 2, 29)
