"""The JSON of partner data coming in (api.md): pulls, pushes and WeChat Sports, from the use cases' results
(domain/results_ingest.py)."""
from __future__ import annotations

from ..domain.results_ingest import Outcome, SyncResult, WeRunResult
from .shapes import carbon_g


def sync_json(result: SyncResult) -> dict:
    return {"imported": result.imported, "duplicates": result.duplicates, "ignored": result.ignored,
            "awarded": {"points": result.points, "carbon_g": carbon_g(result.carbon_mg)},
            "has_more": result.has_more}


def webhook_json(outcome: Outcome) -> dict:
    return {"accepted": outcome.imported, "duplicates": outcome.duplicates, "ignored": outcome.ignored}


def werun_json(result: WeRunResult) -> dict:
    days = [{"date": d.day.isoformat(), "steps": d.steps, "carbon_g": carbon_g(d.earned.carbon_mg),
             "points": d.earned.points} for d in result.days]
    return {"days": days, "awarded": {"points": result.points, "carbon_g": carbon_g(result.carbon_mg)}}
