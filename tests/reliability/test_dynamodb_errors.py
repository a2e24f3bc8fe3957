"""What DynamoDB Local cannot produce: transaction conflicts and throttling are retried or answered 503,
never a 500 and never a half-applied write."""
from __future__ import annotations

import pytest
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

from chalicelib.store.models import Account, LedgerEntry
from tests.support.api import call, request_id
from tests.support.ddbfaults import dropping, error, failing


# a check-in without a photo (the demo catalog's clean_plate takes one): its GetItem and TransactWriteItems
def _checkin(client, user, rid=None):
    return call(client, "POST", "/v1/checkins", {"request_id": rid or request_id(), "behavior": "no_cutlery"},
                token=user["token"])


def test_transaction_conflicts_are_retried_and_apply_once(client, user):
    conflict = error("TransactionCanceledException", reasons=["None", "TransactionConflict", "None", "None"])
    with failing("TransactWriteItems", [conflict, error("TransactionConflictException")]) as answered:
        status, body = _checkin(client, user)
    assert answered[0] == 2
    assert status == 201 and body["points"] == 2  # no_cutlery: 2 points
    assert len(list(LedgerEntry.query(user["id"]))) == 1


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException",
                                  "RequestLimitExceeded", "InternalServerError"])
def test_persistent_throttling_of_the_write_is_a_clean_503_and_changes_nothing(client, user, code):
    with failing("TransactWriteItems", [error(code)] * 50):
        status, body = _checkin(client, user)
    assert (status, body["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    account = Account.get(user["id"], consistent_read=True)
    assert (account.points, account.version) == (0, 0)
    assert list(LedgerEntry.query(user["id"])) == []
    assert _checkin(client, user)[0] == 201  # and the service recovers once DynamoDB does


@pytest.mark.parametrize("operation, method, path", [
    ("GetItem", "GET", "/v1/me"),
    ("Query", "GET", "/v1/me/ledger"),
    ("GetItem", "POST", "/v1/checkins"),
])
def test_throttled_reads_are_a_clean_503(client, user, operation, method, path):
    body = {"request_id": request_id(), "behavior": "no_cutlery"} if method == "POST" else None
    with failing(operation, [error("ProvisionedThroughputExceededException")] * 50):
        status, answer = call(client, method, path, body, token=user["token"])
    assert (status, answer["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")


@pytest.mark.parametrize("make_error", [lambda: ConnectionClosedError(endpoint_url="http://dynamodb"),
                                        lambda: ReadTimeoutError(endpoint_url="http://dynamodb")],
                         ids=["connection-closed", "read-timeout"])
@pytest.mark.parametrize("operation, method, path, body", [
    ("TransactWriteItems", "POST", "/v1/checkins", {"behavior": "no_cutlery"}),
    ("UpdateItem", "PATCH", "/v1/me", {"nickname": "断线测试"}),
    ("GetItem", "GET", "/v1/me", None),
])
def test_a_connection_lost_on_every_try_is_a_clean_503_not_a_500(client, user, make_error, operation, method, path,
                                                                   body):
    """botocore's connection errors carry no DynamoDB response (PynamoDB 6.1 crashed reading its code)."""
    body = {**body, "request_id": request_id()} if method == "POST" else body
    with dropping(operation, make_error()) as dropped:
        status, answer = call(client, method, path, body, token=user["token"])
    assert dropped[0] >= 1
    assert (status, answer["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert call(client, method, path, body, token=user["token"])[0] in (200, 201)  # and a retry goes through
