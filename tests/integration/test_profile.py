"""GET and PATCH /v1/me: the caller's profile, with checked nickname and avatar."""
from __future__ import annotations

import pytest

from tests.support.api import DynamoDBCalls, call, request_id


def test_new_user_profile_has_the_contract_fields(client, user):
    status, me = call(client, "GET", "/v1/me", token=user["token"])
    assert status == 200
    assert {"id", "nickname", "avatar_url", "points", "carbon_g", "points_earned", "points_spent", "joined_at",
            "roles", "orgs"} <= set(me)
    assert me["joined_at"].endswith("+08:00")


def test_nickname_and_avatar_can_be_changed(client, user):
    avatar = "https://thirdwx.qlogo.cn/mmopen/vi_32/abc/132"
    status, me = call(client, "PATCH", "/v1/me", {"nickname": "  小绿  ", "avatar_url": avatar}, token=user["token"])
    assert status == 200
    assert (me["nickname"], me["avatar_url"]) == ("小绿", avatar)
    assert call(client, "GET", "/v1/me", token=user["token"])[1]["nickname"] == "小绿"


@pytest.mark.parametrize("body, field", [
    ({"nickname": ""}, "nickname"),
    ({"nickname": "x" * 21}, "nickname"),
    ({"nickname": "bad\u0000name"}, "nickname"),
    ({"nickname": "<script>"}, "nickname"),
    ({"nickname": 42}, "nickname"),
    ({"avatar_url": "http://thirdwx.qlogo.cn/a.png"}, "avatar_url"),
    ({"avatar_url": "https://evil.example.com/a.png"}, "avatar_url"),
    ({"avatar_url": "javascript:alert(1)"}, "avatar_url"),
    ({"avatar_url": "https://user:pw@thirdwx.qlogo.cn/a.png"}, "avatar_url"),
    ({}, "nickname"),
])
def test_bad_profile_changes_are_refused_and_change_nothing(client, user, body, field):
    before = call(client, "GET", "/v1/me", token=user["token"])[1]
    status, answer = call(client, "PATCH", "/v1/me", body, token=user["token"])
    assert status == 400
    assert answer["error"]["details"]["field"] == field
    assert call(client, "GET", "/v1/me", token=user["token"])[1] == before


def test_points_cannot_be_set_through_the_profile(client, user):
    status, me = call(client, "PATCH", "/v1/me", {"nickname": "小明", "points": 99999}, token=user["token"])
    assert status == 200 and me["points"] == 0


def test_the_profile_shows_what_today_used_of_each_daily_limit(client, user):
    assert call(client, "GET", "/v1/me", token=user["token"])[1]["today"] == {}
    for _ in range(2):
        status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "no_cutlery"},
                            token=user["token"])
        assert status == 201, body
    with DynamoDBCalls() as calls:
        status, me = call(client, "GET", "/v1/me", token=user["token"])
    assert status == 200 and calls.operations == ["GetItem"]
    assert me["today"] == {"no_cutlery": {"count": 2, "points": 0, "quantity": 0}}  # of the catalog's 3 a day
