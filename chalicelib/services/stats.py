"""A platform's public statistics (GET /v1/stats, `python -m admin stats`), and the deployment's totals.

Every figure is a sharded counter kept by the fold (services/fold.py), per platform: PARTS (16) items of the
platform's totals and PARTS items of the day's distinct active users, read together with one BatchGetItem
(store/repositories_boards.DynamoPlatformCounts; `default`'s keys are those of before platforms) and cached per
container and platform for 30 s. Exact once the jobs have drained: each inbox item is folded once.
"""
from __future__ import annotations

import time
from datetime import date, timedelta

from ..domain import clock
from ..domain.platforms import DEFAULT
from ..domain.results_boards import PublicStats
from . import catalog

CACHE_SECONDS = 30.0
_cache: dict[str, tuple[float, PublicStats]] = {}  # platform -> (monotonic, PublicStats), for this container


def forget() -> None:
    _cache.clear()


def _default_counts():
    from ..bootstrap import platform_counts  # here: a check-in's cold start does not load it

    return platform_counts()


def _organizations(platform: str) -> int:
    """The platform's orgs of the catalog (`org`, P's `P#org`)."""
    return len(catalog.orgs()) if platform == DEFAULT else len(catalog.orgs(platform))


def public_stats(counts=None, platform: str = DEFAULT) -> PublicStats:
    """A platform's registered and today's active users, points issued, carbon via it, organizations and
    adoptions."""
    cached = _cache.get(platform)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    today = clock.business_day(clock.now())
    totals, active = (counts or _default_counts()).read([today], platform)
    result = PublicStats(totals["registered"], active[today.isoformat()], totals["points_issued"],
                         totals["carbon_mg"], _organizations(platform), totals["adoptions"], today.isoformat())
    _cache[platform] = (time.monotonic(), result)
    return result


def daily_actives(last: date, days: int, counts=None, platform: str = DEFAULT) -> dict[str, int]:
    """A platform's distinct active users per day for the `days` days up to `last` (the console's view)."""
    wanted = [last - timedelta(days=n) for n in range(days - 1, -1, -1)]
    return (counts or _default_counts()).read(wanted, platform)[1]


def deployment_totals(platforms: list[str], counts=None) -> dict[str, int]:
    """Every platform's stats summed, and the persons of the deployment counted once: each platform's registered
    users, less the users in a union item, plus the union items (a person on two platforms is one person). One
    BatchGetItem a platform, read fresh."""
    counts = counts or _default_counts()
    summed = dict.fromkeys(("registered", "points_issued", "carbon_mg", "adoptions", "union_users", "unions"), 0)
    for platform in platforms:
        totals, _ = counts.read([], platform)
        for name in summed:
            summed[name] += totals[name]
    return {"persons": summed["registered"] - summed["union_users"] + summed["unions"],
            "carbon_mg": summed["carbon_mg"], "points_issued": summed["points_issued"],
            "organizations": sum(_organizations(p) for p in platforms), "adoptions": summed["adoptions"]}
