"""Statistics per platform (shared/contract/platforms.md rule 6): GET /v1/stats answers the request's platform's,
each platform's figures move only with its own users, and `admin stats --platform all --json` adds the
deployment's totals with persons counted once."""
from __future__ import annotations

import json
import uuid

from admin.__main__ import main as admin
from infra.local.ephemeral import DEMO_PLATFORM
from tests.support.aggregates import checkin, drain
from tests.support.api import call, login
from tests.support.persons import login_on

MOVING = ("registered_users", "points_issued", "carbon_g")


def _stats(client, platform: str | None = None, token: str | None = None) -> dict:
    headers = {"X-Platform": platform} if platform else None
    status, body = call(client, "GET", "/v1/stats", token=token, headers=headers)
    assert status == 200, body
    return body


def _both(client) -> dict:
    return {"default": _stats(client), DEMO_PLATFORM: _stats(client, DEMO_PLATFORM)}


def _moved(before: dict, after: dict) -> dict:
    return {p: {k: round(after[p][k] - before[p][k], 3) for k in MOVING} for p in before}


def _everything(capsys) -> dict:
    capsys.readouterr()
    assert admin(["stats", "--platform", "all", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_check_in_on_company_demo_moves_its_stats_and_not_defaults(client):
    drain()
    before = _both(client)
    demo = login_on(client, "o-" + uuid.uuid4().hex[:16])
    checkin(client, demo)
    drain()
    assert _moved(before, _both(client)) == {
        DEMO_PLATFORM: {"registered_users": 1, "points_issued": 3, "carbon_g": 144},
        "default": {"registered_users": 0, "points_issued": 0, "carbon_g": 0}}


def test_a_check_in_on_default_moves_defaults_stats_and_not_company_demos(client):
    drain()
    before = _both(client)
    checkin(client, login(client, "o-" + uuid.uuid4().hex[:16]))
    drain()
    moved = _moved(before, _both(client))
    assert moved[DEMO_PLATFORM] == {"registered_users": 0, "points_issued": 0, "carbon_g": 0}
    assert moved["default"]["registered_users"] == 1 and moved["default"]["carbon_g"] > 0


def test_get_stats_answers_the_platform_of_the_token_or_of_the_header(client):
    demo = login_on(client, "o-" + uuid.uuid4().hex[:16])
    checkin(client, demo)
    drain()
    by_header, by_token = _stats(client, DEMO_PLATFORM), _stats(client, token=demo["token"])
    assert by_header == by_token
    assert by_header["registered_users"] >= 1 and by_header["organizations"] == 1  # its o-lantu-rd
    assert by_header != _stats(client)  # default's figures are others
    status, body = call(client, "GET", "/v1/stats", headers={"X-Platform": "no-such-platform"})
    assert (status, body["error"]["code"]) == (404, "UNKNOWN_PLATFORM")


def test_the_console_adds_every_platform_and_counts_a_person_on_two_platforms_once(client, capsys):
    drain()
    before = _everything(capsys)
    openid = "o-" + uuid.uuid4().hex[:16]
    checkin(client, login(client, openid))
    checkin(client, login_on(client, openid))  # the same person (one unionid) on company-demo
    drain()
    after = _everything(capsys)
    assert {"default", DEMO_PLATFORM} <= set(after["platforms"])
    shown = after["platforms"]
    assert shown["default"] == {**_stats(client), "day": shown["default"]["day"]}
    assert after["all"]["carbon_g"] == round(sum(p["carbon_g"] for p in shown.values()), 3)
    assert after["all"]["points_issued"] == sum(p["points_issued"] for p in shown.values())
    assert after["all"]["adoptions"] == sum(p["adoptions"] for p in shown.values())
    assert after["all"]["organizations"] == sum(p["organizations"] for p in shown.values())
    assert shown[DEMO_PLATFORM]["organizations"] >= 1
    registered = sum(p["registered_users"] for p in after["platforms"].values()) - \
        sum(p["registered_users"] for p in before["platforms"].values())
    assert (registered, after["all"]["persons"] - before["all"]["persons"]) == (2, 1)


def test_the_console_shows_one_platform_and_refuses_an_unknown_one(client, capsys):
    drain()
    capsys.readouterr()
    assert admin(["stats", "--platform", DEMO_PLATFORM, "--json", "--days", "2"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert {k: v for k, v in shown.items() if k != "daily_active_users"} == _stats(client, DEMO_PLATFORM)
    assert len(shown["daily_active_users"]) == 2
    assert admin(["stats", "--platform", "no-such-platform"]) == 2
