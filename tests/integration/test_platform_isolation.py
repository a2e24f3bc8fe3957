"""The authorization matrix across two platforms (shared/contract/platforms.md rule 1): every route serves every
platform, and a user of one platform (with their token, or only naming their platform) reaches none of another
platform's objects: each answers exactly as a missing object (404 with the missing object's code), never 403 and
never data. MATRIX names, for every route of the app, the rows that prove it (here, or in the named module), or
why the route names no object of a platform; the table of routes is the app's own, so a route added later must
be placed in the matrix the day it exists."""
from __future__ import annotations

import importlib

import pytest

from infra.local.ephemeral import DEMO_PLATFORM
from tests.support.api import call
from tests.support.persons import login_on

_HERE = "test_platform_isolation"
_SHOP = _HERE + "::test_a_platform_user_reaches_none_of_defaults_goods_or_redemptions"
_STAFF = _HERE + "::test_staff_scanning_another_platforms_redemption_code_find_no_such_code"
_GROVES = _HERE + "::test_another_platforms_tree_and_org_answer_as_missing_ones"
_OWN = _HERE + "::test_the_callers_own_routes_on_a_platform_show_none_of_the_persons_other_users_data"
_BOARDS = _HERE + "::test_another_platforms_boards_answer_as_missing_ones"
_PARTNERS = ("test_partners_across_platforms::test_a_platform_that_does_not_work_with_the_partner_answers_as_for_"
             "an_unknown_one")
_LINKS = "test_open_partners::test_a_partner_a_platform_does_not_list_is_unknown_there"
_ROOTS = "test_transparency_roots::test_a_platforms_roots_and_proofs_are_its_own"
_NO_OBJECT = "no object: "
# Every route of the app: the rows proving that another platform's objects answer there as missing ones, or why
# the route names no object of a platform.
MATRIX = {
    ("GET", "/v1/health"): _NO_OBJECT + "the service's own health",
    ("POST", "/v1/auth/login"): _NO_OBJECT + "the platform's own mini program exchanges the code (test_platforms)",
    ("GET", "/v1/platform"): _NO_OBJECT + "the request's platform itself",
    ("GET", "/v1/stats"): _NO_OBJECT + "the request's platform's own counters (test_stats_platforms)",
    ("GET", "/v1/me"): (_OWN,),
    ("PATCH", "/v1/me"): (_OWN,),
    ("DELETE", "/v1/me"): ("test_erasure_platforms::test_deleting_the_user_on_a_platform_leaves_the_persons_default_"
                           "user_its_own",),
    ("GET", "/v1/me/export"): (_OWN,),
    ("POST", "/v1/me/appeals"): _NO_OBJECT + "an appeal of the caller's own account, under review on its platform "
                                              "(test_review)",
    ("POST", "/v1/me/subscriptions"): ("test_nudges::test_a_platform_has_its_own_templates_and_inherits_none",),
    ("GET", "/v1/me/subscriptions"): ("test_nudges::test_a_platform_has_its_own_templates_and_inherits_none",),
    ("POST", "/v1/uploads"): ("test_evidence::test_an_upload_of_the_persons_user_on_another_platform_is_not_found",),
    ("GET", "/v1/me/ledger"): (_OWN,),
    ("GET", "/v1/me/summary"): (_OWN,),
    ("GET", "/v1/me/ledger/{entry_id}/proof"): (_ROOTS,),
    ("GET", "/v1/transparency/roots"): (_ROOTS,),
    ("GET", "/v1/behaviors"): (_OWN,),
    ("POST", "/v1/checkins"): ("test_person_caps::test_a_behaviour_the_platform_does_not_reward_is_unknown_there",),
    ("POST", "/v1/werun/sync"): ("test_step_days::test_a_platform_that_does_not_reward_steps_answers_unknown_behaviour",
                                 "test_step_days::test_steps_from_another_mini_program_are_refused_on_a_platform"),
    ("GET", "/v1/partners"): (_PARTNERS, _LINKS),
    ("PUT", "/v1/partners/{partner_id}/consent"): (_PARTNERS,),
    ("DELETE", "/v1/partners/{partner_id}/consent"): (_PARTNERS,),
    ("POST", "/v1/partners/{partner_id}/sync"): (_PARTNERS,),
    ("POST", "/v1/partners/{partner_id}/link-code"): (_LINKS,),
    ("POST", "/v1/webhooks/{partner_id}"): _NO_OBJECT + "a partner's signed push, counted on every platform where "
                                                        "its user consented (test_partners_across_platforms)",
    ("POST", "/v1/open/links"): _NO_OBJECT + "a partner's signed call; the link code names its user and platform",
    ("GET", "/v1/market/goods"): (_SHOP,),
    ("POST", "/v1/market/goods/{goods_id}/redeem"): (_SHOP,),
    ("GET", "/v1/me/redemptions"): (_SHOP,),
    ("GET", "/v1/me/redemptions/{redemption_id}"): (_SHOP, _STAFF),
    ("POST", "/v1/me/redemptions/{redemption_id}/cancel"): (_SHOP,),
    ("GET", "/v1/me/member-code"): ("test_market_platforms::test_a_platforms_collection_point_credits_its_users_member_"
                                    "codes_with_its_points",),
    ("POST", "/v1/operator/credit"): ("test_market_platforms::test_a_platforms_collection_point_credits_its_users_"
                                      "member_codes_with_its_points",),
    ("GET", "/v1/merchant/redemptions"): (_STAFF,),
    ("POST", "/v1/merchant/verify"): (_STAFF,),
    ("GET", "/v1/trees"): (_GROVES,),
    ("POST", "/v1/trees/{tree_id}/adopt"): (_GROVES,),
    ("GET", "/v1/me/trees"): (_GROVES,),
    ("GET", "/v1/orgs"): (_GROVES,),
    ("GET", "/v1/orgs/{org_id}"): (_GROVES,),
    ("POST", "/v1/orgs/{org_id}/join"): (_GROVES,),
    ("GET", "/v1/leaderboards/{board}"): (_BOARDS, "test_leaderboards_platforms::test_a_default_users_checkin_is_not_"
                                                   "on_the_platforms_users_board"),
}


def _routes() -> list[tuple[str, str]]:
    import app

    return sorted((method, path) for path, methods in app.app.routes.items() for method in methods
                  if method != "OPTIONS")


@pytest.fixture(scope="module")
def demo_token(client_module):
    return login_on(client_module, "o-matrix-demo")["token"]


@pytest.fixture(scope="module")
def client_module(app_module):
    from chalice.test import Client

    with Client(app_module.app, stage_name="local") as c:
        yield c


def test_the_matrix_covers_every_route_of_the_app_with_rows_that_exist():
    routes = _routes()
    assert len(routes) >= 30 and sorted(MATRIX) == routes  # every route, and only real ones
    for route, rows in MATRIX.items():
        if isinstance(rows, str):
            assert rows.startswith(_NO_OBJECT) and len(rows) > len(_NO_OBJECT) + 10, route  # says why
            continue
        for row in rows:
            module, _, name = row.partition("::")
            test = getattr(importlib.import_module(f"tests.integration.{module}"), name, None)
            assert name.startswith("test_") and callable(test), (route, row)


def test_another_platforms_boards_answer_as_missing_ones(client_module, demo_token):
    """A board of the other platform: its org's members' board is a missing board; `users` and `orgs` are the
    caller's platform's own (test_leaderboards_platforms shows whose users and orgs they list)."""
    from tests.support.api import login

    default_token = login(client_module, "o-matrix-default")["token"]
    for token, theirs in ((demo_token, DEFAULT_SIDE["org"]), (default_token, DEMO_SIDE["org"])):
        answers = []
        for board in (f"org-{theirs}", "org-o-no-such-org"):
            status, body = call(client_module, "GET", f"/v1/leaderboards/{board}?period=all", token=token)
            answers.append((status, body["error"]["code"], body["error"]["message"]))
        assert answers[0] == answers[1] and answers[0][:2] == (404, "NOT_FOUND"), answers
        status, orgs = call(client_module, "GET", "/v1/leaderboards/orgs?period=all", token=token)
        assert status == 200 and theirs not in {item["id"] for item in orgs["items"]}


def test_the_callers_own_routes_on_a_platform_show_none_of_the_persons_other_users_data(client_module):
    """A person on `default` and on company-demo: their company-demo token reads and changes only that user's
    behaviours, ledger, summary, export and profile; a ledger cursor of `default`'s user is refused there."""
    import uuid

    from tests.support.api import login, request_id

    openid = "o-iso-" + uuid.uuid4().hex[:10]
    on_default, on_demo = login(client_module, openid), login_on(client_module, openid)
    for _ in range(2):
        assert call(client_module, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "no_cutlery"},
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


# --- the marketplace, merchants' staff and their codes ---------------------------------------------------------------
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
