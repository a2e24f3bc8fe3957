"""Forged cursors and forged or replayed partner deliveries are refused with the contract's 4xx, never a 500.

Forged tokens are a column of the authorization matrix (test_authorization_matrix.py); the webhook basics
(bad signature, tampered body, missing headers, replayed nonce, stale timestamp, replayed bank signature)
are in tests/integration/test_webhooks.py. This adds what crosses routes and partners.
"""
from __future__ import annotations

import base64
import json
import time

import pytest

from tests.support.api import call, request_id
from tests.support.market import give_points, new_goods, new_merchant, redeem, staff_login
from tests.support.partners import bind, now, push

PAGED = ["/v1/me/ledger", "/v1/me/redemptions", "/v1/me/trees", "/v1/merchant/redemptions", "/v1/market/goods"]


def _flip(cursor: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-1] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


def _forged_cursors(real: str) -> dict[str, str]:
    fake_key = json.dumps({"user_id": {"S": "u_someone_else"}}).encode()
    return {"flipped": _flip(real), "unsigned-key": base64.urlsafe_b64encode(b"\0" * 16 + fake_key).decode(),
            "not-base64": "!!!not base64!!!", "huge": "A" * 5000, "empty-mac": "AA", "unicode": "游标"}


@pytest.fixture
def staff(client):
    """Staff of a merchant of this test's own (failed scans count against a staff member's window)."""
    return staff_login(client, new_merchant()[1][0])


@pytest.mark.parametrize("path", PAGED)
def test_forged_cursors_are_400_on_every_paged_list(client, user, staff, path):
    give_points(user, 100)
    for _ in range(2):
        call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "clean_plate"},
             token=user["token"])
    status, page = call(client, "GET", "/v1/me/ledger?limit=1", token=user["token"])
    real = page["next_cursor"]
    token = staff["token"] if "merchant" in path else user["token"]
    forged = {**_forged_cursors(real), "another-list": real} if path != "/v1/me/ledger" else _forged_cursors(real)
    for name, cursor in forged.items():
        status, body = call(client, "GET", f"{path}?limit=1&cursor={cursor}", token=token)
        assert (status, body["error"]["code"]) == (400, "INVALID_CURSOR"), (name, body)


def _ride(ref: str) -> dict:
    return {"ride_id": f"r_{time.time_ns()}", "user_ref": ref, "mode": "bus", "line": "12",
            "boarded_at": now().replace(microsecond=0).isoformat(), "alighted_at": now().isoformat(),
            "distance_m": 6400, "fare_cents": 200}


def test_a_delivery_signed_for_one_partner_is_refused_by_the_other(client, stack, user):
    ref = bind(client, stack, user, "transit")
    path, headers, body = stack.transit.webhook_request([_ride(ref)])
    status, answer = call(client, "POST", "/v1/webhooks/bank", body, headers=headers)
    assert (status, answer["error"]["code"]) == (401, "BAD_SIGNATURE")
    path, headers, body = stack.bank.webhook_request([])
    status, answer = call(client, "POST", "/v1/webhooks/transit", body, headers=headers)
    assert (status, answer["error"]["code"]) == (401, "BAD_SIGNATURE")


def test_a_signed_delivery_with_its_body_reformatted_or_its_query_changed_is_refused(client, stack, user):
    ref = bind(client, stack, user, "transit")
    path, headers, body = stack.transit.webhook_request([_ride(ref)])
    reformatted = json.dumps(json.loads(body), indent=1).encode()
    assert call(client, "POST", path, reformatted, headers=headers)[1]["error"]["code"] == "BAD_SIGNATURE"
    assert call(client, "POST", path + "?extra=1", body, headers=headers)[1]["error"]["code"] == "BAD_SIGNATURE"
    status, answer = call(client, "POST", path, body, headers=headers)  # the untouched delivery still counts once
    assert (status, answer["accepted"]) == (200, 1)
    status, answer = call(client, "POST", path, body, headers=headers)
    assert (status, answer["error"]["code"]) == (401, "REPLAYED")


def test_a_replayed_bank_delivery_with_a_fresh_timestamp_but_the_old_signature_is_refused(client, stack, user):
    bind(client, stack, user, "bank")
    path, headers, body = stack.bank.webhook_request([])
    headers = {**headers, "X-Bank-Timestamp": str(int(headers["X-Bank-Timestamp"]) + 1)}
    status, answer = call(client, "POST", path, body, headers=headers)
    assert (status, answer["error"]["code"]) == (401, "BAD_SIGNATURE")


def test_a_code_of_another_merchant_cannot_be_verified_by_guessing_its_shape(client, user, staff):
    give_points(user, 100)
    goods = new_goods(merchant_id="m-bookshop", points_price=10)
    code = redeem(client, user, goods["id"])[1]["redemption"]["code"]
    forged = code[:-1] + ("A" if code[-1] != "A" else "B")
    for attempt in (forged, code):
        status, body = call(client, "POST", "/v1/merchant/verify", {"code": attempt}, token=staff["token"])
        assert status in (403, 404), body
        assert body["error"]["code"] in ("CODE_NOT_FOUND", "NOT_YOUR_MERCHANT")


def test_a_pushed_ride_for_someone_who_never_consented_counts_nothing(client, stack, user):
    status, answer = push(client, stack.transit, [_ride("rider-that-is-not-bound")])
    assert (status, answer["accepted"], answer["ignored"]) == (200, 0, 1)
    assert call(client, "GET", "/v1/me", token=user["token"])[1]["points"] == 0
