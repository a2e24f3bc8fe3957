"""Events a partner verified (bus rides, bank green events): parsing, which ones still count, and how a
user's events are cut into groups (as large as the unit of work says one transaction holds). Pure functions.

A ride counts on the business day of `boarded_at`, a bank event on that of `occurred_at`, up to 7
days late; only while the user's consent covered that moment (api.md, Definitions).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from . import clock, numbers
from .readings import Reading, reading_key, year_before
from .values import immutable

T = TypeVar("T")

ID_MAX = 128
DISTANCE_MAX_M = 200_000  # a city bus or metro ride longer than 200 km is not a ride: malformed
FUTURE_SKEW = timedelta(minutes=5)  # a partner clock slightly ahead of ours
# A seen-event item (store/partners.py) is kept this long after it is written, then TTL deletes it. An event
# can only be written while `timely` (at most LATE_EVENT_DAYS late), and `timely` is checked before the seen
# item is looked for, so once the item may be gone the event is refused anyway: it can never count twice.
SEEN_TTL = timedelta(days=30)
assert SEEN_TTL > timedelta(days=clock.LATE_EVENT_DAYS + 1) + FUTURE_SKEW


@immutable
class PartnerEvent:
    """One verified event, normalised: which behaviour it may earn, how much of it, and when."""

    partner: str
    event_id: str
    partner_ref: str
    behavior: str
    quantity: Decimal
    occurred_at: datetime
    detail: dict = field(default_factory=dict, compare=False)
    reading: Reading | None = None  # a month's usage against the same month a year earlier (domain/readings.py)

    @property
    def key(self) -> str:
        return f"{self.partner}#{self.event_id}"

    @property
    def once_key(self) -> str:
        """What counts once: the event (its seen item), or for a reading its month (its reading item)."""
        return reading_key(self.partner, self.partner_ref, self.reading.month) if self.reading else self.key

    @property
    def baseline_key(self) -> str | None:
        """A reading's baseline: the same user_ref's reading of the same month a year earlier."""
        return reading_key(self.partner, self.partner_ref, year_before(self.reading.month)) if self.reading else None

    @property
    def day(self) -> date:
        return clock.business_day(self.occurred_at)


@immutable
class Sighting:
    """What an event's seen item says (one item per event, shared by every platform): the platforms that imported
    it and the one whose entry holds its carbon. An item written before platforms existed names neither: it is
    `default`'s, holding the carbon."""

    platforms: frozenset[str]
    holder: str

    def seen_on(self, platform: str) -> bool:
        return platform in self.platforms


def text_of(raw: dict, name: str) -> str | None:
    value = raw.get(name)
    return value if isinstance(value, str) and 0 < len(value) <= ID_MAX else None


def moment_of(raw: dict, name: str) -> datetime | None:
    try:
        return clock.parse_iso(raw[name]) if isinstance(raw.get(name), str) else None
    except ValueError:
        return None


def parse_ride(raw: object) -> PartnerEvent | None:
    """A transit ride (shared/partners/transit.md), or None when it is malformed."""
    if not isinstance(raw, dict):
        return None
    ride_id, user_ref, boarded_at = text_of(raw, "ride_id"), text_of(raw, "user_ref"), moment_of(raw, "boarded_at")
    mode, distance = raw.get("mode"), numbers.bounded_int(raw.get("distance_m"), 0, DISTANCE_MAX_M)
    if not (ride_id and user_ref and boarded_at) or mode not in ("bus", "metro"):
        return None
    if raw.get("distance_m") is not None and distance is None:  # a string, a bool, a float, out of range
        return None
    if mode == "metro" and not distance:
        return None
    quantity = Decimal(distance) if mode == "metro" else Decimal(1)
    detail = {"ride_id": ride_id, "mode": mode, "boarded_at": raw["boarded_at"], "distance_m": distance}
    if isinstance(raw.get("line"), str):
        detail["line"] = raw["line"][:64]
    return PartnerEvent("transit", ride_id, user_ref, f"{mode}_ride", quantity, boarded_at, detail)


def parse_bank_event(raw: object) -> PartnerEvent | None:
    """A bank green event (shared/partners/bank.md), or None when it is malformed. The type is checked
    against the catalog by the caller: types the bank adds later are skipped until a behaviour exists."""
    if not isinstance(raw, dict):
        return None
    event_id, customer_ref = text_of(raw, "event_id"), text_of(raw, "customer_ref")
    kind, occurred_at = text_of(raw, "type"), moment_of(raw, "occurred_at")
    if not (event_id and customer_ref and kind and occurred_at):
        return None
    detail = {"event_id": event_id, "type": kind, "occurred_at": raw["occurred_at"]}
    return PartnerEvent("bank", event_id, customer_ref, kind, Decimal(1), occurred_at, detail)


PARSERS: dict[str, Callable[[object], PartnerEvent | None]] = {"transit": parse_ride, "bank": parse_bank_event}


def timely(event: PartnerEvent, now: datetime) -> bool:
    """Not more than 7 business days late, and not from the future."""
    oldest = clock.business_day(now) - timedelta(days=clock.LATE_EVENT_DAYS)
    return event.day >= oldest and event.occurred_at <= now + FUTURE_SKEW


def consented(periods: list, moment: datetime) -> bool:
    """Whether `moment` falls inside one of the consent's [bound_at, revoked_at | null] periods.

    Partners stamp events to the second, so a period starts at the second consent was given: a ride
    boarded in that very second counts.
    """
    for start, end in periods or []:
        begins = clock.parse_iso(start).replace(microsecond=0)
        if begins <= moment and (end is None or moment < clock.parse_iso(end)):
            return True
    return False


def chunks(events: Sequence[T], fits: Callable[[list[T]], bool]) -> list[list[T]]:
    """Consecutive groups, each as long as `fits` (the unit of work's: what one transaction holds) allows;
    an event that fits nowhere with others is a group of its own. `fits` grows with a group (a longer group
    never fits where a shorter one does not), so each group's length is found in a few calls: doubling,
    then halving the gap."""
    events = list(events)
    groups: list[list[T]] = []
    start = 0
    while start < len(events):
        fitting, size = 1, 2  # `fitting` events fit (one always goes), `size` is the next length tried
        while start + fitting < len(events) and fits(events[start:start + min(size, len(events) - start)]):
            fitting = min(size, len(events) - start)
            size *= 2
        failing = min(size, len(events) - start + 1)  # the shortest length known not to fit (or past the end)
        while failing - fitting > 1:
            middle = (fitting + failing) // 2
            if fits(events[start:start + middle]):
                fitting = middle
            else:
                failing = middle
        groups.append(events[start:start + fitting])
        start += fitting
    return groups
