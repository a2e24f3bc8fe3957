"""Bus rides from the bus company (shared/partners/transit.md): pulled from the stored cursor and pushed by
webhook, each ride counted once on its own day, within consent, with the verified-event caps."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from chalicelib.store.partners import Consent
from tests.support.api import DynamoDBCalls, call
from tests.support.partners import bind, ledger, me, now, push, reconcile_clean, sync


@pytest.fixture
def rider(client, stack, user):
    """The logged-in user, bound to a transit account: (user, user_ref)."""
    return user, bind(client, stack, user, "transit")


def rides(stack, user_ref, count, **fields):
    return [stack.transit.add_ride(user_ref, **fields) for _ in range(count)]


def test_eight_bus_rides_in_a_day_give_640_g_and_60_points(client, stack, rider):
    user, ref = rider
    rides(stack, ref, 8)
    status, body = sync(client, user, "transit")
    assert status == 200
    assert (body["imported"], body["duplicates"], body["awarded"]) == (8, 0, {"points": 60, "carbon_g": 640.0})
    assert (me(client, user)["points"], me(client, user)["carbon_g"]) == (60, 640.0)
    entries = ledger(client, user)
    assert {(e["source"], e["behavior"], e["kind"]) for e in entries} == {("transit", "bus_ride", "earn")}
    assert sorted(e["points"] for e in entries) == [0, 0] + [10] * 6
    assert entries[0]["methodology"] == {"id": "LZ-bus-ride", "version": "2024.1"}


def test_rides_pulled_then_pushed_count_once(client, stack, rider):
    user, ref = rider
    recorded = rides(stack, ref, 3)
    assert sync(client, user, "transit")[1]["imported"] == 3
    status, body = push(client, stack.transit, recorded)
    assert (status, body) == (200, {"accepted": 0, "duplicates": 3, "ignored": 0})
    assert sync(client, user, "transit")[1]["imported"] == 0
    assert len(ledger(client, user)) == 3
    assert me(client, user)["carbon_g"] == 240.0


def test_rides_pushed_then_pulled_count_once(client, stack, rider):
    user, ref = rider
    recorded = rides(stack, ref, 2)
    assert push(client, stack.transit, recorded)[1]["accepted"] == 2
    status, body = sync(client, user, "transit")
    assert (status, body["imported"], body["duplicates"]) == (200, 0, 2)
    assert me(client, user)["points"] == 20


def test_a_metro_ride_counts_its_distance(client, stack, rider):
    user, ref = rider
    stack.transit.add_ride(ref, mode="metro", distance_m=12500)
    body = sync(client, user, "transit")[1]
    assert body["awarded"] == {"points": 12, "carbon_g": 583.75}
    assert ledger(client, user)[0]["behavior"] == "metro_ride"


def test_a_ride_counts_on_the_day_it_was_boarded_up_to_seven_days_late(client, stack, rider):
    from chalicelib.store.models import LedgerEntry

    user, ref = rider
    consented_at = (now() - timedelta(days=10)).isoformat()  # as if consent was given ten days ago
    Consent.get(user["id"], "transit").update(actions=[Consent.periods.set([[consented_at, None]])])
    yesterday, too_late = now() - timedelta(days=1), now() - timedelta(days=8)
    stack.transit.add_ride(ref, boarded_at=yesterday)
    stack.transit.add_ride(ref, boarded_at=too_late)
    body = sync(client, user, "transit")[1]
    assert (body["imported"], body["ignored"]) == (1, 1)
    assert [e.day for e in LedgerEntry.query(user["id"])] == [yesterday.date().isoformat()]


def test_rides_from_before_consent_are_ignored(client, stack, rider):
    user, ref = rider
    stack.transit.add_ride(ref, boarded_at=now() - timedelta(hours=2))  # recorded late, boarded before consent
    stack.transit.add_ride(ref)
    body = sync(client, user, "transit")[1]
    assert (body["imported"], body["ignored"]) == (1, 1)


def test_revoked_consent_stops_ingestion_by_pull_and_by_push(client, stack, rider):
    user, ref = rider
    call(client, "DELETE", "/v1/partners/transit/consent", token=user["token"])
    status, body = sync(client, user, "transit")
    assert (status, body["error"]["code"]) == (409, "NOT_BOUND")
    ride = {"ride_id": f"r_late_{time.time_ns()}", "user_ref": ref, "mode": "bus", "line": "12",
            "boarded_at": now().isoformat(), "distance_m": 3000, "fare_cents": 200}
    assert push(client, stack.transit, [ride])[1] == {"accepted": 0, "duplicates": 0, "ignored": 1}
    assert me(client, user)["points"] == 0


def test_rides_of_the_revoked_gap_are_ignored_after_binding_again(client, stack, user):
    from tests.support.partners import phone, phone_code

    number = phone()
    ref = bind(client, stack, user, "transit", number)
    call(client, "DELETE", "/v1/partners/transit/consent", token=user["token"])
    time.sleep(1.2)
    gap = now()  # partners stamp to the second: a whole second away from both ends of the gap
    time.sleep(1.2)
    call(client, "PUT", "/v1/partners/transit/consent", {"phone_code": phone_code(stack, number)}, token=user["token"])
    stack.transit.add_ride(ref, boarded_at=gap)  # boarded while revoked, delivered after binding again
    stack.transit.add_ride(ref)
    body = sync(client, user, "transit")[1]
    assert (body["imported"], body["ignored"]) == (1, 1)


def test_a_frozen_account_syncs_nothing(client, stack, rider):
    from admin.__main__ import main as admin

    user, ref = rider
    recorded = rides(stack, ref, 1)
    assert admin(["user", "freeze", user["id"], "--reason", "test"]) == 0
    status, body = sync(client, user, "transit")
    assert (status, body["error"]["code"]) == (403, "ACCOUNT_FROZEN")
    assert push(client, stack.transit, recorded)[1]["ignored"] == 1
    assert me(client, user)["points"] == 0


def test_malformed_rides_are_skipped_and_counted(client, stack, rider):
    user, ref = rider
    stack.transit.add_raw_ride(ref, {"user_ref": ref, "mode": "bus", "boarded_at": now().isoformat()})
    stack.transit.add_raw_ride(ref, {"ride_id": "r_neg", "user_ref": ref, "mode": "bus", "distance_m": -5,
                                     "boarded_at": now().isoformat()})
    stack.transit.add_raw_ride(ref, "not a ride")
    stack.transit.add_ride(ref)
    status, body = sync(client, user, "transit")
    assert (status, body["imported"], body["ignored"]) == (200, 1, 3)


def test_a_partner_failing_mid_sync_then_a_good_sync_leave_exactly_the_right_ledger(client, stack, rider):
    user, ref = rider
    rides(stack, ref, 130)  # two pages
    stack.transit.faults.add(path="/v1/rides", status=500, after=1, count=-1)
    try:
        status, body = sync(client, user, "transit")
        assert (status, body["error"]["code"]) == (503, "PARTNER_UNAVAILABLE")
    finally:
        stack.transit.faults.clear()
    assert len(ledger(client, user)) == 100  # the first page is kept, and the cursor moved past it only
    status, body = sync(client, user, "transit")
    assert (status, body["imported"], body["duplicates"]) == (200, 30, 0)
    assert (me(client, user)["points"], me(client, user)["carbon_g"]) == (60, 130 * 80.0)
    assert sync(client, user, "transit")[1]["imported"] == 0
    assert reconcile_clean(user)[0]


def test_a_crash_after_storing_before_moving_the_cursor_doubles_nothing(client, stack, rider):
    user, ref = rider
    rides(stack, ref, 3)
    sync(client, user, "transit")
    Consent.get(user["id"], "transit").update(actions=[Consent.cursor.remove()])  # as if the cursor write was lost
    body = sync(client, user, "transit")[1]
    assert (body["imported"], body["duplicates"]) == (0, 3)
    assert me(client, user)["points"] == 30


def test_a_429_is_retried_after_the_time_the_partner_asks(client, stack, rider):
    user, ref = rider
    rides(stack, ref, 1)
    stack.transit.faults.add(path="/v1/rides", status=429, retry_after=1)
    started = time.monotonic()
    status, body = sync(client, user, "transit")
    assert (status, body["imported"]) == (200, 1)
    assert time.monotonic() - started >= 1


def test_a_partner_too_slow_to_answer_is_503(client, stack, rider):
    user, _ = rider
    stack.transit.faults.add(path="/v1/rides", status=0, delay=1.5, count=-1)
    try:
        status, body = sync(client, user, "transit")
    finally:
        stack.transit.faults.clear()
    assert (status, body["error"]["code"]) == (503, "PARTNER_UNAVAILABLE")


def test_each_attempt_is_signed_afresh(client, stack, rider):
    """The fake refuses a reused nonce: a retried request that resent its headers would fail."""
    user, ref = rider
    rides(stack, ref, 1)
    stack.transit.faults.add(path="/v1/rides", status=502, count=2)
    status, body = sync(client, user, "transit")
    assert (status, body["imported"]) == (200, 1)


def test_pulling_a_page_of_rides_costs_a_bounded_number_of_dynamodb_calls(client, stack, rider):
    user, ref = rider
    rides(stack, ref, 100)
    with DynamoDBCalls() as calls:
        assert sync(client, user, "transit")[1]["imported"] == 100
    assert len(calls) <= 10, calls.operations
