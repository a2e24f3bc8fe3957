"""What the marketplace reads after the sale: a code's pointer, the merchant's verified rows, pages."""
from __future__ import annotations

from datetime import date

from .market import Redemption
from .values import immutable


@immutable
class CodePointer:
    """A redemption code's immutable pointer (store/market.py RedemptionCode): what a scan checks first. `code` is
    its key; `platform` the platform whose key it is (the scanning staff member's), None for `default`."""

    code: str
    redemption_id: str
    merchant_id: str
    goods_id: str
    goods_name: str
    points_spent: int
    expires_epoch: int
    platform: str | None = None
    # Rule 5 (services/staff_rules.py): who redeemed, when, and when their account was made (absent on codes
    # issued before the rule: such a redemption is never part of a ring).
    user_id: str | None = None
    redeemed_at: str | None = None
    joined_at: str | None = None


@immutable
class VerifiedRow:
    """One redemption a merchant's staff handed over (store/market.py Verification, "v#..." rows)."""

    redemption_id: str
    goods_id: str
    goods_name: str
    used_at: str
    points_spent: int
    staff_user_id: str


@immutable
class MerchantDay:
    """A page of a merchant's business day, newest first, with the day's totals; `cursor`: the next page."""

    day: date
    rows: list[VerifiedRow]
    count: int
    points: int
    cursor: str | None


@immutable
class RedemptionsPage:
    """A page of a user's redemptions, newest first; `cursor`: the next page."""

    items: list[Redemption]
    cursor: str | None
