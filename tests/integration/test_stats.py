"""GET /v1/stats: exact once the jobs have drained, moving with logins, awards and adoptions, read in one call."""
from __future__ import annotations

import uuid

from admin.__main__ import main as admin
from chalicelib.services import stats
from tests.support.aggregates import checkin, drain
from tests.support.api import DynamoDBCalls, call, login, request_id


def _stats(client) -> dict:
    status, body = call(client, "GET", "/v1/stats")
    assert status == 200, body
    return body


def _change(client, act) -> dict:
    """What `act` changes in the public stats, everything before it drained first."""
    drain()
    before = _stats(client)
    act()
    drain()
    after = _stats(client)
    return {key: round(after[key] - before[key], 3) for key in before if isinstance(before[key], (int, float))}


def test_a_first_login_registers_one_user_active_today_and_later_logins_add_nothing(client):
    openid = "o-" + uuid.uuid4().hex[:16]
    first = _change(client, lambda: login(client, openid))
    assert first == {"registered_users": 1, "active_users_today": 1, "points_issued": 0, "carbon_g": 0,
                     "organizations": 0, "adoptions": 0}
    again = _change(client, lambda: [login(client, openid) for _ in range(2)])
    assert set(again.values()) == {0}


def test_awards_move_points_issued_and_carbon_but_not_the_day_of_an_active_user(client, user):
    def act():
        checkin(client, user)
        checkin(client, user, "no_cutlery")

    change = _change(client, act)
    assert change == {"registered_users": 0, "active_users_today": 0, "points_issued": 7, "carbon_g": 189.72,
                      "organizations": 0, "adoptions": 0}


def test_operator_corrections_above_zero_are_issued_points_and_below_zero_are_not(client, user, capsys):
    def act():
        assert admin(["points", "adjust", user["id"], "40", "--reason", "补录线下活动积分"]) == 0
        assert admin(["points", "adjust", user["id"], "-15", "--reason", "重复录入"]) == 0

    change = _change(client, act)
    assert (change["points_issued"], change["carbon_g"], change["active_users_today"]) == (40, 0, 0)


def test_an_adoption_is_counted_once_and_spending_issues_no_points(client, user, capsys):
    assert admin(["points", "adjust", user["id"], "300", "--reason", "测试认养"]) == 0
    trees = call(client, "GET", "/v1/trees")[1]["items"]
    tree = next(t for t in trees if t["available"] > 0 and t["points_price"] <= 300)
    rid = request_id()

    def act():
        for _ in range(2):  # a retry of the same request adopts once
            status, body = call(client, "POST", f"/v1/trees/{tree['id']}/adopt", {"request_id": rid},
                                token=user["token"])
            assert status == 201, body

    change = _change(client, act)
    assert change == {"registered_users": 0, "active_users_today": 0, "points_issued": 0, "carbon_g": 0,
                      "organizations": 0, "adoptions": 1}


def test_active_users_today_counts_each_person_once_whatever_they_do(client):
    def act():
        people = [login(client, "o-" + uuid.uuid4().hex[:16]) for _ in range(3)]
        for _ in range(2):
            checkin(client, people[0])
        login(client, people[1]["openid"])
        checkin(client, people[1], "no_cutlery")

    change = _change(client, act)
    assert (change["registered_users"], change["active_users_today"], change["points_issued"]) == (3, 3, 12)


def test_the_stats_are_one_read_and_count_the_catalogs_orgs(client):
    body = _stats(client)
    assert set(body) >= {"registered_users", "active_users_today", "points_issued", "carbon_g", "organizations",
                         "adoptions"}
    assert body["organizations"] >= 3  # the demo catalog's school, enterprise and group
    stats.forget()
    with DynamoDBCalls() as calls:
        _stats(client)
    assert calls.operations in (["BatchGetItem"], ["Query", "BatchGetItem"])  # + the catalog, once a minute


def test_the_console_shows_the_same_stats_and_daily_actives_over_time(client, user, capsys):
    import json

    drain()
    shown = _stats(client)
    capsys.readouterr()
    assert admin(["stats", "--days", "3", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["registered_users"] == shown["registered_users"]
    assert list(printed["daily_active_users"].values())[-1] == shown["active_users_today"] >= 1
    assert len(printed["daily_active_users"]) == 3
    assert admin(["stats", "--days", "0"]) != 0
