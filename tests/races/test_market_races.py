"""The marketplace under races: several processes released together against DynamoDB Local.

Overselling, double spending and a code used twice are what these prove impossible.
"""
from __future__ import annotations

from collections import Counter

from chalicelib.store.market import Redemption
from chalicelib.store.models import LedgerEntry
from tests.support.api import call, login, request_id
from tests.support.market import (
    balance,
    give_points,
    new_goods,
    new_merchant,
    race_credit,
    race_redeem,
    race_redeem_many,
    race_scan_or_cancel,
    race_verify,
    redeem,
    staff_login,
    stock_left,
    stock_shards,
)
from tests.support.racer import race
from tests.support.reconcile import reconciled


def test_twelve_users_racing_for_five_in_stock_get_exactly_five_codes(client, openid):
    goods = new_goods(stock=5, per_user_limit=1)
    users = [login(client, f"{openid}-{n}") for n in range(12)]
    for person in users:
        give_points(person, 100)
    outcomes = race(race_redeem, [(u["id"], goods["id"], {"request_id": request_id()}) for u in users])
    results = [result for kind, result in outcomes if kind == "ok"]
    assert len(results) == 12, outcomes
    winners = [rid for status, rid in results if status == 201]
    assert len(winners) == 5 and len(set(winners)) == 5
    assert Counter(results)[(409, "OUT_OF_STOCK")] == 7
    assert stock_left(goods["id"]) == 0
    codes = {Redemption.get(rid, consistent_read=True).code for rid in winners}
    assert len(codes) == 5
    assert sorted(balance(client, u) for u in users) == [70] * 5 + [100] * 7
    assert reconciled(*users)["clean"]


def test_a_flash_sale_of_twelve_processes_on_eight_stock_shards_sells_exactly_the_stock(client, openid):
    """Issue 19 item 4: 12 processes (containers) tap "redeem" four times each on one goods of 20 units split
    over 8 stock shards (3,3,3,3,2,2,2,2): exactly 20 codes, each unit from the shard its redemption records."""
    goods = new_goods(stock=20, stock_shards=8, per_user_limit=None)
    users = [login(client, f"{openid}-{n}") for n in range(12)]
    for person in users:
        give_points(person, 120)
    outcomes = race(race_redeem_many, [(u["id"], goods["id"], 4) for u in users])
    assert [kind for kind, _ in outcomes] == ["ok"] * 12, outcomes
    results = [result for _, many in outcomes for result in many]
    winners = [rid for status, rid in results if status == 201]
    assert len(winners) == 20 and len(set(winners)) == 20, Counter(status for status, _ in results)
    assert Counter(results)[(409, "OUT_OF_STOCK")] == 28, results
    shards = stock_shards(goods["id"], 8)
    assert [left for left, _ in shards.values()] == [0] * 8 and sum(total for _, total in shards.values()) == 20
    sold = [Redemption.get(rid, consistent_read=True) for rid in winners]
    from_shard = Counter(int(r.stock_shard) for r in sold)
    assert {shard: total for shard, (_, total) in shards.items()} == dict(from_shard)  # sold per shard == codes
    assert {r.status for r in sold} == {"issued"} and len({r.code for r in sold}) == 20
    assert sum(balance(client, u) for u in users) == 12 * 120 - 20 * 30
    assert reconciled(*users)["clean"]


def test_one_user_with_100_points_firing_ten_redemptions_of_30_gets_three(client, user):
    give_points(user, 100)
    goods = new_goods(points_price=30, stock=50, per_user_limit=None)
    outcomes = race(race_redeem, [(user["id"], goods["id"], {"request_id": request_id()}) for _ in range(10)])
    results = Counter(result[0] if result[0] == 201 else result for kind, result in outcomes if kind == "ok")
    assert results == {201: 3, (422, "INSUFFICIENT_POINTS"): 7}, outcomes
    assert balance(client, user) == 10 and stock_left(goods["id"]) == 47
    spends = [e for e in LedgerEntry.query(user["id"]) if e.kind == "spend"]
    assert len(spends) == 3
    assert reconciled(user)["clean"]


def test_eight_staff_scanning_one_code_at_once_hand_it_over_once(client, user):
    merchant_id, openids = new_merchant(staff=8)
    staff = [staff_login(client, o) for o in openids]
    give_points(user, 100)
    redemption = redeem(client, user, new_goods(merchant_id)["id"])[1]["redemption"]
    outcomes = race(race_verify, [(s["token"], redemption["code"]) for s in staff])
    results = Counter(result for kind, result in outcomes if kind == "ok")
    assert results == {(200, ""): 1, (409, "CODE_ALREADY_USED"): 7}, outcomes
    day = call(client, "GET", "/v1/merchant/redemptions", token=staff[0]["token"])[1]
    assert day["totals"] == {"count": 1, "points": 30} and len(day["items"]) == 1


def test_the_same_request_id_from_eight_processes_makes_one_redemption(client, user):
    give_points(user, 100)
    goods = new_goods()
    body = {"request_id": request_id()}
    outcomes = race(race_redeem, [(user["id"], goods["id"], body)] * 8)
    results = {result for kind, result in outcomes if kind == "ok"}
    assert len(results) == 1 and next(iter(results))[0] == 201, outcomes  # every retry sees the first success
    assert balance(client, user) == 70 and stock_left(goods["id"]) == 9
    assert len(call(client, "GET", "/v1/me/redemptions", token=user["token"])[1]["items"]) == 1
    assert reconciled(user)["clean"]


def test_scans_racing_the_users_cancel_settle_the_code_one_way(client, user):
    merchant_id, openids = new_merchant(staff=3)
    staff = [staff_login(client, o) for o in openids]
    give_points(user, 100)
    redemption = redeem(client, user, new_goods(merchant_id)["id"])[1]["redemption"]
    calls = [("verify", s["token"], redemption["code"]) for s in staff]
    calls += [("cancel", user["id"], redemption["id"])] * 3
    results = Counter(result for kind, result in race(race_scan_or_cancel, calls) if kind == "ok")
    assert sum(results.values()) == 6, results
    if results[("verify", 200, "")]:  # the merchant won: one hand-over, no refund
        assert results == {("verify", 200, ""): 1, ("verify", 409, "CODE_ALREADY_USED"): 2,
                           ("cancel", 409, "NOT_CANCELLABLE"): 3}
        assert balance(client, user) == 70
    else:  # the user won: refunded once (retried cancels get the first answer), no hand-over
        assert results == {("cancel", 200, ""): 3, ("verify", 409, "CODE_CANCELLED"): 3}
        assert balance(client, user) == 100
    assert reconciled(user)["clean"]


def test_six_staff_crediting_at_once_never_pass_the_merchant_ceiling(client, openid):
    _, openids = new_merchant(staff=6, collection_point=True, daily_staff_quantity_max=60, daily_quantity_max=100)
    staff = [staff_login(client, o) for o in openids]
    members = [login(client, f"{openid}-{n}") for n in range(6)]
    codes = [call(client, "GET", "/v1/me/member-code", token=m["token"])[1]["member_code"] for m in members]
    bodies = [{"request_id": request_id(), "member_code": code, "behavior": "old_clothes", "quantity": 20}
              for code in codes]
    outcomes = race(race_credit, [(s["token"], body) for s, body in zip(staff, bodies, strict=True)])
    results = Counter(result for kind, result in outcomes if kind == "ok")
    assert results == {(201, "", None): 5, (429, "DAILY_LIMIT_REACHED", "merchant"): 1}, outcomes
    assert sorted(balance(client, m) for m in members) == [0] + [600] * 5
    assert reconciled(*members)["clean"]
