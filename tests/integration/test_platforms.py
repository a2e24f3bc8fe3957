"""Platforms as tenants, the foundation (shared/contract/platforms.md, docs/platforms.md): the platform of a
request, login on a second platform with its own mini program (the fake WeChat over HTTP knows both appids),
GET /v1/platform, and the `platforms` section of the catalog file. The `default` platform answers as before."""
from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jwt
import pytest

from admin.__main__ import main as admin
from chalicelib.services import catalog
from chalicelib.settings import get_settings
from chalicelib.store.models import Account, CatalogItem, Identity
from infra.local.ephemeral import DEMO_PLATFORM, DEMO_PLATFORM_APPID
from tests.support.aggregates import drain
from tests.support.api import DynamoDBCalls, call, login

DEMO_NAME = "蓝途员工碳账户"  # admin/demo_catalog.json


def _login_on(client, name: str, platform: str = DEMO_PLATFORM, by: str = "body") -> tuple[int, dict]:
    code = f"wx:{name}:{uuid.uuid4().hex[:8]}"
    if by == "body":
        return call(client, "POST", "/v1/auth/login", {"code": code, "platform": platform})
    return call(client, "POST", "/v1/auth/login", {"code": code}, headers={"X-Platform": platform})


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# --- login -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("by", ["body", "header"])
def test_login_on_the_second_platform_uses_its_mini_program_and_makes_a_user_of_it(client, openid, stack, by):
    calls = stack.wechat.calls().get("/sns/jscode2session", 0)
    status, body = _login_on(client, openid, by=by)
    assert status == 200, body
    assert body["new_user"] is True
    assert body["user"]["platform"] == {"id": DEMO_PLATFORM, "name": DEMO_NAME}
    assert _claims(body["token"])["plt"] == DEMO_PLATFORM
    assert stack.wechat.calls()["/sns/jscode2session"] == calls + 1
    # WeChat answered for the second mini program: its openid there is its own (the fake's "<name>@<appid>")
    platform_openid = f"{openid}@{DEMO_PLATFORM_APPID}"
    assert stack.wechat.session_key(platform_openid) is not None
    identity = Identity.get(f"wx#{DEMO_PLATFORM}#{platform_openid}")
    assert (identity.user_id, identity.platform) == (body["user"]["id"], DEMO_PLATFORM)
    assert Account.get(body["user"]["id"]).platform == DEMO_PLATFORM
    again = _login_on(client, openid, by=by)[1]
    assert (again["new_user"], again["user"]["id"]) == (False, body["user"]["id"])


def test_one_wechat_user_on_two_platforms_is_two_users(client, openid):
    on_default = login(client, openid)
    status, on_demo = _login_on(client, openid)
    assert status == 200
    assert on_demo["user"]["id"] != on_default["id"]
    assert on_default["login"]["user"]["platform"] == {"id": "default", "name": "绿芽"}
    assert _claims(on_default["token"])["plt"] == "default"
    assert Account.get(on_default["id"]).platform is None  # the default platform's items are as before


def test_me_says_the_platform_of_the_caller(client, user, openid):
    status, me = call(client, "GET", "/v1/me", token=user["token"])
    assert (status, me["platform"]) == (200, {"id": "default", "name": "绿芽"})
    token = _login_on(client, openid)[1]["token"]
    status, me = call(client, "GET", "/v1/me", token=token)
    assert (status, me["platform"], me["points"]) == (200, {"id": DEMO_PLATFORM, "name": DEMO_NAME}, 0)
    status, me = call(client, "GET", "/v1/me", token=token, headers={"X-Platform": DEMO_PLATFORM})
    assert (status, me["platform"]["id"]) == (200, DEMO_PLATFORM)


def test_simultaneous_first_logins_on_the_second_platform_make_one_user(client, openid):
    from chalicelib.services import auth

    auth.login(f"wx:o-warm-{uuid.uuid4().hex[:8]}", DEMO_PLATFORM)  # warm the clients before threads share them
    codes = [f"wx:{openid}:{n}" for n in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda code: auth.login(code, DEMO_PLATFORM), codes))
    assert len({result.user_id for result in results}) == 1
    assert sum(result.new_user for result in results) == 1
    assert {result.platform_id for result in results} == {DEMO_PLATFORM}


def test_the_platform_costs_no_dynamodb_call_on_a_warm_request(client, user, openid):
    """`default` reads nothing to know itself; another platform is read from the catalog at most once a minute."""
    demo_token = _login_on(client, openid)[1]["token"]
    asks = [({}, user["token"]), ({"X-Platform": "default"}, user["token"]),
            ({}, demo_token), ({"X-Platform": DEMO_PLATFORM}, demo_token)]
    for headers, token in asks:
        assert call(client, "GET", "/v1/me", token=token, headers=headers)[0] == 200  # warm the caches
        with DynamoDBCalls() as calls:
            assert call(client, "GET", "/v1/me", token=token, headers=headers)[0] == 200
        assert calls.operations == ["GetItem"], (headers, calls.operations)  # the account, as before
    # its subscribe_templates are the platform's cached policy partition: one Query a minute, none when warm
    assert call(client, "GET", "/v1/platform", headers={"X-Platform": DEMO_PLATFORM})[0] == 200
    with DynamoDBCalls() as calls:
        assert call(client, "GET", "/v1/platform", headers={"X-Platform": DEMO_PLATFORM})[0] == 200
    assert calls.operations == []


@pytest.mark.parametrize("platform", ["nope-nope", "NOPE", "x", "a" * 33, ""])
def test_an_unknown_platform_at_login_is_404_and_wechat_is_not_asked(client, openid, stack, platform):
    calls = stack.wechat.calls().get("/sns/jscode2session", 0)
    status, body = _login_on(client, openid, platform=platform)
    assert (status, body["error"]["code"]) == (404, "UNKNOWN_PLATFORM")
    assert body["error"]["message"] == "没有这个平台"
    assert stack.wechat.calls().get("/sns/jscode2session", 0) == calls


def test_an_unknown_x_platform_is_404_on_any_route(client, user):
    assert call(client, "GET", "/v1/platform", headers={"X-Platform": "nope-nope"})[1]["error"]["code"] \
        == "UNKNOWN_PLATFORM"
    status, body = call(client, "GET", "/v1/me", token=user["token"], headers={"X-Platform": "nope-nope"})
    assert (status, body["error"]["code"]) == (404, "UNKNOWN_PLATFORM")
    status, body = _login_on(client, "o-" + uuid.uuid4().hex[:12], platform="nope-nope", by="header")
    assert (status, body["error"]["code"]) == (404, "UNKNOWN_PLATFORM")


def test_users_of_another_platform_are_not_counted_in_the_default_platforms_stats(client, openid):
    """GET /v1/stats without a platform is `default`'s; another platform's users count on its own."""
    drain()
    before = call(client, "GET", "/v1/stats")[1]
    assert _login_on(client, openid)[0] == 200
    drain()
    after = call(client, "GET", "/v1/stats")[1]
    assert (after["registered_users"], after["active_users_today"]) == \
        (before["registered_users"], before["active_users_today"])


def test_a_platform_of_the_wrong_json_type_is_a_validation_error(client):
    status, body = call(client, "POST", "/v1/auth/login", {"code": "wx:o-typed", "platform": 7})
    assert (status, body["error"]["code"], body["error"]["details"]["field"]) == (400, "VALIDATION_ERROR", "platform")


# --- the platform of a request -----------------------------------------------------------------------------

def test_a_token_sent_with_another_platforms_header_is_403(client, user, openid):
    status, body = call(client, "GET", "/v1/me", token=user["token"], headers={"X-Platform": DEMO_PLATFORM})
    assert (status, body["error"]["code"]) == (403, "PLATFORM_MISMATCH")
    assert body["error"]["message"]
    demo_token = _login_on(client, openid)[1]["token"]
    for headers in ({"X-Platform": "default"},):
        status, body = call(client, "GET", "/v1/me", token=demo_token, headers=headers)
        assert (status, body["error"]["code"]) == (403, "PLATFORM_MISMATCH")
    status, body = call(client, "GET", "/v1/platform", token=demo_token, headers={"X-Platform": "default"})
    assert (status, body["error"]["code"]) == (403, "PLATFORM_MISMATCH")


def test_the_last_route_made_per_platform_serves_another_platform_and_default_as_always(client, user, openid):
    """The leaderboards were the last route not per platform: another platform's user reads its own boards there
    (tests/integration/test_leaderboards_platforms.py)."""
    demo_token = _login_on(client, openid)[1]["token"]
    status, body = call(client, "GET", "/v1/leaderboards/users", token=demo_token)
    assert (status, body["board"]) == (200, "users")
    # the default platform's requests, with or without the header, are answered as always
    assert call(client, "GET", "/v1/leaderboards/users", token=user["token"])[0] == 200
    default_header = {"X-Platform": "default"}
    assert call(client, "GET", "/v1/leaderboards/users", token=user["token"], headers=default_header)[0] == 200
    assert call(client, "PATCH", "/v1/me", {"nickname": "小绿"}, token=user["token"])[0] == 200


def test_a_token_naming_no_platform_id_is_401(client, user):
    settings, now = get_settings(), int(time.time())
    claims = {"sub": user["id"], "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "iat": now,
              "exp": now + 600, "jti": uuid.uuid4().hex, "roles": ["user"], "mid": None}
    for plt in ("Default!", 7, None):
        token = jwt.encode({**claims, "plt": plt}, settings.jwt_secret, algorithm="HS256")
        status, body = call(client, "GET", "/v1/me", token=token)
        assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED")
    token = jwt.encode({**claims, "plt": "default"}, settings.jwt_secret, algorithm="HS256")
    assert call(client, "GET", "/v1/me", token=token)[0] == 200


# --- GET /v1/platform ----------------------------------------------------------------------------------------

def test_get_platform_of_the_default_platform(client):
    status, body = call(client, "GET", "/v1/platform")
    assert status == 200
    assert (body["id"], body["name"], body["branding"]["primary_color"]) == ("default", "绿芽", "#2E7D32")
    codes = {b["code"] for b in call(client, "GET", "/v1/behaviors")[1]["items"]}
    assert set(body["behaviors"]) == codes and "clean_plate" in codes
    from chalicelib.services import catalog

    catalog.forget()  # `default` works with every partner: the two built in, then the catalog's open-protocol ones
    assert body["partners"] == ["transit", "bank", *sorted(catalog.open_partners())]
    # the templates the mini program passes to wx.requestSubscribeMessage (the catalog's subscribe_templates)
    assert body["subscribe_templates"] == {"coupon_expiring": "tpl-demo-coupon-expiring",
                                           "points_expiring": "tpl-demo-points-expiring",
                                           "redemption_used": "tpl-demo-redemption-used",
                                           "weekly_report": "tpl-demo-weekly-report"}
    assert call(client, "GET", "/v1/platform", headers={"X-Platform": "default"})[1] == body


def test_get_platform_of_the_second_platform_by_header_and_by_token(client, openid):
    expected = {"id": DEMO_PLATFORM, "name": DEMO_NAME,
                "branding": {"name": DEMO_NAME, "slogan": "上班路上的每一克减排", "primary_color": "#1565C0",
                             "logo_url": None},
                "behaviors": ["clean_plate", "no_cutlery"], "partners": ["transit"],
                "subscribe_templates": {"coupon_expiring": "tpl-company-coupon-expiring",
                                        "redemption_used": "tpl-company-redemption-used"}}
    assert call(client, "GET", "/v1/platform", headers={"X-Platform": DEMO_PLATFORM}) == (200, expected)
    token = _login_on(client, openid)[1]["token"]
    assert call(client, "GET", "/v1/platform", token=token) == (200, expected)


# --- the catalog's platforms section ---------------------------------------------------------------------------

def _platform(pid: str, **changes) -> dict:
    entry = {"id": pid, "name": "测试平台", "wechat_appid": f"wx-{pid}",
             "branding": {"name": "测试平台", "slogan": "测试", "primary_color": "#123456", "logo_url": None},
             "behaviors": [{"code": "clean_plate", "points": {"points": 1, "per": 1}, "daily_limit": 1}],
             "partners": ["bank"]}
    entry.update(changes)
    return {key: value for key, value in entry.items() if value is not ...}


def _load(tmp_path: Path, doc: dict, *flags: str) -> int:
    path = tmp_path / f"catalog-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return admin(["load", str(path), *flags])


def _stored_platforms() -> dict:
    return {item.id: item.data for item in CatalogItem.query("platform", consistent_read=True)}


def test_loading_a_platform_onboards_it(client, tmp_path):
    pid = "t-" + uuid.uuid4().hex[:8]
    assert _load(tmp_path, {"platforms": [_platform(pid)]}) == 0
    assert _stored_platforms()[pid]["wechat_appid"] == f"wx-{pid}"
    catalog.forget()
    status, body = call(client, "GET", "/v1/platform", headers={"X-Platform": pid})
    assert (status, body["behaviors"], body["partners"]) == (200, ["clean_plate"], ["bank"])


def test_a_platform_loaded_without_its_secret_cannot_log_in_yet_and_wechat_is_not_asked(client, openid, stack,
                                                                                          tmp_path):
    pid = "t-" + uuid.uuid4().hex[:8]  # no WECHAT_SECRET__T_... in this stack's environment
    assert _load(tmp_path, {"platforms": [_platform(pid)]}) == 0
    catalog.forget()
    calls = stack.wechat.calls().get("/sns/jscode2session", 0)
    status, body = _login_on(client, openid, platform=pid)
    assert (status, body["error"]["code"]) == (503, "WECHAT_UNAVAILABLE")
    assert stack.wechat.calls().get("/sns/jscode2session", 0) == calls


GOODS = {"id": "g-p-1", "name": "券", "kind": "coupon", "merchant_id": "m-p", "points_price": 10, "stock": 5,
         "valid_days": 7}


@pytest.mark.parametrize("change, message", [
    ({"behaviors": [{"code": "no_such_behaviour"}]}, "'no_such_behaviour' is not a behaviour of the catalog"),
    ({"behaviors": [{"code": "clean_plate", "daily_limit": 4}]}, "daily_limit 4 is above the deployment's 3"),
    ({"behaviors": [{"code": "clean_plate", "carbon": {"mg": 1, "per": 1}}]}, "the carbon rule is the deployment's"),
    ({"behaviors": [{"code": "clean_plate"}, {"code": "clean_plate"}]}, "a behaviour is listed twice"),
    ({"id": "Bad_Id"}, "platform id 'Bad_Id'"),
    ({"id": "default"}, "'default' is the top level of the catalog"),
    ({"id": "all"}, "'all' names every platform in the console"),
    ({"name": ...}, "name must be text"),
    ({"wechat_appid": ...}, "wechat_appid must be"),
    ({"branding": {"name": "x", "slogan": "y", "primary_color": "green", "logo_url": None}}, "#RRGGBB"),
    ({"branding": ...}, "branding must be an object"),
    ({"partners": ["sports"]}, "partners must be distinct ids among transit, bank"),
    ({"merchants": [{"id": "m-x"}]}, "merchant needs an id and a name"),
    ({"merchants": "m-x"}, "merchants must be a list"),
    ({"goods": [{**GOODS, "merchant_id": "m-cafe"}]}, "goods g-p-1: unknown merchant 'm-cafe'"),  # default's
    ({"merchants": [{"id": "m-p", "name": "x"}], "goods": [{**GOODS, "points_price": 0}]}, "points_price must be"),
])
def test_a_bad_platform_is_a_clean_load_error_that_writes_nothing(tmp_path, capsys, change, message):
    pid = "t-" + uuid.uuid4().hex[:8]
    code = "test_" + uuid.uuid4().hex[:8]
    behavior = {"code": code, "name": "测试行为", "category": "test", "unit": "event",
                "carbon": {"mg": 1000, "per": 1}, "points": {"points": 1, "per": 1}, "daily_limit": 5,
                "channels": ["checkin"], "methodology": {"id": f"TEST-{code}", "version": "v1", "source": "test"}}
    before = _stored_platforms()
    capsys.readouterr()
    assert _load(tmp_path, {"behaviors": [behavior], "platforms": [_platform(pid, **change)]}) == 1
    assert message in capsys.readouterr().err
    assert _stored_platforms() == before
    assert not list(CatalogItem.query("behavior", CatalogItem.id == code))  # the whole file was refused
    assert not list(CatalogItem.query(f"{pid}#merchant")) and not list(CatalogItem.query(f"{pid}#goods"))


def test_a_platform_may_choose_a_behaviour_of_the_same_file_and_only_lower_its_limit(tmp_path, capsys):
    code = "test_" + uuid.uuid4().hex[:8]
    behavior = {"code": code, "name": "测试行为", "category": "test", "unit": "event",
                "carbon": {"mg": 1000, "per": 1}, "points": {"points": 1, "per": 1}, "daily_limit": 2,
                "channels": ["checkin"], "methodology": {"id": f"TEST-{code}", "version": "v1", "source": "test"}}
    pid = "t-" + uuid.uuid4().hex[:8]
    assert _load(tmp_path, {"behaviors": [behavior],
                            "platforms": [_platform(pid, behaviors=[{"code": code, "daily_limit": 3}])]}) == 1
    assert "daily_limit 3 is above the deployment's 2" in capsys.readouterr().err
    assert _load(tmp_path, {"behaviors": [behavior], "platforms": [_platform(
        pid, behaviors=[{"code": code, "daily_limit": 2, "daily_points_max": 10}])]}) == 0
    assert _stored_platforms()[pid]["behaviors"] == [{"code": code, "daily_limit": 2, "daily_points_max": 10}]


def test_two_platforms_cannot_share_a_mini_program(tmp_path, capsys):
    first, second = ("t-" + uuid.uuid4().hex[:8] for _ in range(2))
    assert _load(tmp_path, {"platforms": [_platform(first)]}) == 0
    before = _stored_platforms()
    assert _load(tmp_path, {"platforms": [_platform(second, wechat_appid=f"wx-{first}")]}) == 1
    assert "two platforms cannot share a mini program" in capsys.readouterr().err
    assert _stored_platforms() == before


def test_loading_the_demo_catalog_again_writes_nothing(capsys, stack):
    capsys.readouterr()
    assert admin(["seed-demo", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["platforms"] == {"changed": [], "unchanged": [DEMO_PLATFORM], "merchants_changed": [],
                                "goods_changed": [], "stock_changed": [],  # its shop too
                                "trees": {DEMO_PLATFORM: {"changed": [], "unchanged": ["t-lantu-ginkgo"],
                                                          "stock_changed": [], "versions_recorded": [],
                                                          "versions_unsettled": []}},
                                "orgs": {DEMO_PLATFORM: {"changed": [], "unchanged": ["o-lantu-rd"]}},
                                "subscribe_templates": {DEMO_PLATFORM: {"unchanged": ["subscribe_templates"]}}}
    # the only writes: the demo's open-protocol partners, which the test stack loads with its fake's revoke_url
    # (infra/local/ephemeral.Stack.load_open_partners), loaded back without it; the stack's entries are put back
    played = sorted(stack.open_partner.ids)
    assert (sorted(out["partners"]["changed"]), out["writes"]) == (played, len(played))
    assert stack.load_open_partners()
