"""Reading one's own ledger (services/ledger.py) over in-memory reads: the period's totals, split by behaviour
(most carbon first) and by month (oldest first), with equivalents. Against DynamoDB Local, with the routes'
parsing, cursors and call counts: tests/integration/test_ledger.py."""
from __future__ import annotations

from datetime import datetime

from chalicelib.api.shapes_ledger import summary_json
from chalicelib.domain import clock
from chalicelib.domain.results_ledger import MonthRow
from chalicelib.services import catalog, ledger


class MonthRows:
    def __init__(self, rows: list[MonthRow]) -> None:
        self.rows, self.prefixes = rows, []

    def months(self, user_id: str, prefix: str) -> list[MonthRow]:
        self.prefixes.append(prefix)
        return [row for row in self.rows if row.month.startswith(prefix)]


def test_a_year_s_summary_adds_up_each_behaviour_and_each_month(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: datetime.fromisoformat("2026-05-20T10:00:00+08:00"))
    monkeypatch.setattr(catalog, "behaviors", lambda: {})
    reads = MonthRows([MonthRow("2026-04", "bus_ride", 2, 160_000, 20), MonthRow("2026-05", "bus_ride", 1, 80_000, 10),
                       MonthRow("2026-05", "tree_uptake", 30, 400_000, 0), MonthRow("2025-12", "bus_ride", 9, 1, 1)])
    shown = summary_json(ledger.summary("u_1", "year", reads))
    assert reads.prefixes == ["2026"]
    assert (shown["carbon_g"], shown["points"]) == (640.0, 30)
    assert [(row["behavior"], row["name"], row["count"], row["carbon_g"]) for row in shown["by_behavior"]] == [
        ("tree_uptake", "认养树木固碳", 30, 400.0), ("bus_ride", "bus_ride", 3, 240.0)]
    assert shown["by_month"] == [{"month": "2026-04", "carbon_g": 160.0, "points": 20},
                                 {"month": "2026-05", "carbon_g": 480.0, "points": 10}]
    assert shown["equivalents"] == {"tree_days": 13.0, "car_km": 3.2}
