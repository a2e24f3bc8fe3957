"""Nicknames pass WeChat's msgSecCheck v2 before others see them: risky ones are refused with 422
CONTENT_REJECTED, ones WeChat wants reviewed (or cannot check: an outage) are kept off the leaderboards until
cleared, and an outage never blocks the profile update."""
from __future__ import annotations

import json
import uuid

import pytest

from admin.__main__ import main as admin
from chalicelib import jobs
from chalicelib.domain import clock
from chalicelib.store.privacy import ModerationItem
from infra.local.ephemeral import APPID
from tests.support.aggregates import checkin, drain, join, make_orgs
from tests.support.api import call, login


@pytest.fixture
def wechat(stack):
    yield stack.wechat
    stack.wechat.faults.clear()


def patch(client, user, nickname: str):
    return call(client, "PATCH", "/v1/me", {"nickname": nickname}, token=user["token"])


def me(client, user) -> dict:
    status, body = call(client, "GET", "/v1/me", token=user["token"])
    assert status == 200, body
    return body


def names_on_board(client, user, org) -> dict[str, str]:
    status, body = call(client, "GET", f"/v1/leaderboards/org-{org['id']}?period=all", token=user["token"])
    assert status == 200, body
    return {item["id"]: item["name"] for item in body["items"]}


def member_on_a_board(client):
    """A fresh user who is on a fresh org's board (one check-in): (user, org)."""
    (org,) = make_orgs("group")
    user = login(client, "o-" + uuid.uuid4().hex[:16])
    assert join(client, user, org)[0] == 200
    checkin(client, user)
    return user, org


def test_a_clean_nickname_is_checked_by_wechat_with_the_user_s_openid_and_shown(client, user, wechat):
    name = "小绿" + uuid.uuid4().hex[:4]
    status, body = patch(client, user, name)
    assert status == 200
    assert (body["nickname"], body["nickname_status"]) == (name, "ok")
    assert {"content": name, "openid": user["openid"], "scene": 1, "suggest": "pass",
            "appid": APPID} in wechat.checked()


def test_a_risky_nickname_is_refused_and_changes_nothing(client, user, wechat):
    before = me(client, user)
    status, body = patch(client, user, "违禁昵称")
    assert status == 422
    assert body["error"]["code"] == "CONTENT_REJECTED" and body["error"]["details"] == {"field": "nickname"}
    assert me(client, user) == before


def test_a_nickname_wechat_wants_reviewed_stays_off_the_board_until_a_moderator_approves(client, wechat, capsys):
    user, org = member_on_a_board(client)
    drain()
    shown_before = names_on_board(client, user, org)[user["id"]]
    status, body = patch(client, user, "待审小明")
    assert status == 200
    assert (body["nickname"], body["nickname_status"]) == ("待审小明", "pending")  # its owner sees it, marked
    checkin(client, user)
    drain()
    assert names_on_board(client, user, org)[user["id"]] == shown_before  # others do not
    assert ModerationItem.get("review", user["id"])

    capsys.readouterr()
    assert admin(["nickname", "list", "--json"]) == 0
    assert any(row["user_id"] == user["id"] and row["nickname"] == "待审小明"
               for row in json.loads(capsys.readouterr().out))
    assert admin(["nickname", "approve", user["id"], "--reason", "moderator: fine"]) == 0
    assert me(client, user)["nickname_status"] == "ok"
    checkin(client, user)
    drain()
    assert names_on_board(client, user, org)[user["id"]] == "待审小明"


def test_a_wechat_outage_does_not_block_the_update_and_the_job_checks_it_later(client, wechat):
    user, org = member_on_a_board(client)
    wechat.faults.add(path="/wxa/msg_sec_check", status=502, count=-1)
    status, body = patch(client, user, "小红花")
    assert status == 200 and body["nickname_status"] == "pending"
    drain()
    assert names_on_board(client, user, org)[user["id"]] != "小红花"
    assert run_job("recheck-nicknames")["left"] >= 1  # still down: left for the next run
    wechat.faults.clear()

    assert run_job("recheck-nicknames")["approved"] >= 1
    profile = me(client, user)
    assert (profile["nickname"], profile["nickname_status"]) == ("小红花", "ok")
    checkin(client, user)
    drain()
    assert names_on_board(client, user, org)[user["id"]] == "小红花"


def test_a_risky_nickname_set_during_an_outage_is_dropped_when_wechat_is_back(client, user, wechat):
    assert patch(client, user, "原来的名字")[0] == 200
    wechat.faults.add(path="/wxa/msg_sec_check", status=500, count=-1)
    assert patch(client, user, "违禁的名字")[1]["nickname_status"] == "pending"
    wechat.faults.clear()
    assert run_job("recheck-nicknames")["rejected"] >= 1
    profile = me(client, user)
    assert (profile["nickname"], profile["nickname_status"]) == ("原来的名字", "rejected")


def test_a_refused_access_token_is_fetched_again_once(client, user, wechat):
    wechat.invalidate_token()
    status, body = patch(client, user, "新名字")
    assert (status, body["nickname_status"]) == (200, "ok")


def test_a_newer_nickname_is_never_overwritten_by_the_verdict_on_an_older_one(client, user, wechat):
    wechat.faults.add(path="/wxa/msg_sec_check", status=500, count=1)
    assert patch(client, user, "第一个名字")[1]["nickname_status"] == "pending"
    assert patch(client, user, "第二个名字")[1]["nickname_status"] == "ok"
    run_job("recheck-nicknames")  # finds the first one stale and drops it
    profile = me(client, user)
    assert (profile["nickname"], profile["nickname_status"]) == ("第二个名字", "ok")
    with pytest.raises(ModerationItem.DoesNotExist):
        ModerationItem.get("unchecked", user["id"])


def run_job(name: str) -> dict:
    return jobs.job_named(name).run(clock.now())
