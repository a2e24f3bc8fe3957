"""Green parking's odometer rule (domain/odometer.py), without a server."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chalicelib.domain.odometer import Reading, SameDayError, Verdict, check_parked

MON, TUE = date(2026, 11, 23), date(2026, 11, 24)
BEFORE = Reading(Decimal("12034.5"), MON)


def at(km: str, day: date = TUE) -> Reading:
    return Reading(Decimal(km), day)


def test_the_first_reading_ever_counts():
    verdict = check_parked(None, at("12034.5"))
    assert (verdict.verified, verdict.reason, verdict.previous, verdict.change_km) == (True, None, None, None)


@pytest.mark.parametrize("km", ["12034.5", "12035.5", "12033.5", "12035", "12034"])
def test_a_reading_within_one_km_of_an_earlier_days_counts(km):
    verdict = check_parked(BEFORE, at(km))
    assert (verdict.verified, verdict.reason, verdict.previous) == (True, None, BEFORE)


@pytest.mark.parametrize("km, reason", [("12035.6", "moved"), ("12070", "moved"), ("12033.4", "decreased"),
                                        ("100", "decreased")])
def test_a_reading_further_away_does_not_count(km, reason):
    verdict = check_parked(BEFORE, at(km))
    assert (verdict.verified, verdict.reason) == (False, reason)
    assert verdict.change_km == Decimal(km) - BEFORE.km and verdict.reading == at(km)


@pytest.mark.parametrize("day", [TUE, date(2026, 11, 25)])
def test_a_latest_reading_of_today_or_later_cannot_end_a_parked_day(day):
    with pytest.raises(SameDayError):
        check_parked(at("12034.5", day), at("12034.5", TUE))


def test_a_reading_round_trips_through_its_stored_form_and_the_inputs_name_it():
    assert Reading.from_item(BEFORE.item()) == BEFORE and Reading.from_item(None) is None
    assert BEFORE.item() == {"odometer_km": "12034.5", "day": "2026-11-23"}
    assert check_parked(BEFORE, at("12034.5")).inputs() == {"previous_reading": BEFORE.item(), "tolerance_km": "1",
                                                            "verified": True}
    assert check_parked(BEFORE, at("12070")).inputs() == {"previous_reading": BEFORE.item(), "tolerance_km": "1",
                                                          "verified": False, "reason": "moved"}
    assert Verdict(None, at("1")).inputs()["previous_reading"] is None
