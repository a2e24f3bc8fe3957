"""POST /v1/checkins: methodology, caps, idempotency, frozen accounts, and the cost of a write."""
from __future__ import annotations

import pytest

from admin.__main__ import main as admin
from tests.support import photos
from tests.support.api import DynamoDBCalls, call, request_id


def checkin(client, user, behavior="no_cutlery", rid=None, **fields):
    """A check-in (by default of a behaviour without evidence; the demo catalog's clean_plate and garbage_sorting
    take a photo: photos.checkin)."""
    body = {"request_id": rid or request_id(), "behavior": behavior, **fields}
    return call(client, "POST", "/v1/checkins", body, token=user["token"])


def test_clean_plate_awards_144_g_and_5_points_with_its_methodology(client, user):
    status, body = photos.checkin(client, user)
    assert status == 201
    entry = body["entry"]
    assert (entry["kind"], entry["points"], entry["carbon_g"], entry["source"]) == ("earn", 5, 144.0, "checkin")
    assert entry["methodology"] == {"id": "ACEF-031-clean-plate", "version": "2026.1"}
    assert entry["balance_after"] == 5 and body["points"] == 5 and body["carbon_g"] == 144.0
    assert entry["at"].endswith("+08:00")


def test_fourth_clean_plate_of_the_day_is_refused_whole(client, user):
    for n in range(3):
        assert photos.checkin(client, user)[0] == 201, n
    status, body = photos.checkin(client, user)
    assert (status, body["error"]["code"]) == (429, "DAILY_LIMIT_REACHED")
    me = call(client, "GET", "/v1/me", token=user["token"])[1]
    assert (me["points"], me["carbon_g"]) == (15, 432.0)


def test_caps_are_per_behaviour(client, user):
    for _ in range(3):
        assert photos.checkin(client, user)[0] == 201
    status, body = checkin(client, user, "no_cutlery")
    assert status == 201 and body["entry"]["carbon_g"] == 45.72


def test_same_request_id_returns_the_first_response_and_awards_once(client, user):
    rid = request_id()
    first = checkin(client, user, rid=rid)
    second = checkin(client, user, rid=rid)
    assert first == second
    assert first[0] == 201
    ledger = call(client, "GET", "/v1/me/ledger", token=user["token"])[1]
    assert len(ledger["items"]) == 1


def test_retry_after_success_is_replayed_even_once_the_cap_is_reached(client, user):
    rid = request_id()
    first = checkin(client, user, rid=rid)
    for _ in range(2):
        checkin(client, user)
    assert checkin(client, user, rid=rid) == first


def test_same_request_id_with_another_payload_is_a_conflict(client, user):
    rid = request_id()
    checkin(client, user, rid=rid)
    status, body = checkin(client, user, "green_parking", rid=rid, quantity=1, evidence={"odometer_km": 32000})
    assert (status, body["error"]["code"]) == (409, "IDEMPOTENCY_CONFLICT")


def test_request_ids_are_scoped_to_the_caller(client, user, openid):
    from tests.support.api import login

    other = login(client, openid + "-b")
    rid = request_id()
    assert checkin(client, user, rid=rid)[0] == 201
    status, body = checkin(client, other, rid=rid)
    assert status == 201 and body["entry"]["balance_after"] == 2  # no_cutlery's 2 points, on the other's account


def test_a_failed_request_is_not_remembered_and_may_be_retried(client, user):
    rid = request_id()
    status, _ = checkin(client, user, "green_parking", rid=rid, quantity=1)
    assert status == 400
    status, body = checkin(client, user, "green_parking", rid=rid, quantity=1, evidence={"odometer_km": 12034.5})
    assert status == 201
    assert body["entry"]["carbon_g"] == 4400.0 and body["entry"]["points"] == 20


def test_partner_only_behaviours_are_not_self_reportable(client, user):
    for behavior in ("walk_steps", "bus_ride", "e_statement", "old_clothes"):
        status, body = checkin(client, user, behavior, quantity=1)
        assert (status, body["error"]["code"]) == (422, "NOT_SELF_REPORTABLE"), behavior


def test_unknown_behaviour_is_404(client, user):
    status, body = checkin(client, user, "teleporting")
    assert (status, body["error"]["code"]) == (404, "UNKNOWN_BEHAVIOR")


@pytest.mark.parametrize("rid", ["short", "a" * 65, "has space", "req_0001\n", "绿芽绿芽绿芽绿芽"])
def test_a_request_id_outside_its_form_is_refused_before_anything_is_written(client, user, rid):
    status, body = checkin(client, user, rid=rid)
    assert (status, body["error"]["code"], body["error"]["details"]["field"]) == (400, "VALIDATION_ERROR",
                                                                                  "request_id")
    assert call(client, "GET", "/v1/me", token=user["token"])[1]["points"] == 0


def test_frozen_account_reads_but_earns_nothing(client, user):
    assert admin(["user", "freeze", user["id"], "--reason", "test: suspicious activity"]) == 0
    status, body = checkin(client, user)
    assert (status, body["error"]["code"]) == (403, "ACCOUNT_FROZEN")
    assert call(client, "GET", "/v1/me", token=user["token"])[0] == 200
    assert call(client, "GET", "/v1/me/ledger", token=user["token"])[0] == 200
    assert admin(["user", "unfreeze", user["id"]]) == 0
    assert checkin(client, user)[0] == 201


def test_successful_checkin_without_a_photo_costs_two_dynamodb_calls(client, user):
    checkin(client, user)  # warm the catalog cache, as a container does once a minute
    with DynamoDBCalls() as calls:
        status, _ = checkin(client, user)
    assert status == 201
    assert calls.operations == ["GetItem", "TransactWriteItems"]


@pytest.mark.parametrize("behavior, quantity, evidence, carbon_g, points", [
    ("clean_plate", None, "photo", 144.0, 5),
    ("no_cutlery", None, None, 45.72, 2),
    ("garbage_sorting", None, "photo", 30.0, 2),
    ("green_parking", 1, {"odometer_km": 32000}, 4400.0, 20),
])
def test_every_self_reportable_demo_behaviour_awards_its_catalog_values(client, user, behavior, quantity, evidence,
                                                                        carbon_g, points):
    if evidence == "photo":  # the demo catalog's photo behaviours: an upload first (tests/support/photos.py)
        evidence = {"upload_id": photos.upload(client, user)}
    fields = {k: v for k, v in {"quantity": quantity, "evidence": evidence}.items() if v is not None}
    status, body = checkin(client, user, behavior, **fields)
    assert status == 201, body
    assert (body["entry"]["carbon_g"], body["entry"]["points"]) == (carbon_g, points)


def test_the_demo_catalogs_clean_plate_and_garbage_sorting_require_a_photo(client, user):
    """The issue: behaviours whose evidence includes photo require one; the demo catalog's clean plate and garbage
    sorting do (admin/demo_catalog.json, as seed-demo loads it)."""
    listed = {b["code"]: b for b in call(client, "GET", "/v1/behaviors", token=user["token"])[1]["items"]}
    for behavior in ("clean_plate", "garbage_sorting"):
        assert listed[behavior]["evidence"] == ["photo"]
        status, body = checkin(client, user, behavior)
        assert (status, body["error"]["code"], body["error"]["details"]["field"]) == (400, "VALIDATION_ERROR",
                                                                                      "evidence"), behavior
    assert listed["no_cutlery"]["evidence"] == []
    assert call(client, "GET", "/v1/me", token=user["token"])[1]["points"] == 0
