"""Partner pushes: signatures and timestamps checked, replays refused, batches ingested idempotently and in a
bounded number of DynamoDB calls; what cannot count is `ignored`, never a crash."""
from __future__ import annotations

import time
import uuid

import pytest

from admin.__main__ import main as admin
from tests.support.api import DynamoDBCalls, call, login
from tests.support.partners import bind, me, now, push, reconcile_clean


def ride(ref: str, **fields) -> dict:
    return {"ride_id": f"r_{uuid.uuid4().hex}", "user_ref": ref, "mode": "bus", "line": "泸州 12 路",
            "boarded_at": now().replace(microsecond=0).isoformat(), "alighted_at": now().isoformat(),
            "distance_m": 6400, "fare_cents": 200, **fields}


def send(client, path: str, headers: dict, body: bytes):
    return call(client, "POST", path, body, headers=headers)


def test_a_signed_transit_batch_is_accepted_and_a_retry_of_it_counts_nothing_more(client, stack, user):
    ref = bind(client, stack, user, "transit")
    batch = [ride(ref) for _ in range(3)]
    assert push(client, stack.transit, batch) == (200, {"accepted": 3, "duplicates": 0, "ignored": 0})
    assert push(client, stack.transit, batch) == (200, {"accepted": 0, "duplicates": 3, "ignored": 0})
    assert (me(client, user)["points"], me(client, user)["carbon_g"]) == (30, 240.0)


@pytest.mark.parametrize("forge", [{"secret": "not-our-secret"}, {"nonce": "short"}])
def test_a_bad_transit_signature_is_401(client, stack, user, forge):
    ref = bind(client, stack, user, "transit")
    status, body = push(client, stack.transit, [ride(ref)], **forge)
    assert (status, body["error"]["code"]) == (401, "BAD_SIGNATURE")
    assert me(client, user)["points"] == 0


def test_a_tampered_transit_body_is_401(client, stack, user):
    ref = bind(client, stack, user, "transit")
    path, headers, body = stack.transit.webhook_request([ride(ref)])
    status, answer = send(client, path, headers, body.replace(b"6400", b"9400"))
    assert (status, answer["error"]["code"]) == (401, "BAD_SIGNATURE")


def test_missing_signature_headers_are_401(client, stack):
    path, _, body = stack.transit.webhook_request([])
    assert send(client, path, {}, body)[1]["error"]["code"] == "BAD_SIGNATURE"
    path, _, body = stack.bank.webhook_request([])
    assert send(client, path, {}, body)[1]["error"]["code"] == "BAD_SIGNATURE"


def test_a_replayed_transit_nonce_is_401_replayed(client, stack, user):
    ref = bind(client, stack, user, "transit")
    path, headers, body = stack.transit.webhook_request([ride(ref)])
    assert send(client, path, headers, body)[0] == 200
    status, answer = send(client, path, headers, body)
    assert (status, answer["error"]["code"]) == (401, "REPLAYED")


def test_a_stale_transit_timestamp_is_401_replayed(client, stack, user):
    ref = bind(client, stack, user, "transit")
    status, body = push(client, stack.transit, [ride(ref)], timestamp=int(time.time()) - 301)
    assert (status, body["error"]["code"]) == (401, "REPLAYED")


def test_a_signed_bank_batch_is_accepted_once_and_a_replayed_signature_refused(client, stack, user):
    ref = bind(client, stack, user, "bank")
    event = stack.bank.add_event(ref)
    path, headers, body = stack.bank.webhook_request([event])
    assert send(client, path, headers, body) == (200, {"accepted": 1, "duplicates": 0, "ignored": 0})
    status, answer = send(client, path, headers, body)
    assert (status, answer["error"]["code"]) == (401, "REPLAYED")
    # the bank's retry is a new delivery (new timestamp, new signature): accepted, counted once
    assert push(client, stack.bank, [event], timestamp=int(time.time()) + 1)[1]["duplicates"] == 1
    assert me(client, user)["points"] == 2


@pytest.mark.parametrize("forge", [{"secret": "wrong"}, {"timestamp": int(time.time()) - 400}])
def test_a_bad_or_stale_bank_signature_is_401_bad_signature(client, stack, user, forge):
    ref = bind(client, stack, user, "bank")
    status, body = push(client, stack.bank, [stack.bank.add_event(ref)], **forge)
    assert (status, body["error"]["code"]) == (401, "BAD_SIGNATURE")


def test_what_cannot_count_is_ignored_and_the_rest_of_the_batch_still_counts(client, stack, user, openid):
    ref = bind(client, stack, user, "transit")
    revoked = login(client, openid + "-revoked")
    revoked_ref = bind(client, stack, revoked, "transit")
    call(client, "DELETE", "/v1/partners/transit/consent", token=revoked["token"])
    frozen = login(client, openid + "-frozen")
    frozen_ref = bind(client, stack, frozen, "transit")
    assert admin(["user", "freeze", frozen["id"], "--reason", "test"]) == 0
    batch = [
        ride(ref), ride("tu_nobody_we_know"), ride(revoked_ref), ride(frozen_ref),
        ride(ref, mode="plane"), ride(ref, distance_m=-1), {"user_ref": ref}, "garbage",
        ride(ref, boarded_at="yesterday"),
    ]
    status, body = push(client, stack.transit, batch)
    assert (status, body) == (200, {"accepted": 1, "duplicates": 0, "ignored": 8})
    assert me(client, user)["points"] == 10
    assert me(client, revoked)["points"] == me(client, frozen)["points"] == 0


def test_unknown_partner_and_oversized_batches_are_refused(client, stack):
    path, headers, body = stack.transit.webhook_request([])
    assert send(client, "/v1/webhooks/airline", headers, body)[1]["error"]["code"] == "UNKNOWN_PARTNER"
    path, headers, body = stack.transit.webhook_request([{"ride_id": str(n)} for n in range(501)])
    status, answer = send(client, path, headers, body)
    assert (status, answer["error"]["code"]) == (400, "VALIDATION_ERROR")


def test_a_batch_of_500_rides_is_ingested_in_a_bounded_number_of_dynamodb_calls(client, stack, openid):
    users = [login(client, f"{openid}-{n}") for n in range(5)]
    refs = [bind(client, stack, u, "transit") for u in users]
    batch = [ride(refs[n % 5]) for n in range(500)]
    with DynamoDBCalls() as calls:
        status, body = push(client, stack.transit, batch)
    assert (status, body) == (200, {"accepted": 500, "duplicates": 0, "ignored": 0})
    # 1 replay guard + batched reads (links, consents, accounts, 5 x 100 seen ids) + per user
    # ceil(100 / 48) = 3 transactions and 2 re-reads of the account (+ the catalog, once a minute per
    # container): no call per ride.
    assert calls.operations.count("TransactWriteItems") == 15
    assert calls.operations.count("BatchGetItem") == 3 + 5
    assert len(calls) <= 1 + 1 + 1 + 1 + 5 + 5 * (3 + 2) + 1, calls.operations
    for u in users:
        assert (me(client, u)["points"], me(client, u)["carbon_g"]) == (60, 100 * 80.0)
    assert reconcile_clean(*users)[0]


@pytest.fixture(scope="module")
def base_url(app_module):
    """The app over real HTTP (the local server `make run` uses), for pushes the fakes send themselves."""
    import threading

    from infra.local.devserver import create_server
    from infra.local.dynamodb_local import free_port

    port = free_port()
    server = create_server("127.0.0.1", port, "local")
    threading.Thread(target=server.server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server.server_close()


def test_the_fake_partners_push_to_the_app_over_real_http(client, stack, user, base_url):
    ride_ref = bind(client, stack, user, "transit")
    customer_ref = bind(client, stack, user, "bank")
    rides = [stack.transit.add_ride(ride_ref) for _ in range(2)]
    assert stack.transit.push(base_url, rides) == (200, {"accepted": 2, "duplicates": 0, "ignored": 0})
    assert stack.bank.push(base_url, [stack.bank.add_event(customer_ref)])[1]["accepted"] == 1
    assert stack.transit.push(base_url, rides, secret="forged")[1]["error"]["code"] == "BAD_SIGNATURE"
    assert me(client, user)["points"] == 2 * 10 + 2


def test_an_empty_batch_is_accepted(client, stack):
    assert push(client, stack.bank, []) == (200, {"accepted": 0, "duplicates": 0, "ignored": 0})


def test_a_replay_guard_written_but_unanswered_is_retried_without_refusing_the_delivery(client, stack, user):
    """DynamoDB applied the guard's put but the answer was lost: botocore sends the same put again, and
    that retry must find its own claim, not a replay (the partner would otherwise get a false 401)."""
    import requests as http
    from botocore.exceptions import ConnectionClosedError

    from chalicelib.store.partners import ReplayGuard

    ref = bind(client, stack, user, "bank")
    client_ = ReplayGuard._get_connection().connection.client
    lost = []

    def apply_then_lose(request, **_):
        if lost or b"replay_guards" not in (request.body or b""):
            return None
        http.post(request.url, data=request.body, headers=dict(request.headers), timeout=5)  # applied...
        lost.append(True)
        raise ConnectionClosedError(endpoint_url=request.url)  # ...but the answer never arrives

    client_.meta.events.register_first("before-send.dynamodb.PutItem", apply_then_lose)
    try:
        status, body = push(client, stack.bank, [stack.bank.add_event(ref)])
    finally:
        client_.meta.events.unregister("before-send.dynamodb.PutItem", apply_then_lose)
    assert lost
    assert (status, body["accepted"]) == (200, 1)
