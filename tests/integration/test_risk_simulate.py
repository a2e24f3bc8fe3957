"""`python -m admin risk simulate` (contract/risk.md "Operations"): a small population through the API on a stack
of its own; the report's shape, the farmers the built rules catch, and the environment's tables untouched."""
from __future__ import annotations

import json

from admin.__main__ import main as admin
from chalicelib.domain.risk import RULES
from chalicelib.services import catalog


def test_a_small_simulation_reports_each_rule_and_leaves_this_environments_tables_alone(capsys):
    assert admin(["risk", "simulate", "--honest", "12", "--farmers", "14", "--days", "12", "--seed", "7",
                  "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["honest"], report["farmers"]) == (12, 14)
    assert sorted(report["by_rule"]) == sorted(RULES)
    assert sum(row["farmers"] for row in report["by_rule"].values()) == 14
    for rule in ("steps_repeat", "steps_near_max", "machine_timing"):
        row = report["by_rule"][rule]
        assert row["farmers"] >= 2 and row["caught"] == row["farmers"], (rule, row)
    assert report["caught"] == sum(row["caught"] for row in report["by_rule"].values())
    assert report["flagged_honest"] == 0
    catalog.forget()
    assert "sim-m-0" not in catalog.merchants()  # the simulation's shops were loaded into its own tables only
