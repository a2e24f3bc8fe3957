"""The platform's public statistics (GET /v1/stats, `python -m admin stats`).

Every figure is a sharded counter kept by the fold (services/fold.py): PARTS (16) items of platform
totals and PARTS items of the day's distinct active users, read together with one BatchGetItem and
cached per container for 30 s. Exact once the jobs have drained: each inbox item is folded once.
"""
from __future__ import annotations

import time
from datetime import date, timedelta

from ..domain import clock
from ..domain.ranking import PARTS
from ..store.aggregates import Counter
from . import catalog
from .posting import carbon_g

CACHE_SECONDS = 30.0
_cache: list = []  # [(monotonic, body)] for this container


def forget() -> None:
    _cache.clear()


def public_stats() -> dict:
    """{"registered_users", "active_users_today", "points_issued", "carbon_g", "organizations", "adoptions"}."""
    if _cache and time.monotonic() - _cache[0][0] < CACHE_SECONDS:
        return _cache[0][1]
    today = clock.business_day(clock.now())
    totals, active = _read(today, [today])
    body = {
        "registered_users": totals["registered"], "active_users_today": active[today.isoformat()],
        "points_issued": totals["points_issued"], "carbon_g": carbon_g(totals["carbon_mg"]),
        "organizations": len(catalog.orgs()), "adoptions": totals["adoptions"], "day": today.isoformat(),
    }
    _cache[:] = [(time.monotonic(), body)]
    return body


def daily_actives(last: date, days: int) -> dict[str, int]:
    """Distinct active users per day for the `days` days up to `last` (the console's view over time)."""
    wanted = [last - timedelta(days=n) for n in range(days - 1, -1, -1)]
    return _read(last, wanted)[1]


def _read(today: date, days: list[date]) -> tuple[dict[str, int], dict[str, int]]:
    shards = [f"s{shard:02d}" for shard in range(PARTS)]
    keys = [("stats", part) for part in shards] + [(f"active#{d.isoformat()}", part) for d in days for part in shards]
    totals = {"registered": 0, "points_issued": 0, "carbon_mg": 0, "adoptions": 0}
    active = {d.isoformat(): 0 for d in days}
    for item in Counter.batch_get(keys):
        if item.name == "stats":
            for field in totals:
                totals[field] += int(getattr(item, field) or 0)
        else:
            active[item.name.split("#", 1)[1]] += int(item.value or 0)
    return totals, active
