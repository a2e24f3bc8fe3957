"""Monthly readings against the same month a year earlier (domain/readings.py, open_partners.parse_event): pure."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from chalicelib.domain import clock
from chalicelib.domain.caps import DayCount
from chalicelib.domain.methodology import rule_from_catalog
from chalicelib.domain.open_partners import OpenPartnerError, check_entry, from_catalog, parse_event
from chalicelib.domain.readings import Reading, Recorded, acceptable, credit, year_before

RULE = rule_from_catalog({"code": "saving", "name": "节电", "unit": "kWh", "carbon": {"mg": 530600, "per": 1},
                          "points": {"points": 1, "per": 1}, "channels": ["partner"],
                          "methodology": {"id": "T", "version": "1"}})
ENTRY = {"id": "grid", "name": "电网", "protocol": "open-v1", "scopes": [],
         "events": [{"type": "monthly_usage", "behavior": "saving", "quantity": "kwh", "max_quantity": 10000,
                     "baseline": "same_month_last_year"}]}
NOV_3 = datetime(2026, 11, 3, 9, 0, tzinfo=clock.SHANGHAI)


def credited(reading: Reading, recorded: Recorded | None = None, baseline: Decimal | None = None, balance: int = 0):
    before = None if baseline is None else Recorded("b", "u1", 0, baseline, None, Decimal(0), 0, 0)
    return credit(RULE, "grid", "e1", "u1", reading, NOV_3.date(), {}, recorded, before, DayCount(), balance)


def test_a_mapping_may_carry_the_one_baseline_the_protocol_names_and_no_other():
    assert check_entry(ENTRY, {"saving": {"channels": ["partner"]}})["events"][0]["baseline"] == "same_month_last_year"
    bad = {**ENTRY, "events": [{**ENTRY["events"][0], "baseline": "last_month"}]}
    with pytest.raises(OpenPartnerError, match="baseline"):
        check_entry(bad, {"saving": {"channels": ["partner"]}})


@pytest.mark.parametrize("month,ok", [("2026-10", True), ("2025-10", True), ("2025-09", False), ("2026-11", False)])
def test_a_reading_is_of_a_month_ended_by_its_moment_and_at_most_13_months_before(month, ok):
    assert acceptable(month, NOV_3) is ok
    raw = {"event_id": "e1", "user_ref": "r", "type": "monthly_usage", "occurred_at": NOV_3.isoformat(),
           "kwh": 250, "month": month}
    event = parse_event(from_catalog(ENTRY), raw)
    assert (event is not None) is ok
    if ok:
        assert event.reading == Reading(month, 0, Decimal(250))
        assert event.baseline_key == f"grid#r#{year_before(month)}"


def test_no_baseline_credits_nothing_and_records_the_reading_without_one():
    posting, record = credited(Reading("2026-10", 0, Decimal(250)))
    assert posting is None and (record.baseline, record.saved, record.points) == (None, 0, 0)


def test_the_saving_is_the_baseline_minus_the_usage_never_below_zero():
    posting, record = credited(Reading("2026-10", 0, Decimal("249.5")), baseline=Decimal(300))
    assert (posting.kind, posting.points, posting.carbon_mg) == ("earn", 50, 26_795_300)  # 50.5 kWh x 530.6 g
    assert (record.baseline, record.saved, record.points) == (Decimal(300), Decimal("50.5"), 50)
    assert credited(Reading("2026-10", 0, Decimal(301)), baseline=Decimal(300))[0] is None


def test_a_correction_adjusts_by_the_difference_against_the_recorded_baseline_and_never_below_a_zero_balance():
    recorded = Recorded("e1", "u1", 0, Decimal(250), Decimal(300), Decimal(50), 26_530_000, 50)
    posting, record = credited(Reading("2026-10", 1, Decimal(290)), recorded, baseline=Decimal(999), balance=12)
    assert (posting.kind, posting.points, posting.carbon_mg) == ("adjust", -12, -40 * 530_600)
    assert (record.revision, record.saved, record.points, record.carbon_mg) == (1, 10, 38, 10 * 530_600)


CAPPED = rule_from_catalog({"code": "saving", "name": "节电", "unit": "kWh", "carbon": {"mg": 530600, "per": 1},
                            "points": {"points": 1, "per": 1}, "channels": ["partner"], "daily_points_max": 30,
                            "methodology": {"id": "T", "version": "1"}})


def test_a_correction_up_earns_within_its_days_points_cap_and_down_takes_back_only_what_was_credited():
    recorded = Recorded("e1", "u1", 0, Decimal(280), Decimal(300), Decimal(20), 20 * 530_600, 20, worth=20)
    posting, record = credit(CAPPED, "grid", "e1", "u1", Reading("2026-10", 1, Decimal(250)), NOV_3.date(), {},
                             recorded, None, DayCount(1, 25, 0, 0), 100)
    assert (posting.points, posting.carbon_mg, posting.day_count.points) == (5, 30 * 530_600, 30)  # 30 more, 5 left
    assert (record.points, record.worth) == (25, 50)
    posting, record = credit(CAPPED, "grid", "e1", "u1", Reading("2026-10", 2, Decimal(270)), NOV_3.date(), {},
                             record, None, DayCount(), 100)
    assert (posting.points, record.points) == (0, 25) and posting.carbon_mg == -20 * 530_600  # worth 30 >= 25


def test_another_platform_imports_a_month_for_its_own_points_and_no_carbon():
    recorded = Recorded("e1", "u1", 0, Decimal(250), Decimal(300), Decimal(50), 50 * 530_600, 50)
    posting, record = credit(RULE, "grid", "e1", "u2", Reading("2026-10", 0, Decimal(250)), NOV_3.date(), {},
                             recorded, None, DayCount(), 0, platform="p2")
    assert (posting.kind, posting.points, posting.carbon_mg, posting.counted_via) == ("earn", 50, 0, "default")
    assert record.share_of("p2").points == 50 and record.carbon_mg == 50 * 530_600
