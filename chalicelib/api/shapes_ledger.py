"""The JSON of one's own ledger and totals (GET /v1/me/ledger, /v1/me/summary, api.md), from services/ledger.py's
results; an entry is api/shapes.entry_json."""
from __future__ import annotations

from ..domain.results_expiry import PointsExpiring
from ..domain.results_ledger import LedgerPage, Summary
from .shapes import carbon_g, entry_json


def ledger_page_json(page: LedgerPage) -> dict:
    return {"items": [entry_json(line) for line in page.lines], "next_cursor": page.next_cursor}


def summary_json(summary: Summary) -> dict:
    return {
        "period": summary.period,
        "carbon_g": carbon_g(summary.carbon_mg),
        "points": summary.points,
        "by_behavior": [{"behavior": row.behavior, "name": row.name, "count": row.events,
                         "carbon_g": carbon_g(row.carbon_mg), "points": row.points} for row in summary.by_behavior],
        "by_month": [{"month": row.month, "carbon_g": carbon_g(row.carbon_mg), "points": row.points}
                     for row in summary.by_month],
        "equivalents": summary.equivalents._asdict(),
    }


def expiring_json(expiring: PointsExpiring) -> dict:
    """GET /v1/me's `points_expiring`: {"points": N, "on": "2026-12-31"} (on: the last day they can be used)."""
    return {"points": expiring.points, "on": expiring.on.isoformat() if expiring.on else None}
