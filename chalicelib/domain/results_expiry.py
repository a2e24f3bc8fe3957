"""What the postings that take points out by rule return (domain/results.py: the others)."""
from __future__ import annotations

from dataclasses import dataclass

from .posting import LedgerLine


@dataclass(frozen=True)
class PointsExpired:
    """`points` expired by `entry` (None and 0: nothing was due, nothing written); `balance` after."""

    points: int
    entry: LedgerLine | None
    balance: int


@dataclass(frozen=True)
class PointsForfeited:
    """The balance a deleted account lost by `entry` (None and 0: nothing was left, nothing written)."""

    points: int
    entry: LedgerLine | None

