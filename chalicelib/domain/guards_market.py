"""The conditions of the marketplace after the sale, named as objects (domain/guards.py says what a guard is).

- `RedemptionSettled`: a refund's posting (a user's cancel, expiry, account deletion) moves the redemption
  out of `issued`, gives one unit back to stock and releases the user's claim on the goods.
- `RedemptionUsed`, `VerificationRecorded`, `ScanWindowOpen`: a merchant's scan, one transaction without a
  posting (store/scans.py), so that of several staff scanning one code exactly one hands the goods over.
"""
from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from .guards import Guard
from .market_after_sale import CodePointer
from .values import immutable


@immutable
class RedemptionSettled(Guard):
    """The redemption leaves `issued` for `status`, refunded: "cancelled" only before its expiry, "expired"
    only at or after it. Refused when it already left `issued` (used, cancelled, expired) or is on the
    wrong side of its expiry. One unit goes back to the stock shard it came from, of the redemption's platform's
    goods; the claim shrinks when the goods had a limit."""

    redemption_id: str
    user_id: str
    goods_id: str
    per_user_limit: int | None
    status: str
    at: datetime
    stock_shard: int | None = None  # the stock sub-item the unit goes back to (None: the goods' only one)
    platform: str | None = None  # the platform whose goods' stock it goes back to (None: `default`'s)


@immutable
class RedemptionUsed(Guard):
    """The redemption goes `issued` -> `used` by `staff_user_id`, provided it is still issued and not
    expired at `at`: of several staff scanning one code at once, one hands the goods over."""

    redemption_id: str
    staff_user_id: str
    at: datetime


@immutable
class VerificationRecorded(Guard):
    """The merchant's day gets a new row for the scan (by a fresh time-sortable id) and its totals grow:
    an id collision retries."""

    pointer: CodePointer
    row_id: str
    staff_user_id: str
    at: datetime
    refuses: ClassVar[bool] = False


@immutable
class ScanWindowOpen(Guard):
    """The staff member's window of failed scans (services/attempts.py) holds fewer than `limit`."""

    window_key: str
    limit: int
