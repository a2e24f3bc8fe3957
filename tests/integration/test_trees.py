"""Trees: the offer, adoption (a purchase in one transaction), certificates, and the daily accrual run
by the console, by run-jobs and by the Lambda fan-out, idempotent per adoption and day."""
from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest

from admin import catalog_load
from admin.__main__ import main as admin
from chalicelib import scheduling
from chalicelib.domain import clock
from chalicelib.services import accrual
from chalicelib.store.models import Account, CatalogItem, LedgerEntry
from chalicelib.store.trees import Adoption, shard_of
from tests.support.api import call, login, request_id
from tests.support.reconcile import reconciled

CERTIFICATE = re.compile(r"^GS-\d{4}-[0-9A-HJKMNP-TV-Z]{8}$")
A_MG = 18_000_001  # 18,000.001 g a year: not divisible by 365
TODAY = clock.business_day(clock.now())
# The adoption day of the accrual tests: its whole year is in the past, and before every day another test writes
# entries on (tests/support/days.py), since accruing a year puts tree entries on each of its days.
D0 = TODAY - timedelta(days=800)


_ADOPTED: list[str] = []  # this module's adoptions, retired from the accrual index when it ends


@pytest.fixture(scope="module", autouse=True)
def no_accrual_left_behind():
    """Adoptions here are made up to 400 days in the past and credited part-way. Leave none due, so
    later tests' `run-jobs` does not catch them up (and move platform totals) in the middle of theirs."""
    yield
    retire(_ADOPTED)


def retire(adoption_ids: list[str]) -> None:
    for adoption_id in adoption_ids:
        Adoption(adoption_id).update(actions=[Adoption.accrual_shard.remove()])


def make_tree(stock: int = 10, price: int = 300, annual_g: float | int = 18000.001, **fields) -> str:
    tree_id = "t-test-" + uuid.uuid4().hex[:10]
    entry = {"id": tree_id, "species": "香樟", "location": "泸州市江阳区", "points_price": price,
             "annual_uptake_g": annual_g, "stock": stock,
             "methodology": {"id": "TEST-tree", "version": f"t1-{annual_g}", "source": "test", "estimate": True},
             **fields}  # a version per figure: a tree methodology version never changes its figure
    catalog_load.load({"trees": [entry]}, dry_run=False)
    return tree_id


def give_points(user: dict, points: int = 1000) -> None:
    assert admin(["points", "adjust", user["id"], str(points), "--reason", "test"]) == 0


def adopt(client, user, tree_id, rid=None):
    status, body = call(client, "POST", f"/v1/trees/{tree_id}/adopt", {"request_id": rid or request_id()},
                        token=user["token"])
    if status == 201:
        _ADOPTED.append(body["adoption"]["id"])
    return status, body


def adopt_on(monkeypatch, client, user, tree_id, day):
    """Adopts as if it were 10:00 on `day` (Asia/Shanghai)."""
    moment = datetime.combine(day, time(10, 0), tzinfo=clock.SHANGHAI)
    with monkeypatch.context() as patch:
        patch.setattr(clock, "now", lambda: moment)
        status, body = adopt(client, user, tree_id)
    assert status == 201, body
    return body["adoption"]


def my_trees(client, user) -> list[dict]:
    status, body = call(client, "GET", "/v1/me/trees", token=user["token"])
    assert status == 200, body
    return body["items"]


def accruals(client, user) -> list[dict]:
    status, body = call(client, "GET", "/v1/me/ledger?kind=accrual&limit=100", token=user["token"])
    assert status == 200
    items = body["items"]
    cursor = body["next_cursor"]
    while cursor:
        body = call(client, "GET", f"/v1/me/ledger?kind=accrual&limit=100&cursor={cursor}", token=user["token"])[1]
        items += body["items"]
        cursor = body["next_cursor"]
    return items


def accrue_through(day) -> None:
    assert admin(["accrue-trees", "--date", day.isoformat()]) == 0


def carbon_g(mg: int) -> float:
    return mg / 1000


# --- the offer and adoption --------------------------------------------------------------------------

def test_the_demo_trees_are_offered_with_price_uptake_availability_and_an_estimate_methodology(client):
    status, body = call(client, "GET", "/v1/trees")
    assert status == 200
    trees = {t["id"]: t for t in body["items"]}
    camphor = trees["t-camphor-2026"]
    assert (camphor["species"], camphor["annual_uptake_g"], camphor["points_price"]) == ("香樟", 18000.0, 300)
    assert 0 < camphor["available"] <= 1000
    assert camphor["methodology"]["estimate"] is True
    assert trees["t-dawn-redwood-2026"]["annual_uptake_g"] == 7000.0


def test_adopting_spends_the_price_takes_one_tree_and_issues_a_certificate(client, user):
    tree_id = make_tree(stock=5, price=300)
    give_points(user, 1000)
    status, body = adopt(client, user, tree_id)
    assert status == 201, body
    adoption = body["adoption"]
    assert CERTIFICATE.match(adoption["certificate_no"])
    assert adoption["certificate_no"].startswith(f"GS-{TODAY.year}-")
    assert (adoption["tree_id"], adoption["accrued_g"], body["points"]) == (tree_id, 0.0, 700)
    assert adoption["adopted_at"].endswith("+08:00")
    entry = body["entry"]
    assert (entry["kind"], entry["points"], entry["source"], entry["ref"]) == ("spend", -300, "tree",
                                                                               adoption["certificate_no"])
    available = {t["id"]: t["available"] for t in call(client, "GET", "/v1/trees")[1]["items"]}
    assert available[tree_id] == 4
    [mine] = my_trees(client, user)
    assert mine["certificate_no"] == adoption["certificate_no"]
    assert mine["certificate"] == {"number": adoption["certificate_no"], "species": "香樟", "location": "泸州市江阳区",
                                   "adopter_nickname": mine["certificate"]["adopter_nickname"],
                                   "date": TODAY.isoformat(), "accrued_g": 0.0}
    assert mine["certificate"]["adopter_nickname"]
    me = call(client, "GET", "/v1/me", token=user["token"])[1]
    assert (me["points"], me["points_spent"]) == (700, 300)


def test_the_certificate_shows_the_adopters_nickname(client, user):
    call(client, "PATCH", "/v1/me", {"nickname": "江阳小树"}, token=user["token"])
    tree_id = make_tree()
    give_points(user)
    assert adopt(client, user, tree_id)[0] == 201
    assert my_trees(client, user)[0]["certificate"]["adopter_nickname"] == "江阳小树"


def test_the_same_request_id_adopts_once_and_returns_the_first_certificate(client, user):
    tree_id = make_tree(stock=5)
    give_points(user, 1000)
    rid = request_id()
    first = adopt(client, user, tree_id, rid)
    second = adopt(client, user, tree_id, rid)
    assert first[0] == 201 and second == first
    assert len(my_trees(client, user)) == 1
    assert call(client, "GET", "/v1/me", token=user["token"])[1]["points"] == 700


def test_certificate_numbers_are_random_not_a_sequence(client, user):
    tree_id = make_tree(stock=5, price=10)
    give_points(user, 100)
    numbers = [adopt(client, user, tree_id)[1]["adoption"]["certificate_no"] for _ in range(3)]
    assert len(set(numbers)) == 3 and all(CERTIFICATE.match(n) for n in numbers)
    assert sorted(numbers) != numbers or sorted(numbers, reverse=True) != numbers


def test_a_certificate_number_already_taken_is_never_given_twice(client, user, openid, monkeypatch):
    tree_id = make_tree(stock=5)
    other = login(client, openid + "-b")
    give_points(user)
    give_points(other)
    taken = adopt(client, user, tree_id)[1]["adoption"]["certificate_no"]
    from chalicelib.services import trees as trees_service

    draws = iter([taken, taken, "GS-2026-FRESH000"])
    monkeypatch.setattr(trees_service, "certificate_number", lambda year: next(draws))
    status, body = adopt(client, other, tree_id)
    assert status == 201, body
    assert body["adoption"]["certificate_no"] == "GS-2026-FRESH000"
    assert my_trees(client, user)[0]["certificate_no"] == taken  # the first adopter keeps theirs
    assert Adoption.get(taken).user_id == user["id"]
    assert call(client, "GET", "/v1/me", token=other["token"])[1]["points"] == 700


def test_without_enough_points_adoption_is_refused_and_changes_nothing(client, user):
    tree_id = make_tree(stock=5, price=300)
    give_points(user, 299)
    status, body = adopt(client, user, tree_id)
    assert (status, body["error"]["code"]) == (422, "INSUFFICIENT_POINTS")
    assert my_trees(client, user) == []
    assert {t["id"]: t["available"] for t in call(client, "GET", "/v1/trees")[1]["items"]}[tree_id] == 5


def test_a_sold_out_tree_is_409_and_keeps_the_points(client, user, openid):
    tree_id = make_tree(stock=1, price=100)
    second = login(client, openid + "-2")
    give_points(user)
    give_points(second)
    assert adopt(client, user, tree_id)[0] == 201
    status, body = adopt(client, second, tree_id)
    assert (status, body["error"]["code"]) == (409, "SOLD_OUT")
    assert call(client, "GET", "/v1/me", token=second["token"])[1]["points"] == 1000
    assert {t["id"]: t["available"] for t in call(client, "GET", "/v1/trees")[1]["items"]}[tree_id] == 0


def test_an_unknown_tree_is_404(client, user):
    status, body = adopt(client, user, "t-no-such-tree")
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")


def test_a_frozen_account_cannot_adopt(client, user):
    tree_id = make_tree()
    give_points(user)
    assert admin(["user", "freeze", user["id"], "--reason", "test"]) == 0
    status, body = adopt(client, user, tree_id)
    assert (status, body["error"]["code"]) == (403, "ACCOUNT_FROZEN")


def test_adoption_needs_a_login_and_a_request_id(client, user):
    tree_id = make_tree()
    assert call(client, "POST", f"/v1/trees/{tree_id}/adopt", {"request_id": request_id()})[0] == 401
    status, body = call(client, "POST", f"/v1/trees/{tree_id}/adopt", {}, token=user["token"])
    assert (status, body["error"]["details"]["field"]) == (400, "request_id")


def test_users_see_only_their_own_trees(client, user, openid):
    tree_id = make_tree()
    other = login(client, openid + "-o")
    give_points(user)
    adopt(client, user, tree_id)
    assert my_trees(client, other) == []


def test_lowering_a_trees_stock_below_what_was_adopted_is_refused(client, user, capsys):
    tree_id = make_tree(stock=2, price=10)
    give_points(user)
    adopt(client, user, tree_id)
    entry = {"id": tree_id, "species": "香樟", "location": "泸州市江阳区", "points_price": 10,
             "annual_uptake_g": 18000.001, "stock": 0,
             "methodology": {"id": "TEST-tree", "version": "t1-18000.001", "source": "test", "estimate": True}}
    with pytest.raises(catalog_load.CommandError, match="already taken"):
        catalog_load.load({"trees": [entry]}, dry_run=False)
    catalog_load.load({"trees": [{**entry, "stock": 5}]}, dry_run=False)
    assert {t["id"]: t["available"] for t in call(client, "GET", "/v1/trees")[1]["items"]}[tree_id] == 4


def _offer(tree_id: str, methodology_id: str, version: str, annual_g: int) -> dict:
    return {"id": tree_id, "species": "香樟", "location": "泸州市江阳区", "points_price": 10,
            "annual_uptake_g": annual_g, "stock": 5,
            "methodology": {"id": methodology_id, "version": version, "source": "test", "estimate": True}}


def _tree_catalog(*tree_ids: str) -> dict:
    stored = {item.id: item.data for item in CatalogItem.query("tree", consistent_read=True)}
    return {tree_id: stored.get(tree_id) for tree_id in tree_ids}


def _history(methodology_id: str) -> dict:
    return {item.id: item.data["annual_uptake_mg"]
            for item in CatalogItem.query(f"tree_methodology#{methodology_id}", consistent_read=True)}


def test_a_tree_methodology_version_keeps_its_figure_whichever_tree_carries_it(capsys, tmp_path):
    method, camphor, redwood, pine = f"TEST-hist-{uuid.uuid4().hex[:8]}", *("t-hist-" + uuid.uuid4().hex[:8]
                                                                            for _ in range(3))
    catalog_load.load({"trees": [_offer(camphor, method, "v1", 18000)]}, dry_run=False)
    assert _history(method) == {"v1": 18_000_000}

    def refused(*entries: dict, stored: str) -> None:
        before, path = (_tree_catalog(camphor, redwood, pine), _history(method)), tmp_path / "trees.json"
        path.write_text(json.dumps({"trees": list(entries)}), encoding="utf-8")
        capsys.readouterr()
        assert admin(["load", str(path)]) == 1
        err = capsys.readouterr().err
        assert f"methodology {method} version v1 already has annual uptake 18000 g (an estimate) in {stored}" in err
        assert "give annual_uptake_g" in err and "a new version" in err and "Traceback" not in err
        assert (_tree_catalog(camphor, redwood, pine), _history(method)) == before  # nothing written

    refused(_offer(camphor, method, "v1", 20000), stored=f"the catalog's history, first offered by tree {camphor}")
    refused(_offer(redwood, method, "v1", 7000), stored=f"the catalog's history, first offered by tree {camphor}")
    report = catalog_load.load({"trees": [_offer(camphor, method, "v2", 20000)]}, dry_run=False)
    assert report["trees"]["versions_recorded"] == [f"{method}@v2"]
    assert _history(method) == {"v1": 18_000_000, "v2": 20_000_000}
    # the current offer moved on: its old version still has its figure, for camphor and for any other tree
    refused(_offer(camphor, method, "v1", 20000), stored=f"the catalog's history, first offered by tree {camphor}")
    refused(_offer(pine, method, "v3", 5000), _offer(redwood, method, "v1", 7000),
            stored=f"the catalog's history, first offered by tree {camphor}")  # pine, fine, is not written either
    assert _tree_catalog(camphor)[camphor]["methodology"]["version"] == "v2"
    # the same figure under the stored version is the version itself: another tree may carry it
    catalog_load.load({"trees": [_offer(redwood, method, "v1", 18000)]}, dry_run=False)
    assert _history(method) == {"v1": 18_000_000, "v2": 20_000_000}


def test_two_trees_of_one_file_cannot_give_a_new_version_two_figures(capsys):
    method, one, two = f"TEST-hist-{uuid.uuid4().hex[:8]}", *("t-hist-" + uuid.uuid4().hex[:8] for _ in range(2))
    said = (f"tree {one}: methodology {method} version n1 already has annual uptake 2000 g (an estimate) "
            f"in the file's tree {two}")
    with pytest.raises(catalog_load.CommandError, match=re.escape(said)):
        catalog_load.load({"trees": [_offer(one, method, "n1", 1000), _offer(two, method, "n1", 2000)]},
                          dry_run=False)
    assert _tree_catalog(one, two) == {one: None, two: None} and _history(method) == {}


# --- accrual ------------------------------------------------------------------------------------------

def test_day_one_is_the_business_day_after_adoption(client, user, monkeypatch):
    tree_id = make_tree(stock=5)
    give_points(user)
    adoption = adopt_on(monkeypatch, client, user, tree_id, D0)
    accrue_through(D0)
    assert accruals(client, user) == []
    accrue_through(D0 + timedelta(days=1))
    [entry] = accruals(client, user)
    assert (entry["kind"], entry["points"], entry["source"], entry["ref"]) == ("accrual", 0, "tree", adoption["id"])
    assert entry["carbon_g"] == carbon_g(A_MG // 365)
    assert entry["methodology"] == {"id": "TEST-tree", "version": "t1-18000.001"}
    assert my_trees(client, user)[0]["accrued_g"] == carbon_g(A_MG // 365)


def test_a_whole_year_sums_exactly_to_the_annual_uptake_and_then_stops(client, user, monkeypatch):
    tree_id = make_tree(stock=5)
    give_points(user)
    adoption = adopt_on(monkeypatch, client, user, tree_id, D0)
    accrue_through(D0 + timedelta(days=365))
    entries = accruals(client, user)
    assert len(entries) == 365
    assert sum(round(e["carbon_g"] * 1000) for e in entries) == A_MG
    [mine] = my_trees(client, user)
    assert (mine["accrued_g"], mine["days_accrued"], mine["status"]) == (18000.001, 365, "completed")
    assert call(client, "GET", "/v1/me", token=user["token"])[1]["carbon_g"] == 18000.001
    summary = call(client, "GET", "/v1/me/summary?period=all", token=user["token"])[1]
    [trees_line] = [line for line in summary["by_behavior"] if line["behavior"] == "tree_uptake"]
    assert (trees_line["name"], trees_line["count"], trees_line["carbon_g"]) == ("认养树木固碳", 365, 18000.001)
    accrue_through(TODAY)  # later runs find the finished adoption out of the accruing index
    assert len(accruals(client, user)) == 365
    assert Adoption.get(adoption["id"]).accrual_shard is None
    assert reconciled(user)["clean"]


def test_running_a_day_twice_credits_it_once(client, user, monkeypatch):
    tree_id = make_tree(stock=5)
    give_points(user)
    adopt_on(monkeypatch, client, user, tree_id, D0)
    accrue_through(D0 + timedelta(days=3))
    accrue_through(D0 + timedelta(days=3))
    entries = accruals(client, user)
    assert len(entries) == 3
    assert my_trees(client, user)[0]["accrued_g"] == carbon_g(A_MG * 3 // 365)
    assert call(client, "GET", "/v1/me", token=user["token"])[1]["carbon_g"] == carbon_g(A_MG * 3 // 365)


def test_a_gap_of_several_days_is_caught_up_exactly_one_entry_per_day(client, user, monkeypatch):
    tree_id = make_tree(stock=5)
    give_points(user)
    adopt_on(monkeypatch, client, user, tree_id, D0)
    accrue_through(D0 + timedelta(days=2))
    accrue_through(D0 + timedelta(days=9))  # the runs of days 3 to 8 never happened
    rows = list(LedgerEntry.by_kind.query(f"{user['id']}#accrual"))
    assert sorted((row.day, row.inputs["day_n"], int(row.carbon_mg)) for row in rows) == [
        ((D0 + timedelta(days=n)).isoformat(), n, A_MG * n // 365 - A_MG * (n - 1) // 365) for n in range(1, 10)]
    assert my_trees(client, user)[0]["accrued_g"] == carbon_g(A_MG * 9 // 365)
    assert reconciled(user)["clean"]


def test_several_trees_of_one_person_are_credited_together(client, user, monkeypatch):
    camphor, redwood = make_tree(stock=5, price=10), make_tree(stock=5, price=10, annual_g=7000)
    give_points(user)
    adopt_on(monkeypatch, client, user, camphor, D0)
    adopt_on(monkeypatch, client, user, camphor, D0 + timedelta(days=1))
    adopt_on(monkeypatch, client, user, redwood, D0)
    accrue_through(D0 + timedelta(days=20))
    accrued = sorted(t["accrued_g"] for t in my_trees(client, user))
    expected = [carbon_g(A_MG * 20 // 365), carbon_g(A_MG * 19 // 365), carbon_g(7_000_000 * 20 // 365)]
    assert accrued == sorted(expected)
    assert len(accruals(client, user)) == 59
    assert reconciled(user)["clean"]


def test_a_frozen_account_accrues_nothing_until_unfrozen_and_then_catches_up(client, user, monkeypatch):
    tree_id = make_tree(stock=5)
    give_points(user)
    adopt_on(monkeypatch, client, user, tree_id, D0)
    assert admin(["user", "freeze", user["id"], "--reason", "test"]) == 0
    accrue_through(D0 + timedelta(days=5))
    assert accruals(client, user) == []
    assert admin(["user", "unfreeze", user["id"]]) == 0
    accrue_through(D0 + timedelta(days=5))
    assert len(accruals(client, user)) == 5


def test_an_erased_account_accrues_nothing_more(client, user, monkeypatch):
    tree_id = make_tree(stock=5)
    give_points(user)
    adoption = adopt_on(monkeypatch, client, user, tree_id, D0)
    accrue_through(D0 + timedelta(days=2))
    Account(user["id"]).update(actions=[Account.deleted_at.set(clock.iso(clock.now()))])  # as erasure leaves it
    accrue_through(D0 + timedelta(days=5))
    assert len(list(LedgerEntry.by_kind.query(f"{user['id']}#accrual"))) == 2
    assert Adoption.get(adoption["id"]).accrual_shard is None  # never read by a daily run again


def test_run_jobs_credits_the_current_business_day(client, user, monkeypatch, capsys):
    tree_id = make_tree(stock=5)
    give_points(user)
    adopt_on(monkeypatch, client, user, tree_id, TODAY - timedelta(days=2))
    capsys.readouterr()
    assert admin(["run-jobs", "--once", "--json"]) == 0
    assert "accrue-trees" in json.loads(capsys.readouterr().out)["ran"]
    assert my_trees(client, user)[0]["accrued_g"] == carbon_g(A_MG * 2 // 365)


def test_accrue_trees_dry_run_credits_nothing_and_a_real_run_is_audited(client, user, monkeypatch, capsys):
    tree_id = make_tree(stock=5)
    give_points(user)
    adopt_on(monkeypatch, client, user, tree_id, D0)
    day = (D0 + timedelta(days=4)).isoformat()
    capsys.readouterr()
    assert admin(["accrue-trees", "--date", day, "--dry-run", "--json"]) == 0
    preview = json.loads(capsys.readouterr().out)
    assert preview["dry_run"] is True and preview["credited_days"] >= 4
    assert accruals(client, user) == []
    assert admin(["accrue-trees", "--date", day, "--json"]) == 0
    assert len(accruals(client, user)) == 4
    capsys.readouterr()
    assert admin(["audit", "--json"]) == 0
    assert any(r["command"] == "accrue-trees" and r["arguments"]["date"] == day
               for r in json.loads(capsys.readouterr().out))


def test_accrue_trees_has_help():
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run([sys.executable, "-m", "admin", "accrue-trees", "--help"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert result.returncode == 0 and "--date" in result.stdout and "--dry-run" in result.stdout


def test_accrue_trees_refuses_a_day_that_has_not_begun(capsys):
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert admin(["accrue-trees", "--date", tomorrow]) != 0
    assert "not begun" in capsys.readouterr().err


# --- the AWS path: one worker per shard, handing over when its time runs short ------------------------

class LambdaContext:
    """What Lambda passes a handler: the function's name and the time it has left."""

    def __init__(self, function_name: str, remaining_ms: int = 900_000) -> None:
        self.function_name = function_name
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def scheduled_event(moment: datetime) -> dict:
    return {"version": "0", "id": uuid.uuid4().hex, "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "cn-north-1", "resources": [], "detail": {}}


def test_the_schedule_fans_out_per_shard_and_workers_hand_over_until_done(app_module, client, user, monkeypatch):
    tree_id = make_tree(stock=5, price=10)
    give_points(user)
    for day in (D0, D0 + timedelta(days=1), D0 + timedelta(days=2)):
        adopt_on(monkeypatch, client, user, tree_id, day)
    invoked: list[tuple[str, dict]] = []
    monkeypatch.setattr(scheduling, "lambda_invoker", lambda name: lambda payload: invoked.append((name, payload)))
    monkeypatch.setattr(accrual, "PAGE_SIZE", 1)
    midnight = datetime.combine(D0 + timedelta(days=10), time(0, 0), tzinfo=clock.SHANGHAI)
    result = app_module.job_accrue_trees(scheduled_event(midnight), LambdaContext("greensprout-prod-accrue-trees"))
    assert result["dispatched"] == 64 and len(invoked) == 64
    assert {name for name, _ in invoked} == {"greensprout-prod-jobs_worker"}
    pending = [payload for _, payload in invoked if payload["shard"] == shard_of(user["id"])]
    handovers = 0
    while pending:  # each worker has a page's time: it credits one page, then hands over
        invoked.clear()
        result = app_module.jobs_worker(json.loads(json.dumps(pending.pop())),
                                        LambdaContext("greensprout-prod-jobs_worker", remaining_ms=1_000))
        handovers += result["continued"]
        pending += [payload for _, payload in invoked]
    assert handovers >= 2  # three adoptions, one page each
    accrued = sorted(t["accrued_g"] for t in my_trees(client, user))
    assert accrued == [carbon_g(A_MG * n // 365) for n in (8, 9, 10)]


def test_aws_fires_the_accrual_at_midnight_shanghai_and_has_a_worker_for_its_shards(app_module):
    schedules = {source.name: source.schedule_expression for source in app_module.app.event_sources}
    assert schedules["accrue-trees"] == "cron(0 16 * * ? *)"  # 16:00 UTC = 00:00 Asia/Shanghai
    assert "jobs_worker" in {function.name for function in app_module.app.pure_lambda_functions}
    assert callable(app_module.job_accrue_trees)
