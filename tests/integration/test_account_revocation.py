"""A token outlives nothing that ends its account: within a minute of DELETE /v1/me (or the console's delete)
every authenticated route refuses the deleted account's token (401), and staff routes refuse a frozen staff
account (403 ACCOUNT_FROZEN), at no DynamoDB call on a warm request (services/revocations.py).

A container learns of a deletion or a freeze made elsewhere when its revocation cache (a minute) runs out: the
tests that show it keep this container's cache as it was before the change, as another container's would be,
then move the revocations cache's `time.monotonic` past the minute, as test_staff_revocation.py does for the catalog.
"""
from __future__ import annotations

import time

import jwt
import pytest

from admin.__main__ import main as admin
from chalicelib.services import revocations
from chalicelib.settings import get_settings
from chalicelib.store.revocations import Revocation
from tests.support.api import DynamoDBCalls, call, login, request_id
from tests.support.clock import monotonic_at
from tests.support.market import issued, new_merchant, staff_login, status_of, verify

CONFIRM = {"confirm": "DELETE"}
READS = ["/v1/me", "/v1/me/ledger", "/v1/me/summary", "/v1/me/redemptions", "/v1/me/trees", "/v1/partners",
         "/v1/leaderboards/users", "/v1/me/export", "/v1/me/member-code"]


def member_code(client, user) -> str:
    status, body = call(client, "GET", "/v1/me/member-code", token=user["token"])
    assert status == 200, body
    return body["member_code"]


def credit(client, staff, code: str):
    body = {"request_id": request_id(), "member_code": code, "behavior": "old_clothes", "quantity": 2.5}
    return call(client, "POST", "/v1/operator/credit", body, token=staff["token"])


def points(client, user) -> int:
    return call(client, "GET", "/v1/me", token=user["token"])[1]["points"]


def a_minute_later(monkeypatch) -> None:
    """A minute after this container's last load of the revocations (which an earlier test's clock may have
    put ahead of the real one)."""
    loaded = max([hit[0] for hit in revocations._cache.values()], default=0.0)
    later = max(time.monotonic(), loaded) + revocations.CACHE_SECONDS + 1
    monotonic_at(monkeypatch, revocations, later)  # this container's revocations cache, not the process's clock


def refused(answer: tuple[int, dict], status: int, code: str) -> bool:
    return (answer[0], (answer[1] or {}).get("error", {}).get("code")) == (status, code)


# --- item 5: a deleted account's token ------------------------------------------------------------------


def test_a_deleted_accounts_token_is_refused_on_every_route_at_once_in_the_deleting_container(client, user):
    other = login(client, user["openid"] + "-other")
    assert all(call(client, "GET", path, token=user["token"])[0] == 200 for path in READS)
    assert call(client, "DELETE", "/v1/me", CONFIRM, token=user["token"]) == (200, {"deleted": True})
    for path in READS:
        assert refused(call(client, "GET", path, token=user["token"]), 401, "UNAUTHENTICATED"), path
    answer = call(client, "GET", "/v1/me/ledger", token=user["token"])[1]
    assert answer["error"]["message"] == "该账号已注销，请重新登录"
    writes = [("POST", "/v1/checkins", {"request_id": request_id(), "behavior": "clean_plate"}),
              ("PATCH", "/v1/me", {"nickname": "又回来了"}),
              ("POST", "/v1/partners/transit/sync", {}),
              ("POST", "/v1/orgs/o-jiangyang-runners/join", {"invite_code": "JY-RUN-2026"})]
    for method, path, body in writes:
        assert refused(call(client, method, path, body, token=user["token"]), 401, "UNAUTHENTICATED"), path
    assert call(client, "DELETE", "/v1/me", CONFIRM, token=user["token"]) == (200, {"deleted": True})  # a retry
    assert all(call(client, "GET", path, token=other["token"])[0] == 200 for path in READS)  # nobody else


def test_a_deletion_made_in_another_container_is_refused_here_within_the_minute(client, user, monkeypatch):
    assert call(client, "GET", "/v1/me/ledger", token=user["token"])[0] == 200  # this container's cache is warm
    stale = dict(revocations._cache)
    assert admin(["user", "delete", user["id"], "--reason", "test: another channel", "--yes"]) == 0
    revocations._cache.update(stale)  # as a container that has not heard of it
    assert call(client, "GET", "/v1/me/ledger", token=user["token"])[0] == 200  # for at most the minute
    a_minute_later(monkeypatch)
    for path in READS:
        assert refused(call(client, "GET", path, token=user["token"]), 401, "UNAUTHENTICATED"), path


def test_a_deletion_is_remembered_for_the_token_lifetime_only(client, user):
    """One small item per deletion, gone (TTL) once every token issued before it has expired."""
    exp = jwt.decode(user["token"], options={"verify_signature": False})["exp"]
    assert call(client, "DELETE", "/v1/me", CONFIRM, token=user["token"])[0] == 200
    (item,) = [i for i in Revocation.query(revocations.shard_of(user["id"])) if i.user_id == user["id"]]
    assert item.kind == "deleted"
    expires = int(item.expires_at.timestamp())
    assert exp <= expires <= time.time() + get_settings().jwt_ttl_seconds + revocations.MARGIN_SECONDS + 5


def test_the_revocation_check_costs_no_dynamodb_call_but_its_partitions_once_a_minute(client, user, monkeypatch):
    assert call(client, "GET", "/v1/me/ledger", token=user["token"])[0] == 200
    with DynamoDBCalls() as calls:
        assert call(client, "GET", "/v1/me/ledger", token=user["token"])[0] == 200
    assert calls.operations == ["Query"]  # the ledger page (test_ledger.py), nothing for the check
    a_minute_later(monkeypatch)
    with DynamoDBCalls() as calls:
        assert call(client, "GET", "/v1/me/ledger", token=user["token"])[0] == 200
    assert calls.operations == ["Query"] * revocations.SHARDS + ["Query"]


# --- item 4: a frozen or deleted staff account ----------------------------------------------------------


def test_a_frozen_staff_account_cannot_credit_verify_or_list(client, user):
    merchant_id, (staff_openid,) = new_merchant(staff=1, collection_point=True)
    staff = staff_login(client, staff_openid)
    redemption = issued(client, user, merchant_id)
    assert admin(["user", "freeze", staff["id"], "--reason", "test: insider fraud"]) == 0
    assert refused(credit(client, staff, member_code(client, user)), 403, "ACCOUNT_FROZEN")
    assert points(client, user) == 0
    assert refused(verify(client, staff, redemption["code"]), 403, "ACCOUNT_FROZEN")
    assert status_of(client, user, redemption) == "issued"
    assert refused(call(client, "GET", "/v1/merchant/redemptions", token=staff["token"]), 403, "ACCOUNT_FROZEN")
    assert call(client, "GET", "/v1/me", token=staff["token"])[1]["frozen"] is True  # still reads as a user
    relogged = staff_login(client, staff_openid)  # a fresh token is no way around it
    assert refused(verify(client, relogged, redemption["code"]), 403, "ACCOUNT_FROZEN")
    assert admin(["user", "unfreeze", staff["id"]]) == 0
    assert verify(client, staff, redemption["code"])[0] == 200
    assert credit(client, relogged, member_code(client, user))[0] == 201


def test_a_freeze_made_elsewhere_reaches_the_staff_routes_within_the_minute(client, user, monkeypatch):
    merchant_id, (staff_openid,) = new_merchant(staff=1, collection_point=True)
    staff = staff_login(client, staff_openid)
    redemption = issued(client, user, merchant_id)
    assert call(client, "GET", "/v1/merchant/redemptions", token=staff["token"])[0] == 200  # warm caches
    stale = dict(revocations._cache)
    assert admin(["user", "freeze", staff["id"], "--reason", "test: insider fraud"]) == 0
    revocations._cache.update(stale)
    assert call(client, "GET", "/v1/merchant/redemptions", token=staff["token"])[0] == 200  # for at most the minute
    a_minute_later(monkeypatch)
    assert refused(credit(client, staff, member_code(client, user)), 403, "ACCOUNT_FROZEN")
    assert refused(verify(client, staff, redemption["code"]), 403, "ACCOUNT_FROZEN")
    assert points(client, user) == 0 and status_of(client, user, redemption) == "issued"


def test_a_frozen_staff_members_login_keeps_the_freeze_known_as_long_as_the_new_token(client):
    _, (staff_openid,) = new_merchant(staff=1, collection_point=True)
    staff = staff_login(client, staff_openid)
    assert admin(["user", "freeze", staff["id"], "--reason", "test: insider fraud"]) == 0
    relogged = staff_login(client, staff_openid)
    exp = jwt.decode(relogged["token"], options={"verify_signature": False})["exp"]
    (item,) = [i for i in Revocation.query(revocations.shard_of(staff["id"])) if i.user_id == staff["id"]]
    assert item.kind == "frozen" and int(item.expires_at.timestamp()) >= exp
    assert admin(["user", "unfreeze", staff["id"]]) == 0
    assert [i for i in Revocation.query(revocations.shard_of(staff["id"])) if i.user_id == staff["id"]] == []


def test_a_deleted_staff_account_cannot_verify_credit_or_list(client, user, monkeypatch):
    merchant_id, (staff_openid,) = new_merchant(staff=1, collection_point=True)
    staff = staff_login(client, staff_openid)
    redemption = issued(client, user, merchant_id)
    assert call(client, "GET", "/v1/merchant/redemptions", token=staff["token"])[0] == 200
    stale = dict(revocations._cache)
    assert call(client, "DELETE", "/v1/me", CONFIRM, token=staff["token"]) == (200, {"deleted": True})
    revocations._cache.update(stale)  # the scan reaches another container ...
    a_minute_later(monkeypatch)  # ... whose minute has run out
    assert refused(verify(client, staff, redemption["code"]), 401, "UNAUTHENTICATED")
    assert status_of(client, user, redemption) == "issued"
    assert refused(call(client, "GET", "/v1/merchant/redemptions", token=staff["token"]), 401, "UNAUTHENTICATED")
    assert refused(credit(client, staff, member_code(client, user)), 401, "UNAUTHENTICATED")
    assert points(client, user) == 0  # the starting balance went on the redemption; nothing was credited


@pytest.mark.parametrize("command", ["freeze", "unfreeze"])
def test_a_deleted_account_stays_frozen_and_refused(client, user, command):
    assert call(client, "DELETE", "/v1/me", CONFIRM, token=user["token"])[0] == 200
    assert admin(["user", command, user["id"], "--reason", "test"]) == 1
    assert refused(call(client, "GET", "/v1/me/ledger", token=user["token"]), 401, "UNAUTHENTICATED")
