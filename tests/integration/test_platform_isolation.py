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
