"""Retries that do not amplify load (issue 19 item 7), with DynamoDB's own error replies.

The app runs as a real server in its own process, talking to DynamoDB Local through the fault proxy
(tests/support/faultproxy.py), which answers chosen requests as DynamoDB does when it throttles or cancels a
transaction: botocore parses and retries those replies as it would AWS's. A lost race is retried after a
growing pause; a throttled write is tried once more, then 503; a reason no retry changes is a 500 at once.
"""
from __future__ import annotations

import json
import uuid

import pytest
import requests

from admin.__main__ import main as admin
from chalicelib.store import failures
from chalicelib.store.models import DB_RETRIES, Account, LedgerEntry
from tests.support.faultproxy import FaultProxy, Faults, api_through, dynamodb_error

BEHAVIOR = {"code": "retry_test_plate", "name": "重试测试", "category": "test", "unit": "event",
            "carbon": {"mg": 1000, "per": 1}, "points": {"points": 1, "per": 1}, "daily_limit": 500,
            "channels": ["checkin"], "methodology": {"id": "TEST-retry", "version": "1", "source": "test"}}
ORG = {"id": f"o-retry-{uuid.uuid4().hex[:8]}", "name": "重试测试组织", "type": "group",
       "invite_code": f"INV-{uuid.uuid4().hex[:8]}"}
TX = "TransactWriteItems"
CALLS_PER_TRY = 1 + DB_RETRIES  # botocore's own tries of one request


@pytest.fixture(scope="module")
def proxied(stack, tmp_path_factory):
    catalog = tmp_path_factory.mktemp("catalog") / "retry.json"
    catalog.write_text(json.dumps({"behaviors": [BEHAVIOR], "orgs": [ORG]}, ensure_ascii=False), encoding="utf-8")
    assert admin(["load", str(catalog)]) == 0  # before the server starts: it caches the catalog for 60 s
    proxy = FaultProxy(stack.dynamodb.port, Faults()).start()
    with api_through(proxy) as base:
        yield base, proxy
    proxy.stop()


@pytest.fixture
def person(proxied):
    base, proxy = proxied
    proxy.answer = None
    response = requests.post(base + "/v1/auth/login", timeout=20,
                             json={"code": f"wx:o-retry-{uuid.uuid4().hex[:10]}:{uuid.uuid4().hex}"})
    assert response.status_code == 200, response.text
    yield response.json()["user"]["id"], {"Authorization": f"Bearer {response.json()['token']}"}
    proxy.answer = None


def _checkin(base: str, headers: dict, request_id: str | None = None) -> requests.Response:
    body = {"request_id": request_id or f"retry_{uuid.uuid4().hex[:12]}", "behavior": BEHAVIOR["code"]}
    return requests.post(base + "/v1/checkins", json=body, headers=headers, timeout=90)


def _transactions(proxy: FaultProxy, since: int) -> list[float]:
    return [at for at, operation in proxy.seen[since:] if operation == TX]


def _nothing_written(user_id: str) -> None:
    account = Account.get(user_id, consistent_read=True)
    assert (account.points, account.version) == (0, 0)
    assert list(LedgerEntry.query(user_id)) == []


def test_a_throttled_checkin_is_tried_once_more_then_a_503_and_a_retry_later_applies_once(proxied, person):
    base, proxy = proxied
    user_id, headers = person
    proxy.answer = lambda operation, _: dynamodb_error("ProvisionedThroughputExceededException") if operation == TX \
        else None
    since, request_id = len(proxy.seen), f"retry_{uuid.uuid4().hex[:12]}"
    response = _checkin(base, headers, request_id)
    assert (response.status_code, response.json()["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    # Before issue 19: throttling was a lost race, 12 tries of botocore's 3 calls (36 throttled writes).
    assert len(_transactions(proxy, since)) == failures.THROTTLED_ATTEMPTS * CALLS_PER_TRY
    _nothing_written(user_id)
    proxy.answer = None
    assert _checkin(base, headers, request_id).status_code == 201
    assert len(list(LedgerEntry.query(user_id))) == 1


@pytest.mark.parametrize("reason", ["ValidationError", "ItemCollectionSizeLimitExceeded"])
def test_a_transaction_cancelled_for_a_reason_no_retry_changes_is_a_500_at_once(proxied, person, reason):
    base, proxy = proxied
    user_id, headers = person
    proxy.answer = lambda operation, _: dynamodb_error(
        "TransactionCanceledException", reasons=["None", reason, "None", "None"]) if operation == TX else None
    since = len(proxy.seen)
    response = _checkin(base, headers)
    assert (response.status_code, response.json()["error"]["code"]) == (500, "INTERNAL_ERROR")
    assert len(_transactions(proxy, since)) == 1  # before: retried 12 times as a race, then 503
    _nothing_written(user_id)


def test_a_lost_race_is_retried_after_growing_pauses_and_applies_once(proxied, person):
    base, proxy = proxied
    user_id, headers = person
    conflicts = [3]

    def answer(operation: str, _: bytes) -> bytes | None:
        if operation == TX and conflicts[0]:
            conflicts[0] -= 1
            return dynamodb_error("TransactionCanceledException", reasons=["None", "None", "TransactionConflict",
                                                                              "None"])
        return None

    proxy.answer = answer
    since = len(proxy.seen)
    response = _checkin(base, headers)
    assert response.status_code == 201, response.text
    tries = _transactions(proxy, since)
    assert len(tries) == 4  # a cancelled transaction is not retried by botocore: each try is ours
    first = failures.CONFLICT_PAUSE[0]
    for attempt, (before, after) in enumerate(zip(tries, tries[1:], strict=False)):
        assert after - before >= first * 2 ** attempt / 2  # at least half of a doubling ceiling
    assert len(list(LedgerEntry.query(user_id))) == 1


def _join(base: str, headers: dict) -> requests.Response:
    return requests.post(f"{base}/v1/orgs/{ORG['id']}/join", json={"invite_code": ORG["invite_code"]},
                         headers=headers, timeout=90)


def test_joins_conflicting_on_the_shared_member_count_back_off_before_each_retry(proxied, person):
    base, proxy = proxied
    user_id, headers = person
    proxy.answer = lambda operation, _: dynamodb_error(
        "TransactionCanceledException", reasons=["None", "TransactionConflict", "None"]) if operation == TX else None
    since = len(proxy.seen)
    response = _join(base, headers)
    assert (response.status_code, response.json()["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    tries = _transactions(proxy, since)
    assert len(tries) == 5
    first = failures.CONFLICT_PAUSE[0]
    waited = tries[-1] - tries[0]
    assert waited >= sum(first * 2 ** attempt / 2 for attempt in range(4))  # before: retried at once, 5 times
    assert not Account.get(user_id, consistent_read=True).orgs
    proxy.answer = None
    assert _join(base, headers).status_code == 200


def test_a_throttled_join_is_a_503_without_retries_of_ours(proxied, person):
    base, proxy = proxied
    user_id, headers = person
    proxy.answer = lambda operation, _: dynamodb_error("ThrottlingException") if operation == TX else None
    since = len(proxy.seen)
    response = _join(base, headers)
    assert (response.status_code, response.json()["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert len(_transactions(proxy, since)) == CALLS_PER_TRY  # botocore's own tries; before: 5 x 3
    assert not Account.get(user_id, consistent_read=True).orgs
