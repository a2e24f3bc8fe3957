"""The marketplace as users see it: the shelf, redeeming, codes, their redemptions, cancelling, expiry,
and what a redemption costs in DynamoDB calls."""
from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

from admin.__main__ import main as admin
from chalicelib import jobs
from chalicelib.domain import clock, ids
from chalicelib.store.market import Redemption
from tests.support.api import DynamoDBCalls, call, login, request_id
from tests.support.market import balance, give_points, new_goods, redeem, stock_left
from tests.support.reconcile import reconciled

CODE = re.compile(f"^[{ids.ALPHABET}]{{16}}$")


def shelf(client, **query) -> list[dict]:
    """Every goods item on sale, page by page."""
    items, cursor = [], None
    while True:
        params = "&".join(f"{k}={v}" for k, v in {**query, **({"cursor": cursor} if cursor else {})}.items())
        status, body = call(client, "GET", "/v1/market/goods" + (f"?{params}" if params else ""))
        assert status == 200, body
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items


def my_redemption(client, user, redemption_id):
    return call(client, "GET", f"/v1/me/redemptions/{redemption_id}", token=user["token"])


# --- the shelf ---------------------------------------------------------------------------------------


def test_the_shelf_shows_the_demo_goods_with_merchant_price_and_stock_left(client):
    by_id = {g["id"]: g for g in shelf(client, limit=100)}
    americano = by_id["g-cafe-americano"]
    assert (americano["name"], americano["kind"], americano["points_price"], americano["valid_days"]) == (
        "美式咖啡兑换券", "coupon", 120, 30)
    assert americano["merchant"] == {"id": "m-cafe", "name": "江阳咖啡"}
    assert 0 <= americano["stock_left"] <= 200 and americano["per_user_limit"] == 2
    assert {"coupon", "physical", "experience"} <= {g["kind"] for g in by_id.values()}


def test_paging_shows_every_goods_item_once_and_a_forged_cursor_is_a_400(client):
    whole = [g["id"] for g in shelf(client, limit=100)]
    paged = [g["id"] for g in shelf(client, limit=2)]
    assert paged == whole and len(set(paged)) == len(paged)
    status, body = call(client, "GET", "/v1/market/goods?cursor=AAAAforged")
    assert (status, body["error"]["code"]) == (400, "INVALID_CURSOR")


def test_the_category_filter_shows_only_that_category(client):
    category = "cat-" + uuid.uuid4().hex[:8]
    goods = new_goods(category=category, stock=7)
    items = shelf(client, category=category)
    assert [(g["id"], g["stock_left"]) for g in items] == [(goods["id"], 7)]


def test_stock_left_drops_as_codes_are_issued(client, user):
    give_points(user, 100)
    goods = new_goods(stock=3, category="cat-" + uuid.uuid4().hex[:8])
    redeem(client, user, goods["id"])
    assert shelf(client, category=goods["category"])[0]["stock_left"] == 2


def test_withdrawn_and_unknown_goods_cannot_be_redeemed(client, user):
    give_points(user, 100)
    withdrawn = new_goods(active=False)
    assert withdrawn["id"] not in {g["id"] for g in shelf(client, limit=100)}
    for goods_id in (withdrawn["id"], "no-such-goods"):
        status, body = redeem(client, user, goods_id)
        assert (status, body["error"]["code"]) == (404, "NOT_FOUND")
    assert balance(client, user) == 100


# --- the catalog -------------------------------------------------------------------------------------


def _catalog_file(tmp_path, doc: dict) -> str:
    path = tmp_path / f"catalog-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _goods_entry(**fields) -> dict:
    return {"id": "t-" + uuid.uuid4().hex[:12], "name": "测试商品", "kind": "coupon", "merchant_id": "m-cafe",
            "points_price": 30, "stock": 10, "per_user_limit": 2, "valid_days": 30, **fields}


def test_loading_the_same_goods_twice_changes_nothing(tmp_path, capsys):
    path = _catalog_file(tmp_path, {"goods": [_goods_entry()]})
    assert admin(["load", path, "--json"]) == 0
    capsys.readouterr()
    assert admin(["load", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["writes"] == 0


def test_goods_of_an_unknown_merchant_or_with_a_bad_field_are_refused_whole(client, tmp_path, capsys):
    good, orphan = _goods_entry(), _goods_entry(merchant_id="m-nowhere")
    assert admin(["load", _catalog_file(tmp_path, {"goods": [good, orphan]})]) == 1
    assert "unknown merchant 'm-nowhere'" in capsys.readouterr().err
    assert admin(["load", _catalog_file(tmp_path, {"goods": [good, _goods_entry(points_price=-5)]})]) == 1
    assert "points_price" in capsys.readouterr().err
    assert good["id"] not in {g["id"] for g in shelf(client, limit=100)}


def test_goods_can_name_a_merchant_listed_in_the_same_file(client, tmp_path):
    merchant = {"id": "m-t-" + uuid.uuid4().hex[:8], "name": "新商户", "staff_openids": []}
    goods = _goods_entry(merchant_id=merchant["id"])
    assert admin(["load", _catalog_file(tmp_path, {"merchants": [merchant], "goods": [goods]})]) == 0
    listed = {g["id"]: g for g in shelf(client, limit=100)}[goods["id"]]
    assert listed["merchant"] == {"id": merchant["id"], "name": "新商户"}


def test_reloaded_stock_keeps_what_was_taken_and_never_drops_below_it(client, user, tmp_path):
    give_points(user, 100)
    goods = new_goods(stock=2)
    assert redeem(client, user, goods["id"])[0] == 201
    assert admin(["load", _catalog_file(tmp_path, {"goods": [{**goods, "stock": 5}]})]) == 0
    assert stock_left(goods["id"]) == 4
    assert admin(["load", _catalog_file(tmp_path, {"goods": [{**goods, "stock": 0}]})]) == 1
    assert stock_left(goods["id"]) == 4


# --- redeeming ---------------------------------------------------------------------------------------


def test_redeeming_spends_the_price_and_issues_an_unguessable_code(client, user):
    give_points(user, 100)
    goods = new_goods(points_price=30, valid_days=7)
    status, body = redeem(client, user, goods["id"])
    assert status == 201, body
    redemption = body["redemption"]
    assert CODE.match(redemption["code"]) and redemption["qr_payload"] == "GS:R:" + redemption["code"]
    assert (redemption["status"], redemption["goods_id"], redemption["points_spent"]) == ("issued", goods["id"], 30)
    assert body["points"] == 70 == balance(client, user)
    last_day = clock.business_day(clock.now()) + timedelta(days=6)  # the day of redemption is day 1 of 7
    assert redemption["expires_at"] == f"{last_day + timedelta(days=1)}T00:00:00+08:00"
    entry = call(client, "GET", "/v1/me/ledger", token=user["token"])[1]["items"][0]
    assert (entry["kind"], entry["points"], entry["source"], entry["ref"], entry["balance_after"]) == (
        "spend", -30, "market", redemption["id"], 70)


def test_every_redemption_gets_its_own_code(client, user):
    give_points(user, 300)
    goods = new_goods(points_price=10, per_user_limit=None)
    codes = {redeem(client, user, goods["id"])[1]["redemption"]["code"] for _ in range(8)}
    assert len(codes) == 8


def test_too_few_points_is_refused_and_changes_nothing(client, user):
    give_points(user, 20)
    goods = new_goods(points_price=30, stock=10)
    status, body = redeem(client, user, goods["id"])
    assert (status, body["error"]["code"]) == (422, "INSUFFICIENT_POINTS")
    assert balance(client, user) == 20 and stock_left(goods["id"]) == 10
    assert call(client, "GET", "/v1/me/redemptions", token=user["token"])[1]["items"] == []


def test_the_last_one_in_stock_goes_to_one_user_only(client, user, openid):
    other = login(client, openid + "-b")
    for person in (user, other):
        give_points(person, 100)
    goods = new_goods(stock=1)
    assert redeem(client, user, goods["id"])[0] == 201
    status, body = redeem(client, other, goods["id"])
    assert (status, body["error"]["code"]) == (409, "OUT_OF_STOCK")
    assert balance(client, other) == 100 and stock_left(goods["id"]) == 0


def test_the_per_user_limit_is_enforced(client, user):
    give_points(user, 200)
    goods = new_goods(per_user_limit=2)
    assert [redeem(client, user, goods["id"])[0] for _ in range(2)] == [201, 201]
    status, body = redeem(client, user, goods["id"])
    assert (status, body["error"]["code"]) == (429, "PER_USER_LIMIT_REACHED")
    assert balance(client, user) == 140 and stock_left(goods["id"]) == 8


def test_a_frozen_account_cannot_redeem(client, user):
    give_points(user, 100)
    goods = new_goods()
    assert admin(["user", "freeze", user["id"], "--reason", "test: suspected fraud"]) == 0
    status, body = redeem(client, user, goods["id"])
    assert (status, body["error"]["code"]) == (403, "ACCOUNT_FROZEN")
    assert balance(client, user) == 100 and stock_left(goods["id"]) == 10


def test_the_same_request_id_twice_makes_one_redemption(client, user):
    give_points(user, 100)
    goods = new_goods()
    rid = request_id()
    first, second = redeem(client, user, goods["id"], rid), redeem(client, user, goods["id"], rid)
    assert first == second and first[0] == 201
    assert len(call(client, "GET", "/v1/me/redemptions", token=user["token"])[1]["items"]) == 1
    assert balance(client, user) == 70 and stock_left(goods["id"]) == 9


def test_the_same_request_id_for_other_goods_is_a_conflict(client, user):
    give_points(user, 100)
    rid = request_id()
    assert redeem(client, user, new_goods()["id"], rid)[0] == 201
    status, body = redeem(client, user, new_goods()["id"], rid)
    assert (status, body["error"]["code"]) == (409, "IDEMPOTENCY_CONFLICT")
    assert balance(client, user) == 70


def test_a_redemption_costs_one_read_and_one_transaction(client, user):
    give_points(user, 100)
    goods = new_goods(per_user_limit=3)
    redeem(client, user, goods["id"])  # warms this container's catalog cache, as any earlier request would
    with DynamoDBCalls() as calls:
        status, _ = redeem(client, user, goods["id"])
    assert status == 201
    assert calls.operations == ["GetItem", "TransactWriteItems"]


def test_physical_goods_need_a_valid_address_that_users_only_see_masked(client, user, capsys):
    give_points(user, 100)
    goods = new_goods(kind="physical", category="daily")
    address = {"name": "张三丰", "phone": "13812345678", "region": "四川省泸州市江阳区", "detail": "滨江路一段88号3栋"}
    status, body = redeem(client, user, goods["id"])
    assert (status, body["error"]["details"]["field"]) == (400, "address")
    status, body = redeem(client, user, goods["id"], address={**address, "phone": "12345"})
    assert (status, body["error"]["details"]["field"]) == (400, "address.phone")
    status, body = redeem(client, user, goods["id"], address=address)
    assert status == 201
    shown = body["redemption"]["address"]
    assert shown == {"name": "张**", "phone": "138****5678", "region": "四川省泸州市江阳区", "detail": "滨江路一****"}
    listed = call(client, "GET", "/v1/me/redemptions", token=user["token"])[1]
    assert "13812345678" not in json.dumps(body) + json.dumps(listed, ensure_ascii=False)
    stored = Redemption.get(body["redemption"]["id"])
    assert "13812345678" not in stored.address_sealed
    assert admin(["redemption", "show", stored.redemption_id, "--reveal-address", "--json"]) == 1  # no reason
    capsys.readouterr()
    assert admin(["redemption", "show", stored.redemption_id, "--reveal-address", "--reason", "test: ship",
                  "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["address"] == address


# --- the user's redemptions --------------------------------------------------------------------------


def test_my_redemptions_are_newest_first_and_paged(client, user):
    give_points(user, 100)
    goods = new_goods(points_price=10)
    made = [redeem(client, user, goods["id"])[1]["redemption"]["id"] for _ in range(3)]
    status, first = call(client, "GET", "/v1/me/redemptions?limit=2", token=user["token"])
    assert status == 200 and [r["id"] for r in first["items"]] == made[::-1][:2]
    rest = call(client, "GET", f"/v1/me/redemptions?limit=2&cursor={first['next_cursor']}", token=user["token"])[1]
    assert [r["id"] for r in rest["items"]] == made[:1]
    assert my_redemption(client, user, made[0])[1]["redemption"]["status"] == "issued"


def test_another_users_redemption_is_a_404_to_read_and_to_cancel(client, user, openid):
    give_points(user, 100)
    redemption = redeem(client, user, new_goods()["id"])[1]["redemption"]
    other = login(client, openid + "-other")
    missing = my_redemption(client, other, "01NOSUCHREDEMPTION00000000")
    assert my_redemption(client, other, redemption["id"]) == missing and missing[0] == 404
    status, body = call(client, "POST", f"/v1/me/redemptions/{redemption['id']}/cancel", token=other["token"])
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")
    assert my_redemption(client, user, redemption["id"])[1]["redemption"]["status"] == "issued"
    assert balance(client, user) == 70


# --- cancelling --------------------------------------------------------------------------------------


def cancel(client, user, redemption_id):
    return call(client, "POST", f"/v1/me/redemptions/{redemption_id}/cancel", token=user["token"])


def test_cancelling_refunds_returns_the_stock_and_frees_the_limit(client, user):
    give_points(user, 100)
    goods = new_goods(per_user_limit=1, stock=5)
    redemption = redeem(client, user, goods["id"])[1]["redemption"]
    status, body = cancel(client, user, redemption["id"])
    assert status == 200, body
    assert (body["redemption"]["status"], body["redemption"]["refunded"], body["points"]) == ("cancelled", True, 100)
    assert (body["entry"]["kind"], body["entry"]["points"], body["entry"]["ref"]) == ("refund", 30, redemption["id"])
    assert stock_left(goods["id"]) == 5
    assert redeem(client, user, goods["id"])[0] == 201  # the per-user limit counts only what the user holds


def test_a_retried_cancel_gets_the_first_answer_and_refunds_once(client, user):
    give_points(user, 100)
    redemption = redeem(client, user, new_goods()["id"])[1]["redemption"]
    first, second = cancel(client, user, redemption["id"]), cancel(client, user, redemption["id"])
    assert first == second and first[0] == 200
    refunds = call(client, "GET", "/v1/me/ledger?kind=refund", token=user["token"])[1]["items"]
    assert len(refunds) == 1 and balance(client, user) == 100


def test_goods_sold_as_not_cancellable_cannot_be_cancelled(client, user):
    give_points(user, 100)
    redemption = redeem(client, user, new_goods(cancellable=False)["id"])[1]["redemption"]
    status, body = cancel(client, user, redemption["id"])
    assert (status, body["error"]["code"]) == (409, "NOT_CANCELLABLE")
    assert balance(client, user) == 70


def test_a_cancel_costs_one_read_and_one_transaction(client, user):
    give_points(user, 100)
    redemption = redeem(client, user, new_goods()["id"])[1]["redemption"]
    with DynamoDBCalls() as calls:
        assert cancel(client, user, redemption["id"])[0] == 200
    assert calls.operations == ["BatchGetItem", "TransactWriteItems"]


# --- expiry ------------------------------------------------------------------------------------------


def test_a_code_past_its_validity_shows_expired_and_cannot_be_cancelled(client, user, monkeypatch):
    give_points(user, 100)
    redemption = redeem(client, user, new_goods(valid_days=1)["id"])[1]["redemption"]
    later = clock.now() + timedelta(days=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert my_redemption(client, user, redemption["id"])[1]["redemption"]["status"] == "expired"
    status, body = cancel(client, user, redemption["id"])
    assert (status, body["error"]["code"]) == (409, "NOT_CANCELLABLE")


def test_expire_redemptions_refunds_where_the_goods_say_so(client, user, capsys):
    give_points(user, 100)
    refunded, kept = new_goods(valid_days=1, refund_on_expiry=True), new_goods(valid_days=1, refund_on_expiry=False)
    ids_ = [redeem(client, user, goods["id"])[1]["redemption"]["id"] for goods in (refunded, kept)]
    later = clock.iso(clock.now() + timedelta(days=2))
    capsys.readouterr()
    assert admin(["expire-redemptions", "--now", later, "--dry-run", "--json"]) == 0
    assert set(ids_) <= set(json.loads(capsys.readouterr().out)["redemptions"])
    assert [Redemption.get(i).status for i in ids_] == ["issued", "issued"] and balance(client, user) == 40
    assert admin(["expire-redemptions", "--now", later, "--yes", "--json"]) == 0
    stored = [Redemption.get(i, consistent_read=True) for i in ids_]
    assert [(r.status, r.refunded) for r in stored] == [("expired", True), ("expired", False)]
    assert balance(client, user) == 70
    assert (stock_left(refunded["id"]), stock_left(kept["id"])) == (10, 9)
    assert admin(["expire-redemptions", "--now", later, "--yes"]) == 0  # again: nothing more changes
    assert balance(client, user) == 70
    refund = call(client, "GET", "/v1/me/ledger?kind=refund", token=user["token"])[1]["items"]
    assert [(e["points"], e["ref"]) for e in refund] == [(30, ids_[0])]
    assert reconciled(user)["clean"]


def test_expiry_is_a_scheduled_job(app_module):
    assert "expire-redemptions" in [job.name for job in jobs.JOBS]
    scheduled = {getattr(source, "name", None) for source in app_module.app.event_sources}
    assert "expire-redemptions" in scheduled


def test_expire_redemptions_refuses_a_bad_time(capsys):
    assert admin(["expire-redemptions", "--now", "next tuesday", "--yes"]) == 1
    assert "--now" in capsys.readouterr().err
