"""Adoptions and accrual runs racing from several processes at the same moment against DynamoDB Local."""
from __future__ import annotations

import uuid
from datetime import timedelta

from admin import catalog_load
from admin.__main__ import main as admin
from chalicelib.domain import clock
from chalicelib.store.models import Account, LedgerEntry
from chalicelib.store.stock import Stock
from chalicelib.store.trees import Adoption
from tests.support.api import login
from tests.support.racer import race
from tests.support.reconcile import reconciled


def adopt(user_id: str, tree_id: str, request_id: str) -> tuple[int, str]:
    """One adoption through the use case, as the route calls it; (status, certificate number or error code)."""
    from chalicelib import bootstrap
    from chalicelib.api.trees import adopt_command
    from chalicelib.errors import AppError
    from chalicelib.services import trees

    try:
        result = trees.adopt_tree(adopt_command(user_id, tree_id, {"request_id": request_id}), bootstrap.trees_uow())
        return 201, result.adoption.adoption_id
    except AppError as error:
        return error.status, error.code


def accrue_through(day_iso: str) -> int:
    from admin.__main__ import main

    return main(["accrue-trees", "--date", day_iso])


def make_tree(stock: int, price: int = 300) -> str:
    tree_id = "t-race-" + uuid.uuid4().hex[:10]
    catalog_load.load({"trees": [{"id": tree_id, "species": "水杉", "location": "泸州市纳溪区", "points_price": price,
                                  "annual_uptake_g": 7000, "stock": stock}]}, dry_run=False)
    return tree_id


def test_six_people_racing_for_three_trees_get_three_adoptions_and_three_sold_out(client, openid):
    tree_id = make_tree(stock=3)
    users = [login(client, f"{openid}-{n}")["id"] for n in range(6)]
    for user_id in users:
        assert admin(["points", "adjust", user_id, "1000", "--reason", "test"]) == 0
    outcomes = race(adopt, [(user_id, tree_id, f"race_tree_{n}") for n, user_id in enumerate(users)])
    assert [kind for kind, _ in outcomes] == ["ok"] * 6, outcomes
    results = [result for _, result in outcomes]
    won = [number for status, number in results if status == 201]
    assert len(won) == 3 and len(set(won)) == 3
    assert sorted(result for result in results if result[0] != 201) == [(409, "SOLD_OUT")] * 3
    assert int(Stock.get(f"tree#{tree_id}", consistent_read=True).left) == 0
    owners = {Adoption.get(number).user_id for number in won}
    balances = sorted(int(Account.get(user_id, consistent_read=True).points) for user_id in users)
    assert len(owners) == 3 and balances == [700, 700, 700, 1000, 1000, 1000]
    assert reconciled(*users)["clean"]


def test_one_person_racing_with_points_for_two_trees_adopts_two(user):
    tree_id = make_tree(stock=10, price=300)
    assert admin(["points", "adjust", user["id"], "600", "--reason", "test"]) == 0
    outcomes = race(adopt, [(user["id"], tree_id, f"race_self_{n}") for n in range(5)])
    statuses = sorted(result[0] for kind, result in outcomes if kind == "ok")
    assert statuses == [201, 201, 422, 422, 422], outcomes
    assert int(Account.get(user["id"], consistent_read=True).points) == 0
    assert int(Stock.get(f"tree#{tree_id}", consistent_read=True).left) == 8
    assert reconciled(user)["clean"]


def test_accrual_runs_racing_for_the_same_days_credit_each_day_once(client, user, monkeypatch):
    tree_id = make_tree(stock=5, price=10)
    assert admin(["points", "adjust", user["id"], "100", "--reason", "test"]) == 0
    adopted = clock.business_day(clock.now()) - timedelta(days=200)
    moment = clock.now() - timedelta(days=200)
    with monkeypatch.context() as patch:
        patch.setattr(clock, "now", lambda: moment)
        status, number = adopt(user["id"], tree_id, "race_accrual_adopt")
    assert status == 201
    through = (adopted + timedelta(days=30)).isoformat()
    outcomes = race(accrue_through, [(through,)] * 4)
    assert [result for _, result in outcomes] == [0] * 4, outcomes
    rows = list(LedgerEntry.by_kind.query(f"{user['id']}#accrual"))
    assert sorted(row.inputs["day_n"] for row in rows) == list(range(1, 31))
    assert sum(int(row.carbon_mg) for row in rows) == 7_000_000 * 30 // 365
    assert reconciled(user)["clean"]
    # made 200 days in the past and credited part-way: leave nothing due for later tests' run-jobs
    Adoption(number).update(actions=[Adoption.accrual_shard.remove()])
