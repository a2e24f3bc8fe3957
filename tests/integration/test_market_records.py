"""A cancel remembered before cancel_redemption existed: the record holds the (status, body) answered
(format none); after the deploy a retried cancel answers exactly that, against DynamoDB Local."""
from __future__ import annotations

from chalicelib.services.redemptions import CANCEL_ROUTE
from chalicelib.store.idempotency import IdempotencyKey
from chalicelib.store.models import IdempotencyRecord
from tests.support.api import call
from tests.support.market import balance, give_points, new_goods, redeem


def cancel(client, user, redemption_id):
    return call(client, "POST", f"/v1/me/redemptions/{redemption_id}/cancel", token=user["token"])


def test_a_cancel_remembered_as_an_http_answer_replays_it_and_refunds_once(client, user):
    give_points(user, 100)
    redemption = redeem(client, user, new_goods()["id"])[1]["redemption"]
    status, first = cancel(client, user, redemption["id"])
    assert status == 200, first
    key = IdempotencyKey(user["id"], f"cancel:{redemption['id']}", CANCEL_ROUTE, {"redemption_id": redemption["id"]})
    stored = IdempotencyRecord.get(key.key, consistent_read=True)
    assert stored.format == "cancel/1"
    IdempotencyRecord(**key.values(200, first)).save()  # what the code before this change wrote
    assert IdempotencyRecord.get(key.key, consistent_read=True).format is None
    assert cancel(client, user, redemption["id"]) == (200, first)
    refunds = call(client, "GET", "/v1/me/ledger?kind=refund", token=user["token"])[1]["items"]
    assert len(refunds) == 1 and balance(client, user) == 100
