"""Helpers for the marketplace tests: goods and merchants of a test's own, points, and racing callers.

Each test loads goods (and merchants) under fresh ids through the same catalog loader the console uses,
so tests never share stock or per-user limits.
"""
from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from tests.support.api import call, login, request_id


def load_catalog(doc: dict) -> dict:
    from admin.catalog_load import load

    return load(doc, dry_run=False)


def new_goods(merchant_id: str = "m-cafe", **fields) -> dict:
    """A goods item of its own (fresh id) on sale now; returns its catalog entry."""
    entry = {"id": "t-" + uuid.uuid4().hex[:12], "name": "测试商品", "kind": "coupon", "category": "test",
             "merchant_id": merchant_id, "points_price": 30, "stock": 10, "per_user_limit": 5, "valid_days": 30,
             "cancellable": True, "refund_on_expiry": False, **fields}
    load_catalog({"goods": [entry]})
    return entry


def new_merchant(staff: int = 1, collection_point: bool = False, **fields) -> tuple[str, list[str]]:
    """A merchant of its own with `staff` fresh staff openids (and any other catalog fields)."""
    merchant_id = "m-t-" + uuid.uuid4().hex[:10]
    openids = [f"o-staff-{merchant_id}-{n}" for n in range(staff)]
    load_catalog({"merchants": [{"id": merchant_id, "name": "测试商户", "staff_openids": openids,
                                 "collection_point": collection_point, **fields}]})
    return merchant_id, openids


def give_points(user: dict, points: int) -> None:
    """An operator's `points adjust` on the user's account, on the platform the user logged in on."""
    from admin.accounts import adjust

    platform = (((user.get("login") or {}).get("user") or {}).get("platform") or {}).get("id", "default")
    adjust(user["id"], points, "test: starting balance", None, False, platform)


def issued_directly(user_ids: list[str], goods: dict, count: int, points_spent: int, refund: bool,
                    expired_for: timedelta, bucket: str | None = None) -> list:
    """`count` issued redemptions of `goods` whose validity ended `expired_for` ago, round the users, written
    straight into the store (a redemption through the API costs a posting each), in `due` shard `bucket` or one
    the code picks; what the expiry job does with them is the code under test."""
    from chalicelib.domain import clock
    from chalicelib.store.market import Redemption, expiry_bucket

    now = clock.now()
    expires = now - expired_for
    made = []
    with Redemption.batch_write() as batch:
        for n in range(count):
            redemption = Redemption(
                "rd-" + uuid.uuid4().hex, user_id=user_ids[n % len(user_ids)], goods_id=goods["id"],
                goods_name=goods["name"], kind=goods["kind"], merchant_id=goods["merchant_id"],
                code=secrets.token_hex(8), status="issued", points_spent=points_spent, created_at=clock.iso(now),
                expires_at=clock.iso(expires), expires_epoch=int(expires.timestamp()),
                expiry_bucket=bucket or expiry_bucket(), cancellable=True, refund_on_expiry=refund)
            batch.save(redemption)
            made.append(redemption)
    return made


def redeem(client, user: dict, goods_id: str, rid: str | None = None, **body):
    return call(client, "POST", f"/v1/market/goods/{goods_id}/redeem",
                {"request_id": rid or request_id(), **body}, token=user["token"])


def verify(client, staff: dict, code: str):
    return call(client, "POST", "/v1/merchant/verify", {"code": code}, token=staff["token"])


def staff_login(client, openid: str) -> dict:
    staff = login(client, openid)
    assert "merchant_staff" in staff["login"]["user"]["roles"], staff
    return staff


def issued(client, user, merchant_id: str) -> dict:
    """A fresh coupon of a new goods of `merchant_id`, redeemed by `user` (given the points for it)."""
    give_points(user, 30)
    status, body = redeem(client, user, new_goods(merchant_id)["id"])
    assert status == 201, body
    return body["redemption"]


def status_of(client, user, redemption: dict) -> str:
    return call(client, "GET", f"/v1/me/redemptions/{redemption['id']}", token=user["token"])[1]["redemption"]["status"]


def balance(client, user: dict) -> int:
    return call(client, "GET", "/v1/me", token=user["token"])[1]["points"]


def stock_left(goods_id: str, shards: int = 1, platform: str = "default") -> int:
    """Units left of the goods of `platform`, over its `shards` stock items."""
    return sum(left for left, _ in stock_shards(goods_id, shards, platform).values())


def stock_shards(goods_id: str, shards: int, platform: str = "default") -> dict[int, tuple[int, int]]:
    """{shard: (left, total)} of the goods' stock items, read consistently; a missing item is absent."""
    from chalicelib.domain.market import stock_key
    from chalicelib.store.stock import Stock

    found = {}
    for shard in range(shards):
        try:
            item = Stock.get(stock_key(goods_id, shard, platform), consistent_read=True)
        except Stock.DoesNotExist:
            continue
        found[shard] = (int(item.left), int(item.total))
    return found


# --- racing callers (tests/support/racer.race runs each in its own process) ---------------------------


def race_redeem(user_id: str, goods_id: str, body: dict) -> tuple[int, str]:
    """One redemption through the use case, as the route calls it; (status, error code or the redemption id)."""
    from chalicelib import bootstrap
    from chalicelib.api.market import redeem_command
    from chalicelib.errors import AppError
    from chalicelib.services import redeem

    try:
        result = redeem.redeem_goods(redeem_command(user_id, goods_id, body), bootstrap.posting_uow())
        return 201, result.redemption.redemption_id
    except AppError as error:
        return error.status, error.code


def race_redeem_many(user_id: str, goods_id: str, times: int) -> list[tuple[int, str]]:
    """`times` redemptions one after another (a person tapping "redeem" in a flash sale), each its own request."""
    return [race_redeem(user_id, goods_id, {"request_id": request_id()}) for _ in range(times)]


def race_verify(staff_token: str, code: str) -> tuple[int, str]:
    from chalicelib import bootstrap
    from chalicelib.api.merchant import verify_command
    from chalicelib.errors import AppError
    from chalicelib.services import tokens, verification

    try:
        command = verify_command(tokens.verify(f"Bearer {staff_token}"), {"code": code})
        verification.verify_code(command, bootstrap.scans())
        return 200, ""
    except AppError as error:
        return error.status, error.code


def race_cancel(user_id: str, redemption_id: str) -> tuple[int, str]:
    from chalicelib import bootstrap
    from chalicelib.domain.commands_market import CancelRedemption
    from chalicelib.errors import AppError
    from chalicelib.services import redemptions

    try:
        redemptions.cancel_redemption(CancelRedemption(user_id, redemption_id), bootstrap.posting_uow(),
                                      bootstrap.sold_redemptions())
        return 200, ""
    except AppError as error:
        return error.status, error.code


def race_scan_or_cancel(action: str, *args: str) -> tuple[str, int, str]:
    """A merchant's scan or the user's cancel, for racing one against the other."""
    outcome = race_verify(*args) if action == "verify" else race_cancel(*args)
    return (action, *outcome)


def race_credit(staff_token: str, body: dict) -> tuple[int, str, str | None]:
    """One operator credit through the service layer; (status, error code or "", details.cap)."""
    from chalicelib import bootstrap
    from chalicelib.api.merchant import credit_command
    from chalicelib.errors import AppError
    from chalicelib.services import collection, tokens

    try:
        command = credit_command(tokens.verify(f"Bearer {staff_token}"), body)
        collection.credit_collection(command, bootstrap.collection_uow())
        return 201, "", None
    except AppError as error:
        return error.status, error.code, (error.details or {}).get("cap")
