"""Partner events: what a well-formed ride or bank event is, which ones still count, and transactions
that never hold more than DynamoDB's 100 actions."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.domain import clock
from chalicelib.domain.partner_events import (
    PartnerEvent,
    chunks,
    consented,
    parse_bank_event,
    parse_ride,
    timely,
)
from chalicelib.services.ingest import transactions
from chalicelib.store.unit_of_work import MAX_ACTIONS
from tests.unit.fakes_partners import InMemoryPartnerUnitOfWork

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=clock.SHANGHAI)


def ride(**fields):
    return {"ride_id": "r_1", "user_ref": "tu_1", "mode": "bus", "line": "泸州 12 路",
            "boarded_at": "2026-11-23T08:01:12+08:00", "distance_m": 6400, "fare_cents": 200, **fields}


def test_a_bus_ride_is_one_ride_on_the_day_it_was_boarded():
    event = parse_ride(ride(boarded_at="2026-11-22T23:59:59+08:00"))
    assert (event.behavior, event.quantity, event.day.isoformat(), event.key) == (
        "bus_ride", Decimal(1), "2026-11-22", "transit#r_1")


def test_a_ride_boarded_late_evening_utc_counts_on_the_china_day():
    assert parse_ride(ride(boarded_at="2026-11-22T16:30:00+00:00")).day.isoformat() == "2026-11-23"


def test_a_metro_ride_counts_its_distance():
    event = parse_ride(ride(mode="metro", distance_m=12500))
    assert (event.behavior, event.quantity) == ("metro_ride", Decimal(12500))


@pytest.mark.parametrize("broken", [
    {"ride_id": None}, {"ride_id": ""}, {"ride_id": "x" * 200}, {"user_ref": 7}, {"mode": "plane"},
    {"boarded_at": "yesterday"}, {"boarded_at": "2026-11-23T08:01:12"}, {"distance_m": -5},
    {"distance_m": True}, {"distance_m": "6400"}, {"distance_m": 10**9}, {"mode": "metro", "distance_m": 0},
])
def test_malformed_rides_are_none(broken):
    assert parse_ride(ride(**broken)) is None


def test_non_objects_are_none():
    assert parse_ride("ride") is None and parse_bank_event(["event"]) is None


def test_a_bank_event_names_its_behaviour_by_type():
    event = parse_bank_event({"event_id": "ge_1", "customer_ref": "bc_1", "type": "e_statement",
                              "occurred_at": "2026-11-20T10:00:00+08:00", "amount_fen": None})
    assert (event.behavior, event.quantity, event.key) == ("e_statement", Decimal(1), "bank#ge_1")
    assert parse_bank_event({"customer_ref": "bc_1", "type": "e_statement",
                             "occurred_at": "2026-11-20T10:00:00+08:00"}) is None


@pytest.mark.parametrize("days_late, counts", [(0, True), (7, True), (8, False)])
def test_events_count_up_to_seven_days_late(days_late, counts):
    event = parse_ride(ride(boarded_at=(NOW - timedelta(days=days_late)).isoformat()))
    assert timely(event, NOW) is counts


def test_events_from_the_future_do_not_count():
    assert not timely(parse_ride(ride(boarded_at=(NOW + timedelta(hours=1)).isoformat())), NOW)


def test_consent_periods_cover_from_the_second_of_binding_until_revocation():
    periods = [["2026-11-20T10:00:00.500+08:00", "2026-11-21T10:00:00+08:00"], ["2026-11-22T10:00:00+08:00", None]]
    at = datetime.fromisoformat
    assert consented(periods, at("2026-11-20T10:00:00+08:00"))  # the same second as the binding
    assert not consented(periods, at("2026-11-20T09:59:59+08:00"))
    assert not consented(periods, at("2026-11-21T12:00:00+08:00"))  # the revoked gap
    assert consented(periods, at("2026-11-23T08:00:00+08:00"))
    assert not consented([], NOW)


def _event(n: int, behavior: str = "bus_ride", day: int = 23) -> PartnerEvent:
    return PartnerEvent("transit", f"r_{n}", "tu_1", behavior, Decimal(1),
                        datetime(2026, 11, day, 8, tzinfo=clock.SHANGHAI))


def test_chunks_keep_every_transaction_within_100_actions():
    events = [_event(n, ("bus_ride", "metro_ride")[n % 2], (1, 30)[n % 3 == 0]) for n in range(500)]
    groups = transactions(InMemoryPartnerUnitOfWork(), "u_1", "transit", events)
    assert [e for g in groups for e in g] == events
    for group in groups:
        summaries = {(e.day.isoformat()[:7], e.behavior) for e in group}
        assert 2 + len(summaries) + 2 * len(group) <= MAX_ACTIONS
    assert len(groups) == 11


def test_a_small_group_is_one_transaction():
    uow = InMemoryPartnerUnitOfWork()
    assert transactions(uow, "u_1", "transit", [_event(n) for n in range(48)]) == [[_event(n) for n in range(48)]]
    assert [len(g) for g in transactions(uow, "u_1", "transit", [_event(n) for n in range(49)])] == [48, 1]
    assert transactions(uow, "u_1", "transit", []) == []


def test_chunks_group_consecutive_events_as_far_as_they_fit():
    events = [_event(n) for n in range(7)]
    assert [len(g) for g in chunks(events, lambda group: len(group) <= 3)] == [3, 3, 1]
    assert chunks(events[:2], lambda group: False) == [[events[0]], [events[1]]]
