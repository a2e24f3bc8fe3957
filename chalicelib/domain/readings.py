"""Monthly readings against the same month a year earlier (open-protocol.md, `"baseline": "same_month_last_year"`).
Pure functions.

A partner's event of such a mapping carries a month's usage (`month` "2026-10" and the quantity field, kWh of a
household) and a `revision` (0 when absent). What is credited is `max(0, baseline - usage)`, where the baseline is
the same partner's recorded usage for the same `user_ref` and the same month a year earlier. The reading is
recorded durably (store/partners.PartnerReading, "{partner}#{user_ref}#{month}"), with the baseline it was first
credited against and what it credited:

- a first reading without a baseline is recorded and credits nothing (no ledger entry);
- a first reading with one earns an `earn` entry of the saving (caps of partner-verified events apply);
- a corrected reading (same `event_id`, higher `revision`) is credited against the baseline *as recorded with the
  first reading of that month* (a later correction of the baseline month never changes a month already recorded)
  and replaces the earlier figures by one `adjust` entry of the difference in carbon and points, the points never
  taking the balance below zero; a revision not higher than the recorded one is a duplicate.

When: a reading counts on the business day of its `occurred_at` (when the partner settled it), within the 7 days
every event has; its month must have ended by then, and be at most MONTHS_BACK months before, so a partner can
send, with a month's reading, the same month a year earlier as its baseline, and no older history.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from . import clock
from .caps import DayCount, award_verified_event
from .methodology import Rule, plain
from .posting import Posting

SAME_MONTH_LAST_YEAR = "same_month_last_year"
MONTHS_BACK = 13  # the month a year before the month just ended is still accepted (its baseline)
MAX_REVISION = 1_000_000
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class Reading:
    """What a reading event says: its month, its revision and the month's usage (in the behaviour's unit)."""

    month: str
    revision: int
    usage: Decimal


@dataclass(frozen=True)
class Recorded:
    """A reading as stored: the event it came from, the user it was credited to, its revision and usage, the
    baseline it is credited against (None: there was none when it was first recorded), the saving and what it
    credited in all (net of corrections)."""

    event_id: str
    user_id: str
    revision: int
    usage: Decimal
    baseline: Decimal | None
    saved: Decimal
    carbon_mg: int
    points: int


def reading_key(partner: str, user_ref: str, month: str) -> str:
    return f"{partner}#{user_ref}#{month}"


def year_before(month: str) -> str:
    year, number = month.split("-")
    return f"{int(year) - 1:04d}-{number}"


def month_of(value: object) -> str | None:
    return value if isinstance(value, str) and _MONTH.fullmatch(value) else None


def revision_of(value: object) -> int | None:
    """An integer 0..MAX_REVISION (0 when absent); None when malformed (a bool, a float, a string ...)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_REVISION:
        return None
    return value


def acceptable(month: str, occurred_at: datetime) -> bool:
    """The month has ended by the business day of `occurred_at`, and is at most MONTHS_BACK months before it."""
    day = clock.business_day(occurred_at)
    year, number = (int(part) for part in month.split("-"))
    back = (day.year - year) * 12 + day.month - number
    return 1 <= back <= MONTHS_BACK


def saving(baseline: Decimal | None, usage: Decimal) -> Decimal:
    """max(0, baseline - usage); nothing without a baseline."""
    return plain(max(Decimal(0), baseline - usage)) if baseline is not None else Decimal(0)


def credit(rule: Rule, partner: str, event_id: str, user_id: str, reading: Reading, day: date, detail: dict,
           recorded: Recorded | None, baseline: Recorded | None, day_count: DayCount,
           balance: int) -> tuple[Posting | None, Recorded]:
    """The posting a reading makes (None: nothing to credit or correct) and the reading as it is then recorded.

    `recorded`: the month's reading as stored (None: the first); `baseline`: the year-earlier month's, read now
    (used only by a first reading); `balance`: the points before this posting (a correction never takes them
    below zero)."""
    inputs = {**detail, "month": reading.month, "revision": reading.revision, "usage": str(reading.usage)}
    if recorded is None:
        base = baseline.usage if baseline is not None else None
        saved = saving(base, reading.usage)
        record = Recorded(event_id, user_id, reading.revision, reading.usage, base, saved, 0, 0)
        if saved <= 0:
            return None, record
        award = award_verified_event(rule, day_count, saved)
        posting = Posting("earn", award.points, award.carbon_mg, partner, behavior=rule.code, rule=rule,
                          inputs={**award.inputs, **inputs, "baseline": str(base)}, ref=event_id, day=day,
                          day_count=award.day)
        return posting, Recorded(event_id, user_id, reading.revision, reading.usage, base, saved, award.carbon_mg,
                                 award.points)
    saved = saving(recorded.baseline, reading.usage)
    carbon = rule.carbon_for(saved) - recorded.carbon_mg
    points = max(rule.points_for(saved) - recorded.points, -balance)
    record = Recorded(event_id, user_id, reading.revision, reading.usage, recorded.baseline, saved,
                      recorded.carbon_mg + carbon, recorded.points + points)
    if carbon == 0 and points == 0:
        return None, record
    inputs.update(quantity=str(saved), previous_quantity=str(recorded.saved), previous_usage=str(recorded.usage),
                  previous_revision=recorded.revision,
                  baseline=None if recorded.baseline is None else str(recorded.baseline))
    return Posting("adjust", points, carbon, partner, behavior=rule.code, rule=rule, inputs=inputs, ref=event_id,
                   reason=f"corrected reading of {reading.month} (revision {reading.revision})", day=day), record
