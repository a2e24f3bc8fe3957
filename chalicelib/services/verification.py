"""verify_code: merchant staff hand goods over (核销), POST /v1/merchant/verify; and the merchant's day.

    route (api/merchant.py) -> verify_code -> the code's pointer -> one transaction (store/scans.py)

A scan reads the code's pointer (one GetItem), then writes one transaction of guards: the redemption goes
`issued` -> `used` provided it is still issued and not expired (`RedemptionUsed`), the merchant's day
gets a verification row and its totals (`VerificationRecorded`), and the staff member's window of failed
scans is not full (`ScanWindowOpen`). Of several staff scanning one code at once exactly one transaction
passes; the others learn why from the redemption. An unknown code, or another merchant's, counts as a
failed scan: the tenth in a window answers 429 to every scan of that person until the window ends.

A code's key is the scanning staff member's platform's (store/market.code_key: the code on `default`, "P#{code}"
on P), so another platform's code is a miss, 404 CODE_NOT_FOUND as an unknown one; the merchant's day is
"P#{merchant}#{day}" for P's merchant.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from ..domain import clock, ids
from ..domain import market as rules
from ..domain.commands_market import VerifyCode
from ..domain.guards import GuardFailed
from ..domain.guards_market import RedemptionUsed, ScanWindowOpen, VerificationRecorded
from ..domain.guards_risk import RingRemembered, ring_key
from ..domain.market import Redemption
from ..domain.market_after_sale import CodePointer, MerchantDay
from ..domain.platforms import DEFAULT
from ..domain.results_market import ScanResult
from ..errors import (
    AppError,
    CodeAlreadyUsedError,
    CodeCancelledError,
    CodeExpiredError,
    CodeNotFoundError,
    NotYourMerchantError,
    ServiceUnavailableError,
)
from . import attempts, staff_rules
from .catalog import risk_settings

MAX_ATTEMPTS = 5
RING_ATTEMPTS = 10  # more for rule 5's memory: verifications of one goods at one counter may race for it


def verify_code(command: VerifyCode, scans: Any, reviews: Callable[[], Any] | None = None) -> ScanResult:
    """`scans`: store/scans.Scans, or tests/unit/fakes_market.InMemoryScans; `reviews` builds the posting unit of
    work that puts a redemption ring under review (rule 5, services/staff_rules.py: only when it fires)."""
    now = clock.now()
    code = rules.normalize_code(command.code, rules.REDEMPTION_QR_PREFIX, rules.REDEMPTION_CODE_LENGTH)
    pointer = scans.pointer(code, command.platform) if code is not None else None  # another platform's: a miss
    if pointer is None:
        attempts.refuse(command.staff_user_id, CodeNotFoundError(), now, counters=scans)
    if pointer.merchant_id != command.merchant_id:
        attempts.refuse(command.staff_user_id, NotYourMerchantError(), now, counters=scans)
    ring = _ring(pointer, command, reviews)
    for attempt in range(MAX_ATTEMPTS + (RING_ATTEMPTS if ring else 0)):
        now = clock.now() if attempt else now
        if now.timestamp() >= pointer.expires_epoch:
            raise CodeExpiredError()
        try:
            if scans.commit(_hand_over(pointer, command.staff_user_id, now, ring)):
                staff_rules.after_verification(ring, pointer, command.staff_user_id, reviews, scans)
                return ScanResult(pointer.redemption_id, pointer.goods_id, pointer.goods_name, clock.iso(now),
                                  pointer.points_spent)
        except GuardFailed as failed:
            if isinstance(failed.guard, ScanWindowOpen):
                raise attempts.limited(now) from None
            if not isinstance(failed.guard, RingRemembered):
                raise why_not(scans.redemption(pointer.redemption_id), now) from None
            lost = ring.kept is not None  # the exact write lost to another verification of the same memory
            ring.read(scans)  # the rare path: the ring's memory read, judged, written exactly (rule 5)
            if not lost:
                continue
        time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))  # a conflict: try again
    raise ServiceUnavailableError()


def _ring(pointer: CodePointer, command: VerifyCode, reviews: Any) -> staff_rules.Ring | None:
    """Rule 5's part of the hand-over: a young account's redemption is kept for the (goods, staff member)."""
    if reviews is None:
        return None
    settings = risk_settings()
    entry = staff_rules.ring_entry(pointer, settings)
    if entry is None:
        return None
    return staff_rules.Ring(ring_key(command.platform, pointer.goods_id, command.staff_user_id), entry, settings)


def _hand_over(pointer: CodePointer, staff_user_id: str, now: datetime, ring: Any = None) -> list:
    return [RedemptionUsed(pointer.redemption_id, staff_user_id, now),
            VerificationRecorded(pointer, ids.sortable_id(clock.epoch_ms(now)), staff_user_id, now),
            ScanWindowOpen(attempts.window_key(staff_user_id, now), attempts.MAX_FAILURES),
            *([ring.guard()] if ring is not None else [])]


def why_not(redemption: Redemption | None, now: datetime) -> AppError:
    """Why the scan lost, from the redemption read again (on this failure path only)."""
    if redemption is None:
        return CodeNotFoundError()
    if redemption.status == "used":
        return CodeAlreadyUsedError(used_at=redemption.used_at)
    if redemption.status == "cancelled":
        return CodeCancelledError()
    if redemption.status == "expired" or now.timestamp() >= int(redemption.expires_epoch):
        return CodeExpiredError()
    return ServiceUnavailableError()


def merchant_day(merchant_id: str, day: date | None, limit: int, cursor: str | None, scans: Any,
                 platform: str = DEFAULT) -> MerchantDay:
    """GET /v1/merchant/redemptions: the verified redemptions of one business day (default: today) of the
    merchant of `platform` (the staff token's), newest first, with the day's totals."""
    return scans.merchant_day(merchant_id, day or clock.business_day(clock.now()), limit, cursor, platform)
