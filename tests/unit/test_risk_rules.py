"""The risk rules as judgements (contract/risk.md "Rules"): each catches its farmer and lets the honest
near-miss through, with the contract's defaults and with a catalog section's numbers."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from chalicelib.domain import risk
from chalicelib.domain.risk import RingRedemption, RiskError, RiskSettings, settings_from

TODAY = date(2026, 11, 30)
DEFAULTS = RiskSettings()
NOON = datetime(2026, 11, 30, 12, tzinfo=timezone(timedelta(hours=8)))


def days_back(totals: list[int]) -> dict[date, int]:
    """Step totals of consecutive days ending today (the last in the list is today's)."""
    return {TODAY - timedelta(days=len(totals) - 1 - i): total for i, total in enumerate(totals)}


# Settings ---------------------------------------------------------------------------------------------------------

def test_a_missing_section_is_the_contracts_defaults():
    assert settings_from(None) == settings_from({}) == DEFAULTS
    assert risk.section_of(DEFAULTS) == {
        "steps_same_total_days": 5, "steps_window_days": 14, "steps_near_max_ratio": 0.95,
        "steps_near_max_days": 7, "timing_checkins": 10, "timing_tolerance_s": 2.0, "photo_distance": 6,
        "photo_refusals": 3, "staff_same_person_days": 3, "staff_window_days": 7, "ring_accounts": 5,
        "ring_account_age_days": 7, "ring_window_hours": 24}


def test_a_section_changes_only_the_numbers_it_names():
    settings = settings_from({"ring_accounts": 4, "steps_near_max_ratio": 0.9})
    assert settings.ring_accounts == 4 and settings.steps_near_max_ratio == Decimal("0.9")
    assert settings.photo_distance == 6


@pytest.mark.parametrize("section, says", [
    ({"ring_acounts": 4}, "unknown settings ring_acounts"),
    ({"ring_accounts": 1}, "between 2 and 100"),
    ({"photo_distance": 2.5}, "whole number"),
    ({"photo_distance": 8}, "between 0 and 7"),  # beyond what the 68 probe buckets find (domain/evidence.py)
    ({"timing_checkins": "ten"}, "must be a number"),
    ({"timing_checkins": True}, "must be a number"),
    ({"steps_near_max_ratio": "NaN"}, "between"),
    ({"steps_same_total_days": 10, "steps_window_days": 7}, "cannot exceed"),
    ([], "must be an object"),
])
def test_a_wrong_section_is_refused_with_what_is_wrong(section, says):
    with pytest.raises(RiskError, match=says):
        settings_from(section)


# Rule 1 -----------------------------------------------------------------------------------------------------------

def test_a_script_that_sets_the_same_step_total_on_five_days_is_caught():
    honest = [8123, 10452, 6731, 9120, 7805, 11240, 5630, 9988, 8800]
    scripted = days_back(honest[:5] + [12000, 12000, 12000, 12000, 12000, 0, 0])
    assert risk.steps_rules(scripted, TODAY, 30000, DEFAULTS) == (risk.STEPS_REPEAT,)


def test_four_equal_totals_or_five_spread_beyond_the_window_are_not_caught():
    four = days_back([12000, 8100, 12000, 9000, 12000, 7000, 12000, 6500])
    assert risk.steps_rules(four, TODAY, 30000, DEFAULTS) == ()
    # the fifth equal day is 14 days back: outside the window of 14 days with today
    spread = days_back([12000] + [8000 + 37 * i for i in range(10)] + [12000, 12000, 12000, 12000])
    assert min(spread) == TODAY - timedelta(days=14)
    assert risk.steps_rules(spread, TODAY, 30000, DEFAULTS) == ()
    assert risk.steps_rules({**spread, TODAY - timedelta(days=13): 12000}, TODAY, 30000, DEFAULTS) == (
        risk.STEPS_REPEAT,)


def test_days_without_steps_never_count_as_the_same_total():
    idle = days_back([0] * 14)
    assert risk.steps_rules(idle, TODAY, 30000, DEFAULTS) == ()


def test_seven_days_in_a_row_at_the_ceiling_are_caught_six_are_not():
    near = [28500 + 100 * i for i in range(7)]  # 95% of 30,000 is 28,500
    assert risk.steps_rules(days_back([4000] + near), TODAY, 30000, DEFAULTS) == (risk.STEPS_NEAR_MAX,)
    assert risk.steps_rules(days_back([4000] + near[:6]), TODAY, 30000, DEFAULTS) == ()
    broken = near[:3] + [0] + near[3:]  # a day without steps breaks the run
    assert risk.steps_rules(days_back(broken), TODAY, 30000, DEFAULTS) == ()
    assert risk.steps_rules(days_back(near), TODAY, None, DEFAULTS) == ()  # no maximum, no such rule
    just_under = [28499] * 7
    assert risk.steps_rules(days_back(just_under), TODAY, 30000, DEFAULTS) == (risk.STEPS_REPEAT,)


def test_a_marathon_week_of_an_honest_runner_is_a_near_miss():
    rng = random.Random(7)
    week = [rng.randint(20000, 32000) for _ in range(14)]
    assert risk.steps_rules(days_back(week), TODAY, 30000, DEFAULTS) == ()


# Rule 2 -----------------------------------------------------------------------------------------------------------

def times_with_gaps(gaps: list[float], start: float = 1_790_000_000.0) -> list[float]:
    times = [start]
    for gap in gaps:
        times.append(times[-1] + gap)
    return times


def test_ten_check_ins_a_clockwork_apart_are_a_machine():
    assert risk.machine_timing(times_with_gaps([300, 301, 299.5, 300, 300.8, 301.2, 299.9, 300, 300.4]), DEFAULTS)


def test_a_person_tapping_quickly_or_varying_by_more_than_two_seconds_is_not():
    assert not risk.machine_timing(times_with_gaps([30.0] * 9), DEFAULTS)  # gaps under a minute
    assert not risk.machine_timing(times_with_gaps([300, 301, 299, 300, 302.5, 300, 300, 300, 300]), DEFAULTS)
    assert not risk.machine_timing(times_with_gaps([300.0] * 8), DEFAULTS)  # nine check-ins judge nothing


def test_the_account_keeps_only_the_last_check_in_times():
    kept = []
    for t in times_with_gaps([300.04] * 14):
        kept = risk.remember_checkin(kept, t, DEFAULTS)
    assert len(kept) == 10 and risk.machine_timing(kept, DEFAULTS)
    assert kept[-1] == round(1_790_000_000.0 + 14 * 300.04, 1)


# Rule 4 -----------------------------------------------------------------------------------------------------------

def test_a_clerk_crediting_one_friend_on_three_days_of_seven_is_caught():
    assert risk.staff_same_person([TODAY, TODAY - timedelta(days=3), TODAY - timedelta(days=6)], TODAY, DEFAULTS)


def test_a_neighbour_who_brings_clothes_twice_a_week_or_three_times_a_fortnight_is_not():
    assert not risk.staff_same_person([TODAY, TODAY - timedelta(days=4)], TODAY, DEFAULTS)
    assert not risk.staff_same_person([TODAY, TODAY - timedelta(days=5), TODAY - timedelta(days=9)], TODAY,
                                      DEFAULTS)
    assert not risk.staff_same_person([TODAY, TODAY, TODAY], TODAY, DEFAULTS)  # three credits of one day


def test_refusals_at_the_ceiling_on_two_days_of_seven_are_caught_one_is_not():
    assert risk.staff_ceiling([TODAY - timedelta(days=1), TODAY], TODAY, DEFAULTS)
    assert not risk.staff_ceiling([TODAY, TODAY], TODAY, DEFAULTS)
    assert not risk.staff_ceiling([TODAY - timedelta(days=7), TODAY], TODAY, DEFAULTS)


def test_the_staff_item_keeps_only_the_days_of_the_window():
    kept = risk.trim_days([TODAY - timedelta(days=d) for d in (0, 0, 3, 6, 7, 30)], TODAY, DEFAULTS)
    assert kept == [TODAY - timedelta(days=6), TODAY - timedelta(days=3), TODAY]


# Rule 5 -----------------------------------------------------------------------------------------------------------

def redemption(user: str, hours: float, age_days: float) -> RingRedemption:
    return RingRedemption(user, NOON + timedelta(hours=hours), timedelta(days=age_days))


def test_five_fresh_accounts_redeeming_within_a_day_at_one_counter_are_a_ring():
    five = [redemption(f"u{i}", hours=4 * i, age_days=1 + i) for i in range(5)]
    assert risk.ring(five, DEFAULTS) == {"u0", "u1", "u2", "u3", "u4"}


def test_four_fresh_accounts_or_an_old_one_or_a_slow_day_make_no_ring():
    assert risk.ring([redemption(f"u{i}", 2 * i, 1) for i in range(4)], DEFAULTS) == frozenset()
    with_old = [redemption(f"u{i}", 2 * i, 1) for i in range(4)] + [redemption("old", 3, 400)]
    assert risk.ring(with_old, DEFAULTS) == frozenset()
    spread = [redemption(f"u{i}", 6.1 * i, 1) for i in range(5)]  # first to last: 24.4 hours
    assert risk.ring(spread, DEFAULTS) == frozenset()
    twice = [redemption(f"u{i % 4}", i, 1) for i in range(8)]  # four accounts redeeming twice each
    assert risk.ring(twice, DEFAULTS) == frozenset()


def test_the_goods_item_keeps_only_young_redemptions_of_the_window():
    kept = risk.trim_ring([redemption("a", -30, 1), redemption("b", -2, 1), redemption("c", -1, 10)],
                          NOON, DEFAULTS)
    assert [r.user_id for r in kept] == ["b"]
