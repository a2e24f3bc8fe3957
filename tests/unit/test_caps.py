"""Daily caps by channel (operations.md, "Caps by channel" and "Amounts that grow during a day")."""
from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.domain.caps import (
    Award,
    CapReachedError,
    DayCount,
    award_day_total,
    award_self_reported,
    award_verified_event,
    recompute,
)
from chalicelib.domain.methodology import Rule, parse_quantity, rule_from_catalog

DEMO_CATALOG = Path(__file__).resolve().parents[2] / "admin" / "demo_catalog.json"
ONE = Decimal(1)


def demo_rule(code: str) -> Rule:
    entries = {b["code"]: b for b in json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))["behaviors"]}
    return rule_from_catalog(entries[code])


def make_rule(channel: str = "checkin", unit: str = "event", mg: int = 1000, per: int | str = 1,
              points: int = 5, points_per: int | str = 1, **limits) -> Rule:
    return rule_from_catalog({
        "code": "t", "name": "t", "unit": unit, "carbon": {"mg": mg, "per": per},
        "points": {"points": points, "per": points_per}, "channels": [channel],
        "methodology": {"id": "T", "version": "1"}, **limits,
    })


def q(text: str) -> Decimal:
    return parse_quantity(text)


def fold(award_fn, rule: Rule, quantities, day: DayCount | None = None) -> tuple[list[Award], DayCount]:
    """Applies one award after another, carrying the DayCount through, as the service does."""
    day = day or DayCount()
    awards = []
    for quantity in quantities:
        award = award_fn(rule, day, quantity)
        awards.append(award)
        day = award.day
    return awards, day


def assert_recomputes(rule: Rule, awards) -> None:
    for award in awards:
        assert recompute(rule, award.inputs)[0] == award.carbon_mg, award.inputs


# --- DayCount -----------------------------------------------------------------------------------------


def test_a_day_count_round_trips_through_its_stored_list():
    day = DayCount(3, 15, 3000, 432000)
    assert day.to_list() == [3, 15, 3000, 432000]
    assert DayCount.from_list(day.to_list()) == day
    assert DayCount.from_list(None) == DayCount() == DayCount.from_list([])
    stored = [Decimal(2), Decimal(10), Decimal(2000), Decimal(160000)]  # as DynamoDB gives numbers back
    assert DayCount.from_list(stored) == DayCount(2, 10, 2000, 160000)


# --- self-reported: all of it or CapReachedError ---------------------------------------------------------


def test_three_clean_plates_a_day_each_earn_144_g_and_5_points():
    rule = demo_rule("clean_plate")
    awards, day = fold(award_self_reported, rule, [ONE] * 3)
    assert [(a.carbon_mg, a.points) for a in awards] == [(144000, 5)] * 3
    assert day == DayCount(events=3, points=15, quantity_milli=3000, carbon_mg=432000)
    assert_recomputes(rule, awards)


def test_fourth_clean_plate_of_the_day_is_refused_whole():
    rule = demo_rule("clean_plate")
    _, day = fold(award_self_reported, rule, [ONE] * 3)
    with pytest.raises(CapReachedError) as refused:
        award_self_reported(rule, day, ONE)
    assert refused.value.cap == "daily_limit"


def test_a_self_reported_event_after_the_limit_was_reached_is_refused_even_from_a_stored_count():
    rule = demo_rule("green_parking")  # 1 a day
    assert award_self_reported(rule, DayCount(), ONE).carbon_mg == 4400000
    with pytest.raises(CapReachedError) as refused:
        award_self_reported(rule, DayCount(events=1, points=20, quantity_milli=1000, carbon_mg=4400000), ONE)
    assert refused.value.cap == "daily_limit"


def test_self_reported_points_are_accepted_up_to_exactly_daily_points_max():
    rule = make_rule(points=5, daily_points_max=20)
    awards, day = fold(award_self_reported, rule, [ONE] * 4)
    assert [a.points for a in awards] == [5, 5, 5, 5]
    assert day.points == 20


def test_a_self_reported_event_that_would_pass_daily_points_max_is_refused_whole_not_cut_down():
    rule = make_rule(points=5, daily_points_max=20)
    with pytest.raises(CapReachedError) as refused:
        award_self_reported(rule, DayCount(events=3, points=18, quantity_milli=3000, carbon_mg=3000), ONE)
    assert refused.value.cap == "daily_points_max"


def test_an_operator_credit_passing_daily_points_max_is_refused_although_part_of_it_would_fit():
    rule = make_rule(channel="operator", unit="kg", mg=1280000, points=30, daily_points_max=100)
    day = award_self_reported(rule, DayCount(), q("3")).day
    assert day.points == 90
    with pytest.raises(CapReachedError) as refused:
        award_self_reported(rule, day, q("1"))
    assert refused.value.cap == "daily_points_max"


def test_a_self_reported_credit_earning_no_points_does_not_pass_a_full_points_cap():
    rule = make_rule(channel="operator", unit="kg", mg=1280000, points=30, daily_points_max=90)
    full = award_self_reported(rule, DayCount(), q("3")).day
    award = award_self_reported(rule, full, q("0.5"))
    assert (award.carbon_mg, award.points) == (640000, 0)


def test_old_clothes_are_credited_up_to_exactly_50_kg_a_day():
    rule = demo_rule("old_clothes")
    awards, day = fold(award_self_reported, rule, [q("20"), q("29.5"), q("0.5")])
    assert [a.carbon_mg for a in awards] == [25600000, 37760000, 640000]
    assert [a.points for a in awards] == [600, 870, 0]
    assert day.quantity_milli == 50000
    assert_recomputes(rule, awards)


def test_old_clothes_past_50_kg_a_day_are_refused_whole():
    rule = demo_rule("old_clothes")
    _, day = fold(award_self_reported, rule, [q("20"), q("30")])
    with pytest.raises(CapReachedError) as refused:
        award_self_reported(rule, day, q("0.001"))
    assert refused.value.cap == "daily_quantity_max"
    with pytest.raises(CapReachedError) as at_once:
        award_self_reported(rule, DayCount(), q("50.001"))
    assert at_once.value.cap == "daily_quantity_max"


def test_the_last_gram_under_the_quantity_ceiling_is_accepted():
    rule = demo_rule("old_clothes")
    award = award_self_reported(rule, DayCount(events=1, points=1470, quantity_milli=49999, carbon_mg=1), q("0.001"))
    assert award.carbon_mg == 1280
    assert award.day.quantity_milli == 50000


def test_2_5_kg_of_old_clothes_credit_3200000_mg_and_60_points():
    rule = demo_rule("old_clothes")
    award = award_self_reported(rule, DayCount(), q("2.5"))
    assert (award.carbon_mg, award.points) == (3200000, 60)
    assert award.inputs == {"quantity": "2.5"}
    assert award.day == DayCount(events=1, points=60, quantity_milli=2500, carbon_mg=3200000)


def test_the_daily_limit_is_checked_before_the_other_caps():
    rule = make_rule(points=5, daily_limit=2, daily_points_max=10, daily_quantity_max=2)
    with pytest.raises(CapReachedError) as refused:
        award_self_reported(rule, DayCount(events=2, points=10, quantity_milli=2000, carbon_mg=2000), ONE)
    assert refused.value.cap == "daily_limit"


# --- verified by a partner: never refused -------------------------------------------------------------


def test_eight_bus_rides_record_640_g_and_only_the_first_six_earn_points():
    rule = demo_rule("bus_ride")
    awards, day = fold(award_verified_event, rule, [ONE] * 8)
    assert [a.carbon_mg for a in awards] == [80000] * 8
    assert [a.points for a in awards] == [10] * 6 + [0, 0]
    assert sum(a.carbon_mg for a in awards) == 640000
    assert sum(a.points for a in awards) == 60
    assert day == DayCount(events=8, points=60, quantity_milli=8000, carbon_mg=640000)
    assert_recomputes(rule, awards)


def test_metro_points_stop_at_20_a_day_while_carbon_keeps_counting():
    rule = demo_rule("metro_ride")
    awards, day = fold(award_verified_event, rule, [q("6400")] * 5)
    assert [a.carbon_mg for a in awards] == [298880] * 5
    assert [a.points for a in awards] == [6, 6, 6, 2, 0]
    assert day.points == 20
    assert day.carbon_mg == 5 * 298880
    assert_recomputes(rule, awards)


def test_a_metro_ride_fills_the_rest_of_daily_points_max_partially():
    rule = demo_rule("metro_ride")
    award = award_verified_event(rule, DayCount(events=3, points=18, quantity_milli=18000000, carbon_mg=1), q("6400"))
    assert (award.carbon_mg, award.points) == (298880, 2)
    assert award.day.points == 20


def test_a_verified_event_past_every_cap_is_still_recorded_not_refused():
    rule = make_rule(channel="bank", points=5, daily_limit=1, daily_points_max=5)
    award = award_verified_event(rule, DayCount(events=10, points=5, quantity_milli=10000, carbon_mg=10000), ONE)
    assert (award.carbon_mg, award.points) == (1000, 0)
    assert award.day == DayCount(events=11, points=5, quantity_milli=11000, carbon_mg=11000)


def test_units_of_a_verified_event_beyond_daily_quantity_max_count_nothing():
    rule = make_rule(channel="transit", unit="metre", mg=46700, per=1000, points=1, points_per=1000,
                     daily_quantity_max=20000)
    day = DayCount(events=3, points=18, quantity_milli=18000 * 1000, carbon_mg=840600)
    award = award_verified_event(rule, day, q("6400"))
    assert award.carbon_mg == 93400  # the first 2000 m only
    assert award.points == 2
    assert Decimal(award.inputs["quantity"]) == 6400
    assert Decimal(award.inputs["counted_quantity"]) == 2000
    assert award.day.quantity_milli == 20000 * 1000
    assert_recomputes(rule, [award])

    after = award_verified_event(rule, award.day, q("5000"))
    assert (after.carbon_mg, after.points) == (0, 0)
    assert Decimal(after.inputs["counted_quantity"]) == 0
    assert after.day.quantity_milli == 20000 * 1000
    assert after.day.events == 5
    assert_recomputes(rule, [after])


def test_a_verified_event_straddling_the_ceiling_earns_points_only_for_the_counted_part():
    rule = make_rule(channel="transit", unit="metre", mg=46700, per=1000, points=1, points_per=1000,
                     daily_quantity_max=10000)
    award = award_verified_event(rule, DayCount(), q("25000"))
    assert (award.carbon_mg, award.points) == (467000, 10)


# --- amounts that grow during a day (steps) --------------------------------------------------------------


def test_12345_steps_award_202458_mg_and_20_points():
    rule = demo_rule("walk_steps")
    award = award_day_total(rule, DayCount(), q("12345"))
    assert (award.carbon_mg, award.points) == (202458, 20)
    assert award.inputs == {"day_total": "12345", "previous_day_total": "0"}
    assert award.day == DayCount(events=1, points=20, quantity_milli=12345000, carbon_mg=202458)
    assert recompute(rule, award.inputs) == (202458, None)


def test_a_later_total_of_15000_steps_awards_43542_mg_more_and_no_points():
    rule = demo_rule("walk_steps")
    first = award_day_total(rule, DayCount(), q("12345"))
    second = award_day_total(rule, first.day, q("15000"))
    assert (second.carbon_mg, second.points) == (43542, 0)
    assert second.day.carbon_mg == 246000
    assert second.day.quantity_milli == 15000000
    assert recompute(rule, second.inputs) == (43542, None)


@pytest.mark.parametrize("total", ["15000", "14999", "1"])
def test_a_step_total_not_above_the_stored_one_awards_nothing(total):
    rule = demo_rule("walk_steps")
    day = award_day_total(rule, DayCount(), q("15000")).day
    assert award_day_total(rule, day, q(total)) is None


def test_steps_beyond_30000_a_day_count_nothing():
    rule = demo_rule("walk_steps")
    at_ceiling = award_day_total(rule, award_day_total(rule, DayCount(), q("15000")).day, q("30000"))
    assert (at_ceiling.carbon_mg, at_ceiling.points) == (246000, 0)
    assert at_ceiling.day.carbon_mg == 492000  # 30000 * 8200 / 500

    beyond = award_day_total(rule, at_ceiling.day, q("40000"))
    # The code answers with an empty award (not None) so the stored total still moves on.
    assert beyond is not None
    assert (beyond.carbon_mg, beyond.points) == (0, 0)
    assert beyond.day.carbon_mg == 492000
    assert beyond.day.points == 20
    assert beyond.day.quantity_milli == 40000000
    assert recompute(rule, beyond.inputs) == (0, None)


def test_40000_steps_at_once_count_as_30000():
    rule = demo_rule("walk_steps")
    award = award_day_total(rule, DayCount(), q("40000"))
    assert (award.carbon_mg, award.points) == (492000, 20)
    assert recompute(rule, award.inputs) == (492000, None)


def _increasing_totals(rng: random.Random, top: int) -> list[Decimal]:
    totals = sorted(rng.sample(range(1, top), rng.randint(1, 40)))
    if rng.random() < 0.5:  # a repeated or stale sync now and then
        totals.insert(rng.randrange(len(totals) + 1), Decimal(totals[rng.randrange(len(totals))]))
    return [Decimal(t) for t in totals]


@pytest.mark.parametrize("rule", [
    demo_rule("walk_steps"),
    make_rule(channel="werun", unit="step", mg=7, per=3, points=2, points_per=7),  # uneven rounding, no caps
    make_rule(channel="werun", unit="step", mg=8200, per=500, points=1, points_per=500,
              daily_points_max=13, daily_quantity_max=9999),
], ids=["walk_steps", "uneven", "tight-caps"])
@pytest.mark.parametrize("seed", range(25))
def test_a_day_summed_over_many_increasing_syncs_equals_the_final_total_at_once(rule, seed):
    rng = random.Random(seed)
    totals = _increasing_totals(rng, rng.choice([2000, 31000, 60000]))
    day, carbon, points, awards = DayCount(), 0, 0, []
    for total in totals:
        award = award_day_total(rule, day, total)
        if award is None:
            assert total <= Decimal(day.quantity_milli) / 1000
            continue
        assert award.carbon_mg >= 0 and award.points >= 0
        awards.append(award)
        carbon, points, day = carbon + award.carbon_mg, points + award.points, award.day
    at_once = award_day_total(rule, DayCount(), max(totals))
    assert carbon == at_once.carbon_mg == day.carbon_mg
    assert points == at_once.points == day.points
    assert day.quantity_milli == at_once.day.quantity_milli
    assert_recomputes(rule, awards)


# --- recompute: anyone with the rule and an entry's inputs gets its carbon back --------------------------


def _every_award() -> list:
    found = []

    def run(name, fn, rule, quantities, day=None):
        awards, _ = fold(fn, rule, quantities, day)
        found.extend(pytest.param(rule, a, id=f"{name}#{i}") for i, a in enumerate(awards))

    run("clean_plate", award_self_reported, demo_rule("clean_plate"), [ONE] * 3)
    run("old_clothes", award_self_reported, demo_rule("old_clothes"), [q("2.5"), q("10"), q("0.001"), q("37.499")])
    run("bus", award_verified_event, demo_rule("bus_ride"), [ONE] * 8)
    run("metro", award_verified_event, demo_rule("metro_ride"), [q("6400"), q("15"), q("999.999"), q("30000")] * 2)
    capped = make_rule(channel="transit", unit="metre", mg=46700, per=1000, points=1, points_per=1000,
                       daily_quantity_max=20000)
    run("capped", award_verified_event, capped, [q("18000"), q("6400"), q("5000")])
    steps = demo_rule("walk_steps")
    day = DayCount()
    for i, total in enumerate([q("12345"), q("15000"), q("29999.5"), q("30000"), q("40000"), q("45000")]):
        award = award_day_total(steps, day, total)
        found.append(pytest.param(steps, award, id=f"steps#{i}"))
        day = award.day
    return found


@pytest.mark.parametrize(("rule", "award"), _every_award())
def test_recompute_gives_back_the_carbon_of_every_award_from_its_inputs(rule, award):
    carbon, points = recompute(rule, json.loads(json.dumps(award.inputs)))  # as stored: strings only
    assert carbon == award.carbon_mg
    if "day_total" in award.inputs:
        assert points is None
    else:
        assert points >= award.points  # caps may have cut what the inputs alone would earn
