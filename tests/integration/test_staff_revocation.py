"""Removing someone from a merchant's `staff_openids` ends their staff role within the catalog cache's minute,
not when their 2-hour token expires (services/staff.py).

Each test uses merchants of its own (tests/support/market.new_merchant) and reloads them through the console's
loader, which forgets this container's catalog cache as `python -m admin load` does.
"""
from __future__ import annotations

import time
import uuid

import jwt
import pytest

from chalicelib.services import catalog, tokens
from chalicelib.settings import get_settings
from tests.support.api import DynamoDBCalls, call, login, request_id
from tests.support.clock import monotonic_at
from tests.support.market import issued, load_catalog, new_merchant, staff_login, status_of, verify


def staff_of(merchant_id: str, openids: list[str], collection_point: bool = False) -> None:
    """The operator's reload of the merchant with this staff list."""
    load_catalog({"merchants": [{"id": merchant_id, "name": "测试商户", "staff_openids": openids,
                                 "collection_point": collection_point}]})


def roles_of(client, person: dict) -> list[str]:
    status, body = call(client, "GET", "/v1/me", token=person["token"])
    assert status == 200, body
    return body["roles"]


def signed(person: dict, **claims) -> str:
    """A token signed with our own secret: what only a bug of ours, or an old release, could have issued."""
    settings, now = get_settings(), int(time.time())
    body = {"sub": person["id"], "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "iat": now,
            "exp": now + 600, "jti": uuid.uuid4().hex, "roles": ["user", "merchant_staff"], **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not ...}, settings.jwt_secret, algorithm="HS256")


def test_staff_removed_from_the_merchant_cannot_verify_with_their_unexpired_token(client, user):
    merchant_id, (gone, kept) = new_merchant(staff=2)
    leaver, colleague = staff_login(client, gone), staff_login(client, kept)
    redemption = issued(client, user, merchant_id)
    staff_of(merchant_id, [kept])
    status, body = verify(client, leaver, redemption["code"])
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    status, body = call(client, "GET", "/v1/merchant/redemptions", token=leaver["token"])
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    assert status_of(client, user, redemption) == "issued"  # nothing was consumed
    assert roles_of(client, leaver) == ["user"]  # still a user, with the same token
    assert roles_of(client, colleague) == ["user", "merchant_staff"]
    assert verify(client, colleague, redemption["code"])[0] == 200
    assert call(client, "GET", "/v1/merchant/redemptions", token=colleague["token"])[1]["totals"]["count"] == 1


def test_a_removal_loaded_elsewhere_takes_effect_when_this_containers_catalog_cache_expires(
        client, user, monkeypatch):
    merchant_id, (gone, kept) = new_merchant(staff=2)
    leaver = staff_login(client, gone)
    redemption = issued(client, user, merchant_id)
    assert call(client, "GET", "/v1/merchant/redemptions", token=leaver["token"])[0] == 200  # the cache is warm
    stale = dict(catalog._cache)
    staff_of(merchant_id, [kept])  # as `python -m admin load` on the operator's machine: this container ...
    catalog._cache.update(stale)  # ... has not heard of it
    assert call(client, "GET", "/v1/merchant/redemptions", token=leaver["token"])[0] == 200
    later = time.monotonic() + catalog.CACHE_SECONDS + 1
    monotonic_at(monkeypatch, catalog, later)  # this container's catalog cache, not the process's clock
    status, body = verify(client, leaver, redemption["code"])
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    assert status_of(client, user, redemption) == "issued"


def test_staff_moved_to_another_merchant_cannot_verify_the_first_merchants_codes(client, user):
    first, (mover, stayer) = new_merchant(staff=2)
    second, (other,) = new_merchant(staff=1)
    moving, staying = staff_login(client, mover), staff_login(client, stayer)
    theirs, ours = issued(client, user, first), issued(client, user, second)
    load_catalog({"merchants": [{"id": first, "name": "测试商户", "staff_openids": [stayer]},
                                {"id": second, "name": "测试商户二", "staff_openids": [other, mover]}]})
    status, body = verify(client, moving, theirs["code"])  # the old token still says `first`
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    assert status_of(client, user, theirs) == "issued"
    status, body = verify(client, moving, ours["code"])  # nor does it make them staff of `second`
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    relogged = staff_login(client, mover)  # their next login brings the new merchant
    assert jwt.decode(relogged["token"], options={"verify_signature": False})["mid"] == second
    status, body = verify(client, relogged, theirs["code"])
    assert (status, body["error"]["code"]) == (403, "NOT_YOUR_MERCHANT")
    assert verify(client, relogged, ours["code"])[0] == 200
    assert verify(client, staying, theirs["code"])[0] == 200


def test_a_staff_token_without_its_staff_id_or_with_a_forged_one_is_refused(client, user, openid):
    merchant_id, (member,) = new_merchant(staff=1)
    _, (stranger,) = new_merchant(staff=1)
    real, person = staff_login(client, member), login(client, openid + "-p")
    redemption = issued(client, user, merchant_id)
    forged = {
        "missing (issued before staff ids)": signed(person, mid=merchant_id),
        "of someone who is no staff": signed(person, mid=merchant_id, sid=tokens.staff_id(person["openid"])),
        "of another merchant's staff": signed(person, mid=merchant_id, sid=tokens.staff_id(stranger)),
        "random": signed(person, mid=merchant_id, sid="A" * 22),
    }
    for name, token in forged.items():
        status, body = verify(client, {"token": token}, redemption["code"])
        assert (status, body["error"]["code"]) == (403, "FORBIDDEN"), name
        assert roles_of(client, {"token": token}) == ["user"], name
    malformed = {
        "too short": signed(person, mid=merchant_id, sid="A" * 21),
        "not base64url": signed(person, mid=merchant_id, sid="A" * 21 + "+"),
        "a trailing newline": signed(person, mid=merchant_id, sid="A" * 22 + "\n"),
        "not a string": signed(person, mid=merchant_id, sid=12345),
        "on a user's token": signed(person, roles=["user"], mid=None, sid=tokens.staff_id(member)),
    }
    for name, token in malformed.items():
        status, body = verify(client, {"token": token}, redemption["code"])
        assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED"), name
    assert status_of(client, user, redemption) == "issued"
    assert verify(client, real, redemption["code"])[0] == 200


def test_a_staff_token_names_its_staff_member_without_showing_the_openid(client, openid):
    merchant_id, (member,) = new_merchant(staff=1)
    staff_claims = jwt.decode(staff_login(client, member)["token"], options={"verify_signature": False})
    assert (staff_claims["mid"], staff_claims["sid"]) == (merchant_id, tokens.staff_id(member))
    assert len(staff_claims["sid"]) == 22 and member not in str(staff_claims)
    user_claims = jwt.decode(login(client, openid)["token"], options={"verify_signature": False})
    assert "sid" not in user_claims and user_claims["mid"] is None


def test_collection_point_staff_removed_from_the_catalog_cannot_credit(client, user):
    merchant_id, (gone, kept) = new_merchant(staff=2, collection_point=True)
    leaver, colleague = staff_login(client, gone), staff_login(client, kept)
    staff_of(merchant_id, [kept], collection_point=True)
    code = call(client, "GET", "/v1/me/member-code", token=user["token"])[1]["member_code"]
    body = {"request_id": request_id(), "member_code": code, "behavior": "old_clothes", "quantity": 2.5}
    status, answer = call(client, "POST", "/v1/operator/credit", body, token=leaver["token"])
    assert (status, answer["error"]["code"]) == (403, "FORBIDDEN")
    assert call(client, "GET", "/v1/me", token=user["token"])[1]["points"] == 0
    status, answer = call(client, "POST", "/v1/operator/credit", {**body, "request_id": request_id()},
                          token=colleague["token"])
    assert status == 201, answer  # the member code was not spent


@pytest.mark.parametrize("warm", [True, False], ids=["warm-catalog", "cold-catalog"])
def test_the_staff_check_costs_no_dynamodb_call_but_the_catalogs_once_a_minute(client, user, warm):
    merchant_id, (gone, kept) = new_merchant(staff=2)
    colleague = staff_login(client, kept)
    redemption = issued(client, user, merchant_id)
    staff_of(merchant_id, [kept])  # forgets the cache, as a load does
    if warm:
        assert call(client, "GET", "/v1/merchant/redemptions", token=colleague["token"])[0] == 200
        catalog.risk_settings()  # the policy partition (rule 5's thresholds), cached alike
    with DynamoDBCalls() as calls:
        assert verify(client, colleague, redemption["code"])[0] == 200
    expected = ["GetItem", "TransactWriteItems"]  # as before staff were re-checked (test_merchant.py)
    # cold: the staff partition, the code's pointer, the policy partition (rule 5's thresholds), the transaction
    assert calls.operations == (expected if warm else ["Query", "GetItem", "Query", "TransactWriteItems"])
