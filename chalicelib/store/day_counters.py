"""The account's day counters (`Account.daily`) as one short string: the account is rewritten by every
posting, so its size is every posting's write cost (1 write unit per KB, twice in a transaction).

The value in Python is {"YYYY-MM-DD": {behaviour: [events, points, quantity_milli, carbon_mg(, days)]}}
(domain/posting.py); stored, it is

    "20261201 clean_plate=1 walk_steps=0,20,30000000,150000,1;20261130 bus_ride=1,0,0,0,8"

days apart by ";", each day's behaviours after a space, a behaviour's numbers without trailing zeros (a
separator in a behaviour code is %-escaped). Accounts written before this encoding hold spaced
JSON ("{...}"): they are read as they were, each counter kept as long as the old rule kept every counter
(`LEGACY_DAYS`), and written back in this form by their next posting.
"""
from __future__ import annotations

import json
from urllib.parse import unquote

from pynamodb.attributes import Attribute
from pynamodb.constants import STRING

from ..domain.posting import LEGACY_DAYS

SEPARATORS = frozenset("% =;,")
COUNTS = 4  # events, points, quantity_milli, carbon_mg; a fifth number: days the counter is kept after its day


def encode(daily: dict) -> str:
    days = []
    for day in sorted(daily, reverse=True):
        parts = [day.replace("-", "")]
        for behavior, counts in sorted(daily[day].items()):
            numbers = [int(n) for n in counts]
            while numbers and numbers[-1] == 0:
                numbers.pop()
            parts.append(f"{_escape(behavior)}={','.join(str(n) for n in numbers)}")
        days.append(" ".join(parts))
    return ";".join(days)


def _escape(behavior: str) -> str:
    return "".join(f"%{ord(c):02X}" if c in SEPARATORS else c for c in behavior)


def decode(text: str) -> dict:
    if text.startswith("{"):
        return _legacy(json.loads(text))
    daily: dict[str, dict[str, list[int]]] = {}
    for raw_day in filter(None, text.split(";")):
        stamp, *counters = raw_day.split(" ")
        day = daily.setdefault(f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}", {})
        for counter in counters:
            behavior, _, raw = counter.partition("=")
            numbers = [int(n) for n in raw.split(",")] if raw else []
            day[unquote(behavior)] = numbers + [0] * (COUNTS - len(numbers))
    return daily


def _legacy(daily: dict) -> dict:
    """An account as the spaced-JSON code wrote it: four numbers a counter, every counter kept LEGACY_DAYS."""
    return {day: {behavior: [int(n) for n in counts][:COUNTS] + [LEGACY_DAYS] for behavior, counts in by.items()}
            for day, by in daily.items()}


class DayCountersAttribute(Attribute[dict]):
    """`Account.daily`: a dict in Python, the short string above in DynamoDB (spaced JSON still read)."""

    attr_type = STRING

    def serialize(self, value: dict) -> str:
        return encode(value or {})

    def deserialize(self, value: str) -> dict:
        return decode(value)
