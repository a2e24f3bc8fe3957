"""Leaderboards per platform (docs/platforms.md, "Leaderboards per platform"): a user of a platform P ranks on P's
users board (`agg_boards` "P#users") and never on `default`'s, with the carbon counted via P; P's org boards are
served to P's users; a caller reads their own platform's boards, and another platform's org board answers as a
missing one. Against the demo catalog's second platform, company-demo (its org o-lantu-rd)."""
from __future__ import annotations

import uuid

from chalicelib.domain.ranking import shard_of
from chalicelib.store.aggregates import ShardedCounter, Total
from infra.local.ephemeral import DEMO_PLATFORM
from tests.support.aggregates import checkin, drain, join
from tests.support.api import call, login
from tests.support.persons import login_on

DEMO_ORG = {"id": "o-lantu-rd", "invite_code": "LT-RD-2026"}  # admin/demo_catalog.json: company-demo's
DEFAULT_ORG = "o-jiangyang-runners"  # default's


def _openid() -> str:
    return "o-" + uuid.uuid4().hex[:16]


def _board(client, user, board, period="all") -> dict:
    status, body = call(client, "GET", f"/v1/leaderboards/{board}?period={period}", token=user["token"])
    assert status == 200, body
    return body


def _listed(body: dict) -> dict[str, float]:
    return {item["id"]: item["carbon_g"] for item in body["items"]}


def _tally_boards(user: dict) -> set[str]:
    return set(Total.get(f"u#{user['id']}", "live", consistent_read=True).boards)


def test_a_platform_users_checkin_ranks_them_on_its_users_board_and_not_on_defaults(client):
    demo, on_default = login_on(client, _openid()), login(client, _openid())
    checkin(client, demo)
    drain()
    mine = _board(client, demo, "users")
    assert mine["board"] == "users" and _listed(mine)[demo["id"]] == 144.0
    rank = next(item["rank"] for item in mine["items"] if item["id"] == demo["id"])
    assert mine["me"] == {"rank": rank, "approximate": False, "carbon_g": 144.0}
    for period in ("week", "month"):
        assert _listed(_board(client, demo, "users", period))[demo["id"]] == 144.0
    assert _tally_boards(demo) == {f"{DEMO_PLATFORM}#users"}  # counted on the platform's board alone
    assert demo["id"] not in _listed(_board(client, on_default, "users"))
    parts = ShardedCounter.batch_get([("hist#users#all", f"s{shard_of(demo['id']):02d}")])
    assert all(demo["id"] not in (part.top or {}) for part in parts)  # nor among default's leaders of their shard


def test_a_default_users_checkin_is_not_on_the_platforms_users_board(client):
    demo, on_default = login_on(client, _openid()), login(client, _openid())
    checkin(client, on_default)
    checkin(client, demo)
    drain()
    theirs = _board(client, demo, "users")
    assert len(theirs["items"]) < 100  # the platform's whole board: a default user filed there would be listed
    assert demo["id"] in _listed(theirs) and on_default["id"] not in _listed(theirs)
    assert _tally_boards(on_default) == {"users"}
    assert _board(client, on_default, "users")["me"]["carbon_g"] == 144.0  # default's board, as before


def test_a_person_on_two_platforms_ranks_on_each_with_that_platforms_carbon(client):
    openid = _openid()
    on_default, demo = login(client, openid), login_on(client, openid)  # one person, two users
    checkin(client, on_default)
    checkin(client, on_default, "no_cutlery")
    checkin(client, demo)
    drain()
    carbon = {user["id"]: call(client, "GET", "/v1/me", token=user["token"])[1]["carbon_g"]
              for user in (on_default, demo)}
    assert carbon == {on_default["id"]: 189.72, demo["id"]: 144.0}  # each account's carbon, counted via it
    theirs = _board(client, demo, "users")
    assert _listed(theirs)[demo["id"]] == 144.0 and on_default["id"] not in _listed(theirs)
    assert theirs["me"]["carbon_g"] == 144.0
    assert _board(client, on_default, "users")["me"]["carbon_g"] == 189.72


def test_the_platforms_org_boards_are_served_on_it_and_missing_on_default(client):
    demo, on_default = login_on(client, _openid()), login(client, _openid())
    assert join(client, demo, DEMO_ORG)[0] == 200
    checkin(client, demo)
    drain()
    members = _board(client, demo, f"org-{DEMO_ORG['id']}")
    assert _listed(members)[demo["id"]] == 144.0 and members["me"]["carbon_g"] == 144.0
    orgs = _board(client, demo, "orgs")
    assert DEMO_ORG["id"] in _listed(orgs) and DEFAULT_ORG not in _listed(orgs)
    assert _listed(orgs)[DEMO_ORG["id"]] >= 144.0
    assert (orgs["me"]["id"], orgs["me"]["name"]) == (DEMO_ORG["id"], "蓝途研发部")
    assert DEMO_ORG["id"] not in _listed(_board(client, on_default, "orgs"))
    answers = []
    for user, board in ((on_default, DEMO_ORG["id"]), (on_default, "o-no-such-org"), (demo, DEFAULT_ORG),
                        (demo, "o-no-such-org")):
        status, body = call(client, "GET", f"/v1/leaderboards/org-{board}?period=all", token=user["token"])
        answers.append((status, body["error"]["code"], body["error"]["message"]))
    assert answers[0] == answers[1] == answers[2] == answers[3] and answers[0][:2] == (404, "NOT_FOUND")


def test_a_platform_users_new_nickname_shows_on_its_board_at_the_next_rebuild(client):
    demo = login_on(client, _openid())
    checkin(client, demo)
    drain()
    before = {item["id"]: item["name"] for item in _board(client, demo, "users")["items"]}[demo["id"]]
    name = "蓝途" + uuid.uuid4().hex[:4]
    status, body = call(client, "PATCH", "/v1/me", {"nickname": name}, token=demo["token"])
    assert (status, body["nickname_status"]) == (200, "ok")
    assert before != name
    checkin(client, demo)  # the board changes: the next rebuild writes it with the names of now
    drain()
    shown = {item["id"]: item["name"] for item in _board(client, demo, "users")["items"]}
    assert shown[demo["id"]] == name


def test_deleting_a_platform_user_takes_their_name_off_its_boards_at_the_next_rebuild(client):
    demo, watcher = login_on(client, _openid()), login_on(client, _openid())
    name = "蓝途" + uuid.uuid4().hex[:4]
    assert call(client, "PATCH", "/v1/me", {"nickname": name}, token=demo["token"])[0] == 200
    checkin(client, demo)
    drain()
    assert {item["id"]: item["name"] for item in _board(client, watcher, "users")["items"]}[demo["id"]] == name
    status, body = call(client, "DELETE", "/v1/me", {"confirm": "DELETE"}, token=demo["token"])
    assert status == 200, body
    drain()  # nobody checked in: the deletion marked the platform's boards it showed on
    shown = {item["id"]: item["name"] for item in _board(client, watcher, "users")["items"]}
    assert shown.get(demo["id"]) != name
