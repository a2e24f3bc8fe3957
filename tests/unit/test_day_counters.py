"""The account's day counters (issue 19 item 6): only the counters a cap reads, for the days it can read
them, in a short string; accounts written in the old spaced-JSON form are read as they were."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from chalicelib.domain import clock
from chalicelib.domain.caps import DayCount, counter_days, kept_counts
from chalicelib.domain.posting import KEEP_DAYS, Posting, day_count, stage
from chalicelib.store import day_counters
from tests.unit.fakes import FakeAccount
from tests.unit.test_caps import demo_rule, make_rule

NOON = datetime(2026, 12, 2, 12, 0, tzinfo=clock.SHANGHAI)
TODAY = NOON.date()


def _earn(rule, day: date, counts: DayCount) -> Posting:
    return Posting("earn", counts.points, counts.carbon_mg, "checkin", rule.code, rule, {"quantity": "1"}, day=day,
                   day_count=counts)


def test_each_channel_keeps_its_counters_only_as_long_as_something_reads_them():
    assert counter_days(demo_rule("clean_plate")) == 0  # a check-in counts for today only
    assert counter_days(demo_rule("old_clothes")) == 0  # an operator credit too
    assert counter_days(demo_rule("bus_ride")) == clock.LATE_EVENT_DAYS + 1  # a ride may come 7 days late
    assert counter_days(demo_rule("e_statement")) == clock.LATE_EVENT_DAYS + 1
    assert counter_days(demo_rule("walk_steps")) == 1  # today's and yesterday's step totals
    assert counter_days(make_rule()) is None  # no cap: nothing reads a counter
    assert counter_days(make_rule(channel="werun")) == 1  # a day total reads it, cap or not


def test_a_counter_keeps_only_the_numbers_a_cap_reads():
    counts = DayCount(2, 10, 2000, 288000)
    assert kept_counts(demo_rule("clean_plate"), counts) == [2, 0, 0, 0]  # daily_limit: events
    assert kept_counts(demo_rule("metro_ride"), counts) == [0, 10, 0, 0, 8]  # daily_points_max: points
    assert kept_counts(demo_rule("old_clothes"), counts) == [0, 0, 2000, 0]  # daily_quantity_max
    assert kept_counts(demo_rule("walk_steps"), counts) == [2, 10, 2000, 288000, 1]  # a day total: all of it
    assert kept_counts(make_rule(), counts) is None


def test_a_posting_drops_the_counters_nothing_can_read_any_more_and_keeps_the_rest():
    plate, ride = demo_rule("clean_plate"), demo_rule("bus_ride")
    daily = {(TODAY - timedelta(days=1)).isoformat(): {"clean_plate": [3, 0, 0, 0], "walk_steps": [1, 20, 5, 6, 1]},
             (TODAY - timedelta(days=2)).isoformat(): {"walk_steps": [1, 20, 5, 6, 1]},
             (TODAY - timedelta(days=8)).isoformat(): {"bus_ride": [6, 0, 0, 0, 8]},
             (TODAY - timedelta(days=9)).isoformat(): {"bus_ride": [6, 0, 0, 0, 8]}}
    account = FakeAccount("u", daily=daily)
    staged = stage(account, [_earn(plate, TODAY, DayCount(1, 5, 1000, 144000))], now=NOON)
    assert staged.account["daily"] == {
        TODAY.isoformat(): {"clean_plate": [1, 0, 0, 0]},
        (TODAY - timedelta(days=1)).isoformat(): {"walk_steps": [1, 20, 5, 6, 1]},
        (TODAY - timedelta(days=8)).isoformat(): {"bus_ride": [6, 0, 0, 0, 8]}}
    assert day_count(FakeAccount("u", daily=staged.account["daily"]),
                     TODAY - timedelta(days=8), "bus_ride") == DayCount(6, 0, 0, 0)
    late = stage(account, [_earn(ride, TODAY - timedelta(days=7), DayCount(1, 10, 1000, 80000))], now=NOON)
    assert late.account["daily"][(TODAY - timedelta(days=7)).isoformat()] == {"bus_ride": [1, 0, 0, 0, 8]}


def test_a_checkin_decided_just_before_midnight_keeps_that_days_counters():
    plate = demo_rule("clean_plate")
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    account = FakeAccount("u", daily={yesterday: {"clean_plate": [2, 0, 0, 0], "no_cutlery": [3, 0, 0, 0]}})
    staged = stage(account, [_earn(plate, TODAY - timedelta(days=1), DayCount(3, 5, 1000, 0))], now=NOON)
    assert staged.account["daily"] == {yesterday: {"clean_plate": [3, 0, 0, 0], "no_cutlery": [3, 0, 0, 0]}}


def test_the_short_form_round_trips_and_is_far_smaller_than_spaced_json():
    daily = {"2026-12-02": {"clean_plate": [1, 0, 0, 0], "walk_steps": [1, 20, 12345000, 202458, 1]},
             "2026-12-01": {"bus_ride": [2, 0, 0, 0, 8], "walk_steps": [1, 20, 12345000, 202458, 1]},
             "2026-11-30": {"zero": [0, 0, 0, 0], "有 空格=;": [1, 2, 3, 4]}}
    text = day_counters.encode(daily)
    assert text.startswith("20261202 clean_plate=1 walk_steps=1,20,12345000,202458,1;20261201 bus_ride=2,0,0,0,8")
    assert day_counters.decode(text) == daily
    assert day_counters.decode(day_counters.encode({})) == {}
    steady = {day: {b: c[:4] for b, c in by.items()} for day, by in list(daily.items())[:2]}
    assert len(day_counters.encode(steady)) < len(json.dumps(steady)) * 2 / 3


def test_an_account_in_the_old_spaced_json_form_reads_as_it_did_and_keeps_every_counter_as_long():
    old = {"2026-12-02": {"clean_plate": [3, 15, 3000, 432000]}, "2026-11-25": {"bus_ride": [6, 60, 6000, 480000]}}
    daily = day_counters.decode(json.dumps(old))
    assert daily == {"2026-12-02": {"clean_plate": [3, 15, 3000, 432000, KEEP_DAYS]},
                     "2026-11-25": {"bus_ride": [6, 60, 6000, 480000, KEEP_DAYS]}}
    account = FakeAccount("u", daily=daily)
    assert day_count(account, TODAY, "clean_plate") == DayCount(3, 15, 3000, 432000)
    staged = stage(account, [_earn(demo_rule("no_cutlery"), TODAY, DayCount(1, 2, 1000, 45720))], now=NOON)
    assert staged.account["daily"]["2026-11-25"]["bus_ride"][:4] == [6, 60, 6000, 480000]
    assert staged.account["daily"][TODAY.isoformat()]["clean_plate"][:4] == [3, 15, 3000, 432000]
