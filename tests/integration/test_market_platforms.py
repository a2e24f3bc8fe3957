"""The marketplace, merchants' staff and collection points of a platform other than `default` (docs/platforms.md,
"Shops per platform"): its own goods, stock, codes, staff and merchant days, under the keys of its own.

The shop platform of this module sells goods whose ids `default` also sells, and its merchants have `default`'s
merchant ids (m-cafe, m-recycle): what keeps them apart is the platform in the keys, not the ids.
"""
from __future__ import annotations

import json
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest

from admin.__main__ import main as admin
from chalicelib.domain import clock
from chalicelib.store.market import LimitCounter, MemberCode, Redemption, RedemptionCode, Verification
from chalicelib.store.models import IdempotencyRecord
from tests.support.api import call, login, request_id
from tests.support.market import (
    balance,
    give_points,
    load_catalog,
    new_goods,
    new_merchant,
    redeem,
    staff_login,
    stock_left,
    verify,
)
from tests.support.persons import _onboard, login_on
from tests.support.reconcile import reconciled


@pytest.fixture(scope="module")
def shop(stack, tmp_path_factory):
    """A platform with a coffee shop and a collection point of `default`'s merchant ids, that rewards old clothes
    with 10 points a kilogram (`default`: 30)."""
    pid = "t-shop-" + uuid.uuid4().hex[:6]
    appid = "wx-" + pid
    cafe_staff, collector = f"o-cafe-staff-{pid}", f"o-collector-{pid}"
    entry = {"id": pid, "name": "商城平台", "wechat_appid": appid,
             "branding": {"name": "商城平台", "slogan": "积分换好物", "primary_color": "#336699", "logo_url": None},
             "behaviors": [{"code": "old_clothes", "points": {"points": 10, "per": 1}}], "partners": [],
             "merchants": [{"id": "m-cafe", "name": "平台咖啡", "staff_openids": [f"{cafe_staff}@{appid}"]},
                           {"id": "m-recycle", "name": "平台回收站", "staff_openids": [f"{collector}@{appid}"],
                            "collection_point": True}]}
    _onboard(stack, tmp_path_factory.mktemp("shop"), entry, "test-shop-secret")
    bare = {k: v for k, v in entry.items() if k != "merchants"}

    def goods(goods_id: str, **fields) -> dict:
        """Goods of the shop (m-cafe's unless said), loaded as a platform entry's `goods`."""
        item = {"id": goods_id, "name": "平台券", "kind": "coupon", "merchant_id": "m-cafe", "points_price": 12,
                "stock": 5, "per_user_limit": 5, "valid_days": 30, "cancellable": True, **fields}
        load_catalog({"platforms": [{**bare, "goods": [item]}]})
        return item

    return SimpleNamespace(id=pid, goods=goods, cafe_staff=cafe_staff, collector=collector)


def twin_goods(shop, **fields) -> str:
    """One goods id sold by `default` (30 points, 10 in stock) and by the shop (12 points, 5 in stock)."""
    goods_id = "t-" + uuid.uuid4().hex[:12]
    new_goods("m-cafe", id=goods_id, **fields)
    shop.goods(goods_id, **fields)
    return goods_id


def shopper(client, shop, points: int = 50) -> dict:
    user = login_on(client, "o-" + uuid.uuid4().hex[:12], shop.id)
    give_points(user, points)
    return user


def today() -> str:
    return clock.business_day(clock.now()).isoformat()


def test_a_platform_user_redeems_its_goods_its_staff_hand_them_over_and_defaults_stock_is_untouched(client, shop):
    goods_id = twin_goods(shop)
    user = shopper(client, shop)
    shelf = call(client, "GET", "/v1/market/goods?limit=100", token=user["token"])[1]["items"]
    shown = [g for g in shelf if g["id"] == goods_id]
    assert [(g["points_price"], g["stock_left"], g["merchant"]) for g in shown] == [
        (12, 5, {"id": "m-cafe", "name": "平台咖啡"})]  # the shop's goods, not default's of the same id
    assert "g-cafe-own-cup" not in {g["id"] for g in shelf}
    status, body = redeem(client, user, goods_id)
    assert status == 201, body
    redemption = body["redemption"]
    assert (redemption["points_spent"], body["points"]) == (12, 38)  # the platform's price, from its account
    assert (stock_left(goods_id, platform=shop.id), stock_left(goods_id)) == (4, 10)
    assert Redemption.get(redemption["id"]).platform == shop.id
    assert RedemptionCode.count(f"{shop.id}#{redemption['code']}") == 1
    assert RedemptionCode.count(redemption["code"]) == 0  # the key is the platform's
    staff = login_on(client, shop.cafe_staff, shop.id)
    assert staff["login"]["user"]["roles"] == ["user", "merchant_staff"]
    status, body = verify(client, staff, redemption["code"])
    assert (status, body["redemption"]["status"]) == (200, "used"), body
    day = call(client, "GET", "/v1/merchant/redemptions", token=staff["token"])[1]
    assert ([r["id"] for r in day["items"]], day["totals"]) == ([redemption["id"]], {"count": 1, "points": 12})
    rows = [v.redemption_id for v in Verification.query(f"{shop.id}#m-cafe#{today()}") if v.redemption_id]
    assert rows == [redemption["id"]]
    assert redemption["id"] not in {v.redemption_id for v in Verification.query(f"m-cafe#{today()}")}
    assert reconciled(user)["clean"]


def test_staff_of_a_platforms_merchant_never_reach_defaults_merchant_of_the_same_id(client, shop, user):
    give_points(user, 30)
    redemption = redeem(client, user, new_goods("m-cafe")["id"])[1]["redemption"]
    staff = login_on(client, shop.cafe_staff, shop.id)  # staff of the shop's m-cafe
    status, body = verify(client, staff, redemption["code"])
    assert (status, body["error"]["code"]) == (404, "CODE_NOT_FOUND")
    assert redemption["id"] not in {r["id"] for r in call(client, "GET", "/v1/merchant/redemptions",
                                                          token=staff["token"])[1]["items"]}
    assert verify(client, staff_login(client, "o-staff-1"), redemption["code"])[0] == 200  # default's m-cafe


def test_staff_log_in_with_a_role_on_the_platform_that_lists_them_only(client, shop):
    assert login(client, shop.cafe_staff)["login"]["user"]["roles"] == ["user"]  # default's m-cafe lists others
    assert login_on(client, "o-staff-1", shop.id)["login"]["user"]["roles"] == ["user"]  # default's staff


def test_a_default_staff_member_scanning_a_platform_code_finds_no_such_code(client, shop):
    goods_id = twin_goods(shop)
    user = shopper(client, shop)
    redemption = redeem(client, user, goods_id)[1]["redemption"]
    _, (openid,) = new_merchant()
    status, body = verify(client, staff_login(client, openid), redemption["code"])
    assert (status, body["error"]["code"]) == (404, "CODE_NOT_FOUND")
    status, body = verify(client, staff_login(client, "o-staff-1"), redemption["code"])  # default's m-cafe
    assert (status, body["error"]["code"]) == (404, "CODE_NOT_FOUND")


def test_a_cancel_gives_the_unit_back_to_the_platforms_stock(client, shop):
    goods_id = twin_goods(shop)
    user = shopper(client, shop)
    redemption = redeem(client, user, goods_id)[1]["redemption"]
    status, body = call(client, "POST", f"/v1/me/redemptions/{redemption['id']}/cancel", {}, token=user["token"])
    assert (status, body["redemption"]["status"], body["points"]) == (200, "cancelled", 50)
    assert (stock_left(goods_id, platform=shop.id), stock_left(goods_id)) == (5, 10)
    assert reconciled(user)["clean"]


def test_redemption_expiry_returns_the_unit_to_the_platforms_stock_shard(client, shop, capsys):
    goods_id = twin_goods(shop, valid_days=1, refund_on_expiry=True, stock_shards=2)
    user = shopper(client, shop)
    redemption = redeem(client, user, goods_id)[1]["redemption"]
    assert (stock_left(goods_id, 2, shop.id), stock_left(goods_id, 2)) == (4, 10)
    later = clock.iso(clock.now() + timedelta(days=2))
    assert admin(["expire-redemptions", "--now", later, "--yes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["failed"] == []
    stored = Redemption.get(redemption["id"], consistent_read=True)
    assert (stored.status, stored.refunded) == ("expired", True)
    assert (stock_left(goods_id, 2, shop.id), stock_left(goods_id, 2)) == (5, 10)
    assert balance(client, user) == 50
    assert reconciled(user)["clean"]


def test_goods_sold_out_on_default_still_sell_on_a_platform_selling_the_same_id(client, shop, user):
    goods_id = twin_goods(shop, stock=1)
    give_points(user, 100)
    assert redeem(client, user, goods_id)[0] == 201
    assert redeem(client, user, goods_id)[1]["error"]["code"] == "OUT_OF_STOCK"  # this container remembers it
    status, body = redeem(client, shopper(client, shop), goods_id)
    assert status == 201, body  # the memory is of default's item, not of the shop's
    assert (stock_left(goods_id, platform=shop.id), stock_left(goods_id)) == (0, 0)


def _member_code(client, user) -> str:
    status, body = call(client, "GET", "/v1/me/member-code", token=user["token"])
    assert status == 200, body
    return body["member_code"]


def _credit(client, staff, code, quantity=2.5):
    body = {"request_id": request_id(), "member_code": code, "behavior": "old_clothes", "quantity": quantity}
    return call(client, "POST", "/v1/operator/credit", body, token=staff["token"])


def test_a_platforms_collection_point_credits_its_users_member_codes_with_its_points(client, shop, user):
    member = shopper(client, shop, points=1)
    collector = login_on(client, shop.collector, shop.id)
    code = _member_code(client, member)
    _, (openid,) = new_merchant(collection_point=True)
    status, body = _credit(client, staff_login(client, openid), code)  # default's collection point
    assert (status, body["error"]["code"]) == (404, "CODE_NOT_FOUND")
    status, body = _credit(client, collector, _member_code(client, user))  # default's user's code
    assert (status, body["error"]["code"]) == (404, "CODE_NOT_FOUND")
    status, body = _credit(client, collector, code)
    assert status == 201, body
    assert (body["entry"]["points"], body["entry"]["carbon_g"]) == (20, 3200.0)  # the shop's 10 a whole kg
    assert (balance(client, member), balance(client, user)) == (21, 0)
    assert MemberCode.get(f"{shop.id}#{code}").used_by == collector["id"]
    credited = LimitCounter.get(f"credited#merchant#{shop.id}#m-recycle#old_clothes#{today()}")
    assert int(credited.count) == 2500
    assert reconciled(member, user)["clean"]


def test_a_platform_user_s_export_names_its_platform_s_merchants(client, shop):
    member = shopper(client, shop)
    assert _credit(client, login_on(client, shop.collector, shop.id), _member_code(client, member))[0] == 201
    assert redeem(client, member, twin_goods(shop))[0] == 201
    status, export = call(client, "GET", "/v1/me/export", token=member["token"])
    assert status == 200, export
    (credited,) = [e["credited_at"] for e in export["ledger"] if e["source"] == "operator"]
    assert credited == {"merchant_id": "m-recycle", "name": "平台回收站"}  # not default's m-recycle's name
    assert [r["merchant"] for r in export["redemptions"]] == [{"id": "m-cafe", "name": "平台咖啡"}]


def test_deleting_a_platform_user_forgets_the_record_its_collection_point_kept_of_the_credit(client, shop):
    member = shopper(client, shop, points=1)
    collector = login_on(client, shop.collector, shop.id)
    body = {"request_id": request_id(), "member_code": _member_code(client, member), "behavior": "old_clothes",
            "quantity": 1}
    assert call(client, "POST", "/v1/operator/credit", body, token=collector["token"])[0] == 201
    record = f"{collector['id']}#{body['request_id']}"  # the credit's answer names the member
    assert IdempotencyRecord.count(record) == 1
    assert admin(["user", "delete", member["id"], "--platform", shop.id, "--reason", "ticket 8", "--yes"]) == 0
    assert IdempotencyRecord.count(record) == 0


def test_deleting_a_platform_user_gives_their_unused_codes_units_back_to_the_platforms_stock(client, shop):
    goods_id = twin_goods(shop)
    user = shopper(client, shop)
    redeem(client, user, goods_id)
    assert stock_left(goods_id, platform=shop.id) == 4
    assert admin(["user", "delete", user["id"], "--platform", shop.id, "--reason", "ticket 7", "--yes"]) == 0
    assert (stock_left(goods_id, platform=shop.id), stock_left(goods_id)) == (5, 10)
