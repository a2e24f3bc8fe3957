"""Tree accrual arithmetic (operations.md): an adoption is credited for 365 days, day 1 being the
business day after adoption; on its n-th day it earns floor(A*n/365) - floor(A*(n-1)/365) mg, where A
is the annual uptake in mg. The running total after day n is floor(A*n/365), so a year sums to A exactly,
whatever A is, and any run of days sums to the difference of two running totals.

Pure functions over dates and integers: no I/O, no clock.
"""
from __future__ import annotations

from datetime import date, timedelta

from .values import immutable

YEAR_DAYS = 365


@immutable
class AccrualDay:
    """One day of one adoption's year: which day it is (1..365) and what it earns."""

    day: date
    n: int
    carbon_mg: int


def total_after(annual_mg: int, n: int) -> int:
    """Milligrams credited by the end of day n (0 <= n <= 365)."""
    if annual_mg < 0 or not 0 <= n <= YEAR_DAYS:
        raise ValueError(f"no accrual total for A={annual_mg}, n={n}")
    return annual_mg * n // YEAR_DAYS


def day_amount(annual_mg: int, n: int) -> int:
    """What the n-th day (1..365) of the year earns."""
    if not 1 <= n <= YEAR_DAYS:
        raise ValueError(f"day {n} is outside the accrual year")
    return total_after(annual_mg, n) - total_after(annual_mg, n - 1)


def first_day(adopted: date) -> date:
    return adopted + timedelta(days=1)


def last_day(adopted: date) -> date:
    """The 365th day: the adoption's final credit."""
    return adopted + timedelta(days=YEAR_DAYS)


def day_number(adopted: date, day: date) -> int:
    """Which day of the accrual year `day` is (may be outside 1..365)."""
    return (day - adopted).days


def due_days(adopted: date, accrued_through: date, through: date, annual_mg: int,
             limit: int | None = None) -> list[AccrualDay]:
    """The days not yet credited, up to and including `through` (and at most `limit` of them), oldest first.

    `accrued_through` is the last day already credited (the adoption day itself when nothing is yet).
    """
    start = max(accrued_through, adopted) + timedelta(days=1)
    end = min(through, last_day(adopted))
    days = []
    day = start
    while day <= end and (limit is None or len(days) < limit):
        n = day_number(adopted, day)
        days.append(AccrualDay(day, n, day_amount(annual_mg, n)))
        day += timedelta(days=1)
    return days


def is_complete(adopted: date, accrued_through: date) -> bool:
    return accrued_through >= last_day(adopted)
