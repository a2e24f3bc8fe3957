"""Who may call what: every route of the app x every kind of caller, against the contract's answer.

The table below has one row per (method, route). Each row says what each caller kind gets, with the
error code where the contract names one, and how to build the request (the objects it touches are
user A's redemption, adoption and ledger cursor, and merchant X's redemption codes). A route of the app
without a row fails `test_every_route_of_the_app_has_a_row`: a new route must say who may call it.

Callers: anonymous, users A and B, a frozen user, staff of merchants X and Y, staff of collection
point Z (fresh merchants of this module, so no other test shares their attempt windows or day totals).
Forged tokens (alg none, another key, expired, issued in the future, A's token with its claims raised to
X's staff, another audience, garbage) are callers too: each gets exactly what the anonymous caller gets.
Besides the status, every refusal has the contract's error shape, and whatever a caller other than A
gets back never contains A's redemption, code, adoption or verified redemptions (`_leaks`).
"""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from admin.__main__ import main as admin
from chalicelib.domain import clock
from tests.support.aggregates import make_orgs
from tests.support.api import call, login, request_id
from tests.support.market import load_catalog, new_goods, new_merchant
from tests.support.partners import bind, phone, phone_code

KINDS = ("anonymous", "user_a", "user_b", "frozen", "staff_x", "staff_y", "collector")
USERS = KINDS[1:]
PLATE = {"code": "authz_plate", "name": "授权测试", "category": "test", "unit": "event",
         "carbon": {"mg": 1000, "per": 1}, "points": {"points": 1, "per": 1}, "daily_limit": 1000,
         "channels": ["checkin"], "methodology": {"id": "TEST-authz", "version": "1", "source": "test"}}
CLOTHES = {"code": "authz_clothes", "name": "授权测试回收", "category": "test", "unit": "kg",
           "carbon": {"mg": 1000, "per": 1}, "points": {"points": 1, "per": 1}, "daily_quantity_max": 10000,
           "channels": ["operator"], "methodology": {"id": "TEST-authz-op", "version": "1", "source": "test"}}


def _all(status, **overrides) -> dict:
    """The same answer for every caller kind, except where overridden."""
    return {kind: overrides.get(kind, status) for kind in KINDS}


def _users(status, **overrides) -> dict:
    """401 for the anonymous caller, `status` for every user, except where overridden."""
    return _all(status, anonymous=(401, "UNAUTHENTICATED"), **overrides)


FROZEN = (403, "ACCOUNT_FROZEN")
FORBIDDEN = (403, "FORBIDDEN")
NO_POINTS = (422, "INSUFFICIENT_POINTS")
NOT_FOUND = (404, "NOT_FOUND")
STAFF_ONLY = dict(user_a=FORBIDDEN, user_b=FORBIDDEN, frozen=FORBIDDEN)


@dataclass
class World:
    client: Any
    stack: Any
    people: dict  # kind -> login dict (no entry for anonymous)
    merchants: dict  # "x", "y", "z" -> merchant id
    goods_id: str
    tree_id: str
    org: dict
    redemption: dict  # A's redemption of X's goods
    adoption: dict
    cursor: str  # A's ledger cursor
    secrets: set = field(default_factory=set)  # what only A (and X's staff, for X's codes) may see

    def token(self, kind: str) -> str | None:
        return self.people[kind]["token"] if kind in self.people else None

    def redeem_for_a(self) -> dict:
        status, body = call(self.client, "POST", f"/v1/market/goods/{self.goods_id}/redeem",
                            {"request_id": request_id()}, token=self.token("user_a"))
        assert status == 201, body
        self.secrets |= {body["redemption"]["id"], body["redemption"]["code"]}
        return body["redemption"]


@pytest.fixture(scope="module")
def world(stack, app_module) -> World:
    from chalice.test import Client

    load_catalog({"behaviors": [PLATE, CLOTHES]})
    x, y, z = new_merchant(), new_merchant(), new_merchant(collection_point=True)
    goods = new_goods(merchant_id=x[0], points_price=10, stock=100, per_user_limit=50)
    tree_id = "t-authz-" + uuid.uuid4().hex[:10]
    load_catalog({"trees": [{"id": tree_id, "species": "香樟", "location": "泸州市江阳区", "points_price": 20,
                             "annual_uptake_g": 18000, "stock": 100,
                             "methodology": {"id": "TEST-tree", "version": "t2", "source": "test", "estimate": True}}]})
    with Client(app_module.app, stage_name="local") as client:
        people = {kind: login(client, f"o-authz-{kind}-{uuid.uuid4().hex[:8]}") for kind in
                  ("user_a", "user_b", "frozen")}
        people.update({"staff_x": login(client, x[1][0]), "staff_y": login(client, y[1][0]),
                       "collector": login(client, z[1][0])})
        assert admin(["points", "adjust", people["user_a"]["id"], "10000", "--reason", "authz matrix"]) == 0
        assert admin(["user", "freeze", people["frozen"]["id"], "--reason", "authz matrix"]) == 0
        bind(client, stack, people["user_a"], "transit")
        world = World(client, stack, people, {"x": x[0], "y": y[0], "z": z[0]}, goods["id"], tree_id,
                      make_orgs("group")[0], {}, {}, "")
        world.redemption = world.redeem_for_a()
        status, body = call(client, "POST", f"/v1/trees/{tree_id}/adopt", {"request_id": request_id()},
                            token=world.token("user_a"))
        assert status == 201, body
        world.adoption = body["adoption"]
        world.secrets |= {world.adoption["id"], world.adoption["certificate_no"]}
        status, page = call(client, "GET", "/v1/me/ledger?limit=1", token=world.token("user_a"))
        assert status == 200 and page["next_cursor"], page
        world.cursor = page["next_cursor"]
        yield world


# --- how each row builds its request: (world, caller kind, row state) -> (path, body, headers) ---------

Request = Callable[[World, str, dict], tuple[str, Any, dict]]


def plain(path: str, body: Any = None) -> Request:
    return lambda w, kind, state: (path.format(w=w), body, {})


def _with_request_id(path: str, extra: dict | None = None) -> Request:
    return lambda w, kind, state: (path.format(w=w), {"request_id": request_id(), **(extra or {})}, {})


def _werun(w: World, kind: str, state: dict):
    openid = w.people[kind]["openid"] if kind in w.people else "nobody"
    day = clock.business_day(clock.now())
    start = int(datetime(day.year, day.month, day.day, tzinfo=clock.SHANGHAI).timestamp())
    data = w.stack.wechat.werun(openid, [{"timestamp": start, "step": 1000}])
    return "/v1/werun/sync", data or {"encrypted_data": "AAAA", "iv": "AAAAAAAAAAAAAAAAAAAAAA=="}, {}


def _consent_put(w: World, kind: str, state: dict):
    number = phone()
    w.stack.bank.add_customer(number)
    return "/v1/partners/bank/consent", {"phone_code": phone_code(w.stack, number)}, {}


def _bound_a(w: World, kind: str, path: str):
    """A bound to the bus company again if an earlier row revoked it (rows do not depend on order)."""
    if kind == "user_a":
        status, listing = call(w.client, "GET", "/v1/partners", token=w.token("user_a"))
        if next(p for p in listing["items"] if p["id"] == "transit")["status"] != "bound":
            bind(w.client, w.stack, w.people["user_a"], "transit")
    return path, None, {}


def _cancel(w: World, kind: str, state: dict):
    """A cancels a fresh redemption of their own; everyone else tries A's shared one."""
    target = w.redeem_for_a() if kind == "user_a" else w.redemption
    return f"/v1/me/redemptions/{target['id']}/cancel", None, {}


def _verify(w: World, kind: str, state: dict):
    """One fresh code of X's goods per row: X's staff use it last, the others are refused first."""
    if "code" not in state:
        state["code"] = w.redeem_for_a()["code"]
    return "/v1/merchant/verify", {"code": state["code"]}, {}


def _credit(w: World, kind: str, state: dict):
    if "code" not in state:
        status, body = call(w.client, "GET", "/v1/me/member-code", token=w.token("user_a"))
        assert status == 200, body
        state["code"] = body["member_code"]
    return "/v1/operator/credit", {"request_id": request_id(), "member_code": state["code"],
                                   "behavior": CLOTHES["code"], "quantity": 2}, {}


def _proof(w: World, kind: str, state: dict):
    """A's newest entry (of today: not rooted yet, ROOT_NOT_READY for A); everyone else asks for A's entry."""
    if "entry" not in state:
        status, page = call(w.client, "GET", "/v1/me/ledger?limit=1", token=w.token("user_a"))
        assert status == 200, page
        state["entry"] = page["items"][0]["id"]
    return f"/v1/me/ledger/{state['entry']}/proof", None, {}


def _login(w: World, kind: str, state: dict):
    return "/v1/auth/login", {"code": f"wx:o-authz-login-{uuid.uuid4().hex[:10]}:{uuid.uuid4().hex[:6]}"}, {}


@dataclass(frozen=True)
class Row:
    expect: dict
    request: Request
    public: bool = False  # the answer is the same for everyone: no leak check


ROWS: dict[tuple[str, str], Row] = {
    ("GET", "/v1/health"): Row(_all(200), plain("/v1/health"), public=True),
    ("POST", "/v1/auth/login"): Row(_all(200), _login, public=True),
    ("GET", "/v1/me"): Row(_users(200), plain("/v1/me")),
    ("PATCH", "/v1/me"): Row(_users(200), plain("/v1/me", {"nickname": "矩阵测试"})),
    ("GET", "/v1/me/export"): Row(_users(200), plain("/v1/me/export")),
    # Without the confirmation nobody's account is deleted, so the row cannot disturb the others.
    ("DELETE", "/v1/me"): Row(_users(400), plain("/v1/me", {})),
    ("GET", "/v1/me/ledger"): Row(_users((400, "INVALID_CURSOR"), user_a=200),
                                  lambda w, kind, s: (f"/v1/me/ledger?limit=1&cursor={w.cursor}", None, {})),
    ("GET", "/v1/me/summary"): Row(_users(200), plain("/v1/me/summary?period=all")),
    # The proof of one's own entry (docs/transparency.md): another user's entry is a missing one.
    ("GET", "/v1/me/ledger/{entry_id}/proof"): Row(_users(NOT_FOUND, user_a=(409, "ROOT_NOT_READY")), _proof),
    # Nobody here is under review: an appeal is each caller's own, about their own account (tests/integration/
    # test_review.py has the accepted one).
    ("POST", "/v1/me/appeals"): Row(_users((409, "NOT_UNDER_REVIEW")), plain("/v1/me/appeals", {"text": "矩阵测试"})),
    # Each caller's own allowances (docs/nudges.md); a frozen account may still accept (it keeps its allowances).
    ("POST", "/v1/me/subscriptions"): Row(_users(200), _with_request_id("/v1/me/subscriptions",
                                                                        {"accepted": ["coupon_expiring"]})),
    ("GET", "/v1/me/subscriptions"): Row(_users(200), plain("/v1/me/subscriptions")),
    ("GET", "/v1/behaviors"): Row(_all(200), plain("/v1/behaviors"), public=True),
    ("POST", "/v1/checkins"): Row(_users(201, frozen=FROZEN), _with_request_id("/v1/checkins",
                                                                               {"behavior": PLATE["code"]})),
    # A presigned POST for the caller's own key, no DynamoDB call: a frozen account may upload (its check-in is
    # refused).
    ("POST", "/v1/uploads"): Row(_users(201), plain("/v1/uploads", {"purpose": "checkin_evidence",
                                                                    "content_type": "image/jpeg", "size": 1000})),
    ("POST", "/v1/werun/sync"): Row(_users(200, frozen=FROZEN), _werun),
    ("GET", "/v1/partners"): Row(_users(200), plain("/v1/partners")),
    ("PUT", "/v1/partners/{partner_id}/consent"): Row(_users(200), _consent_put),
    ("DELETE", "/v1/partners/{partner_id}/consent"): Row(
        _users(NOT_FOUND, user_a=200), lambda w, kind, s: _bound_a(w, kind, "/v1/partners/transit/consent")),
    ("POST", "/v1/partners/{partner_id}/sync"): Row(
        _users((409, "NOT_BOUND"), user_a=200), lambda w, kind, s: _bound_a(w, kind, "/v1/partners/transit/sync")),
    # A user's token is no partner signature: every caller is refused alike.
    ("POST", "/v1/webhooks/{partner_id}"): Row(_all((401, "BAD_SIGNATURE")),
                                               plain("/v1/webhooks/transit", {"events": []})),
    # The open protocol: a link code is the caller's own; the partner's link is signed, a token is no signature.
    ("POST", "/v1/partners/{partner_id}/link-code"): Row(_users(201), plain("/v1/partners/bikeshare/link-code")),
    ("POST", "/v1/open/links"): Row(_all((401, "BAD_SIGNATURE")),
                                    plain("/v1/open/links", {"link_code": "AAAAAAAAAAAAAAAA", "user_ref": "x"})),
    ("GET", "/v1/trees"): Row(_all(200), plain("/v1/trees"), public=True),
    ("POST", "/v1/trees/{tree_id}/adopt"): Row(_users(NO_POINTS, user_a=201, frozen=FROZEN),
                                               _with_request_id("/v1/trees/{w.tree_id}/adopt")),
    ("GET", "/v1/me/trees"): Row(_users(200), plain("/v1/me/trees")),
    ("GET", "/v1/market/goods"): Row(_all(200), plain("/v1/market/goods"), public=True),
    ("POST", "/v1/market/goods/{goods_id}/redeem"): Row(_users(NO_POINTS, user_a=201, frozen=FROZEN),
                                                        _with_request_id("/v1/market/goods/{w.goods_id}/redeem")),
    ("GET", "/v1/me/redemptions"): Row(_users(200), plain("/v1/me/redemptions")),
    ("GET", "/v1/me/redemptions/{redemption_id}"): Row(_users(NOT_FOUND, user_a=200),
                                                       plain("/v1/me/redemptions/{w.redemption[id]}")),
    ("POST", "/v1/me/redemptions/{redemption_id}/cancel"): Row(_users(NOT_FOUND, user_a=200), _cancel),
    ("POST", "/v1/merchant/verify"): Row(_users((403, "NOT_YOUR_MERCHANT"), staff_x=200, **STAFF_ONLY), _verify),
    ("GET", "/v1/merchant/redemptions"): Row(_users(200, **STAFF_ONLY), plain("/v1/merchant/redemptions")),
    ("GET", "/v1/me/member-code"): Row(_users(200, frozen=FROZEN), plain("/v1/me/member-code")),
    ("POST", "/v1/operator/credit"): Row(_users(FORBIDDEN, collector=201), _credit),
    ("GET", "/v1/orgs"): Row(_all(200), plain("/v1/orgs"), public=True),
    ("GET", "/v1/orgs/{org_id}"): Row(_all(200), plain("/v1/orgs/{w.org[id]}"), public=True),
    ("POST", "/v1/orgs/{org_id}/join"): Row(_users(200), lambda w, kind, s: (
        f"/v1/orgs/{w.org['id']}/join", {"invite_code": w.org["invite_code"]}, {})),
    ("GET", "/v1/leaderboards/{board}"): Row(_users(200), plain("/v1/leaderboards/users?period=week"), public=True),
    ("GET", "/v1/stats"): Row(_all(200), plain("/v1/stats"), public=True),
    ("GET", "/v1/platform"): Row(_all(200), plain("/v1/platform"), public=True),
    ("GET", "/v1/transparency/roots"): Row(_all(200), plain("/v1/transparency/roots?from=2026-01-01&to=2026-01-31"),
                                           public=True),
}


def _forgeries(world: World) -> dict[str, str]:
    """Tokens claiming to be A (some raised to staff of X) that no honest login produced."""
    import base64
    import time

    import jwt

    from chalicelib.settings import get_settings

    settings, now, a = get_settings(), int(time.time()), world.people["user_a"]
    claims = {"sub": a["id"], "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "iat": now, "exp": now + 600,
              "jti": uuid.uuid4().hex, "roles": ["user"], "mid": None}
    staff = {**claims, "roles": ["user", "merchant_staff"], "mid": world.merchants["x"]}
    header, _, signature = a["token"].split(".")
    raised = base64.urlsafe_b64encode(json.dumps(staff).encode()).decode().rstrip("=")
    return {
        "alg-none": jwt.encode(staff, None, algorithm="none"),
        "other-key": jwt.encode(staff, b"k" * 48, algorithm="HS256"),
        "expired": jwt.encode({**claims, "iat": now - 7300, "exp": now - 100}, settings.jwt_secret, algorithm="HS256"),
        "future": jwt.encode({**claims, "iat": now + 3600, "exp": now + 7200}, settings.jwt_secret, algorithm="HS256"),
        "raised-claims": f"{header}.{raised}.{signature}",
        "other-audience": jwt.encode({**claims, "aud": "another-app"}, settings.jwt_secret, algorithm="HS256"),
        "garbage": "g" * 8000,
    }


def _normalized(path: str) -> str:
    return re.sub(r"\{[^/}]+\}", "{}", path)


def _app_routes(app_module) -> set[tuple[str, str]]:
    return {(method, _normalized(path)) for path, methods in app_module.app.routes.items() for method in methods}


def test_every_route_of_the_app_has_a_row(app_module):
    rows = {(method, _normalized(path)) for method, path in ROWS}
    missing = sorted(_app_routes(app_module) - rows)
    assert not missing, f"routes without a row in the authorization matrix (add one): {missing}"


def _leaks(world: World, body) -> set[str]:
    text = json.dumps(body, ensure_ascii=False)
    return {secret for secret in world.secrets if secret in text}


@pytest.mark.parametrize("route", list(ROWS), ids=[f"{m} {p}" for m, p in ROWS])
def test_each_caller_gets_the_contracts_answer(world, app_module, route):
    if (route[0], _normalized(route[1])) not in _app_routes(app_module):
        pytest.skip(f"{route[0]} {route[1]} is in the contract but not in the app yet")
    row, state, wrong = ROWS[route], {}, []
    for kind in sorted(KINDS, key=lambda k: k in ("staff_x", "collector", "user_a")):  # owners act last
        path, body, headers = row.request(world, kind, state)
        status, answer = call(world.client, route[0], path, body, token=world.token(kind), headers=headers)
        expected = row.expect[kind]
        want_status, want_code = expected if isinstance(expected, tuple) else (expected, None)
        got_code = (answer or {}).get("error", {}).get("code") if isinstance(answer, dict) else None
        if status != want_status or (want_code and got_code != want_code):
            wrong.append(f"{kind}: expected {want_status} {want_code or ''}, got {status} {answer}")
        elif status >= 400 and not (isinstance(answer, dict) and set(answer) == {"error"}
                                    and {"code", "message"} <= set(answer["error"])):
            wrong.append(f"{kind}: {status} without the contract's error shape: {answer}")
        if status < 300 and kind != "user_a" and not row.public and not (kind == "staff_x" and "/merchant/" in path):
            if leaked := _leaks(world, answer):
                wrong.append(f"{kind} sees A's or X's objects: {leaked}")
    anonymous = row.expect["anonymous"]
    for name, token in _forgeries(world).items():
        path, body, headers = row.request(world, "anonymous", state)
        status, answer = call(world.client, route[0], path, body, token=token, headers=headers)
        got_code = answer.get("error", {}).get("code") if isinstance(answer, dict) else None
        if (status, got_code) != anonymous and status != anonymous:
            wrong.append(f"forged token {name}: expected what the anonymous caller gets, {anonymous}, got {status} "
                         f"{answer}")
    assert not wrong, "\n".join(wrong)
