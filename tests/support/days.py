"""Past business days for the tests of reports and issuance: the app's clock set to a day, and a report's rows
compared before and after.

A test that writes entries on a past day takes a day no other test writes on, since a report or an issuance
of that day counts every account's entries. The tree accrual tests own the year from 800 to 435 days ago
(tests/integration/test_trees.py D0: accruing a year writes entries on each of its days), the fold's catch-up
test every ninth day from 1,000 to 1,351 days ago (tests/integration/test_fold_catch_up.py: accruals without a
methodology, which verify-ledger would call mismatches); the others use days within the last 400."""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

import pytest

from chalicelib.domain import clock


@contextmanager
def at(day: date, hour: int = 12) -> Iterator[None]:
    """The app believes it is `hour` o'clock of `day` in Shanghai, a second later at each reading of the clock
    (entries keep their order, as in real time)."""
    moment, ticks = datetime.combine(day, time(hour), clock.SHANGHAI), itertools.count()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", lambda: moment + timedelta(seconds=next(ticks)))
        yield


def cells(doc: dict) -> dict:
    """A `report --json` document's rows: (day, behaviour) -> (events, carbon_mg, points)."""
    return {(r["day"], r["behavior"]): (r["events"], r["carbon_mg"], r["points"]) for r in doc["rows"]}


def difference(after: dict, before: dict) -> dict:
    """The rows that changed between two reports, as the change of each figure."""
    old = cells(before)
    return {key: tuple(a - b for a, b in zip(value, old.get(key, (0, 0, 0)), strict=True))
            for key, value in cells(after).items() if value != old.get(key)}
