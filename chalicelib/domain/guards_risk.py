"""The risk rules' memory, as guards of the writes that feed it (docs/risk.md rules 4 and 5).

Each memory is one small item per pair it judges, written in the transaction of the write whose data it
keeps, so no warm request makes a call of its own for it:
- `StaffDaysRemembered`: the days a staff member credited one person (rule 4 `staff_same_person`), in the
  collection credit's transaction;
- `RingRemembered`: the young accounts' redemptions of one goods a staff member verified (rule 5
  `redemption_ring`), in the verification's transaction.

Each has two shapes. The usual one writes without knowing what the item holds, on a condition that says the rule
cannot fire (no other day of the window kept; fewer kept redemptions than a ring needs). When that condition
refuses, the use case reads the item (the rare path), judges the rule on what it read, and writes again the
exact shape, conditioned on the item's `rev` being what it read.
"""
from __future__ import annotations

from datetime import date, datetime

from .guards import Guard
from .platforms import scoped
from .values import immutable


def staff_person_key(platform: str, staff_id: str, member_id: str) -> str:
    """The memory of a staff member's credits to one person (the platform's staff: its own key)."""
    return f"staff-person#{scoped(platform, staff_id)}#{member_id}"


def staff_ceiling_key(platform: str, staff_id: str) -> str:
    return f"staff-ceiling#{scoped(platform, staff_id)}"


def ring_key(platform: str, goods_id: str, staff_id: str) -> str:
    """The memory of one goods of the platform verified by one staff member."""
    return f"ring#{scoped(platform, goods_id)}#{staff_id}"


@immutable
class StaffDaysRemembered(Guard):
    """The staff member credited the person on `day` (item `key`, one attribute per day)."""

    key: str
    day: date
    window_days: int
    rev: int | None = None  # the read's `rev` (0: no item): the exact shape; None: the usual one
    stale: tuple[date, ...] = ()  # the exact shape: the days read that fell out of the window (removed)


@immutable
class RingEntry:
    """One young account's redemption, as kept: who, when redeemed, how old the account was (s), and whether
    the rule already put it under review."""

    user_id: str
    redeemed_at: datetime
    age_s: int
    flagged: bool = False


@immutable
class RingRemembered(Guard):
    """A young account's redemption of a goods, verified by a staff member (item `key`): appended while the
    item holds fewer than `room` entries; with `kept` (and `rev`) the item becomes exactly `kept`."""

    key: str
    entry: RingEntry
    room: int
    kept: tuple[RingEntry, ...] | None = None
    rev: int = 0
    window_hours: int = 24  # how long the item is kept after this redemption (then purged by TTL)
