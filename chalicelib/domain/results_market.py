"""What the marketplace's use cases after the sale return (domain/results.py: the others)."""
from __future__ import annotations

from .market import Redemption
from .posting import LedgerLine
from .values import immutable


@immutable
class CancelResult:
    """A cancelled redemption (refunded), the balance after, and the refund entry."""

    redemption: Redemption
    points: int
    entry: LedgerLine


@immutable
class ScanResult:
    """A code handed over: the redemption as the merchant's staff see it."""

    redemption_id: str
    goods_id: str
    goods_name: str
    used_at: str
    points_spent: int
