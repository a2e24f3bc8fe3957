"""The risk rules (contract/risk.md "Rules"): pure judgements of one person's (or one staff member's) recent
history, with the thresholds of the catalog's `risk` section.

Each rule judges what the write that calls it already holds, so no rule reads anything of its own:
- `steps_repeat`, `steps_near_max`: the step-days WeChat Sports sends with every sync (the last 30 days, as
  WeChat recorded them), judged when they arrive (services/werun.py);
- `machine_timing`: the times of the person's latest self-reported check-ins, kept on the account (a short list
  the check-in's one consistent read already returns and its transaction replaces);
- `photo_reuse`: the person's refused photos, kept on the account likewise (domain/evidence.py);
- `staff_same_person`, `staff_ceiling`, `redemption_ring`: the days and redemptions kept on the staff member's
  and the goods' own items, judged where a credit, a refusal or a verification writes them.
A rule that fires returns its id; the caller puts the account (or staff member) under review in the same write.
"""
from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from . import clock, review
from .values import immutable

STEPS_REPEAT = "steps_repeat"
STEPS_NEAR_MAX = "steps_near_max"
MACHINE_TIMING = "machine_timing"
PHOTO_REUSE = "photo_reuse"
STAFF_SAME_PERSON = "staff_same_person"
STAFF_CEILING = "staff_ceiling"
REDEMPTION_RING = "redemption_ring"
RULES = (STEPS_REPEAT, STEPS_NEAR_MAX, MACHINE_TIMING, PHOTO_REUSE, STAFF_SAME_PERSON, STAFF_CEILING,
         REDEMPTION_RING)

# Fixed by the contract (not in the catalog section): a machine's gaps are each at least a minute (a person who
# checks in twice within a minute is tapping, not scripting); photo refusals count over 30 days (business days,
# domain/evidence.kept_refusals); a staff member's credits refused at the ceiling count on 2 days of the window.
# photo_distance is at most 7: what multi-index hashing is sure to find (domain/evidence.py MAX_DISTANCE).
TIMING_MIN_GAP_S = 60
PHOTO_REFUSAL_WINDOW = timedelta(days=30)
STAFF_CEILING_DAYS = 2


class RiskError(ValueError):
    """A `risk` section the console refuses (unknown key, or a value out of its range)."""


@immutable
class RiskSettings:
    """The catalog's `risk` section, with the contract's defaults for what it leaves out."""

    steps_same_total_days: int = 5
    steps_window_days: int = 14
    steps_near_max_ratio: Decimal = Decimal("0.95")
    steps_near_max_days: int = 7
    timing_checkins: int = 10
    timing_tolerance_s: Decimal = Decimal(2)
    photo_distance: int = 6
    photo_refusals: int = 3
    staff_same_person_days: int = 3
    staff_window_days: int = 7
    ring_accounts: int = 5
    ring_account_age_days: int = 7
    ring_window_hours: int = 24


# Each setting's least and greatest sensible value: a section outside them is a mistake, refused whole.
_RANGES: dict[str, tuple[Decimal, Decimal]] = {
    "steps_same_total_days": (Decimal(2), Decimal(30)), "steps_window_days": (Decimal(2), Decimal(30)),
    "steps_near_max_ratio": (Decimal("0.5"), Decimal(1)), "steps_near_max_days": (Decimal(2), Decimal(30)),
    "timing_checkins": (Decimal(3), Decimal(50)), "timing_tolerance_s": (Decimal(0), Decimal(60)),
    "photo_distance": (Decimal(0), Decimal(7)), "photo_refusals": (Decimal(1), Decimal(100)),
    "staff_same_person_days": (Decimal(2), Decimal(30)), "staff_window_days": (Decimal(2), Decimal(60)),
    "ring_accounts": (Decimal(2), Decimal(100)), "ring_account_age_days": (Decimal(1), Decimal(365)),
    "ring_window_hours": (Decimal(1), Decimal(24 * 30)),
}
_WHOLE = {f.name for f in fields(RiskSettings)} - {"steps_near_max_ratio", "timing_tolerance_s"}


def settings_from(section: Mapping | None) -> RiskSettings:
    """The settings a catalog `risk` section gives (None or {}: the defaults). RiskError names what is wrong."""
    if section is None:
        return RiskSettings()
    if not isinstance(section, Mapping):
        raise RiskError('risk must be an object such as {"steps_same_total_days": 5}')
    unknown = sorted(set(section) - set(_RANGES))
    if unknown:
        raise RiskError(f"risk: unknown settings {', '.join(unknown)}")
    values = {}
    for name, raw in section.items():
        if isinstance(raw, bool):
            raise RiskError(f"risk.{name} must be a number")
        try:
            value = Decimal(str(raw))
        except (InvalidOperation, ValueError):
            raise RiskError(f"risk.{name} must be a number") from None
        low, high = _RANGES[name]
        if not value.is_finite() or not low <= value <= high:
            raise RiskError(f"risk.{name} must be between {low} and {high}")
        if name in _WHOLE:
            if value != value.to_integral_value():
                raise RiskError(f"risk.{name} must be a whole number")
            values[name] = int(value)
        else:
            values[name] = value
    settings = RiskSettings(**values)
    if settings.steps_same_total_days > settings.steps_window_days:
        raise RiskError("risk.steps_same_total_days cannot exceed risk.steps_window_days")
    if settings.staff_same_person_days > settings.staff_window_days:
        raise RiskError("risk.staff_same_person_days cannot exceed risk.staff_window_days")
    return settings


def section_of(settings: RiskSettings) -> dict:
    """The section as stored and shown: every setting, numbers as JSON numbers."""
    return {f.name: (float(v) if isinstance(v := getattr(settings, f.name), Decimal) else v)
            for f in fields(RiskSettings)}


# Rule 1: repeated step counts ------------------------------------------------------------------------------------

def steps_rules(days: Mapping[date, int], today: date, quantity_max: Decimal | int | None,
                settings: RiskSettings) -> tuple[str, ...]:
    """The step rules that `days` (a day's total steps, as WeChat recorded them) breaks, judged over the last
    `steps_window_days` business days up to `today`: the same non-zero total on `steps_same_total_days` days or
    more (`steps_repeat`); at least `steps_near_max_ratio` of the behaviour's `daily_quantity_max` on
    `steps_near_max_days` days in a row (`steps_near_max`; none without a maximum). Days without steps never
    count, and break a run."""
    window = _steps_window(days, today, settings)
    fired = []
    if window and max(Counter(window.values()).values()) >= settings.steps_same_total_days:
        fired.append(STEPS_REPEAT)
    if quantity_max and _longest_run(window, Decimal(quantity_max) * settings.steps_near_max_ratio) \
            >= settings.steps_near_max_days:
        fired.append(STEPS_NEAR_MAX)
    return tuple(fired)


def steps_reason(rule: str, days: Mapping[date, int], today: date, settings: RiskSettings) -> str:
    """What a reviewer reads: the repeated total and on how many days, or the run of days near the maximum."""
    window = _steps_window(days, today, settings)
    if rule == STEPS_REPEAT:
        total, count = Counter(window.values()).most_common(1)[0]
        return f"{count} of the last {settings.steps_window_days} days at exactly {total} steps"
    share = f"{settings.steps_near_max_ratio:.0%}"
    return f"{settings.steps_near_max_days} days in a row at {share} of the daily maximum or more"


def _steps_window(days: Mapping[date, int], today: date, settings: RiskSettings) -> dict[date, int]:
    """The days with steps among the last `steps_window_days` up to `today`: what both step rules judge."""
    first = today - timedelta(days=settings.steps_window_days - 1)
    return {day: int(total) for day, total in days.items() if first <= day <= today and int(total) > 0}


def _longest_run(window: Mapping[date, int], floor: Decimal) -> int:
    """The most consecutive days whose total is at least `floor`."""
    longest, run, previous = 0, 0, None
    for day in sorted(day for day, total in window.items() if total >= floor):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest, previous = max(longest, run), day
    return longest


# Rule 2: machine timing ------------------------------------------------------------------------------------------

def remember_checkin(times: Sequence[float] | None, at: float, settings: RiskSettings) -> list[float]:
    """The account's latest check-in times (seconds since the epoch, to the tenth) after one more at `at`:
    the last `timing_checkins`, oldest first, so the list never grows."""
    kept = [float(t) for t in (times or ())] + [round(float(at), 1)]
    return kept[-settings.timing_checkins:]


def machine_timing(times: Sequence[float], settings: RiskSettings) -> bool:
    """Whether the last `timing_checkins` check-in times are a machine's: every gap at least a minute and all
    the gaps within `timing_tolerance_s` of one another. Fewer check-ins than that judge nothing."""
    last = sorted(float(t) for t in times)[-settings.timing_checkins:]
    if len(last) < settings.timing_checkins:
        return False
    gaps = [later - earlier for earlier, later in itertools.pairwise(last)]
    return min(gaps) >= TIMING_MIN_GAP_S and max(gaps) - min(gaps) <= float(settings.timing_tolerance_s)


def timing_reason(times: Sequence[float]) -> str:
    """What a reviewer reads: how many check-ins, and how far apart."""
    gaps = [later - earlier for earlier, later in itertools.pairwise(sorted(times))]
    return f"{len(times)} check-ins {min(gaps):.1f} to {max(gaps):.1f} s apart"


# Rule 3: reused evidence: the refusals kept on the account and their count are domain/evidence.py's
# (with_refusal, photo_refusals_reached), judged with `photo_distance` and `photo_refusals` from here.

# Rule 4: collection-point patterns -------------------------------------------------------------------------------

def _days_within(days: Iterable[date], today: date, window_days: int) -> int:
    first = today - timedelta(days=window_days - 1)
    return len({day for day in days if first <= day <= today})


def staff_same_person(days: Iterable[date], today: date, settings: RiskSettings) -> bool:
    """Whether a staff member credited one person on `staff_same_person_days` days or more of the last
    `staff_window_days` (`days`: the days they credited that person)."""
    return _days_within(days, today, settings.staff_window_days) >= settings.staff_same_person_days


def staff_ceiling(days: Iterable[date], today: date, settings: RiskSettings) -> bool:
    """Whether a staff member's credits were refused at the merchant's daily ceiling on 2 days or more of the
    last `staff_window_days` (`days`: the days of such refusals)."""
    return _days_within(days, today, settings.staff_window_days) >= STAFF_CEILING_DAYS


def days_since_review(days: Iterable[date], account: object, today: date) -> list[date]:
    """The days of `days` a rule may still judge the account on: those after the business day its last review
    ended (a reviewer saw the ones before), and `today`, whose write came after that review."""
    cleared = cleared_at(account)
    if cleared is None:
        return list(days)
    last_seen = clock.business_day(cleared)
    return [day for day in days if day > last_seen or day == today]


def trim_days(days: Iterable[date], today: date, settings: RiskSettings) -> list[date]:
    """The days still inside the staff window: what an item keeping them needs to keep."""
    first = today - timedelta(days=settings.staff_window_days - 1)
    return sorted({day for day in days if first <= day <= today})


# Rule 5: redemption rings ----------------------------------------------------------------------------------------

@immutable
class RingRedemption:
    """One redemption of a goods verified by one staff member: who, when, and how old their account was then."""

    user_id: str
    redeemed_at: datetime
    account_age: timedelta


def young(redemption: RingRedemption, settings: RiskSettings) -> bool:
    return redemption.account_age < timedelta(days=settings.ring_account_age_days)


def ring(redemptions: Iterable[RingRedemption], settings: RiskSettings) -> frozenset[str]:
    """The accounts of a redemption ring among `redemptions` (of one goods, each verified by one staff
    member): `ring_accounts` or more distinct accounts, each younger than `ring_account_age_days` when it
    redeemed, whose redemptions fall within `ring_window_hours` of one another. Empty when there is none."""
    window = timedelta(hours=settings.ring_window_hours)
    kept = sorted((r for r in redemptions if young(r, settings)), key=lambda r: r.redeemed_at)
    caught: set[str] = set()
    for i, first in enumerate(kept):
        users = {r.user_id for r in kept[i:] if r.redeemed_at - first.redeemed_at <= window}
        if len(users) >= settings.ring_accounts:
            caught |= users
    return frozenset(caught)


def trim_ring(redemptions: Iterable[RingRedemption], now: datetime, settings: RiskSettings) -> list[RingRedemption]:
    """The young accounts' redemptions still inside the window before `now`: what the goods' item keeps."""
    since = now - timedelta(hours=settings.ring_window_hours)
    return sorted((r for r in redemptions if young(r, settings) and r.redeemed_at >= since),
                  key=lambda r: r.redeemed_at)


# Judging an account: only what came after its last review, one reason per rule -----------------------------------

def cleared_at(account: object) -> datetime | None:
    """When the account's last review ended (a release or a void), or None: the rules judge only what came after,
    so a person a reviewer cleared is not put under review again for the same days or check-ins."""
    cleared = getattr(account, "review_cleared_at", None)
    return datetime.fromisoformat(cleared) if cleared else None


def first_new(account: object, fired: Iterable[str]) -> str | None:
    """The first rule of `fired` that has not already put the account under review (a rule gives one reason)."""
    already = set(review.rules_of(account))
    return next((rule for rule in fired if rule not in already), None)


def checkin_times_after(account: object, at: datetime, settings: RiskSettings) -> list[float]:
    """The account's check-in times with one more at `at`, those before its last review's end left out."""
    cleared = cleared_at(account)
    times = [t for t in (getattr(account, "checkin_times", None) or ())
             if cleared is None or float(t) > cleared.timestamp()]
    return remember_checkin(times, at.timestamp(), settings)


def step_days_after(days: Mapping[date, int], cleared_day: date | None) -> dict[date, int]:
    """The step-days a rule may judge: those after the day the account's last review ended."""
    return {day: total for day, total in days.items() if cleared_day is None or day > cleared_day}
