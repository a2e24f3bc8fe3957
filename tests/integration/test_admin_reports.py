"""python -m admin report and issuance: what an operator reads, and what a carbon exchange receives.

Entries are made through the API (check-ins) and the console (points adjust) on business days of
the past that no other test writes to (the app's clock is set to noon of that day while they are
made), and every number is asserted as the difference between a report after and a report before.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import threading
import unicodedata
from collections import defaultdict
from contextlib import redirect_stdout
from datetime import date, timedelta

import pytest

from admin.__main__ import main as admin
from chalicelib.domain import clock
from chalicelib.store.issuance import REGISTRY, IssuanceRecord
from chalicelib.store.models import LedgerEntry
from tests.support.api import call, login, request_id
from tests.support.days import at, difference
from tests.support.issued import rows_of
from tests.support.photos import evidence_for

TODAY = clock.business_day(clock.now())
REPORT_DAY = TODAY - timedelta(days=100)  # each test below owns its days: nobody else writes there
ISSUED_DAY = TODAY - timedelta(days=60)
RACE_DAY = TODAY - timedelta(days=70)


def checkin(client, user: dict, behavior: str, **extra) -> dict:
    """A check-in; a clean plate or garbage sorting with its photo, as the demo catalog requires."""
    extra = extra or evidence_for(client, user, behavior)
    status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": behavior, **extra},
                        token=user["token"])
    assert status == 201, body
    return body["entry"]


def run_json(capsys, *argv: str) -> dict:
    capsys.readouterr()
    assert admin([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def report(capsys, first: date, last: date) -> dict:
    return run_json(capsys, "report", "--from", first.isoformat(), "--to", last.isoformat())


def cells_to(line: str, text: str) -> int:
    """Terminal cells up to the end of `text` in `line` (a CJK character takes two)."""
    head = line[:line.index(text) + len(text)]
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in head)


@pytest.fixture(scope="module")
def report_day(app_module):
    """Two people's check-ins and an operator's credit on REPORT_DAY, with the report from before them."""
    from chalice.test import Client

    with Client(app_module.app, stage_name="local") as client, at(REPORT_DAY):
        printed = io.StringIO()
        with redirect_stdout(printed):
            assert admin(["report", "--from", REPORT_DAY.isoformat(), "--to", REPORT_DAY.isoformat(), "--json"]) == 0
        before = json.loads(printed.getvalue())
        alice, bob = login(client, f"o-rep-a-{request_id()}"), login(client, f"o-rep-b-{request_id()}")
        for _ in range(2):
            checkin(client, alice, "clean_plate")
        checkin(client, alice, "no_cutlery")
        checkin(client, bob, "garbage_sorting")
        assert admin(["points", "adjust", bob["id"], "50", "--reason", "report test"]) == 0
    return {"before": before, "users": (alice, bob)}


def test_report_counts_a_days_events_carbon_and_points_by_behaviour(report_day, capsys):
    after = report(capsys, REPORT_DAY, REPORT_DAY)
    day = REPORT_DAY.isoformat()
    assert difference(after, report_day["before"]) == {
        (day, "clean_plate"): (2, 288000, 10),
        (day, "no_cutlery"): (1, 45720, 2),
        (day, "garbage_sorting"): (1, 30000, 2),
    }
    totals, before = after["totals"], report_day["before"]["totals"]
    assert totals["carbon_mg"] - before["carbon_mg"] == 363720
    assert totals["points_issued"] - before["points_issued"] == 14 + 50  # earned, and the operator's credit
    assert totals["entries"] - before["entries"] == 5
    assert {b["behavior"]: b["name"] for b in after["by_behavior"]}["clean_plate"] == "光盘打卡"


def test_report_table_aligns_columns_and_shows_grams_with_three_decimals(report_day, capsys):
    capsys.readouterr()
    assert admin(["report", "--from", REPORT_DAY.isoformat(), "--to", REPORT_DAY.isoformat()]) == 0
    lines = capsys.readouterr().out.splitlines()
    row = next(line for line in lines if line.startswith(REPORT_DAY.isoformat()) and "clean_plate" in line)
    assert row.split()[2:] == ["光盘打卡", "2", "288.000", "10"]
    header = next(line for line in lines if line.startswith("day "))
    assert cells_to(header, "carbon_g") == cells_to(row, "288.000")  # right-aligned, CJK counted as two cells
    assert "platform totals" in lines and any(line.startswith("points issued") for line in lines)


def test_report_writes_csv_and_json_files(report_day, tmp_path, capsys):
    span = ["--from", REPORT_DAY.isoformat(), "--to", REPORT_DAY.isoformat()]
    assert admin(["report", *span, "--format", "csv", "--out", str(tmp_path / "r.csv")]) == 0
    rows = list(csv.DictReader((tmp_path / "r.csv").open(encoding="utf-8")))
    assert list(rows[0]) == ["day", "behavior", "name", "events", "carbon_mg", "carbon_g", "points"]
    plate = next(r for r in rows if r["behavior"] == "no_cutlery")
    assert (plate["name"], plate["carbon_g"]) == ("外卖不要餐具", "45.720")
    assert admin(["report", *span, "--format", "json", "--out", str(tmp_path / "r.json")]) == 0
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert set(doc) >= {"from", "to", "rows", "by_behavior", "totals"} and doc["from"] == REPORT_DAY.isoformat()


def test_report_chart_is_a_png(report_day, tmp_path, capsys):
    chart = tmp_path / "daily.png"
    first = REPORT_DAY - timedelta(days=6)
    assert admin(["report", "--from", first.isoformat(), "--to", REPORT_DAY.isoformat(), "--format", "csv",
                  "--chart", str(chart)]) == 0
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 10_000


def test_report_chart_without_a_cjk_font_says_it_shows_codes_with_or_without_out(report_day, tmp_path, capsys,
                                                                                 monkeypatch):
    from admin import charts

    monkeypatch.setattr(charts, "cjk_font", lambda text: None)  # a machine without one
    span = ["--from", REPORT_DAY.isoformat(), "--to", REPORT_DAY.isoformat()]
    capsys.readouterr()
    assert admin(["report", *span, "--chart", str(tmp_path / "a.png")]) == 0
    assert "no CJK font" in capsys.readouterr().err
    assert admin(["report", *span, "--out", str(tmp_path / "r.txt"), "--chart", str(tmp_path / "b.png")]) == 0
    said = capsys.readouterr()
    assert "no CJK font" in said.out + said.err
    assert (tmp_path / "b.png").stat().st_size > 10_000


def test_report_usage_errors_exit_with_status_2(capsys):
    assert admin(["report", "--from", "2026-02-30", "--to", "2026-03-01"]) == 2
    assert admin(["report", "--from", "2026-03-02", "--to", "2026-03-01"]) == 2
    assert "after" in capsys.readouterr().err


def issue(tmp_path, first: date, last: date, *extra: str, name: str = "issuance") -> list[str]:
    return ["issuance", "--from", first.isoformat(), "--to", last.isoformat(), "--out",
            str(tmp_path / f"{name}.json"), *extra]


def entry_rows(path) -> list[dict]:
    """The entries file's rows with the user of each entry (tests/support/issued.py: the file names none)."""
    return rows_of(path)


def test_issuance_leaves_out_estimates_lists_every_entry_and_refuses_overlaps(client, tmp_path, capsys):
    people = [login(client, f"o-iss-{n}-{request_id()}") for n in range(2)]
    with at(ISSUED_DAY):
        made = [checkin(client, people[0], "clean_plate"), checkin(client, people[0], "no_cutlery"),
                checkin(client, people[1], "clean_plate"), checkin(client, people[1], "garbage_sorting"),
                checkin(client, people[1], "green_parking", quantity=1, evidence={"odometer_km": 12345})]
    preview = run_json(capsys, *issue(tmp_path, ISSUED_DAY, ISSUED_DAY, "--dry-run", name="preview"))
    assert preview["issuance"]["dry_run"] is True and preview["issuance"]["id"] is None
    with pytest.raises(IssuanceRecord.DoesNotExist):
        IssuanceRecord.get(REGISTRY, f"{ISSUED_DAY}..{ISSUED_DAY}")

    doc = run_json(capsys, *issue(tmp_path, ISSUED_DAY, ISSUED_DAY, "--yes", "--reason", "Q-test submission"))
    by_version = {(m["methodology_id"], m["methodology_version"]): m for m in doc["methodologies"]}
    assert set(by_version) == {("ACEF-031-clean-plate", "2026.1"), ("SJ-no-cutlery", "2022.1")}
    assert by_version[("ACEF-031-clean-plate", "2026.1")]["carbon_mg"] == 2 * 144000
    assert doc["totals"]["carbon_mg"] == 2 * 144000 + 45720 and doc["totals"]["entries"] == 3
    assert {x["methodology_id"]: x["reason"] for x in doc["excluded"]} == {
        "GS-garbage-sorting": "estimate", "GS-green-parking": "estimate"}

    rows = entry_rows(tmp_path / "issuance.entries.csv")
    listed = defaultdict(int)
    for row in rows:
        listed[(row["methodology_id"], row["methodology_version"])] += int(row["carbon_mg"])
        stored = LedgerEntry.get(row["user_id"], row["entry_id"])
        assert int(stored.carbon_mg) == int(row["carbon_mg"]) and not stored.behavior.startswith(("garbage", "green"))
    assert listed == {key: m["carbon_mg"] for key, m in by_version.items()}
    assert {(r["user_id"], r["entry_id"]) for r in rows} == {
        (person["id"], entry["id"]) for person, entry in zip([people[0]] * 2 + [people[1]], made[:3], strict=True)}
    assert doc["entries_file"]["rows"] == 3 == len(rows)
    assert preview["totals"] == doc["totals"]  # the dry run computed the same figures

    record = IssuanceRecord.get(REGISTRY, f"{ISSUED_DAY}..{ISSUED_DAY}")
    assert int(record.carbon_mg) == doc["totals"]["carbon_mg"]
    assert record.files["entries"]["sha256"] == doc["entries_file"]["sha256"]
    for first, last in ((ISSUED_DAY, ISSUED_DAY), (ISSUED_DAY - timedelta(days=3), ISSUED_DAY + timedelta(days=1))):
        capsys.readouterr()
        assert admin(issue(tmp_path, first, last, "--yes", name=f"again-{first}")) == 1
        assert "overlaps issued period" in capsys.readouterr().err
        assert not (tmp_path / f"again-{first}.json").exists()
    trail = run_json(capsys, "audit")
    assert any(r["command"] == "issuance" and r["reason"] == "Q-test submission"
               and r["arguments"]["from"] == ISSUED_DAY.isoformat() for r in trail)


def test_issuance_waits_until_late_events_can_no_longer_arrive(tmp_path, capsys):
    open_day = TODAY - timedelta(days=clock.LATE_EVENT_DAYS)
    assert admin(issue(tmp_path, open_day, open_day, "--yes")) == 1
    assert "still open to late entries" in capsys.readouterr().err
    with pytest.raises(IssuanceRecord.DoesNotExist):
        IssuanceRecord.get(REGISTRY, f"{open_day}..{open_day}")
    preview = run_json(capsys, *issue(tmp_path, open_day, open_day, "--dry-run"))
    assert preview["issuance"]["id"] is None and "still open" in preview["warnings"][0]


def test_issuance_refuses_to_overwrite_a_file_and_reversed_periods(tmp_path, capsys):
    day = TODAY - timedelta(days=300)
    (tmp_path / "issuance.json").write_text("{}", encoding="utf-8")
    assert admin(issue(tmp_path, day, day, "--yes")) == 1
    assert "never overwritten" in capsys.readouterr().err
    assert admin(issue(tmp_path, day, day - timedelta(days=1), "--yes", name="other")) == 2


def test_of_overlapping_issuances_run_at_once_exactly_one_is_recorded(client, tmp_path):
    person = login(client, f"o-race-{request_id()}")
    with at(RACE_DAY):
        checkin(client, person, "clean_plate")
    periods = [(RACE_DAY, RACE_DAY), (RACE_DAY - timedelta(days=1), RACE_DAY),
               (RACE_DAY, RACE_DAY + timedelta(days=1))]
    results: list[int] = []
    threads = [threading.Thread(target=lambda n=n, p=p: results.append(
        admin(issue(tmp_path, *p, "--yes", name=f"race-{n}")))) for n, p in enumerate(periods)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results) == [0, 1, 1]
    records = [r for r in IssuanceRecord.query(REGISTRY) if r.period != "#head"
               and r.first_day <= RACE_DAY.isoformat() <= r.last_day]
    assert len(records) == 1


WRITES = {"init-db", "load", "seed-demo", "user freeze", "user unfreeze", "points adjust", "run-jobs", "issuance"}


def commands() -> dict[str, set[str]]:
    """Every leaf command of the console's parser and its options."""
    from admin.__main__ import _parser

    def walk(parser: argparse.ArgumentParser, prefix: str) -> dict[str, set[str]]:
        found = {}
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    found |= walk(child, f"{prefix} {name}".strip())
        if not found:
            found[prefix] = {option for action in parser._actions for option in action.option_strings}
        return found

    return walk(_parser(), "")


def test_every_command_takes_json_and_every_write_takes_dry_run_and_yes():
    found = commands()
    assert {"report", "issuance", "audit", "reconcile", "user show"} <= set(found)
    assert [name for name, options in found.items() if "--json" not in options] == []
    assert [name for name in WRITES if not {"--dry-run", "--yes"} <= found[name]] == []


@pytest.mark.parametrize("argv", [["report", "--help"], ["issuance", "--help"], ["run-jobs", "--help"]])
def test_help_returns_0_in_process(argv, capsys):
    assert admin(argv) == 0
    assert capsys.readouterr().out.startswith(f"usage: python -m admin {argv[0]}")


def test_usage_errors_found_after_parsing_exit_with_status_2(user, capsys):
    assert admin(["points", "adjust", user["id"], "0", "--reason", "nothing"]) == 2
    assert admin(["audit", "--since", "yesterday"]) == 2
    assert admin(["user"]) == 2
    assert "usage error: --since" in capsys.readouterr().err


def test_run_jobs_dry_run_lists_the_jobs_and_runs_none(capsys):
    doc = run_json(capsys, "run-jobs", "--dry-run")
    assert doc["dry_run"] is True and isinstance(doc["would_run"], list)


def test_the_deployed_app_never_imports_the_consoles_plotting_library():
    import subprocess
    import sys

    probe = "import sys, app; print('matplotlib' in sys.modules, 'admin' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["False", "False"], result.stderr
