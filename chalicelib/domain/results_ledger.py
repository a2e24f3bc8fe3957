"""What reading one's own ledger returns: a page of entries, and the totals of a period (domain/results.py:
the postings' results)."""
from __future__ import annotations

from .equivalents import Equivalents
from .posting import LedgerLine
from .values import immutable


@immutable
class LedgerPage:
    lines: list[LedgerLine]  # newest first
    next_cursor: str | None  # opaque (store/cursor.py), bound to the caller and the filter


@immutable
class MonthRow:
    """One stored summary: a month's events, carbon and points of one behaviour (store/models.BehaviorMonth)."""

    month: str  # "2026-05"
    behavior: str
    events: int
    carbon_mg: int
    points: int


@immutable
class BehaviorTotals:
    """One behaviour's share of the period (`name`: the catalog's, or the code's own for accrual)."""

    behavior: str
    name: str
    events: int
    carbon_mg: int
    points: int


@immutable
class MonthTotals:
    """One month of the period, every behaviour together."""

    month: str
    carbon_mg: int
    points: int


@immutable
class Summary:
    """GET /v1/me/summary's figures: totals, their split, and what they mean to a person."""

    period: str  # month | year | all
    carbon_mg: int
    points: int
    by_behavior: list[BehaviorTotals]  # most carbon first
    by_month: list[MonthTotals]  # oldest first
    equivalents: Equivalents
