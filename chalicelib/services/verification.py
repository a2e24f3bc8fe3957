"""Merchant staff hand goods over (核销): POST /v1/merchant/verify and GET /v1/merchant/redemptions.

A scan is a GetItem of the code, then one transaction: the redemption goes `issued` -> `used` on the
condition that it is still issued and not expired, the merchant's day gets a verification row and its
totals, and the staff member's failed-attempt window is checked. Of several staff scanning one code at
once exactly one transaction passes; the others learn why from the redemption.
"""
from __future__ import annotations

import random
import re
import time
from datetime import date, datetime

from ..domain import clock, ids
from ..domain import market as rules
from ..errors import (
    AppError,
    CodeAlreadyUsedError,
    CodeCancelledError,
    CodeExpiredError,
    CodeNotFoundError,
    NotYourMerchantError,
    ServiceUnavailableError,
    ValidationError,
)
from ..store import cursor as cursors
from ..store.market import TOTALS_SK, Redemption, RedemptionCode, Verification, merchant_day
from ..store.tx import Tx, TxCancelledError
from . import attempts
from .ledger import parse_limit
from .staff import require_staff
from .tokens import Caller

ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_ATTEMPTS = 5


def verify(caller: Caller, body: dict) -> dict:
    merchant_id = require_staff(caller)
    raw = body.get("code")
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("请扫描或输入兑换码", field="code")
    now = clock.now()
    code = rules.normalize_code(raw, rules.REDEMPTION_QR_PREFIX, rules.REDEMPTION_CODE_LENGTH)
    if code is None:
        attempts.refuse(caller.user_id, CodeNotFoundError(), now)
    try:
        pointer = RedemptionCode.get(code, consistent_read=True)
    except RedemptionCode.DoesNotExist:
        attempts.refuse(caller.user_id, CodeNotFoundError(), now)
    if pointer.merchant_id != merchant_id:
        attempts.refuse(caller.user_id, NotYourMerchantError(), now)
    for attempt in range(MAX_ATTEMPTS):
        now = clock.now() if attempt else now
        if now.timestamp() >= int(pointer.expires_epoch):
            raise CodeExpiredError()
        try:
            _use(pointer, caller.user_id, now)
        except TxCancelledError as cancelled:
            if "attempts" in cancelled.failed:
                raise attempts.limited(now) from None
            if "redemption" in cancelled.failed:
                raise _why_not(pointer.redemption_id, now) from None
            time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))  # a conflict: try again
            continue
        return {"redemption": {"id": pointer.redemption_id, "goods_id": pointer.goods_id,
                               "goods_name": pointer.goods_name, "status": "used", "used_at": clock.iso(now),
                               "points_spent": int(pointer.points_spent)}}
    raise ServiceUnavailableError()


def _use(pointer: RedemptionCode, staff_user_id: str, now: datetime) -> None:
    at, day = clock.iso(now), merchant_day(pointer.merchant_id, clock.business_day(now))
    tx = Tx()
    tx.update("redemption", Redemption(pointer.redemption_id), actions=[
        Redemption.status.set("used"), Redemption.used_at.set(at), Redemption.used_by.set(staff_user_id),
        Redemption.expiry_bucket.remove(),
    ], condition=(Redemption.status == "issued") & (Redemption.expires_epoch > int(now.timestamp())))
    row = Verification(day, "v#" + ids.sortable_id(clock.epoch_ms(now)), redemption_id=pointer.redemption_id,
                       goods_id=pointer.goods_id, goods_name=pointer.goods_name, used_at=at,
                       staff_user_id=staff_user_id, points=int(pointer.points_spent))
    tx.put("row", row, condition=Verification.sk.does_not_exist())
    tx.update("totals", Verification(day, TOTALS_SK),
              actions=[Verification.count.add(1), Verification.points.add(int(pointer.points_spent))])
    attempts.check(tx, staff_user_id, now)
    tx.commit()


def _why_not(redemption_id: str, now: datetime) -> AppError:
    """The scan lost: a read (on this failure path only) says to whom or to what."""
    try:
        redemption = Redemption.get(redemption_id, consistent_read=True)
    except Redemption.DoesNotExist:
        return CodeNotFoundError()
    if redemption.status == "used":
        return CodeAlreadyUsedError(used_at=redemption.used_at)
    if redemption.status == "cancelled":
        return CodeCancelledError()
    if redemption.status == "expired" or now.timestamp() >= int(redemption.expires_epoch):
        return CodeExpiredError()
    return ServiceUnavailableError()


def merchant_redemptions(caller: Caller, query: dict) -> dict:
    """GET /v1/merchant/redemptions: the merchant's verified redemptions of one business day, newest first,
    with the day's totals. The first page is one Query (the totals item sorts first); later pages add a GetItem."""
    merchant_id = require_staff(caller)
    day = _day(query.get("date"))
    limit = parse_limit(query.get("limit"))
    context = f"merchant-redemptions|{merchant_id}|{day.isoformat()}"
    start = cursors.decode(query.get("cursor"), context)
    key = merchant_day(merchant_id, day)
    totals = None
    if start is None:
        results = Verification.query(key, scan_index_forward=False, limit=limit + 1)
        rows = list(results)
        if rows and rows[0].sk == TOTALS_SK:
            totals, rows = rows[0], rows[1:]
    else:
        results = Verification.query(key, Verification.sk.startswith("v#"), scan_index_forward=False, limit=limit,
                                     last_evaluated_key=start)
        rows = list(results)
        try:
            totals = Verification.get(key, TOTALS_SK)
        except Verification.DoesNotExist:
            totals = None
    items = [{"id": r.redemption_id, "goods_id": r.goods_id, "goods_name": r.goods_name, "used_at": r.used_at,
              "points_spent": int(r.points), "verified_by": r.staff_user_id} for r in rows]
    return {"date": day.isoformat(), "items": items,
            "next_cursor": cursors.encode(results.last_evaluated_key, context),
            "totals": {"count": int(totals.count) if totals else 0, "points": int(totals.points) if totals else 0}}


def _day(raw: str | None) -> date:
    if not raw:
        return clock.business_day(clock.now())
    try:
        if not ISO_DAY.fullmatch(raw):  # ASCII digits only: fromisoformat also takes 20261123 and 2026-W48-1
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError("date 须为 YYYY-MM-DD", field="date", reason="pattern", pattern=ISO_DAY.pattern,
                              rule="date: a day as YYYY-MM-DD in ASCII digits (default: today, Asia/Shanghai)",
                              ) from None
