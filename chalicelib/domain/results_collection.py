"""What the collection-point and operator-correction use cases return (domain/results.py)."""
from __future__ import annotations

from dataclasses import dataclass

from .posting import LedgerLine


@dataclass(frozen=True)
class MemberCodeIssued:
    code: str
    expires_at: str
    expires_in: int  # seconds


@dataclass(frozen=True)
class CollectionCredit:
    entry: LedgerLine  # the credited member's entry
    nickname: str | None  # the member's, shown to the staff member


@dataclass(frozen=True)
class PointsAdjusted:
    entry: LedgerLine
    points: int  # the balance after


@dataclass(frozen=True)
class FrozenSet:
    user_id: str
    frozen: bool
    reason: str | None
