"""Login with a wx.login code against the fake WeChat over HTTP, and the tokens we hand out."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest

from chalicelib.sealing import unseal
from chalicelib.services import tokens
from chalicelib.settings import get_settings
from chalicelib.store.models import Account, Identity
from tests.support.api import call, login


def test_first_login_creates_the_user_and_returns_a_token(client, openid):
    status, body = call(client, "POST", "/v1/auth/login", {"code": f"wx:{openid}"})
    assert status == 200
    assert body["new_user"] is True
    assert body["user"]["roles"] == ["user"]
    assert body["expires_in"] == 7200
    status, me = call(client, "GET", "/v1/me", token=body["token"])
    assert status == 200
    assert me["id"] == body["user"]["id"]
    assert me["points"] == 0 and me["carbon_g"] == 0


def test_returning_login_finds_the_same_user(client, openid):
    first = login(client, openid)
    second = login(client, openid)
    assert second["login"]["new_user"] is False
    assert second["id"] == first["id"]


def test_session_key_is_kept_sealed_and_replaced_at_every_login(client, openid, stack):
    login(client, openid)
    first_key = stack.wechat.session_key(openid)
    login(client, openid)
    latest = stack.wechat.session_key(openid)
    identity = Identity.get(f"wx#{openid}")
    assert first_key not in identity.session_key_sealed and latest not in identity.session_key_sealed
    assert unseal(identity.session_key_sealed, identity.key) == latest != first_key


def test_login_response_never_contains_the_session_key(client, openid, stack):
    status, body = call(client, "POST", "/v1/auth/login", {"code": f"wx:{openid}"})
    assert status == 200
    assert stack.wechat.session_key(openid) not in str(body)
    assert "session_key" not in str(body)


@pytest.mark.parametrize("code, status, error", [
    ("err-40029", 400, "INVALID_CODE"),
    ("err-40163", 400, "INVALID_CODE"),
    ("err-45011", 429, "RATE_LIMITED"),
    ("err-40226", 403, "RISKY_USER"),
    ("err--1", 503, "WECHAT_UNAVAILABLE"),
    ("http-502", 503, "WECHAT_UNAVAILABLE"),
    ("slow-3", 503, "WECHAT_UNAVAILABLE"),
    ("not-a-code-wechat-knows", 400, "INVALID_CODE"),
])
def test_wechat_errors_map_to_the_contract(client, code, status, error):
    got_status, body = call(client, "POST", "/v1/auth/login", {"code": f"{code}-{uuid.uuid4().hex[:6]}"})
    assert (got_status, body["error"]["code"]) == (status, error)
    assert body["error"]["message"]  # Chinese text for the user


def test_a_code_used_twice_is_refused_the_second_time(client, openid):
    code = f"wx:{openid}:once"
    assert call(client, "POST", "/v1/auth/login", {"code": code})[0] == 200
    status, body = call(client, "POST", "/v1/auth/login", {"code": code})
    assert (status, body["error"]["code"]) == (400, "INVALID_CODE")


def test_wechat_busy_is_retried_once_before_giving_up(client, stack):
    before = stack.wechat.calls().get("/sns/jscode2session", 0)
    status, _ = call(client, "POST", "/v1/auth/login", {"code": "err--1-busy"})
    assert status == 503
    assert stack.wechat.calls()["/sns/jscode2session"] - before == 2


@pytest.mark.parametrize("body", [{}, {"code": 123}, {"code": ""}, {"code": "x" * 500}])
def test_login_without_a_usable_code_is_a_validation_error(client, body):
    status, answer = call(client, "POST", "/v1/auth/login", body)
    assert status == 400
    assert answer["error"]["code"] == "VALIDATION_ERROR"
    assert answer["error"]["details"]["field"] == "code"


def test_merchant_staff_log_in_with_their_role(client):
    status, body = call(client, "POST", "/v1/auth/login", {"code": f"wx:o-staff-1:{uuid.uuid4().hex}"})
    assert status == 200
    assert body["user"]["roles"] == ["user", "merchant_staff"]
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["mid"] == "m-cafe"


def test_simultaneous_first_logins_of_one_openid_make_one_user(client, openid):
    from chalicelib.services import auth

    codes = [f"wx:{openid}:{n}" for n in range(8)]
    auth.login(f"wx:o-warm-{uuid.uuid4().hex[:8]}")  # warm the lazily built clients before threads share them
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(auth.login, codes))
    user_ids = {result.user_id for result in results}
    assert len(user_ids) == 1
    assert sum(result.new_user for result in results) == 1
    assert Identity.get(f"wx#{openid}").user_id in user_ids
    assert Account.get(user_ids.pop()).identity_key == f"wx#{openid}"


# --- tokens -------------------------------------------------------------------------------------

def _claims(user_id: str, **overrides) -> dict:
    settings = get_settings()
    now = int(time.time())
    claims = {"sub": user_id, "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "iat": now,
              "exp": now + 600, "jti": uuid.uuid4().hex, "roles": ["user"], "mid": None}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not ...}


def _sign(claims: dict, key: bytes | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or get_settings().jwt_secret, algorithm=algorithm)


def _me_status(client, token: str) -> tuple[int, dict]:
    return call(client, "GET", "/v1/me", token=token)


def test_a_token_we_signed_is_accepted(client, user):
    assert _me_status(client, _sign(_claims(user["id"])))[0] == 200


@pytest.mark.parametrize("make_token", [
    pytest.param(lambda uid: _sign(_claims(uid), key=b"x" * 48), id="forged-signature"),
    pytest.param(lambda uid: jwt.encode(_claims(uid), None, algorithm="none"), id="alg-none"),
    pytest.param(lambda uid: _sign(_claims(uid, iat=int(time.time()) - 7300, exp=int(time.time()) - 100)),
                 id="expired"),
    pytest.param(lambda uid: _sign(_claims(uid, exp=...)), id="missing-exp"),
    pytest.param(lambda uid: _sign(_claims(uid, iat=...)), id="missing-iat"),
    pytest.param(lambda uid: _sign(_claims(uid, jti=...)), id="missing-jti"),
    pytest.param(lambda uid: _sign(_claims(uid, aud=...)), id="missing-aud"),
    pytest.param(lambda uid: _sign(_claims(uid, iss=...)), id="missing-iss"),
    pytest.param(lambda uid: _sign(_claims(uid, sub=...)), id="missing-sub"),
    pytest.param(lambda uid: _sign(_claims(uid, roles=...)), id="missing-roles"),
    pytest.param(lambda uid: _sign(_claims(uid, mid=...)), id="missing-mid"),
    pytest.param(lambda uid: _sign(_claims(uid, aud="someone-else")), id="wrong-audience"),
    pytest.param(lambda uid: _sign(_claims(uid, iss="someone-else")), id="wrong-issuer"),
    pytest.param(lambda uid: _sign(_claims(uid, roles=["user", "admin"])), id="unknown-role"),
    pytest.param(lambda uid: _sign(_claims(uid, roles=["user", "merchant_staff"])), id="staff-without-merchant"),
    pytest.param(lambda uid: _sign(_claims(uid), algorithm="HS512"), id="other-algorithm"),
    pytest.param(lambda uid: "not.a.token", id="garbage"),
])
def test_bad_tokens_answer_401(client, user, make_token):
    status, body = _me_status(client, make_token(user["id"]))
    assert status == 401
    assert body["error"]["code"] == "UNAUTHENTICATED"


def test_a_token_accepted_before_is_refused_once_it_expires(client, user):
    """Verified tokens are remembered per container (services/tokens.py): that must never outlive `exp`."""
    now = int(time.time())
    token = _sign(_claims(user["id"], iat=now - 7200, exp=now - tokens.LEEWAY_SECONDS + 3))  # 3 s of leeway left
    assert _me_status(client, token)[0] == 200
    time.sleep(max(0.0, now + 3.5 - time.time()))
    status, body = _me_status(client, token)
    assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic abc", "token-without-scheme"])
def test_missing_or_malformed_authorization_answers_401(client, header):
    headers = {} if header is None else {"Authorization": header}
    status, body = call(client, "GET", "/v1/me", headers=headers)
    assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED")
