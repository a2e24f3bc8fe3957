"""Reading one's own ledger and its totals: each one DynamoDB Query.

    route (api/me.py) -> page / summary -> store/repositories_ledger.LedgerReads -> JSON in api/shapes_ledger.py
"""
from __future__ import annotations

from typing import Any

from ..domain import clock
from ..domain.equivalents import equivalents
from ..domain.platforms import DEFAULT
from ..domain.results_ledger import BehaviorTotals, LedgerPage, MonthTotals, Summary
from . import catalog

NAMES = {"tree_uptake": "认养树木固碳"}  # summary codes that are not catalog behaviours (services/accrual.py)


def page(user_id: str, kind: str | None, limit: int, cursor: str | None, reads: Any,
         platform: str = DEFAULT) -> LedgerPage:
    """GET /v1/me/ledger: newest first, `kind` filter served by the by_kind index; the cursor is `platform`'s."""
    return reads.page(user_id, kind, limit, cursor, platform)


def summary(user_id: str, period: str, reads: Any) -> Summary:
    """GET /v1/me/summary: by behaviour, by month, and equivalents a person understands."""
    today = clock.business_day(clock.now()).isoformat()
    prefix = {"month": today[:7], "year": today[:4], "all": ""}[period]
    by_behavior: dict[str, list[int]] = {}
    by_month: dict[str, list[int]] = {}
    for row in reads.months(user_id, prefix):
        for bucket in (by_behavior.setdefault(row.behavior, [0, 0, 0]), by_month.setdefault(row.month, [0, 0, 0])):
            bucket[0] += row.events
            bucket[1] += row.carbon_mg
            bucket[2] += row.points
    rules = catalog.behaviors()
    total_mg = sum(v[1] for v in by_month.values())
    return Summary(
        period, total_mg, sum(v[2] for v in by_month.values()),
        [BehaviorTotals(code, rules[code].name if code in rules else NAMES.get(code, code), *v)
         for code, v in sorted(by_behavior.items(), key=lambda kv: -kv[1][1])],
        [MonthTotals(month, v[1], v[2]) for month, v in sorted(by_month.items())],
        equivalents(total_mg))
