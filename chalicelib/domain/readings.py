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

Each platform (docs/platforms.md rule 2): the first platform to record a month holds its carbon (`via`); each other
platform of the person that imports it records its own `Share` on the same item (its user, revision, points) and
earns its own points under its own caps for 0 carbon, `counted_via` the holder. A correction adjusts each platform's
points against its own share, and the carbon once, on the holder.

Points of a correction (domain/caps.py, as any award): a correction up earns the extra points the reading is now
worth, within the `daily_points_max` room of its own day (the day of its `occurred_at`; a correction is the same
reading, not another event, so it takes no place under `daily_limit`); a correction down takes back what was
credited above what the reading is now worth (`worth`: its points before caps), never taking the balance below zero.

When: a reading counts on the business day of its `occurred_at` (when the partner settled it), within the 7 days
every event has; its month must have ended by then, and be at most MONTHS_BACK months before, so a partner can
send, with a month's reading, the same month a year earlier as its baseline, and no older history.
"""
from __future__ import annotations

import re
from dataclasses import field, replace
from datetime import date, datetime
from decimal import Decimal

from . import clock
from .caps import DayCount, award_correction, award_verified_event
from .methodology import Rule, plain
from .platforms import DEFAULT
from .posting import Posting
from .values import immutable

SAME_MONTH_LAST_YEAR = "same_month_last_year"
MONTHS_BACK = 13  # the month a year before the month just ended is still accepted (its baseline)
MAX_REVISION = 1_000_000
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@immutable
class Reading:
    """What a reading event says: its month, its revision and the month's usage (in the behaviour's unit)."""

    month: str
    revision: int
    usage: Decimal


@immutable
class Share:
    """What another platform than the holder credited for a month: its user, the revision it last took, the points
    it credited in all (net of corrections) and what the reading is worth there before caps."""

    user_id: str
    revision: int
    points: int
    worth: int


@immutable
class Recorded:
    """A reading as stored: the event it came from, the user it was credited to on the platform holding its carbon
    (`via`), its revision and usage, the baseline it is credited against (None: there was none when it was first
    recorded), the saving and what it credited there in all (net of corrections; `worth`: the points before caps,
    None as `points`), and the other platforms' shares."""

    event_id: str
    user_id: str
    revision: int
    usage: Decimal
    baseline: Decimal | None
    saved: Decimal
    carbon_mg: int
    points: int
    via: str = DEFAULT
    worth: int | None = None
    shares: dict[str, Share] = field(default_factory=dict)

    def holder_share(self) -> Share:
        return Share(self.user_id, self.revision, self.points, self.points if self.worth is None else self.worth)

    def share_of(self, platform: str) -> Share | None:
        """What `platform` credited for the month (None: nothing yet)."""
        return self.holder_share() if platform == self.via else self.shares.get(platform)


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
           recorded: Recorded | None, baseline: Recorded | None, day_count: DayCount, balance: int,
           platform: str = DEFAULT) -> tuple[Posting | None, Recorded]:
    """The posting a reading makes on `platform` (None: nothing to credit or correct) and the reading as it is then
    recorded.

    `recorded`: the month's reading as stored (None: the first); `baseline`: the year-earlier month's, read now
    (used only by a first reading); `balance`: the points before this posting (a correction never takes them
    below zero)."""
    inputs = {**detail, "month": reading.month, "revision": reading.revision, "usage": str(reading.usage)}
    if recorded is None:
        base = baseline.usage if baseline is not None else None
        saved = saving(base, reading.usage)
        record = Recorded(event_id, user_id, reading.revision, reading.usage, base, saved, 0, 0, platform,
                          rule.points_for(saved))
        if saved <= 0:
            return None, record
        award = award_verified_event(rule, day_count, saved)
        posting = Posting("earn", award.points, award.carbon_mg, partner, behavior=rule.code, rule=rule,
                          inputs={**award.inputs, **inputs, "baseline": str(base)}, ref=event_id, day=day,
                          day_count=award.day)
        return posting, replace(record, carbon_mg=award.carbon_mg, points=award.points)
    saved = saving(recorded.baseline, reading.usage)
    held = platform == recorded.via
    share = recorded.share_of(platform)
    counted_via = None if held else recorded.via
    if share is None:  # another platform imports a month the holder recorded: its own points, no carbon
        worth = rule.points_for(saved)
        record = replace(recorded, shares={**recorded.shares, platform: Share(user_id, reading.revision, 0, worth)})
        if saved <= 0:
            return None, record
        award = award_verified_event(rule, day_count, saved)
        posting = Posting("earn", award.points, 0, partner, behavior=rule.code, rule=rule,
                          inputs={**award.inputs, **inputs, "baseline": str(recorded.baseline)}, ref=event_id,
                          day=day, day_count=award.day, counted_via=counted_via)
        shares = {**recorded.shares, platform: Share(user_id, reading.revision, award.points, worth)}
        return posting, replace(recorded, shares=shares)
    worth = rule.points_for(saved)
    points, counted = corrected_points(rule, day_count, share, worth, balance)
    carbon = rule.carbon_for(saved) - recorded.carbon_mg if held else 0
    now = Share(user_id, reading.revision, share.points + points, worth)
    if held:
        record = replace(recorded, revision=reading.revision, usage=reading.usage, saved=saved,
                         carbon_mg=recorded.carbon_mg + carbon, points=now.points, worth=worth)
    else:
        record = replace(recorded, shares={**recorded.shares, platform: now})
    if carbon == 0 and points == 0:
        return None, record
    previous = recorded if held else None
    inputs.update(quantity=str(saved), previous_revision=share.revision,
                  baseline=None if recorded.baseline is None else str(recorded.baseline))
    if previous is not None:
        inputs.update(previous_quantity=str(previous.saved), previous_usage=str(previous.usage))
    return Posting("adjust", points, carbon, partner, behavior=rule.code, rule=rule, inputs=inputs, ref=event_id,
                   reason=f"corrected reading of {reading.month} (revision {reading.revision})", day=day,
                   day_count=counted, counted_via=counted_via), record


def corrected_points(rule: Rule, day: DayCount, share: Share, worth: int, balance: int) -> tuple[int, DayCount | None]:
    """The points a correction moves on one platform, and the day's counter after it (None: unchanged). Up: the
    extra worth, within the day's caps (caps.award_correction); down: what was credited above the new worth, never
    more than the balance."""
    extra = worth - max(share.worth, share.points)  # never above the new worth (a capped or unrecovered credit)
    if worth > share.worth:
        if extra <= 0:
            return 0, None
        award = award_correction(rule, day, extra)
        return award.points, award.day
    return -min(max(0, share.points - worth), max(balance, 0)), None
