"""Redeeming goods for points, the user's redemptions, and cancelling one.

A redemption is one posting (services/posting.post): the `spend` entry and the balance, plus, in the
same transaction, one unit of stock (`left > 0`), the user's claim on the goods (`count < limit`), the
redemption and its code (`attribute_not_exists`). Cancel and refunded expiry are `refund` postings
whose transaction moves the redemption out of `issued` on the condition that it still is, so a code
is used, cancelled or expired exactly once and never refunded twice.
"""
from __future__ import annotations

import json
from datetime import datetime

from ..domain import clock, ids
from ..domain import market as rules
from ..errors import (
    AccountFrozenError,
    InsufficientPointsError,
    NotCancellableError,
    NotFoundError,
    OutOfStockError,
    PerUserLimitReachedError,
    ValidationError,
)
from ..sealing import seal
from ..store import cursor as cursors
from ..store.idempotency import IdempotencyKey, parse_request_id
from ..store.market import Counter, Redemption, RedemptionCode, account_and_redemption, claim_key, expiry_bucket
from ..store.models import Account
from ..store.stock import give_back_one, take_one
from ..store.tx import Tx
from . import goods as shelf
from .ledger import parse_limit
from .posting import Plan, Posting, post
from .tokens import Caller

REDEEM_ROUTE = "POST /v1/market/goods/{id}/redeem"
CANCEL_ROUTE = "POST /v1/me/redemptions/{id}/cancel"


def redeem(caller: Caller, goods_id: str, body: dict) -> tuple[int, dict]:
    """POST /v1/market/goods/{id}/redeem: a GetItem of the account and one transaction."""
    request_id = parse_request_id(body.get("request_id"))
    goods = shelf.on_sale(goods_id)
    address = _address(goods, body.get("address"))
    idem = IdempotencyKey(caller.user_id, request_id, REDEEM_ROUTE, {"goods_id": goods.id, "address": address})

    def plan(account: Account) -> Plan:
        if account.frozen:
            raise AccountFrozenError()
        if int(account.points) < goods.points_price:
            raise InsufficientPointsError(points=int(account.points), points_price=goods.points_price)
        redemption, pointer = _issue(caller.user_id, goods, address, request_id)

        def extra(tx: Tx) -> None:
            take_one(tx, goods.stock_key)
            if goods.per_user_limit is not None:
                tx.update("claim", Counter(claim_key(caller.user_id, goods.id)), actions=[Counter.count.add(1)],
                          condition=Counter.count.does_not_exist() | (Counter.count < goods.per_user_limit))
            tx.put_new("redemption", Redemption, redemption.attribute_values)
            tx.put_new("code", RedemptionCode, pointer.attribute_values)

        return Plan(
            [Posting("spend", -goods.points_price, 0, "market", ref=redemption.redemption_id)],
            respond=lambda entries, after: (201, {"redemption": redemption_json(redemption),
                                                  "points": int(after.points), "entry": entries[0]}),
            extra=extra,
            # A code or id collision (80 random bits) is not listed: posting retries with fresh ones.
            refusals={"stock": OutOfStockError(goods_id=goods.id),
                      "claim": PerUserLimitReachedError(per_user_limit=goods.per_user_limit)},
        )

    return post(caller.user_id, plan, idem, request_id)


def _address(goods: rules.Goods, raw: object) -> dict | None:
    if goods.kind != "physical":
        return None  # only physical goods are delivered; an address sent for others is ignored
    try:
        return rules.clean_address(raw)
    except rules.AddressError as exc:
        raise ValidationError(str(exc), field=exc.field, **exc.rule) from None


def _issue(user_id: str, goods: rules.Goods, address: dict | None,
           request_id: str) -> tuple[Redemption, RedemptionCode]:
    now = clock.now()
    redemption_id = ids.sortable_id(clock.epoch_ms(now))
    code = rules.redemption_code()
    expires = rules.expires_at(now, goods.valid_days)
    epoch = int(expires.timestamp())
    redemption = Redemption(
        redemption_id, user_id=user_id, goods_id=goods.id, goods_name=goods.name, kind=goods.kind,
        merchant_id=goods.merchant_id, code=code, status="issued", points_spent=goods.points_price,
        created_at=clock.iso(now), expires_at=clock.iso(expires), expires_epoch=epoch,
        expiry_bucket=expiry_bucket(), cancellable=goods.cancellable,
        refund_on_expiry=goods.refund_on_expiry, per_user_limit=goods.per_user_limit, request_id=request_id)
    if address:
        redemption.address_sealed = seal(json.dumps(address, ensure_ascii=False), address_context(redemption_id))
        redemption.address_masked = rules.mask_address(address)
    pointer = RedemptionCode(code, redemption_id=redemption_id, merchant_id=goods.merchant_id, goods_id=goods.id,
                             goods_name=goods.name, points_spent=goods.points_price, expires_epoch=epoch)
    return redemption, pointer


def address_context(redemption_id: str) -> str:
    """What a sealed address is bound to: copied onto another redemption, it does not open."""
    return f"redemption#{redemption_id}"


def effective_status(redemption: Redemption, now: datetime) -> str:
    """An issued code past its expiry is expired, whether or not the expiry job has run yet."""
    if redemption.status == "issued" and now.timestamp() >= int(redemption.expires_epoch):
        return "expired"
    return redemption.status


def redemption_json(redemption: Redemption, now: datetime | None = None) -> dict:
    status = effective_status(redemption, now or clock.now())
    return {
        "id": redemption.redemption_id, "goods_id": redemption.goods_id, "goods_name": redemption.goods_name,
        "kind": redemption.kind, "merchant": shelf.merchant_json(redemption.merchant_id),
        "code": redemption.code, "qr_payload": rules.REDEMPTION_QR_PREFIX + redemption.code, "status": status,
        "points_spent": int(redemption.points_spent), "created_at": redemption.created_at,
        "expires_at": redemption.expires_at, "used_at": redemption.used_at,
        "cancelled_at": redemption.cancelled_at, "expired_at": redemption.expired_at,
        "refunded": bool(redemption.refunded), "cancellable": bool(redemption.cancellable) and status == "issued",
        "address": redemption.address_masked,
    }


def page(caller: Caller, query: dict) -> dict:
    """GET /v1/me/redemptions: newest first, one Query of the `by_user` index."""
    limit = parse_limit(query.get("limit"))
    context = f"redemptions|{caller.user_id}"
    results = Redemption.by_user.query(caller.user_id, scan_index_forward=False, limit=limit,
                                       last_evaluated_key=cursors.decode(query.get("cursor"), context))
    now = clock.now()
    items = [redemption_json(r, now) for r in results]
    return {"items": items, "next_cursor": cursors.encode(results.last_evaluated_key, context)}


def one(caller: Caller, redemption_id: str) -> dict:
    """GET /v1/me/redemptions/{id}: another user's id is a 404, exactly like a missing one."""
    if not _could_exist(redemption_id):
        raise NotFoundError()
    try:
        redemption = Redemption.get(redemption_id, consistent_read=True)
    except Redemption.DoesNotExist:
        raise NotFoundError() from None
    if redemption.user_id != caller.user_id:
        raise NotFoundError()
    return redemption_json(redemption)


def cancel(caller: Caller, redemption_id: str) -> tuple[int, dict]:
    """POST /v1/me/redemptions/{id}/cancel: one BatchGetItem (account and redemption) and one transaction.

    Remembered under "cancel:{id}" (a request_id no client can send), so a retried cancel gets the
    first answer instead of NOT_CANCELLABLE."""
    if not _could_exist(redemption_id):
        raise NotFoundError()
    account, redemption = account_and_redemption(caller.user_id, redemption_id)
    if redemption is None or account is None or redemption.user_id != caller.user_id:
        raise NotFoundError()
    idem = IdempotencyKey(caller.user_id, f"cancel:{redemption_id}", CANCEL_ROUTE, {"redemption_id": redemption_id})

    def plan(acct: Account) -> Plan:
        if acct.frozen:
            raise AccountFrozenError()
        now = clock.now()
        status = effective_status(redemption, now)
        if status != "issued" or not redemption.cancellable:
            raise NotCancellableError(status=status, cancellable=bool(redemption.cancellable))
        shown = {**redemption_json(redemption, now), "status": "cancelled", "cancelled_at": clock.iso(now),
                 "refunded": True, "cancellable": False}
        return Plan(
            [Posting("refund", int(redemption.points_spent), 0, "market", ref=redemption_id)],
            respond=lambda entries, after: (200, {"redemption": shown, "points": int(after.points),
                                                  "entry": entries[0]}),
            extra=lambda tx: unwind(tx, redemption, "cancelled", now),
            refusals={"redemption": NotCancellableError()},
        )

    return post(caller.user_id, plan, idem, None, account=account)


def _could_exist(redemption_id: str) -> bool:
    """Ids are 26 characters (domain/ids.sortable_id). A much longer one cannot exist, and DynamoDB refuses
    keys over 2 KB with an error that would otherwise surface as a 503 (tests/reliability/test_bad_input.py)."""
    return 0 < len(redemption_id) <= 64


def unwind(tx: Tx, redemption: Redemption, status: str, now: datetime) -> None:
    """Undoes a refunded redemption: out of `issued` (only if still issued, and on the right side of its
    expiry), one unit back to stock, the user's claim on the goods released."""
    epoch = int(now.timestamp())
    stamp = Redemption.cancelled_at if status == "cancelled" else Redemption.expired_at
    in_time = Redemption.expires_epoch > epoch if status == "cancelled" else Redemption.expires_epoch <= epoch
    tx.update("redemption", Redemption(redemption.redemption_id), actions=[
        Redemption.status.set(status), stamp.set(clock.iso(now)), Redemption.refunded.set(True),
        Redemption.expiry_bucket.remove(),
    ], condition=(Redemption.status == "issued") & in_time)
    give_back_one(tx, rules.stock_key(redemption.goods_id))
    if redemption.per_user_limit is not None:
        tx.update("claim", Counter(claim_key(redemption.user_id, redemption.goods_id)),
                  actions=[Counter.count.add(-1)])
