"""What the postings that take points out by rule return (domain/results.py: the others)."""
from __future__ import annotations

from datetime import date

from .posting import LedgerLine
from .values import immutable


@immutable
class PointsExpired:
    """`points` expired by `entry` (None and 0: nothing was due, nothing written); `balance` after."""

    points: int
    entry: LedgerLine | None
    balance: int


@immutable
class PointsForfeited:
    """The balance a deleted account lost by `entry` (None and 0: nothing was left, nothing written)."""

    points: int
    entry: LedgerLine | None



@immutable
class PointsExpiring:
    """What GET /v1/me shows: the next `points` to expire and `on`, the last day they can be used."""

    points: int
    on: date | None
