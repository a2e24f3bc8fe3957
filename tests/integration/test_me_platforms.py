"""The caller's own routes on another platform than `default` (docs/platforms.md, "The caller's own routes"):
the behaviours it rewards with its rules, the user's ledger and summary with cursors of that platform only, the
nickname checked with that platform's mini program, and the export naming the platform and its openid."""
from __future__ import annotations

import uuid

from chalicelib.services import catalog
from infra.local.ephemeral import DEMO_PLATFORM, DEMO_PLATFORM_APPID
from tests.support.aggregates import checkin
from tests.support.api import call, login
from tests.support.partners import sync
from tests.support.persons import login_on, pull, rider


def _behaviors(client, **auth) -> dict[str, dict]:
    status, body = call(client, "GET", "/v1/behaviors", **auth)
    assert status == 200, body
    return {item["code"]: item for item in body["items"]}


def test_a_platform_lists_only_the_behaviours_it_rewards_with_its_own_points_and_caps(client, openid):
    deployment = _behaviors(client)
    assert set(deployment) == set(catalog.behaviors())  # `default`: every behaviour, as before
    for auth in ({"headers": {"X-Platform": DEMO_PLATFORM}}, {"token": login_on(client, openid)["token"]}):
        listed = _behaviors(client, **auth)
        assert set(listed) == {"clean_plate", "no_cutlery"}  # admin/demo_catalog.json's company-demo
        plate = listed["clean_plate"]
        assert (plate["points_rule"], plate["daily_limit"]) == ({"points": 3, "per": 1.0}, 2)
        assert plate["carbon_g_per_unit"] == deployment["clean_plate"]["carbon_g_per_unit"]  # grams: the deployment's
        assert plate["methodology"] == deployment["clean_plate"]["methodology"]
        assert listed["no_cutlery"] == deployment["no_cutlery"]  # listed without changes: the deployment's rule
    assert _behaviors(client, headers={"X-Platform": DEMO_PLATFORM}) != deployment


def test_a_users_ledger_and_summary_on_a_platform_are_its_own_with_counted_via(client, stack, openid, rides):
    on_default, other, ref = rider(client, stack, openid, rides)
    stack.transit.add_ride(ref)
    assert sync(client, on_default, "transit")[1]["imported"] == 1
    assert pull(other["id"])["imported"] == 1
    status, page = call(client, "GET", "/v1/me/ledger", token=other["token"])
    assert status == 200, page
    [entry] = page["items"]
    assert (entry["points"], entry["carbon_g"], entry["counted_via"], entry["behavior"]) == (6, 0.0, "default",
                                                                                            "bus_ride")
    [held] = call(client, "GET", "/v1/me/ledger", token=on_default["token"])[1]["items"]
    assert (held["points"], held["carbon_g"], held["counted_via"]) == (10, 80.0, None)
    status, summary = call(client, "GET", "/v1/me/summary?period=all", token=other["token"])
    assert status == 200, summary
    assert (summary["points"], summary["carbon_g"]) == (6, 0.0)
    assert [(b["behavior"], b["count"], b["points"]) for b in summary["by_behavior"]] == [("bus_ride", 1, 6)]
    assert call(client, "GET", "/v1/me/summary?period=all", token=on_default["token"])[1]["points"] == 10


def _first_page_cursor(client, user) -> str:
    status, page = call(client, "GET", "/v1/me/ledger?limit=1", token=user["token"])
    assert status == 200 and page["next_cursor"], page
    return page["next_cursor"]


def test_a_ledger_cursor_serves_only_its_platform(client, openid):
    on_demo = login_on(client, openid)
    on_default = login(client, openid)  # the same person on `default`
    for user in (on_demo, on_default):
        checkin(client, user, "clean_plate")
        checkin(client, user, "no_cutlery")
    demo_cursor, default_cursor = _first_page_cursor(client, on_demo), _first_page_cursor(client, on_default)
    status, page = call(client, "GET", f"/v1/me/ledger?limit=1&cursor={demo_cursor}", token=on_demo["token"])
    assert (status, len(page["items"])) == (200, 1)
    status, page = call(client, "GET", f"/v1/me/ledger?limit=1&cursor={default_cursor}", token=on_default["token"])
    assert (status, len(page["items"])) == (200, 1)  # `default`'s cursors are as before
    for token, cursor in ((on_default["token"], demo_cursor), (on_demo["token"], default_cursor)):
        status, body = call(client, "GET", f"/v1/me/ledger?limit=1&cursor={cursor}", token=token)
        assert (status, body["error"]["code"]) == (400, "INVALID_CURSOR")


def test_a_nickname_on_a_platform_is_checked_with_that_platforms_mini_program(client, stack, openid):
    user = login_on(client, openid)
    name = "小蓝" + uuid.uuid4().hex[:4]
    status, body = call(client, "PATCH", "/v1/me", {"nickname": name}, token=user["token"])
    assert status == 200, body
    assert (body["nickname"], body["nickname_status"], body["platform"]["id"]) == (name, "ok", DEMO_PLATFORM)
    assert {"content": name, "openid": f"{openid}@{DEMO_PLATFORM_APPID}", "scene": 1, "suggest": "pass",
            "appid": DEMO_PLATFORM_APPID} in stack.wechat.checked()
    status, body = call(client, "PATCH", "/v1/me", {"nickname": "违禁" + name[2:]}, token=user["token"])
    assert (status, body["error"]["code"]) == (422, "CONTENT_REJECTED")
    assert call(client, "GET", "/v1/me", token=user["token"])[1]["nickname"] == name
    on_default = login(client, openid)  # the person's `default` user keeps its own nickname
    assert call(client, "GET", "/v1/me", token=on_default["token"])[1]["nickname"] != name


def test_the_export_on_a_platform_names_it_and_its_openid_and_holds_only_its_users_data(client, openid):
    user = login_on(client, openid)
    on_default = login(client, openid)
    checkin(client, user, "clean_plate")
    checkin(client, on_default, "clean_plate")
    checkin(client, on_default, "clean_plate")
    status, export = call(client, "GET", "/v1/me/export", token=user["token"])
    assert status == 200, export
    profile = export["profile"]
    assert profile["id"] == user["id"]
    assert profile["platform"] == {"id": DEMO_PLATFORM, "name": "蓝途员工碳账户"}
    assert profile["wechat"]["openid"] == f"{openid}@{DEMO_PLATFORM_APPID}"  # as WeChat gave it to that program
    assert [(e["behavior"], e["points"]) for e in export["ledger"]] == [("clean_plate", 3)]
    status, mine = call(client, "GET", "/v1/me/export", token=on_default["token"])
    assert (mine["profile"]["platform"]["id"], mine["profile"]["wechat"]["openid"]) == ("default", openid)
    assert len(mine["ledger"]) == 2
