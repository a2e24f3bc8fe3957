"""What the collection-point and operator-correction use cases return (domain/results.py)."""
from __future__ import annotations

from .posting import LedgerLine
from .values import immutable


@immutable
class MemberCodeIssued:
    code: str
    expires_at: str
    expires_in: int  # seconds


@immutable
class CollectionCredit:
    entry: LedgerLine  # the credited member's entry
    nickname: str | None  # the member's, shown to the staff member


@immutable
class PointsAdjusted:
    entry: LedgerLine
    points: int  # the balance after


@immutable
class FrozenSet:
    user_id: str
    frozen: bool
    reason: str | None
