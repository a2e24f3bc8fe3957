"""The authorization matrix across two platforms (shared/contract/platforms.md rule 1): a user of another
platform, with their token or only naming their platform, reaches none of `default`'s objects through any route
that is not yet per platform: each answers exactly as a missing route (404 NOT_FOUND), never 403 and never data.
The routes that serve every platform (chalicelib/api/platform.SERVES_PLATFORMS) answer for the caller's own
platform only. The table of routes is the app's own, so a route added later is in the matrix the day it exists."""
from __future__ import annotations

import re

import pytest

from chalicelib.api.platform import SERVES_PLATFORMS
from tests.support.api import call
from tests.support.persons import login_on
from tests.support.stack import DEMO_PLATFORM

# `default`'s real objects, so that a 404 here is isolation, not a miss: the demo catalog's
REAL = {"goods_id": "g-cafe-own-cup", "org_id": "o-jiangyang-runners", "tree_id": "t-camphor-2026", "board": "users",
        "partner_id": "transit", "merchant_id": "m-cafe", "code": "A1B2C3D4"}


def _routes() -> list[tuple[str, str]]:
    import app

    return sorted((method, path) for path, methods in app.app.routes.items() for method in methods
                  if method != "OPTIONS")


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: REAL.get(m.group(1), "x-" + m.group(1)), path)


@pytest.fixture(scope="module")
def demo_token(client_module):
    return login_on(client_module, "o-matrix-demo")["token"]


@pytest.fixture(scope="module")
def client_module(app_module):
    from chalice.test import Client

    with Client(app_module.app, stage_name="local") as c:
        yield c


@pytest.mark.parametrize("method,path", [r for r in _routes() if r not in SERVES_PLATFORMS])
def test_a_route_not_yet_per_platform_is_a_missing_route_for_another_platforms_user(client_module, demo_token,
                                                                                   method, path):
    body = {} if method in ("POST", "PUT", "PATCH", "DELETE") else None
    for auth in ({"token": demo_token}, {"headers": {"X-Platform": DEMO_PLATFORM}}):
        status, answer = call(client_module, method, _concrete(path), body, **auth)
        assert (status, answer["error"]["code"]) == (404, "NOT_FOUND"), (method, path, auth.keys(), answer)


def test_the_matrix_covers_every_route_of_the_app():
    routes = _routes()
    assert len(routes) >= 30 and set(SERVES_PLATFORMS) <= set(routes)  # the served ones are real routes


def test_the_callers_own_routes_on_a_platform_show_none_of_the_persons_other_users_data(client_module):
    """A person on `default` and on company-demo: their company-demo token reads and changes only that user's
    behaviours, ledger, summary, export and profile; a ledger cursor of `default`'s user is refused there."""
    import uuid

    from tests.support.api import login, request_id

    openid = "o-iso-" + uuid.uuid4().hex[:10]
    on_default, on_demo = login(client_module, openid), login_on(client_module, openid)
    for _ in range(2):
        assert call(client_module, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "clean_plate"},
                    token=on_default["token"])[0] == 201
    cursor = call(client_module, "GET", "/v1/me/ledger?limit=1", token=on_default["token"])[1]["next_cursor"]
    demo = {"token": on_demo["token"]}
    codes = {item["code"] for item in call(client_module, "GET", "/v1/behaviors", **demo)[1]["items"]}
    assert "bus_ride" not in codes  # company-demo does not reward it
    assert call(client_module, "GET", "/v1/me/ledger", **demo)[1]["items"] == []
    assert call(client_module, "GET", "/v1/me/summary?period=all", **demo)[1]["points"] == 0
    status, body = call(client_module, "GET", f"/v1/me/ledger?cursor={cursor}", **demo)
    assert (status, body["error"]["code"]) == (400, "INVALID_CURSOR")
    export = call(client_module, "GET", "/v1/me/export", **demo)[1]
    assert (export["profile"]["id"], export["ledger"]) == (on_demo["id"], [])
    assert call(client_module, "PATCH", "/v1/me", {"nickname": "蓝途"}, **demo)[0] == 200
    mine = call(client_module, "GET", "/v1/me", token=on_default["token"])[1]
    assert mine["nickname"] != "蓝途" and mine["points"] > 0


# --- the marketplace, merchants' staff and their codes (rows for routes of SERVES_PLATFORMS) ----------------------
# Each platform's real objects: a user's redemption and its code, of goods of each side's shop, and staff of the
# merchant that sells them. A row passes only as a miss exactly like a missing object's (404), never 403.


@pytest.fixture(scope="module")
def default_side(client_module):
    from tests.support.api import login
    from tests.support.market import give_points, new_goods, new_merchant, redeem, staff_login

    merchant_id, (openid,) = new_merchant()
    goods = new_goods(merchant_id)
    user = login(client_module, "o-matrix-default-buyer")
    give_points(user, 100)
    status, body = redeem(client_module, user, goods["id"])
    assert status == 201, body
    return {"user": user, "staff": staff_login(client_module, openid), "goods": goods["id"],
            "redemption": body["redemption"]}


@pytest.fixture(scope="module")
def demo_side(client_module):
    from tests.support.market import give_points, redeem

    user = login_on(client_module, "o-matrix-demo-buyer")
    give_points(user, 100)
    status, body = redeem(client_module, user, "g-canteen-fruit")  # the demo catalog's company-demo shop
    assert status == 201, body
    staff = login_on(client_module, "o-canteen-staff")  # o-canteen-staff@wx-demo-company, listed by m-canteen
    assert "merchant_staff" in staff["login"]["user"]["roles"], staff
    return {"user": user, "staff": staff, "goods": "g-canteen-fruit", "redemption": body["redemption"]}


def _misses_of_a_user(client, user: dict, other: dict) -> list[tuple[int, str]]:
    """What `user` gets for `other` side's goods and redemption, through every marketplace route naming them."""
    rid = other["redemption"]["id"]
    return [call(client, method, path, body, token=user["token"])[0:2] for method, path, body in (
        ("POST", f"/v1/market/goods/{other['goods']}/redeem", {"request_id": "req-matrix-1"}),
        ("GET", f"/v1/me/redemptions/{rid}", None),
        ("POST", f"/v1/me/redemptions/{rid}/cancel", {}))]


def _codes(answers: list) -> list[tuple[int, str]]:
    return [(status, body["error"]["code"]) for status, body in answers]


def test_a_platform_user_reaches_none_of_defaults_goods_or_redemptions(client_module, default_side, demo_side):
    user = demo_side["user"]
    assert _codes(_misses_of_a_user(client_module, user, default_side)) == [(404, "NOT_FOUND")] * 3
    shelf = call(client_module, "GET", "/v1/market/goods?limit=100", token=user["token"])[1]["items"]
    assert default_side["goods"] not in {g["id"] for g in shelf} and "g-canteen-fruit" in {g["id"] for g in shelf}
    mine = call(client_module, "GET", "/v1/me/redemptions", token=user["token"])[1]["items"]
    assert [r["id"] for r in mine] == [demo_side["redemption"]["id"]]


def test_a_default_user_reaches_none_of_a_platforms_goods_or_redemptions(client_module, default_side, demo_side):
    user = default_side["user"]
    assert _codes(_misses_of_a_user(client_module, user, demo_side)) == [(404, "NOT_FOUND")] * 3
    shelf = call(client_module, "GET", "/v1/market/goods?limit=100", token=user["token"])[1]["items"]
    assert "g-canteen-fruit" not in {g["id"] for g in shelf}


@pytest.mark.parametrize("scanner, owner", [("demo_side", "default_side"), ("default_side", "demo_side")])
def test_staff_scanning_another_platforms_redemption_code_find_no_such_code(client_module, request, scanner,
                                                                             owner):
    staff, other = request.getfixturevalue(scanner)["staff"], request.getfixturevalue(owner)
    status, body = call(client_module, "POST", "/v1/merchant/verify", {"code": other["redemption"]["code"]},
                        token=staff["token"])
    assert (status, body["error"]["code"]) == (404, "CODE_NOT_FOUND")  # a miss, not NOT_YOUR_MERCHANT's 403
    day = call(client_module, "GET", "/v1/merchant/redemptions", token=staff["token"])[1]
    assert other["redemption"]["id"] not in {r["id"] for r in day["items"]}
    status, body = call(client_module, "GET", f"/v1/me/redemptions/{other['redemption']['id']}",
                        token=staff["token"])
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")
# ---- trees and orgs: each platform's own (docs/platforms.md, "Trees and organizations per platform") -------------
# The demo catalog's real objects of each side, and each org's real invite code (admin/demo_catalog.json).
DEFAULT_SIDE = {"tree": "t-camphor-2026", "org": "o-jiangyang-runners", "invite": "JY-RUN-2026"}
DEMO_SIDE = {"tree": "t-lantu-ginkgo", "org": "o-lantu-rd", "invite": "LT-RD-2026"}


def _points(user_id: str, platform: str) -> None:
    from admin.__main__ import main as admin

    assert admin(["points", "adjust", user_id, "1000", "--reason", "matrix", "--platform", platform]) == 0


@pytest.mark.parametrize("caller_side,other_side", [("demo", "default"), ("default", "demo")])
def test_another_platforms_tree_and_org_answer_as_missing_ones(client_module, demo_token, caller_side, other_side):
    from tests.support.api import login, request_id

    if caller_side == "demo":
        token, platform, theirs = demo_token, DEMO_PLATFORM, DEFAULT_SIDE
        user_id = login_on(client_module, "o-matrix-demo")["id"]
    else:
        user = login(client_module, "o-matrix-default")
        token, platform, theirs, user_id = user["token"], "default", DEMO_SIDE, user["id"]
    _points(user_id, platform)  # enough to adopt: a refusal is the tree's absence, not the balance
    for auth in ({"token": token}, {"headers": {"X-Platform": platform}}):
        for kind, path in (("org", f"/v1/orgs/{theirs['org']}"), ("missing", "/v1/orgs/o-no-such-org")):
            status, answer = call(client_module, "GET", path, **auth)
            assert (status, answer["error"]["code"]) == (404, "NOT_FOUND"), (kind, answer)
        assert theirs["tree"] not in {t["id"] for t in call(client_module, "GET", "/v1/trees", **auth)[1]["items"]}
        assert theirs["org"] not in {o["id"] for o in call(client_module, "GET", "/v1/orgs", **auth)[1]["items"]}
    answers = []
    for tree_id in (theirs["tree"], "t-no-such-tree"):
        status, answer = call(client_module, "POST", f"/v1/trees/{tree_id}/adopt", {"request_id": request_id()},
                              token=token)
        answers.append((status, answer["error"]["code"], answer["error"]["message"]))
    for org_id in (theirs["org"], "o-no-such-org"):
        status, answer = call(client_module, "POST", f"/v1/orgs/{org_id}/join", {"invite_code": theirs["invite"]},
                              token=token)
        answers.append((status, answer["error"]["code"], answer["error"]["message"]))
    assert answers[0] == answers[1] and answers[0][:2] == (404, "NOT_FOUND")  # the tree: as a missing one
    assert answers[2] == answers[3] and answers[2][:2] == (404, "NOT_FOUND")  # the org, with its real code too
    status, mine = call(client_module, "GET", "/v1/me/trees", token=token)
    assert status == 200 and all(a["tree_id"] != theirs["tree"] for a in mine["items"])
