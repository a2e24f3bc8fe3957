"""The guards of ingesting partner events (services/ingest.py): each event counts once, and only while the
consent the events were checked against is still the bound one.

Both are lost races, not answers: a refused one makes the unit of work read again (`refuses = False`),
and the use case then finds the event seen, or the consent revoked, and counts it so.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from .guards import Guard


@dataclass(frozen=True)
class EventUnseen(Guard):
    """The partner event `key` ("{partner}#{event_id}") is new; the same transaction marks it seen."""

    key: str
    user_id: str
    day: date
    refuses: ClassVar[bool] = False


@dataclass(frozen=True)
class ConsentStillBound(Guard):
    """The user's consent to `partner` is still bound under `authorization_id` (not revoked, not bound anew)."""

    user_id: str
    partner: str
    authorization_id: str | None
    refuses: ClassVar[bool] = False


@dataclass(frozen=True)
class CarbonClaimed(Guard):
    """The person's reduction (`key` = "carbon#{person}#{partner}#{event_id}") is recorded with its carbon on
    platform `via`, in the entry `entry_id`: new on every platform (`attribute_not_exists`). Refused, it names
    the platform that holds it (the unit of work's `holders`), and the next attempt records the event there
    as already counted (`CarbonHeldBy`, the entry's carbon 0 and `counted_via`)."""

    key: str
    via: str
    user_id: str
    entry_id: str
    carbon_mg: int
    day: date
    refuses: ClassVar[bool] = False


@dataclass(frozen=True)
class CarbonHeldBy(Guard):
    """The person's reduction `key` is still held by platform `via` (claims are never rewritten)."""

    key: str
    via: str
    refuses: ClassVar[bool] = False
