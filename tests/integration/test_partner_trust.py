"""Partner answers and addresses are not trusted blindly (issue 17, items 3, 10 and 11): a Retry-After that
is nonsense or too long never reaches `time.sleep`, a redirect is never followed, partner-given ids are
encoded before they enter a path and bounded before they become a key, and only a mainland phone verified
for our own mini program binds a partner account. Every partner here is a fake over real HTTP."""
from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from chalicelib.settings import SettingsError, from_environ
from infra.local.fake_http import FakeHTTPServer, Request, Response
from tests.support.api import call
from tests.support.partners import bind, ledger, phone, phone_code, sync

ROOT = Path(__file__).resolve().parents[2]


def status_of(client, user, partner: str) -> str:
    items = call(client, "GET", "/v1/partners", token=user["token"])[1]["items"]
    return next(item["status"] for item in items if item["id"] == partner)


@pytest.fixture
def rider(client, stack, user):
    return user, bind(client, stack, user, "transit")


@pytest.mark.parametrize("retry_after", ["nan", "NaN", "-3", "soon", "inf"])
def test_a_nonsense_retry_after_once_is_retried_after_the_back_off(client, stack, rider, retry_after):
    user, ref = rider
    stack.transit.add_ride(ref)
    stack.transit.faults.add(path="/v1/rides", status=429, retry_after=retry_after)
    started = time.monotonic()
    status, body = sync(client, user, "transit")
    assert (status, body.get("imported")) == (200, 1), body
    assert time.monotonic() - started < 3  # the back-off (tenths of a second), not the partner's figure


@pytest.mark.parametrize("retry_after", ["nan", "-3", "soon", "inf", "1e400", "99999", "3600"])
def test_a_partner_that_keeps_sending_a_bad_or_too_long_retry_after_is_503_quickly(client, stack, rider,
                                                                                    retry_after):
    user, ref = rider
    stack.transit.add_ride(ref)
    stack.transit.faults.add(path="/v1/rides", status=429, retry_after=retry_after, count=-1)
    started = time.monotonic()
    try:
        status, body = sync(client, user, "transit")
    finally:
        stack.transit.faults.clear()
    assert (status, body["error"]["code"]) == (503, "PARTNER_UNAVAILABLE")
    assert time.monotonic() - started < 5  # never slept what the partner asked beyond the budget
    assert ledger(client, user) == []


class Catcher(FakeHTTPServer):
    """Somewhere else on the network: records every request that reaches it."""

    name = "catcher"

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Request] = []

    def handle(self, request: Request) -> Response:
        self.seen.append(request)
        return Response({"authorization_id": "au_x", "user_ref": "tu_x", "consent_id": "cs_x",
                         "customer_ref": "bc_x", "errcode": 0, "openid": "o-caught", "session_key": "c2s=",
                         "access_token": "t", "expires_in": 7200}, status=201)


@pytest.fixture
def elsewhere():
    with Catcher() as catcher:
        yield catcher


@pytest.mark.parametrize("partner, path", [("transit", "/v1/authorizations"), ("bank", "/v1/consents")])
def test_a_partner_redirecting_the_bind_elsewhere_is_not_followed(client, stack, user, elsewhere, partner, path):
    fake = getattr(stack, partner)
    number = phone()
    fake.add_rider(number) if partner == "transit" else fake.add_customer(number)
    fake.faults.add(path=path, status=307, location=elsewhere.base_url + path)
    try:
        status, body = call(client, "PUT", f"/v1/partners/{partner}/consent",
                            {"phone_code": phone_code(stack, number)}, token=user["token"])
    finally:
        fake.faults.clear()
    assert (status, body["error"]["code"]) == (503, "PARTNER_UNAVAILABLE")
    assert elsewhere.seen == []  # the phone number was posted to the partner only
    assert status_of(client, user, partner) == "unbound"


@pytest.mark.parametrize("path", ["/sns/jscode2session", "/cgi-bin/stable_token",
                                  "/wxa/business/getuserphonenumber"])
def test_wechat_redirecting_elsewhere_is_not_followed(client, stack, user, elsewhere, path):
    import chalicelib.partners.wechat_phone as wechat_phone

    wechat_phone._token = None  # the phone exchange fetches its access token again (a path of the test)
    stack.wechat.faults.add(path=path, status=307, count=2, location=elsewhere.base_url + path)
    try:
        login = call(client, "POST", "/v1/auth/login", {"code": f"wx:o-redirected-{uuid.uuid4().hex[:8]}"})
        bound = call(client, "PUT", "/v1/partners/transit/consent", {"phone_code": phone_code(stack, phone())},
                     token=user["token"])
    finally:
        stack.wechat.faults.clear()
    expected = (503, "WECHAT_UNAVAILABLE")
    if path == "/sns/jscode2session":
        assert (login[0], login[1]["error"]["code"]) == expected
    else:
        assert (bound[0], bound[1]["error"]["code"]) == expected
    assert elsewhere.seen == []  # neither the app secret, nor a code, nor a token went elsewhere


def test_partner_ids_are_url_encoded_in_the_revocation_path(client, stack, user):
    number, other = phone(), phone()
    stack.transit.add_rider(number, authorization_id="au/../x?y=1#z")
    stack.bank.add_customer(other, consent_id="cs/1?force=true")
    for partner, code in (("transit", phone_code(stack, number)), ("bank", phone_code(stack, other))):
        status, body = call(client, "PUT", f"/v1/partners/{partner}/consent", {"phone_code": code},
                            token=user["token"])
        assert status == 200, body
        assert call(client, "DELETE", f"/v1/partners/{partner}/consent", token=user["token"])[0] == 200
    (authorization,) = [a for a in stack.transit.authorizations() if a["authorization_id"] == "au/../x?y=1#z"]
    (consent,) = [c for c in stack.bank.consents() if c["consent_id"] == "cs/1?force=true"]
    assert authorization["active"] is False and consent["active"] is False  # revoked at the partner, that one


@pytest.mark.parametrize("field", ["user_ref", "authorization_id"])
def test_a_partner_id_too_long_for_a_key_is_refused_cleanly(client, stack, user, field):
    number = phone()
    stack.transit.add_rider(number, **{field: "r" * 3000})
    status, body = call(client, "PUT", "/v1/partners/transit/consent", {"phone_code": phone_code(stack, number)},
                        token=user["token"])
    assert (status, body["error"]["code"]) == (503, "PARTNER_UNAVAILABLE")
    assert status_of(client, user, "transit") == "unbound"


DEPLOYED = {"JWT_SECRET": "s" * 40, "DATA_KEY": base64.b64encode(b"k" * 32).decode(),
            "SSM_PARAMETER_PATH": "/greensprout/prod/", "WECHAT_API_BASE": "https://api.weixin.qq.com",
            "TRANSIT_API_BASE": "https://open.bus.example.cn/api", "BANK_API_BASE": "https://open.bank.example.cn"}


@pytest.mark.parametrize("name", ["WECHAT_API_BASE", "TRANSIT_API_BASE", "BANK_API_BASE"])
@pytest.mark.parametrize("base", ["http://open.partner.example.cn", "HTTP://open.partner.example.cn", "https://",
                                  "ftp://open.partner.example.cn", "open.partner.example.cn"])
def test_a_deployed_stage_refuses_a_partner_base_that_is_not_https(name, base):
    with pytest.raises(SettingsError, match=f"{name} must be an https:// URL"):
        from_environ({**DEPLOYED, name: base})


def test_https_bases_start_a_deployed_stage_and_the_local_stage_may_use_http():
    assert from_environ(DEPLOYED).transit_api_base == "https://open.bus.example.cn/api"
    local = {k: v.replace("https://", "http://") for k, v in DEPLOYED.items() if k != "SSM_PARAMETER_PATH"}
    assert from_environ(local).bank_api_base == "http://open.bank.example.cn"


# A container's first invocation (importing app.py reads no setting: tests/integration/test_startup.py).
FIRST_REQUEST = """
import sys
import app
from chalice.test import Client
with Client(app.app, stage_name="local") as client:
    response = client.http.get("/v1/health")
sys.exit(0 if response.status_code == 200 else f"first request answered {response.status_code}")
"""


def test_the_app_refuses_to_serve_in_a_deployed_stage_with_an_http_partner_base():
    env = {**os.environ, **DEPLOYED, "WECHAT_SECRET": "w", "TRANSIT_SECRET": "t", "BANK_CLIENT_SECRET": "b",
           "BANK_WEBHOOK_SECRET": "h", "BANK_API_BASE": "http://open.bank.example.cn"}
    result = subprocess.run([sys.executable, "-c", FIRST_REQUEST], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "BANK_API_BASE must be an https:// URL in a deployed stage" in result.stdout + result.stderr


@pytest.mark.parametrize("partner", ["transit", "bank"])
@pytest.mark.parametrize("issued, words", [({"country_code": "1"}, "中国大陆"),
                                           ({"country_code": "852"}, "中国大陆"),
                                           ({"appid": "wx-another-mini-program"}, "本小程序")],
                         ids=["us", "hong-kong", "another-appid"])
def test_only_a_mainland_phone_verified_for_our_mini_program_binds(client, stack, user, partner, issued, words):
    number = phone()
    fake = getattr(stack, partner)
    fake.add_rider(number) if partner == "transit" else fake.add_customer(number)  # the digits exist there
    code = "pc_" + uuid.uuid4().hex
    stack.wechat.add_phone_code(code, number, **issued)
    asked = fake.calls().get("/v1/authorizations" if partner == "transit" else "/v1/consents", 0)
    status, body = call(client, "PUT", f"/v1/partners/{partner}/consent", {"phone_code": code}, token=user["token"])
    assert (status, body["error"]["code"]) == (400, "INVALID_PHONE_CODE")
    assert words in body["error"]["message"]
    assert fake.calls().get("/v1/authorizations" if partner == "transit" else "/v1/consents", 0) == asked
    assert status_of(client, user, partner) == "unbound"
