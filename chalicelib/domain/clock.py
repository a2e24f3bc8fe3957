"""Time as the contract defines it: ISO 8601 with offset, business days in Asia/Shanghai.

China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact for every date
the platform can see, and needs no tz database in the Lambda image.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
LATE_EVENT_DAYS = 7  # events up to 7 days late still count (api.md definitions)


def now() -> datetime:
    return datetime.now(SHANGHAI)


def business_day(moment: datetime) -> date:
    """The Asia/Shanghai calendar day of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(SHANGHAI).date()


def days(first: date, last: date) -> list[date]:
    """Every day from `first` to `last`, both included (none when `last` is before `first`)."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def iso(moment: datetime) -> str:
    """2026-11-23T08:30:00+08:00 (milliseconds kept when present); naive datetimes are refused."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    moment = moment.astimezone(SHANGHAI)
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec)


def parse_iso(text: str) -> datetime:
    """An ISO 8601 timestamp with an offset; naive timestamps are refused."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("timestamp without offset")
    return value


def from_epoch_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, SHANGHAI)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
