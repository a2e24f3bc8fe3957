"""The platform's public statistics (GET /v1/stats, `python -m admin stats`).

Every figure is a sharded counter kept by the fold (services/fold.py): PARTS (16) items of platform
totals and PARTS items of the day's distinct active users, read together with one BatchGetItem
(store/repositories_boards.DynamoPlatformCounts) and cached per container for 30 s. Exact once the jobs
have drained: each inbox item is folded once.
"""
from __future__ import annotations

import time
from datetime import date, timedelta

from ..domain import clock
from ..domain.results_boards import PublicStats
from . import catalog

CACHE_SECONDS = 30.0
_cache: list = []  # [(monotonic, PublicStats)] for this container


def forget() -> None:
    _cache.clear()


def _default_counts():
    from ..bootstrap import platform_counts  # here: a check-in's cold start does not load it

    return platform_counts()


def public_stats(counts=None) -> PublicStats:
    """Registered and today's active users, points issued, carbon, organizations and adoptions."""
    if _cache and time.monotonic() - _cache[0][0] < CACHE_SECONDS:
        return _cache[0][1]
    today = clock.business_day(clock.now())
    totals, active = (counts or _default_counts()).read([today])
    result = PublicStats(totals["registered"], active[today.isoformat()], totals["points_issued"],
                         totals["carbon_mg"], len(catalog.orgs()), totals["adoptions"], today.isoformat())
    _cache[:] = [(time.monotonic(), result)]
    return result


def daily_actives(last: date, days: int, counts=None) -> dict[str, int]:
    """Distinct active users per day for the `days` days up to `last` (the console's view over time)."""
    wanted = [last - timedelta(days=n) for n in range(days - 1, -1, -1)]
    return (counts or _default_counts()).read(wanted)[1]
