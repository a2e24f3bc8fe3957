"""Daily caps (operations.md): what one more event, or a grown day total, is worth today.

Self-reported channels (check-in, operator credit) are refused whole at any cap. Events a partner
verified are never refused: past `daily_limit` or `daily_points_max` their carbon still counts with
0 points, and units past `daily_quantity_max` count nothing.
"""
from __future__ import annotations

from decimal import Decimal

from .clock import LATE_EVENT_DAYS
from .methodology import Rule, from_milli, to_milli
from .values import immutable

SELF_REPORTED = frozenset({"checkin", "operator"})  # channels whose events are of the day they are made
DAY_TOTAL = frozenset({"werun"})  # channels awarding a day total: today's and yesterday's (award_day_total)


class CapReachedError(Exception):
    """A self-reported event would pass a cap; `cap` names which."""

    def __init__(self, cap: str) -> None:
        super().__init__(cap)
        self.cap = cap


@immutable
class DayCount:
    """What one behaviour has earned on one business day."""

    events: int = 0
    points: int = 0
    quantity_milli: int = 0
    carbon_mg: int = 0

    @classmethod
    def from_list(cls, raw: list | None) -> DayCount:
        return cls(*(int(v) for v in raw[:4])) if raw else cls()

    def to_list(self) -> list[int]:
        return [self.events, self.points, self.quantity_milli, self.carbon_mg]


def counter_days(rule: Rule) -> int | None:
    """How many days after its day a behaviour's day counter can still be read, so must be kept on the
    account: None when nothing reads it (no cap, not a day total), 0 for self-reported behaviours (only
    today's events count), 1 for a day total (today's and yesterday's steps), LATE_EVENT_DAYS + 1 for
    partner events (up to 7 days late, and a day for the midnight between the check and the write)."""
    channels = set(rule.channels)
    if channels & DAY_TOTAL:
        return 1
    if rule.daily_limit is None and rule.daily_points_max is None and rule.daily_quantity_max is None:
        return None
    return 0 if channels <= SELF_REPORTED else LATE_EVENT_DAYS + 1


def kept_counts(rule: Rule, day: DayCount) -> list[int] | None:
    """The counter as the account keeps it: [events, points, quantity_milli, carbon_mg] with only the numbers
    a cap (or the day total) reads, the others 0, then the days it is kept when more than 0; None: not kept."""
    days = counter_days(rule)
    if days is None:
        return None
    total = bool(set(rule.channels) & DAY_TOTAL)
    counts = [day.events if rule.daily_limit is not None or total else 0,
              day.points if rule.daily_points_max is not None or total else 0,
              day.quantity_milli if rule.daily_quantity_max is not None or total else 0,
              day.carbon_mg if total else 0]
    return counts + [days] if days else counts


@immutable
class Award:
    """The outcome of one event: what it earns, the inputs to recompute it, and the day's new count."""

    carbon_mg: int
    points: int
    inputs: dict
    day: DayCount


def award_self_reported(rule: Rule, day: DayCount, quantity: Decimal) -> Award:
    """A check-in or operator credit: all of it, or CapReachedError."""
    if rule.daily_limit is not None and day.events + 1 > rule.daily_limit:
        raise CapReachedError("daily_limit")
    q_milli = to_milli(quantity)
    if rule.daily_quantity_max is not None and day.quantity_milli + q_milli > to_milli(rule.daily_quantity_max):
        raise CapReachedError("daily_quantity_max")
    points = rule.points_for(quantity)
    if rule.daily_points_max is not None and day.points + points > rule.daily_points_max:
        raise CapReachedError("daily_points_max")
    carbon = rule.carbon_for(quantity)
    return Award(carbon, points, {"quantity": str(quantity)},
                 DayCount(day.events + 1, day.points + points, day.quantity_milli + q_milli, day.carbon_mg + carbon))


def award_verified_event(rule: Rule, day: DayCount, quantity: Decimal) -> Award:
    """A ride or bank event: never refused; caps reduce what it earns."""
    q_milli = to_milli(quantity)
    counted_milli = q_milli
    if rule.daily_quantity_max is not None:
        counted_milli = max(0, min(q_milli, to_milli(rule.daily_quantity_max) - day.quantity_milli))
    counted = from_milli(counted_milli)
    carbon = rule.carbon_for(counted)
    points = rule.points_for(counted)
    if rule.daily_limit is not None and day.events + 1 > rule.daily_limit:
        points = 0
    if rule.daily_points_max is not None:
        points = max(0, min(points, rule.daily_points_max - day.points))
    return Award(carbon, points, {"quantity": str(quantity), "counted_quantity": str(counted)},
                 DayCount(day.events + 1, day.points + points, day.quantity_milli + counted_milli,
                          day.carbon_mg + carbon))


def award_correction(rule: Rule, day: DayCount, extra_points: int) -> Award:
    """A correction up of a partner's reading (domain/readings.py): the extra points, within what `daily_points_max`
    leaves of its day. It is the same reading, not another event: it takes no place under `daily_limit`, and its
    carbon is the reading's difference, not capped here."""
    points = extra_points
    if rule.daily_points_max is not None:
        points = max(0, min(points, rule.daily_points_max - day.points))
    return Award(0, points, {"extra_points": extra_points},
                 DayCount(day.events, day.points + points, day.quantity_milli, day.carbon_mg))


def award_day_total(rule: Rule, day: DayCount, total: Decimal) -> Award | None:
    """An amount that grows during the day (steps): award f(total) - f(already credited).

    `day.quantity_milli` is the stored day total. A total not above it awards nothing (None).
    """
    previous = from_milli(day.quantity_milli)
    if total <= previous:
        return None
    ceiling = rule.daily_quantity_max
    counted = total if ceiling is None else min(total, ceiling)
    carbon = rule.carbon_for(counted) - day.carbon_mg
    points = rule.points_for(counted)
    if rule.daily_points_max is not None:
        points = min(points, rule.daily_points_max)
    points -= day.points
    inputs = {"day_total": str(total), "previous_day_total": str(previous)}
    return Award(max(carbon, 0), max(points, 0), inputs,
                 DayCount(day.events + 1, day.points + max(points, 0), to_milli(total),
                          day.carbon_mg + max(carbon, 0)))


def recompute(rule: Rule, inputs: dict) -> tuple[int, int | None]:
    """Carbon (and, where it does not depend on the day's other events, points) from stored inputs.

    Used by audits: anyone holding the methodology version and an entry's inputs gets its carbon back.
    """
    if "day_total" in inputs:
        ceiling = rule.daily_quantity_max
        now, before = Decimal(inputs["day_total"]), Decimal(inputs["previous_day_total"])
        if ceiling is not None:
            now, before = min(now, ceiling), min(before, ceiling)
        return rule.carbon_for(now) - rule.carbon_for(before), None
    counted = Decimal(inputs.get("counted_quantity", inputs["quantity"]))
    return rule.carbon_for(counted), rule.points_for(counted)
