"""Points expiry by lot (chalicelib/domain/lots.py): FIFO arithmetic on the balance and the points in by year."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.domain import lots


def test_points_in_are_added_to_the_year_they_are_posted_and_spends_add_nothing():
    after = lots.credit({"2025": 100}, 2026, [30, -50, 5])
    assert after == {"2025": 100, "2026": 35}
    assert lots.credit(after, 2026, [-20]) == after


def test_spends_take_the_oldest_lot_first():
    # 100 in 2025, 80 in 2026, 120 spent: 2025's lot is gone, 60 of 2026's are left
    balance, held = 60, {"2025": 100, "2026": 80}
    assert lots.held_through(balance, held, 2025) == 0
    assert lots.held_through(balance, held, 2026) == 60


def test_what_was_not_spent_of_an_old_lot_is_what_expires():
    # 100 in 2024, 50 in 2025, 30 spent in 2025: 70 of 2024's lot are still held
    balance, held = 120, {"2024": 100, "2025": 50}
    assert lots.held_through(balance, held, 2024) == 70
    assert lots.held_through(balance, held, 2023) == 0


def test_expiring_once_leaves_nothing_to_expire_again():
    balance, held = 120, {"2024": 100, "2025": 50}
    expired = lots.held_through(balance, held, 2024)
    assert lots.held_through(balance - expired, held, 2024) == 0  # idempotent by arithmetic too


def test_a_refund_counts_as_points_of_the_year_it_comes_back():
    # 100 in 2024 spent on a coupon in 2025; the coupon is refunded in 2026: those 100 live like 2026's points
    held = lots.credit({"2024": 100}, 2026, [100])
    assert lots.held_through(100, held, 2025) == 0
    assert lots.held_through(100, held, 2026) == 100


@pytest.mark.parametrize("today, after_years, through", [
    (date(2027, 1, 1), 1, 2025), (date(2026, 12, 31), 1, 2024), (date(2027, 1, 1), 0, 2026),
    (date(2027, 6, 1), 2, 2024), (date(2027, 1, 1), None, None),
])
def test_the_lots_that_have_expired_on_a_day(today, after_years, through):
    assert lots.expired_through(today, after_years) == through


def test_the_mini_program_is_told_how_many_points_expire_and_on_which_day():
    held = {"2025": 100, "2026": 40}
    assert lots.next_expiry(90, held, date(2026, 11, 24), 1) == (50, date(2026, 12, 31))
    assert lots.next_expiry(30, held, date(2026, 11, 24), 1) == (0, None)
    assert lots.next_expiry(90, held, date(2026, 11, 24), None) == (0, None)
    assert lots.next_expiry(90, held, date(2026, 11, 24), 0) == (90, date(2026, 12, 31))


def test_an_account_older_than_lots_counts_its_balance_from_its_last_change():
    assert lots.legacy_lots(250, 2025) == {"2025": 250}
    assert lots.legacy_lots(0, 2025) == {}


@pytest.mark.parametrize("raw, expected", [(1, 1), (0, 0), (None, None), (10, 10)])
def test_the_catalog_policy_takes_whole_years_or_never(raw, expected):
    assert lots.parse_after_years(raw) == expected


@pytest.mark.parametrize("raw", [-1, 11, 1.5, "1", True])
def test_a_policy_that_means_nothing_is_refused(raw):
    with pytest.raises(ValueError):
        lots.parse_after_years(raw)
