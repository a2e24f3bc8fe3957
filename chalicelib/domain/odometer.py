"""Green parking's evidence (docs/methodology/factors.md): a day without the car counts when the odometer
has not moved.

Beijing's 2019 scheme verified parked days by odometer photos 24 h apart. Here every check-in of a behaviour
whose evidence is `odometer_km` carries a reading, and the person's latest reading lives on their account
(one car a person). A reading is verified when it is within TOLERANCE_KM of the latest reading, taken on an
earlier business day; the first reading ever is verified too: nothing contradicts it, and it is one day for
one person. Any other reading (`moved`, `decreased`) is not verified: the check-in still succeeds, earns
nothing, and the reading becomes the new starting point, so a person who drove (or mistyped a reading, or
changed cars) earns again from their next parked day instead of being locked out by a reading they can
never match again. A latest reading of today (or later) cannot end a parked day: one reading a day, which
the check-in answers as the behaviour's daily cap (SameDayError).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from .values import immutable

# A photographed reading is read to the kilometre or to the tenth, and a car moved out of the way in its car
# park is not a trip: 1 km either way absorbs both, while any real trip (the factor assumes 22 km a day) is
# far beyond it.
TOLERANCE_KM = Decimal(1)
MAX_DAYS = Decimal(1)  # one reading proves one parked day: a check-in claims at most 1 (unit "day")
EVIDENCE = "odometer_km"
REASONS = ("moved", "decreased")  # why a reading is not verified


@immutable
class Reading:
    """An odometer reading and the business day it was given; stored on the account as its `item()`."""

    km: Decimal
    day: date

    @classmethod
    def from_item(cls, raw: dict | None) -> Reading | None:
        if not raw:
            return None
        return cls(Decimal(str(raw["odometer_km"])), date.fromisoformat(raw["day"]))

    def item(self) -> dict:
        return {"odometer_km": str(self.km), "day": self.day.isoformat()}


class SameDayError(Exception):
    """The latest reading is from the same business day (or a later one): it starts a day, it cannot end
    one. One reading a day."""


@immutable
class Verdict:
    """What a reading shows after `previous`: a parked day (`verified`), or why not (`reason`, one of
    REASONS). Either way the reading becomes the account's latest."""

    previous: Reading | None
    reading: Reading
    reason: str | None = None

    @property
    def verified(self) -> bool:
        return self.reason is None

    @property
    def change_km(self) -> Decimal | None:
        return None if self.previous is None else self.reading.km - self.previous.km

    def inputs(self) -> dict:
        """What the entry keeps beside its evidence, so the decision can be checked again."""
        return {"previous_reading": self.previous.item() if self.previous else None,
                "tolerance_km": str(TOLERANCE_KM), "verified": self.verified,
                **({"reason": self.reason} if self.reason else {})}


def check_parked(previous: Reading | None, reading: Reading) -> Verdict:
    """Whether `reading` proves a parked day after `previous`; SameDayError when `previous` is not from an
    earlier day."""
    if previous is None:
        return Verdict(None, reading)
    if previous.day >= reading.day:
        raise SameDayError()
    change = reading.km - previous.km
    if change > TOLERANCE_KM:
        return Verdict(previous, reading, "moved")
    if change < -TOLERANCE_KM:  # odometers do not go backwards
        return Verdict(previous, reading, "decreased")
    return Verdict(previous, reading)
