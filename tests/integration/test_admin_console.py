"""python -m admin: catalog versions and stock, corrections, freezing, reconcile, run-jobs and the audit trail."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from admin import catalog_load
from admin.__main__ import main as admin
from chalicelib import jobs
from chalicelib.domain import clock
from chalicelib.store.models import Account
from chalicelib.store.stock import Stock
from tests.support.api import call, request_id
from tests.support.market import balance, give_points, new_goods, redeem
from tests.support.reconcile import reconciled

ROOT = Path(__file__).resolve().parents[2]


def _behavior(code: str, mg: int, version: str) -> dict:
    return {"code": code, "name": "测试行为", "category": "test", "unit": "event",
            "carbon": {"mg": mg, "per": 1}, "points": {"points": 1, "per": 1}, "daily_limit": 5,
            "channels": ["checkin"], "methodology": {"id": f"TEST-{code}", "version": version, "source": "test"}}


def _write(tmp_path: Path, *behaviors: dict) -> str:
    path = tmp_path / f"catalog-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps({"behaviors": list(behaviors)}), encoding="utf-8")
    return str(path)


def test_a_changed_rule_needs_a_new_version_and_old_entries_keep_theirs(client, user, tmp_path, capsys):
    code = "test_" + uuid.uuid4().hex[:8]
    assert admin(["load", _write(tmp_path, _behavior(code, 1000, "v1"))]) == 0
    first = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": code}, token=user["token"])
    assert admin(["load", _write(tmp_path, _behavior(code, 2000, "v1"))]) == 1
    assert "did not; give the changed rule a new version" in capsys.readouterr().err
    assert admin(["load", _write(tmp_path, _behavior(code, 2000, "v2"))]) == 0
    second = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": code}, token=user["token"])
    assert (first[1]["entry"]["methodology"]["version"], first[1]["entry"]["carbon_g"]) == ("v1", 1.0)
    assert (second[1]["entry"]["methodology"]["version"], second[1]["entry"]["carbon_g"]) == ("v2", 2.0)
    ledger = call(client, "GET", "/v1/me/ledger", token=user["token"])[1]["items"]
    assert [e["methodology"]["version"] for e in ledger] == ["v2", "v1"]


def test_loading_the_same_file_twice_changes_nothing(tmp_path, capsys):
    path = _write(tmp_path, _behavior("test_" + uuid.uuid4().hex[:8], 500, "v1"))
    assert admin(["load", path, "--json"]) == 0
    capsys.readouterr()
    assert admin(["load", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["writes"] == 0


def test_dry_run_previews_without_writing(tmp_path, client):
    code = "test_" + uuid.uuid4().hex[:8]
    assert admin(["load", _write(tmp_path, _behavior(code, 500, "v1")), "--dry-run"]) == 0
    codes = {b["code"] for b in call(client, "GET", "/v1/behaviors")[1]["items"]}
    assert code not in codes


def test_points_adjust_is_an_audited_entry_and_never_goes_below_zero(client, user, capsys):
    assert admin(["points", "adjust", user["id"], "50", "--reason", "apology for outage"]) == 0
    assert admin(["points", "adjust", user["id"], "-51", "--reason", "too much"]) == 1
    assert "INSUFFICIENT_POINTS" in capsys.readouterr().err
    me = call(client, "GET", "/v1/me", token=user["token"])[1]
    assert me["points"] == 50 and me["points_earned"] == 50
    capsys.readouterr()
    assert admin(["audit", "--json"]) == 0
    trail = json.loads(capsys.readouterr().out)
    assert any(r["command"] == "points adjust" and r["arguments"]["user"] == user["id"]
               and r["reason"] == "apology for outage" for r in trail)


def test_points_adjust_with_the_same_request_id_applies_once(client, user):
    for _ in range(2):
        assert admin(["points", "adjust", user["id"], "7", "--reason", "bonus", "--request-id", "adm_once_1234"]) == 0
    assert call(client, "GET", "/v1/me", token=user["token"])[1]["points"] == 7


def test_reconcile_reports_an_account_whose_balance_disagrees_with_its_ledger(client, user, capsys):
    call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "no_cutlery"}, token=user["token"])
    account = Account.get(user["id"])
    account.update(actions=[Account.points.add(1000)])  # corruption no code path can make
    try:
        assert admin(["reconcile", "--json"]) == 1
        report = json.loads(capsys.readouterr().out)
        bad = [m for m in report["mismatches"] if m["user_id"] == user["id"]]
        assert bad and bad[0]["points"] == 1002 and bad[0]["ledger_points"] == 2  # no_cutlery: 2 points
        assert reconciled(user) == {"accounts": 1, "mismatches": bad, "clean": False}  # what each test checks
    finally:
        account.update(actions=[Account.points.add(-1000)])
    assert admin(["reconcile"]) == 0
    assert reconciled(user)["clean"]
    with pytest.raises(Account.DoesNotExist):  # a test naming an account that is not there proves nothing
        reconciled("no-such-user")


def test_user_show_by_openid(user, capsys):
    assert admin(["user", "show", user["openid"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == user["id"]
    assert admin(["user", "show", "o-nobody-at-all"]) == 1


@pytest.mark.parametrize("command", [[], ["init-db"], ["load"], ["seed-demo"], ["user", "freeze"], ["points", "adjust"],
                                     ["reconcile"], ["run-jobs"], ["audit"], ["user", "show"]])
def test_every_command_has_help(command):
    result = subprocess.run([sys.executable, "-m", "admin", *command, "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "usage: python -m admin" in result.stdout


def test_usage_errors_exit_with_status_2():
    result = subprocess.run([sys.executable, "-m", "admin", "points", "adjust", "u_x", "notanumber"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2


# --- stock in the catalog ----------------------------------------------------------------------------

def _on_shelf(client, category: str) -> list[tuple[str, int]]:
    items = call(client, "GET", f"/v1/market/goods?category={category}")[1]["items"]
    return [(g["name"], g["stock_left"]) for g in items]


def _lowered_stock_file(tmp_path: Path, goods: dict, behavior: dict, stock: int) -> str:
    path = tmp_path / f"catalog-{uuid.uuid4().hex[:6]}.json"
    doc = {"behaviors": [behavior], "goods": [{**goods, "name": "改了名的商品", "stock": stock}]}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _behavior_codes(client) -> set[str]:
    return {b["code"] for b in call(client, "GET", "/v1/behaviors")[1]["items"]}


def test_load_refuses_less_stock_than_was_sold_and_writes_nothing(client, user, tmp_path, capsys):
    give_points(user, 100)
    category, code = "cat-" + uuid.uuid4().hex[:8], "test_" + uuid.uuid4().hex[:8]
    goods = new_goods(stock=3, category=category)
    assert [redeem(client, user, goods["id"])[0] for _ in range(2)] == [201, 201]
    path = _lowered_stock_file(tmp_path, goods, _behavior(code, 500, "v1"), stock=1)
    capsys.readouterr()
    for preview in ([], ["--dry-run"]):
        assert admin(["load", path, *preview]) == 1
        err = capsys.readouterr().err
        assert f"error: goods {goods['id']}: stock 1 is below the 2 already taken (sold); offer at least 2" in err
    assert _on_shelf(client, category) == [("测试商品", 1)]
    assert int(Stock.get(f"goods#{goods['id']}", consistent_read=True).total) == 3
    assert code not in _behavior_codes(client)


def test_a_sale_between_planning_and_writing_stops_the_load_before_anything_is_written(
        client, user, tmp_path, monkeypatch, capsys):
    give_points(user, 100)
    category, code = "cat-" + uuid.uuid4().hex[:8], "test_" + uuid.uuid4().hex[:8]
    goods = new_goods(stock=2, category=category)
    assert redeem(client, user, goods["id"])[0] == 201  # 1 sold: the plan accepts a total of 1
    path = _lowered_stock_file(tmp_path, goods, _behavior(code, 500, "v1"), stock=1)
    planned_writes = catalog_load.apply

    def sale_then_writes(writes, deletes):  # the second unit sells after the plan read the stock
        assert redeem(client, user, goods["id"])[0] == 201
        planned_writes(writes, deletes)

    monkeypatch.setattr(catalog_load, "apply", sale_then_writes)
    capsys.readouterr()
    assert admin(["load", path]) == 1
    err = capsys.readouterr().err
    assert f"error: goods {goods['id']}: stock 1 is below the 2 already taken (sold)" in err
    assert "nothing else was written" in err and "Traceback" not in err
    assert _on_shelf(client, category) == [("测试商品", 0)]
    assert int(Stock.get(f"goods#{goods['id']}", consistent_read=True).total) == 2
    assert code not in _behavior_codes(client)  # listed before the goods in the file, yet not written


# --- run-jobs -------------------------------------------------------------------------------------------

def test_run_jobs_runs_every_job_when_one_fails_and_exits_1_naming_it(client, user, monkeypatch, capsys):
    give_points(user, 100)
    goods = new_goods(valid_days=1, refund_on_expiry=True, points_price=30)
    assert redeem(client, user, goods["id"])[0] == 201 and balance(client, user) == 70

    def broken(at):
        raise RuntimeError("partner refused https://partner.example/token?secret=hunter2")

    monkeypatch.setattr(jobs, "JOBS", [jobs.Job("test-broken", 60, broken), *jobs.JOBS])
    later = clock.now() + timedelta(days=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    capsys.readouterr()
    assert admin(["run-jobs", "--once", "--job", "test-broken", "--job", "expire-redemptions"]) == 1
    out, err = capsys.readouterr()
    assert "error: job test-broken failed: RuntimeError: partner refused" in err
    assert "jobs run: expire-redemptions; failed: test-broken" in out
    assert "hunter2" not in out + err and "Traceback" not in err
    assert balance(client, user) == 100  # the job after the failed one expired the code and refunded it


def test_run_jobs_json_lists_failures_and_all_good_exits_0(monkeypatch, capsys):
    def broken(at):
        raise ValueError("bad input")

    fine = jobs.Job("test-fine", 60, lambda at: {"done": 1})
    monkeypatch.setattr(jobs, "JOBS", [jobs.Job("test-broken", 60, broken), fine])
    capsys.readouterr()
    assert admin(["run-jobs", "--once", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["failed"] == {"test-broken": "ValueError: bad input"} and list(doc["ran"]) == ["test-fine"]
    assert admin(["run-jobs", "--once", "--job", "test-fine"]) == 0
    assert "jobs run: test-fine" in capsys.readouterr().out


def test_run_jobs_refuses_a_job_it_does_not_know(capsys):
    assert admin(["run-jobs", "--once", "--job", "no-such-job"]) == 2
    err = capsys.readouterr().err
    assert "usage error: no job no-such-job" in err and "expire-redemptions" in err


def test_the_demo_catalogs_photo_behaviours_are_new_versions_and_the_old_ones_stay_for_recomputing():
    """A deployment that loaded the demo catalog before its clean plate and garbage sorting required a photo
    takes the new file as new methodology versions (the rule changed: `evidence`); the old versions stay stored,
    so an entry computed with them is recomputed by them."""
    from admin.catalog_load import DEMO_CATALOG
    from chalicelib.domain.caps import recompute
    from chalicelib.services import catalog
    from tests.support.market import load_catalog

    demo = {b["code"]: b for b in json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))["behaviors"]}
    before = {"clean_plate": "2024.1", "garbage_sorting": "2026.1"}  # the versions without evidence
    old = [{**{k: v for k, v in demo[code].items() if k != "evidence"},
            "methodology": {**demo[code]["methodology"], "version": version}} for code, version in before.items()]
    try:
        load_catalog({"behaviors": old})
        report = load_catalog({"behaviors": [demo["clean_plate"], demo["garbage_sorting"]]})
        assert sorted(report["behaviors"]["new_version"]) == ["clean_plate@2026.1", "garbage_sorting@2026.2"]
    finally:
        load_catalog({"behaviors": [demo["clean_plate"], demo["garbage_sorting"]]})  # the demo's, whatever failed
        catalog.forget()
    for code, version in before.items():
        previous, current = catalog.rule_version(code, version), catalog.behavior(code)
        assert (previous.evidence, current.evidence) == ((), ("photo",))
        assert recompute(previous, {"quantity": "1"}) == recompute(current, {"quantity": "1"})  # same arithmetic


def test_a_goods_or_tree_listed_twice_is_refused_and_nothing_is_written(tmp_path, capsys):
    code = "test_" + uuid.uuid4().hex[:8]
    goods = {"id": "t-" + uuid.uuid4().hex[:12], "name": "测试商品", "kind": "coupon", "category": "test",
             "merchant_id": "m-cafe", "points_price": 30, "stock": 10, "per_user_limit": 5, "valid_days": 30,
             "cancellable": True, "refund_on_expiry": False}
    tree = {"id": "t-twice-" + uuid.uuid4().hex[:8], "species": "香樟", "location": "泸州市江阳区", "points_price": 300,
            "annual_uptake_g": 18000, "stock": 5,
            "methodology": {"id": "TEST-tree", "version": "t-twice", "source": "test", "estimate": True}}
    for section, entry, noun in (("goods", goods, "goods"), ("trees", tree, "tree")):
        path = tmp_path / f"twice-{section}.json"
        path.write_text(json.dumps({"behaviors": [_behavior(code, 500, "v1")], section: [entry, entry]}),
                        encoding="utf-8")
        capsys.readouterr()
        assert admin(["load", str(path)]) == 1
        assert f"error: {noun} {entry['id']} is listed twice" in capsys.readouterr().err
        with pytest.raises(Stock.DoesNotExist):
            Stock.get(f"{noun}#{entry['id']}", consistent_read=True)
    assert code not in catalog_load.existing("behavior")
