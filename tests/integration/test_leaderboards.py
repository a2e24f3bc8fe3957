"""Leaderboards: top 100 with equal carbon at equal rank, the caller's own rank, week and month periods,
stream records delivered twice counted once, and a check-in whose cost does not grow with orgs or users."""
from __future__ import annotations

import uuid
from datetime import timedelta

from chalicelib.domain import clock
from chalicelib.domain.ranking import period_key
from chalicelib.services import aggregate
from chalicelib.store.models import Identity, LedgerEntry
from chalicelib.store.tables import ALL_MODELS
from chalicelib.store.tx import connection
from tests.support.aggregates import checkin, drain, join, make_orgs
from tests.support.api import DynamoDBCalls, call, login, request_id
from tests.support.posting import Plan, Posting, post


def _person(client):
    return login(client, "o-" + uuid.uuid4().hex[:16])


def _board(client, user, board, period="week"):
    status, body = call(client, "GET", f"/v1/leaderboards/{board}?period={period}", token=user["token"])
    assert status == 200, body
    return body


def test_members_with_equal_carbon_share_a_rank_and_the_next_rank_skips(client):
    (org,) = make_orgs("school")
    a, b, c, d, idle, outsider = (_person(client) for _ in range(6))
    for person in (a, b, c, d, idle):
        assert join(client, person, org)[0] == 200
    for _ in range(3):
        checkin(client, a)  # 432 g
    checkin(client, b)  # 144 g
    checkin(client, c)  # 144 g
    checkin(client, d, "no_cutlery")  # 45.72 g
    checkin(client, outsider)  # not a member: not on the board
    drain()
    body = _board(client, a, f"org-{org['id']}")
    assert [(i["rank"], i["id"], i["carbon_g"]) for i in body["items"]] == [
        (1, a["id"], 432.0), *sorted([(2, b["id"], 144.0), (2, c["id"], 144.0)]), (4, d["id"], 45.72)]
    assert body["items"][0]["name"] == a["login"]["user"]["nickname"]
    assert body["me"] == {"rank": 1, "carbon_g": 432.0, "approximate": False}
    assert _board(client, c, f"org-{org['id']}")["me"] == {"rank": 2, "carbon_g": 144.0, "approximate": False}
    assert _board(client, d, f"org-{org['id']}")["me"] == {"rank": 4, "carbon_g": 45.72, "approximate": False}
    assert _board(client, idle, f"org-{org['id']}")["me"] == {"rank": 5, "carbon_g": 0.0, "approximate": False}
    assert _board(client, outsider, f"org-{org['id']}")["me"] is None


def test_orgs_are_ranked_by_their_members_carbon(client):
    big, small, empty = make_orgs("school", "enterprise", "group")
    x, y = _person(client), _person(client)
    assert join(client, x, big)[0] == 200 and join(client, y, small)[0] == 200 and join(client, x, small)[0] == 200
    for _ in range(2):
        checkin(client, x)  # counts for big and small
    checkin(client, y, "no_cutlery")  # small only
    drain()
    body = _board(client, y, "orgs", "all")
    ranks = {i["id"]: (i["rank"], i["carbon_g"]) for i in body["items"]}
    assert ranks[small["id"]][1] == 333.72 and ranks[big["id"]][1] == 288.0
    assert ranks[small["id"]][0] < ranks[big["id"]][0]
    assert body["me"]["id"] == small["id"] and body["me"]["rank"] == ranks[small["id"]][0]
    if empty["id"] in ranks:
        assert ranks[empty["id"]][1] == 0.0


def test_the_users_board_ranks_more_carbon_higher_and_shows_the_callers_place(client):
    strong, weak = _person(client), _person(client)
    status, _ = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "green_parking",
                                                      "quantity": 1, "evidence": {"odometer_km": 48213}},
                     token=strong["token"])
    assert status == 201
    for _ in range(3):
        checkin(client, strong)
    checkin(client, weak, "no_cutlery")
    drain()
    mine, theirs = _board(client, strong, "users"), _board(client, weak, "users")
    assert mine["me"]["carbon_g"] == 4400 + 432 and theirs["me"]["carbon_g"] == 45.72
    assert mine["me"]["rank"] < theirs["me"]["rank"]
    items = mine["items"]
    assert len(items) <= 100 and all(x["carbon_g"] >= y["carbon_g"] for x, y in zip(items, items[1:], strict=False))
    for position, (before, item) in enumerate(zip([None, *items], items, strict=False), start=1):
        assert item["rank"] == (before["rank"] if before and before["carbon_g"] == item["carbon_g"] else position)
    listed = {i["id"]: i for i in items}
    if strong["id"] in listed:
        assert (listed[strong["id"]]["rank"], mine["me"]["approximate"]) == (mine["me"]["rank"], False)
    else:
        assert mine["me"]["approximate"] is True and mine["me"]["rank"] > 100


def test_a_late_reduction_counts_in_the_week_and_month_it_was_made(client, user):
    today = clock.business_day(clock.now())
    last_week = today - timedelta(days=7)

    def late_ride(account):
        ride = Posting("earn", 10, 80000, "transit", behavior="bus_ride", day=last_week, ref=f"ride-{uuid.uuid4()}")
        return Plan([ride], respond=lambda entries, after: (201, {"entry": entries[0]}))

    post(user["id"], late_ride, request_id=request_id())
    checkin(client, user)
    drain()
    assert _board(client, user, "users", "week")["me"]["carbon_g"] == 144.0
    assert _board(client, user, "users", "all")["me"]["carbon_g"] == 224.0
    same_month = period_key("month", last_week) == period_key("month", today)
    assert _board(client, user, "users", "month")["me"]["carbon_g"] == (224.0 if same_month else 144.0)


def test_stream_records_delivered_again_are_not_counted_again(client):
    (org,) = make_orgs("group")
    person = _person(client)
    assert join(client, person, org)[0] == 200
    checkin(client, person)
    checkin(client, person, "no_cutlery")
    drain()
    before = call(client, "GET", f"/v1/orgs/{org['id']}")[1]
    entries = [{"eventName": "INSERT", "dynamodb": {"NewImage": entry.serialize()}}
               for entry in LedgerEntry.query(person["id"])]
    identity = Identity.get(f"wx#{person['openid']}")
    logins = [{"eventName": name, "dynamodb": {"NewImage": identity.serialize()}} for name in ("INSERT", "MODIFY")]
    assert aggregate.accept_ledger(entries * 2) == 0 and aggregate.accept_identities(logins) == 0
    drain()
    assert call(client, "GET", f"/v1/orgs/{org['id']}")[1] == before == {**before, "carbon_g": 189.72}
    assert _board(client, person, f"org-{org['id']}")["me"]["carbon_g"] == 189.72


def test_leaderboard_errors(client, user):
    assert call(client, "GET", "/v1/leaderboards/users?period=week")[0] == 401
    status, body = call(client, "GET", "/v1/leaderboards/users?period=year", token=user["token"])
    assert (status, body["error"]["details"]["field"]) == (400, "period")
    for board in ("people", "org-o-does-not-exist"):
        assert call(client, "GET", f"/v1/leaderboards/{board}", token=user["token"])[0] == 404


def _checkin_cost(client, person) -> tuple[list[str], list[int]]:
    sizes: list[int] = []

    def count_items(params, **_):
        sizes.append(len(params["TransactItems"]))

    clients = {id(c): c for c in [m._get_connection().connection.client for m in ALL_MODELS] + [connection().client]}
    for c in clients.values():
        c.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", count_items)
    try:
        with DynamoDBCalls() as calls:
            checkin(client, person, "no_cutlery")  # a check-in without a photo
    finally:
        for c in clients.values():
            c.meta.events.unregister("before-parameter-build.dynamodb.TransactWriteItems", count_items)
    return calls.operations, sizes


def test_a_checkins_writes_do_not_grow_with_orgs_or_their_members(client):
    orgs = make_orgs("school", "enterprise", "group", "group", "group")
    loner, joiner = _person(client), _person(client)
    for org in orgs:
        assert join(client, joiner, org)[0] == 200
    for _ in range(6):
        assert join(client, _person(client), orgs[0])[0] == 200  # a crowded org
    checkin(client, loner, "no_cutlery")
    checkin(client, joiner, "no_cutlery")  # both warm: the catalog cached, the day's counters present
    alone = _checkin_cost(client, loner)
    in_five_orgs = _checkin_cost(client, joiner)
    assert alone == in_five_orgs
    operations, sizes = alone
    assert operations == ["GetItem", "TransactWriteItems"] and sizes == [4]  # account, entry, idempotency, summary
