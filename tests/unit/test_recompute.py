"""Recomputing an entry's carbon from its rule and inputs (domain/recompute.py): what verify-ledger and the
exchange's verifier check, including the day caps the inputs record."""
from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.domain.accrual import day_amount
from chalicelib.domain.caps import DayCount, award_day_total, award_self_reported, award_verified_event
from chalicelib.domain.recompute import carries_carbon, recompute_entry, tree_rule
from tests.unit.test_caps import demo_rule, make_rule


def check(rule, carbon, inputs, counted_via=None):
    return recompute_entry(rule, carbon, inputs, rule.methodology_id if rule else None, counted_via)


def test_awards_of_every_channel_recompute_to_their_carbon_through_their_caps():
    steps, bus, clothes = demo_rule("walk_steps"), demo_rule("bus_ride"), demo_rule("old_clothes")
    day = DayCount()
    for total in ("12345", "29000", "41000", "50000"):  # past the 30,000 steps a day counts
        award = award_day_total(steps, day, Decimal(total))
        assert check(steps, award.carbon_mg, award.inputs).matches, award.inputs
        day = award.day
    capped = award_verified_event(make_rule("partner", "kg", daily_quantity_max=3), DayCount(quantity_milli=2000),
                                  Decimal(5))
    assert capped.inputs["counted_quantity"] == "1"
    assert check(make_rule("partner", "kg", daily_quantity_max=3), capped.carbon_mg, capped.inputs).matches
    assert check(bus, 80000, award_verified_event(bus, DayCount(events=6), Decimal(1)).inputs).matches  # 0 points
    award = award_self_reported(clothes, DayCount(), Decimal("2.5"))
    assert check(clothes, award.carbon_mg, award.inputs).matches and award.carbon_mg == 3_200_000


def test_a_changed_carbon_or_input_is_a_mismatch_that_says_stored_and_recomputed():
    plate = demo_rule("clean_plate")
    outcome = check(plate, 144001, {"quantity": "1"})
    assert (outcome.matches, outcome.carbon_mg) == (False, 144000)
    assert outcome.why == "stored 144001 mg, recomputed 144000 mg"
    assert not check(plate, 144000, {"quantity": "2"}).matches


@pytest.mark.parametrize("inputs, why", [
    ({"quantity": "5", "counted_quantity": "6"}, "above the quantity"),
    ({"quantity": "60", "counted_quantity": "55"}, "above daily_quantity_max"),
    ({"quantity": "60"}, "above daily_quantity_max"),
    ({"note": "x"}, "nothing to recompute"),
    ({"quantity": "-1"}, "not a number >= 0"),
    ({"quantity": "abc"}, "not a number"),
])
def test_inputs_that_break_a_recorded_cap_or_cannot_be_read_are_mismatches(inputs, why):
    clothes = demo_rule("old_clothes")  # 50 kg a day at most
    outcome = check(clothes, 0, inputs)
    assert not outcome.matches and why in outcome.why


def test_without_a_quantity_cap_only_all_or_nothing_is_counted():
    parking = demo_rule("green_parking")
    assert check(parking, 0, {"quantity": "1", "counted_quantity": "0"}).matches  # the odometer check failed
    assert "without a quantity cap" in check(parking, 0, {"quantity": "2", "counted_quantity": "1"}).why


def test_a_day_total_that_went_down_is_a_mismatch():
    assert "went down" in check(demo_rule("walk_steps"), 0, {"day_total": "10", "previous_day_total": "20"}).why


def test_a_tree_day_recomputes_from_its_methodology_uptake_only():
    rule = tree_rule("GS-tree-x", "1", 7_000_000)
    assert check(rule, day_amount(7_000_000, 3), {"annual_uptake_mg": 7_000_000, "day_n": 3}).matches
    assert "annual_uptake_mg" in check(rule, day_amount(9_000_000, 3), {"annual_uptake_mg": 9_000_000, "day_n": 3}).why
    assert "outside the accrual year" in check(rule, 0, {"annual_uptake_mg": 7_000_000, "day_n": 366}).why


def test_a_reading_correction_is_the_difference_on_its_holder_and_zero_elsewhere():
    power = demo_rule("household_power_saving")
    inputs = {"quantity": "20", "previous_quantity": "50", "previous_revision": 0, "revision": 1}
    assert check(power, -30 * 530600, inputs).matches
    held_elsewhere = {k: v for k, v in inputs.items() if k != "previous_quantity"}
    assert check(power, 0, held_elsewhere, counted_via="other").matches


def test_an_entry_counted_via_another_platform_holds_no_carbon():
    steps = {"day_total": "12345", "previous_day_total": "0"}
    assert check(demo_rule("walk_steps"), 0, steps, counted_via="company-demo").matches
    assert not check(demo_rule("walk_steps"), 0, steps).matches


def test_an_unknown_version_or_another_methodology_id_is_a_mismatch():
    assert "not in the catalog" in recompute_entry(None, 1, {"quantity": "1"}, "X").why
    assert "is not that version's" in recompute_entry(demo_rule("clean_plate"), 144000, {"quantity": "1"}, "X").why


def test_what_carries_carbon():
    assert carries_carbon(5, None) and carries_carbon(0, "M") and carries_carbon(-3, "M")
    assert not carries_carbon(0, None)
