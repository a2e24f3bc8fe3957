"""Rule 5's memory raced: eight fresh accounts' codes of one goods verified at one counter at the same moment, from
eight processes against DynamoDB Local. Every hand-over succeeds once, every account of the ring (and the clerk)
goes under review with one reason, and the memory keeps each redemption once."""
from __future__ import annotations

import uuid

from chalicelib.domain.guards_risk import ring_key
from chalicelib.store import risk_memory
from chalicelib.store.models import Account
from tests.support.api import login
from tests.support.market import give_points, new_goods, new_merchant, redeem, staff_login
from tests.support.racer import race
from tests.support.reconcile import reconciled


def verify(staff_id: str, merchant_id: str, code: str) -> tuple[int, str]:
    """One verification through the use case, as the route calls it; (status, error code or "")."""
    from chalicelib import bootstrap
    from chalicelib.domain.commands_market import VerifyCode
    from chalicelib.errors import AppError
    from chalicelib.services import verification

    try:
        verification.verify_code(VerifyCode(staff_id, merchant_id, code, "default"), bootstrap.scans(),
                                 bootstrap.posting_uow)
    except AppError as exc:
        return exc.status, exc.code
    return 200, ""


def test_eight_verifications_racing_for_one_rings_memory_flag_each_account_once(client):
    merchant_id, (openid,) = new_merchant(1)
    clerk = staff_login(client, openid)
    goods = new_goods(merchant_id, stock=20, per_user_limit=5)
    people = [login(client, "o-" + uuid.uuid4().hex[:16]) for _ in range(8)]
    codes = []
    for person in people:
        give_points(person, 30)
        status, body = redeem(client, person, goods["id"])
        assert status == 201, body
        codes.append(body["redemption"]["code"])
    outcomes = race(verify, [(clerk["id"], merchant_id, code) for code in codes])
    assert [o for o in outcomes if o != ("ok", (200, ""))] == []
    for person in [*people, clerk]:
        rules = Account.get(person["id"], consistent_read=True).review_rules or []
        assert [r["rule"] for r in rules] == ["redemption_ring"], person["id"]
    kept, rev = risk_memory.ring_entries(ring_key("default", goods["id"], clerk["id"]))
    assert sorted(e.user_id for e in kept) == sorted(p["id"] for p in people) and all(e.flagged for e in kept)
    assert rev >= 8
    assert reconciled(*people, clerk)["clean"]
