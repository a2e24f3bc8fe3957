"""Green parking (绿色停驶): a parked day earns only when the odometer shows the car did not move.

Each test moves the app's clock to noon of days in the recent past (its own user, so no other test's data
is touched) and checks in once a day, as the mini program would.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from chalicelib.domain import clock
from chalicelib.domain.caps import recompute
from chalicelib.services import catalog
from chalicelib.store.models import Account
from tests.support.api import DynamoDBCalls, call, request_id
from tests.support.privacy import clock_at, raw_item

TODAY = clock.business_day(clock.now())
DAY1, DAY2, DAY3 = (TODAY - timedelta(days=n) for n in (3, 2, 1))
CONFIRM = {"confirm": "DELETE"}


def park(client, user, day, km, rid=None, quantity=1):
    """A green parking check-in received at noon of `day`, with odometer reading `km`."""
    body = {"request_id": rid or request_id(), "behavior": "green_parking", "quantity": quantity,
            "evidence": {"odometer_km": km}}
    with clock_at(datetime.combine(day, time(12), clock.SHANGHAI)):
        return call(client, "POST", "/v1/checkins", body, token=user["token"])


def me(client, user) -> dict:
    return call(client, "GET", "/v1/me", token=user["token"])[1]


def ledger(client, user) -> list[dict]:
    return call(client, "GET", "/v1/me/ledger", token=user["token"])[1]["items"]


def exported(client, user) -> dict:
    status, body = call(client, "GET", "/v1/me/export", token=user["token"])
    assert status == 200, body
    return body


def unverified(answer, reason: str, points_before: int) -> dict:
    """A check-in whose reading shows no parked day: a 201 of an `earn` entry worth nothing."""
    status, body = answer
    assert status == 201, answer
    entry, verification = body["entry"], body["verification"]
    assert (entry["kind"], entry["behavior"], entry["source"], entry["points"], entry["carbon_g"]) == (
        "earn", "green_parking", "checkin", 0, 0.0), answer
    assert entry["methodology"]["id"] and entry["balance_after"] == body["points"] == points_before
    assert (verification["verified"], verification["reason"]) == (False, reason), answer
    return body


def test_the_first_reading_ever_awards_and_becomes_the_starting_point(client, user):
    status, body = park(client, user, DAY1, 12034.5)
    assert status == 201, body
    assert (body["entry"]["points"], body["entry"]["carbon_g"], body["points"]) == (20, 4400.0, 20)
    export = exported(client, user)
    assert export["profile"]["odometer"] == {"odometer_km": 12034.5, "day": DAY1.isoformat()}
    inputs = export["ledger"][0]["inputs"]
    assert inputs["evidence"] == {"odometer_km": "12034.5"} and inputs["previous_reading"] is None


def test_the_same_reading_the_next_day_awards_and_its_entry_keeps_both_readings(client, user):
    assert park(client, user, DAY1, 12034.5)[0] == 201
    status, body = park(client, user, DAY2, 12034.5)
    assert status == 201, body
    assert (body["entry"]["points"], body["points"]) == (20, 40)
    newest = exported(client, user)["ledger"][0]
    assert newest["inputs"]["evidence"] == {"odometer_km": "12034.5"}
    assert newest["inputs"]["previous_reading"] == {"odometer_km": "12034.5", "day": DAY1.isoformat()}
    assert newest["inputs"]["tolerance_km"] == "1"


@pytest.mark.parametrize("km", [12035.5, 12033.5])
def test_a_reading_within_a_kilometre_either_way_counts_as_parked(client, user, km):
    assert park(client, user, DAY1, 12034.5)[0] == 201
    assert park(client, user, DAY2, km)[0] == 201
    assert me(client, user)["points"] == 40


def test_a_reading_that_shows_the_car_moved_is_a_checkin_worth_nothing_that_keeps_the_evidence(client, user):
    assert park(client, user, DAY1, 12034.5)[0] == 201
    body = unverified(park(client, user, DAY2, 12070), "moved", 20)
    assert body["verification"] == {
        "verified": False, "reason": "moved", "odometer_km": 12070, "previous_km": 12034.5,
        "previous_day": DAY1.isoformat(), "tolerance_km": 1,
        "message": body["verification"]["message"]}
    assert "35.5 公里" in body["verification"]["message"] and "不计积分" in body["verification"]["message"]
    assert (me(client, user)["points"], me(client, user)["carbon_g"]) == (20, 4400.0)
    export = exported(client, user)
    newest = export["ledger"][0]
    assert (newest["kind"], newest["points"], newest["carbon_g"]) == ("earn", 0, 0.0)
    assert newest["inputs"]["evidence"] == {"odometer_km": "12070"}
    assert newest["inputs"]["previous_reading"] == {"odometer_km": "12034.5", "day": DAY1.isoformat()}
    assert (newest["inputs"]["tolerance_km"], newest["inputs"]["verified"], newest["inputs"]["reason"]) == (
        "1", False, "moved")
    assert export["profile"]["odometer"] == {"odometer_km": 12070, "day": DAY2.isoformat()}
    assert recompute(catalog.behavior("green_parking"), newest["inputs"]) == (0, 0)  # audits find it worth 0
    assert len(ledger(client, user)) == 2
    # the day's counter: one check-in, nothing earned (events, points, quantity in thousandths, carbon mg)
    daily = Account.get(user["id"], consistent_read=True).daily
    assert daily[DAY2.isoformat()]["green_parking"] == [1, 0, 0, 0]


def test_a_verified_checkin_says_so(client, user):
    first = park(client, user, DAY1, 12034.5)[1]["verification"]
    assert (first["verified"], first["reason"], first["previous_km"], first["previous_day"]) == (
        True, None, None, None)
    body = park(client, user, DAY2, 12034.5)[1]
    assert (body["verification"]["verified"], body["verification"]["previous_km"]) == (True, 12034.5)
    assert exported(client, user)["ledger"][0]["inputs"]["verified"] is True


def test_other_checkins_carry_no_verification(client, user):
    status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "no_cutlery"},
                        token=user["token"])
    assert status == 201 and "verification" not in body, body


def test_a_reading_just_over_the_tolerance_earns_nothing(client, user):
    assert park(client, user, DAY1, 12034.5)[0] == 201
    unverified(park(client, user, DAY2, 12035.6), "moved", 20)
    assert me(client, user)["points"] == 20


def test_a_lower_reading_earns_nothing(client, user):
    assert park(client, user, DAY1, 12034.5)[0] == 201
    body = unverified(park(client, user, DAY2, 12000), "decreased", 20)
    assert "少了 34.5 公里" in body["verification"]["message"]
    assert me(client, user)["points"] == 20 and len(ledger(client, user)) == 2
    assert exported(client, user)["ledger"][0]["inputs"]["reason"] == "decreased"


def test_after_the_car_moved_the_next_parked_day_counts_from_the_new_reading(client, user):
    """The unverified reading is the new starting point: the person is not locked out for having driven."""
    assert park(client, user, DAY1, 12034.5)[0] == 201
    unverified(park(client, user, DAY2, 12070), "moved", 20)
    status, body = park(client, user, DAY3, 12070)
    assert status == 201, body
    assert (body["entry"]["points"], body["verification"]["verified"], me(client, user)["points"]) == (20, True, 40)
    assert exported(client, user)["ledger"][0]["inputs"]["previous_reading"] == {"odometer_km": "12070",
                                                                                 "day": DAY2.isoformat()}


@pytest.mark.parametrize("km", [12070, 12034.5])
def test_an_unverified_checkin_is_the_days_one_checkin(client, user, km):
    """Another request the same day, even with a matching reading, meets the daily limit and changes nothing."""
    assert park(client, user, DAY1, 12034.5)[0] == 201
    unverified(park(client, user, DAY2, 12070), "moved", 20)
    status, body = park(client, user, DAY2, km)
    assert (status, body["error"]["code"], body["error"]["details"]["cap"]) == (429, "DAILY_LIMIT_REACHED",
                                                                                 "daily_limit")
    assert me(client, user)["points"] == 20 and len(ledger(client, user)) == 2
    assert exported(client, user)["profile"]["odometer"] == {"odometer_km": 12070, "day": DAY2.isoformat()}


def test_a_latest_reading_of_the_same_day_meets_the_daily_limit_and_changes_nothing(client, user):
    """One reading a day even where the day's counter does not say so (a reading stored later than today)."""
    assert park(client, user, DAY2, 12034.5)[0] == 201
    rid = request_id()
    status, body = park(client, user, DAY1, 12034.5, rid=rid)  # the clock went back: the latest is "tomorrow"
    assert (status, body["error"]["code"]) == (429, "DAILY_LIMIT_REACHED"), body
    assert exported(client, user)["profile"]["odometer"] == {"odometer_km": 12034.5, "day": DAY2.isoformat()}
    assert park(client, user, DAY3, 12034.5, rid=rid)[0] == 201  # a failure is not remembered: retried, it counts
    assert me(client, user)["points"] == 40


def test_a_retried_checkin_replays_its_first_answer_even_on_a_later_day(client, user):
    rid = request_id()
    first = park(client, user, DAY1, 12034.5, rid=rid)
    assert first[0] == 201
    assert park(client, user, DAY1, 12034.5, rid=rid) == first
    assert park(client, user, DAY2, 12034.5, rid=rid) == first  # would otherwise be a matching new day
    assert me(client, user)["points"] == 20 and len(ledger(client, user)) == 1


def test_a_retried_unverified_checkin_replays_its_first_answer(client, user):
    assert park(client, user, DAY1, 12034.5)[0] == 201
    rid = request_id()
    first = park(client, user, DAY2, 12070, rid=rid)
    unverified(first, "moved", 20)
    assert park(client, user, DAY2, 12070, rid=rid) == first
    assert park(client, user, DAY3, 12070, rid=rid) == first  # not the new day's award
    assert me(client, user)["points"] == 20 and len(ledger(client, user)) == 2
    assert exported(client, user)["profile"]["odometer"] == {"odometer_km": 12070, "day": DAY2.isoformat()}


def test_a_checkin_claims_at_most_one_day(client, user):
    status, body = park(client, user, DAY1, 12034.5, quantity=5)
    assert (status, body["error"]["code"], body["error"]["details"]["field"]) == (400, "VALIDATION_ERROR",
                                                                                  "quantity")
    assert me(client, user)["points"] == 0 and exported(client, user)["profile"]["odometer"] is None


@pytest.mark.parametrize("km, points", [(12034.5, 20), (12070, 0)])
def test_a_compared_reading_costs_two_dynamodb_calls(client, user, km, points):
    assert park(client, user, DAY1, 12034.5)[0] == 201  # also warms the catalog cache
    with DynamoDBCalls() as calls:
        status, body = park(client, user, DAY2, km)
    assert (status, body["entry"]["points"]) == (201, points), body
    assert calls.operations == ["GetItem", "TransactWriteItems"]


def test_deleting_the_account_drops_the_stored_reading(client, user):
    assert park(client, user, DAY1, 12034.5)[0] == 201
    assert "odometer" in raw_item(Account, user_id=user["id"])
    assert call(client, "DELETE", "/v1/me", CONFIRM, token=user["token"]) == (200, {"deleted": True})
    assert "odometer" not in raw_item(Account, user_id=user["id"])
