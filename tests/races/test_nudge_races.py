"""Nudges under races: eight processes running the same job at the same moment send one message per subject
(the marker's claim, store/nudge_sends.py), and consume one allowance."""
from __future__ import annotations

import uuid

from tests.integration.test_nudges import accept, allowances, coupon, noon, to
from tests.support.api import login
from tests.support.racer import race, send_nudges


def test_eight_processes_running_the_job_at_once_send_one_message(client, stack):
    user = login(client, "o-" + uuid.uuid4().hex[:16])
    for _ in range(3):
        assert accept(client, user, ["coupon_expiring"])[0] == 200
    coupon(client, user)
    outcomes = race(send_nudges, [(noon().isoformat(), "coupon_expiring")] * 8)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    assert len(to(stack, user["openid"])) == 1
    assert allowances(client, user)["allowances"]["coupon_expiring"] == 2
    assert sum(result["sent"] for _, result in outcomes) >= 1


def test_eight_processes_sending_the_same_receipt_send_it_once(client, stack):
    """Receipts have no daily limit: only the subject's marker stands between the racers and a second message."""
    from tests.support.market import give_points, new_goods, new_merchant, redeem, staff_login, verify

    user = login(client, "o-" + uuid.uuid4().hex[:16])
    for _ in range(3):
        assert accept(client, user, ["redemption_used"])[0] == 200
    merchant_id, (staff_openid,) = new_merchant()
    give_points(user, 30)
    status, body = redeem(client, user, new_goods(merchant_id)["id"])
    assert status == 201, body
    assert verify(client, staff_login(client, staff_openid), body["redemption"]["code"])[0] == 200
    outcomes = race(send_nudges, [(noon().isoformat(), "redemption_used")] * 8)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    assert len(to(stack, user["openid"])) == 1
    assert allowances(client, user)["allowances"]["redemption_used"] == 2
