"""The fake WeChat server answers as the real API does (shared/partners/wechat.md), over real HTTP."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from infra.local.fake_wechat import FakeWeChat

APPID = "wx-test-app"
SECRET = "test-secret"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWeChat]:
    with FakeWeChat(APPID, SECRET) as server:
        yield server


@pytest.fixture(autouse=True)
def clean(fake: FakeWeChat) -> None:
    requests.post(f"{fake.base_url}/__fake__/reset", timeout=5).raise_for_status()


def login(fake: FakeWeChat, code: str, appid: str = APPID, secret: str = SECRET) -> requests.Response:
    params = {"appid": appid, "secret": secret, "js_code": code, "grant_type": "authorization_code"}
    return requests.get(f"{fake.base_url}/sns/jscode2session", params=params, timeout=10)


def access_token(fake: FakeWeChat, force_refresh: bool = False) -> str:
    body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    answer = post(fake, "/cgi-bin/stable_token", {**body, "force_refresh": force_refresh})
    assert answer["expires_in"] == 7200
    return str(answer["access_token"])


def post(fake: FakeWeChat, path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    params = {"access_token": token} if token is not None else None
    response = requests.post(f"{fake.base_url}{path}", params=params, json=body, timeout=5)
    assert response.status_code == 200, response.text
    return dict(response.json())


def decrypt(session_key: str, encrypted_data: str, iv: str) -> dict[str, Any]:
    """What the backend does with wx.getWeRunData (shared/partners/wechat.md)."""
    cipher = Cipher(algorithms.AES(base64.b64decode(session_key)), modes.CBC(base64.b64decode(iv)))
    decryptor = cipher.decryptor()
    padded = decryptor.update(base64.b64decode(encrypted_data)) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return dict(json.loads(unpadder.update(padded) + unpadder.finalize()))


def test_login_answers_openid_unionid_and_a_16_byte_session_key(fake: FakeWeChat) -> None:
    response = login(fake, "wx:o-alice:1")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"openid", "session_key", "unionid"}
    assert body["openid"] == "o-alice" and body["unionid"] == "un-o-alice"
    assert len(base64.b64decode(body["session_key"])) == 16


def test_every_login_gives_a_new_session_key_and_the_fake_keeps_the_latest(fake: FakeWeChat) -> None:
    first = login(fake, "wx:o-alice:1").json()["session_key"]
    second = login(fake, "wx:o-alice").json()["session_key"]
    assert first != second
    latest = requests.get(f"{fake.base_url}/__fake__/session_key", params={"openid": "o-alice"}, timeout=5)
    assert latest.json() == {"session_key": second}
    unknown = requests.get(f"{fake.base_url}/__fake__/session_key", params={"openid": "o-nobody"}, timeout=5)
    assert unknown.status_code == 404


def test_a_login_code_works_once_then_answers_40163(fake: FakeWeChat) -> None:
    assert login(fake, "wx:o-bob:7").json()["openid"] == "o-bob"
    again = login(fake, "wx:o-bob:7")
    assert again.status_code == 200
    assert again.json()["errcode"] == 40163


@pytest.mark.parametrize("code, errcode", [
    ("err-40029", 40029), ("err-45011-x", 45011), ("err-40226-risky", 40226), ("err--1", -1),
    ("err--1-a", -1), ("no-such-code", 40029), ("wx:", 40029),
])
def test_errors_come_back_with_http_200_and_leave_the_code_unused(
    fake: FakeWeChat, code: str, errcode: int
) -> None:
    for _ in range(2):  # the backend retries a busy (-1) answer once with the same code
        response = login(fake, code)
        assert response.status_code == 200
        body = response.json()
        assert body["errcode"] == errcode and isinstance(body["errmsg"], str)
        assert "openid" not in body


def test_wrong_appid_answers_40013_and_wrong_secret_40125(fake: FakeWeChat) -> None:
    assert login(fake, "wx:o-a", appid="wx-other").json()["errcode"] == 40013
    assert login(fake, "wx:o-a", secret="leaked-or-wrong").json()["errcode"] == 40125
    assert login(fake, "wx:o-a").json()["openid"] == "o-a"  # those failures did not use the code


def test_registered_codes_log_in_as_their_openid(fake: FakeWeChat) -> None:
    post(fake, "/__fake__/codes", {"code": "0a1B2c", "openid": "o-registered"})
    assert login(fake, "0a1B2c").json()["openid"] == "o-registered"
    assert login(fake, "0a1B2c").json()["errcode"] == 40163


def test_http_codes_answer_that_status_without_json(fake: FakeWeChat) -> None:
    response = login(fake, "http-502-gateway")
    assert response.status_code == 502
    with pytest.raises(ValueError):
        response.json()


def test_slow_codes_answer_late_as_o_slow(fake: FakeWeChat) -> None:
    started = time.monotonic()
    body = login(fake, "slow-0.3-a").json()
    assert time.monotonic() - started >= 0.3
    assert body["openid"] == "o-slow"


def test_werun_data_decrypts_with_the_latest_session_key(fake: FakeWeChat) -> None:
    session_key = login(fake, "wx:o-walker:1").json()["session_key"]
    steps = [{"timestamp": 1763827200, "step": 12345}, {"timestamp": 1763913600, "step": 800}]
    data = post(fake, "/__fake__/werun", {"openid": "o-walker", "step_info": steps})
    plain = decrypt(session_key, data["encrypted_data"], data["iv"])
    assert plain["stepInfoList"] == steps
    assert plain["watermark"]["appid"] == APPID
    assert abs(plain["watermark"]["timestamp"] - time.time()) < 60


def test_werun_data_can_carry_a_stale_watermark_another_appid_or_another_key(fake: FakeWeChat) -> None:
    other_key = base64.b64encode(b"k" * 16).decode()
    body = {"openid": "o-never-logged-in", "step_info": [], "watermark_timestamp": 1000, "appid": "wx-evil",
            "session_key": other_key}
    data = post(fake, "/__fake__/werun", body)
    plain = decrypt(other_key, data["encrypted_data"], data["iv"])
    assert plain == {"stepInfoList": [], "watermark": {"appid": "wx-evil", "timestamp": 1000}}
    without_key = {"openid": "o-x", "step_info": []}
    missing = requests.post(f"{fake.base_url}/__fake__/werun", json=without_key, timeout=5)
    assert missing.status_code == 404


def test_the_access_token_is_stable_until_force_refresh_and_wrong_secret_is_40125(fake: FakeWeChat) -> None:
    token = access_token(fake)
    assert access_token(fake) == token
    assert access_token(fake, force_refresh=True) != token
    body = {"grant_type": "client_credential", "appid": APPID, "secret": "nope", "force_refresh": False}
    assert post(fake, "/cgi-bin/stable_token", body)["errcode"] == 40125


def test_phone_codes_give_the_verified_phone_once(fake: FakeWeChat) -> None:
    post(fake, "/__fake__/phone_codes", {"code": "ph-1", "phone": "13800138000"})
    token = access_token(fake)
    answer = post(fake, "/wxa/business/getuserphonenumber", {"code": "ph-1"}, token)
    assert answer["errcode"] == 0 and answer["errmsg"] == "ok"
    info = answer["phone_info"]
    assert info["phoneNumber"] == info["purePhoneNumber"] == "13800138000"
    assert info["countryCode"] == "86"
    assert info["watermark"]["appid"] == APPID
    assert post(fake, "/wxa/business/getuserphonenumber", {"code": "ph-1"}, token)["errcode"] == 40029
    assert post(fake, "/wxa/business/getuserphonenumber", {"code": "never"}, token)["errcode"] == 40029


def test_an_invalidated_token_answers_40001_until_a_new_one_is_fetched(fake: FakeWeChat) -> None:
    post(fake, "/__fake__/phone_codes", {"code": "ph-2", "phone": "13900139000"})
    token = access_token(fake)
    assert post(fake, "/wxa/business/getuserphonenumber", {"code": "ph-2"}, "made-up")["errcode"] == 40001
    post(fake, "/__fake__/invalidate_token", {})
    assert post(fake, "/wxa/business/getuserphonenumber", {"code": "ph-2"}, token)["errcode"] == 40001
    fresh = access_token(fake)
    assert fresh != token
    assert post(fake, "/wxa/business/getuserphonenumber", {"code": "ph-2"}, fresh)["errcode"] == 0


def test_subscribe_messages_are_accepted_unless_the_user_did_not_subscribe(fake: FakeWeChat) -> None:
    token = access_token(fake)
    message = {"touser": "o-alice", "template_id": "tpl-1", "data": {"thing1": {"value": "咖啡券明天到期"}}}
    assert post(fake, "/cgi-bin/message/subscribe/send", message, token)["errcode"] == 0
    refused = post(fake, "/cgi-bin/message/subscribe/send", {**message, "touser": "nosub-bob"}, token)
    assert refused["errcode"] == 43101
    assert fake.messages() == [message]


def test_calls_are_counted_per_path_and_reset_forgets_everything(fake: FakeWeChat) -> None:
    login(fake, "wx:o-c:1")
    login(fake, "err-40029")
    access_token(fake)
    calls = requests.get(f"{fake.base_url}/__fake__/calls", timeout=5).json()
    assert calls == {"/sns/jscode2session": 2, "/cgi-bin/stable_token": 1}
    post(fake, "/__fake__/reset", {})
    assert requests.get(f"{fake.base_url}/__fake__/calls", timeout=5).json() == {}
    assert fake.session_key("o-c") is None
    assert login(fake, "wx:o-c:1").json()["openid"] == "o-c"  # used codes are forgotten too


def test_a_phone_code_can_carry_another_country_or_another_mini_program(fake: FakeWeChat) -> None:
    post(fake, "/__fake__/phone_codes", {"code": "ph-us", "phone": "2025550123", "country_code": "1"})
    post(fake, "/__fake__/phone_codes", {"code": "ph-other", "phone": "13800138001", "appid": "wx-another-app"})
    token = access_token(fake)
    us = post(fake, "/wxa/business/getuserphonenumber", {"code": "ph-us"}, token)["phone_info"]
    assert (us["phoneNumber"], us["purePhoneNumber"], us["countryCode"]) == ("+1 2025550123", "2025550123", "1")
    assert us["watermark"]["appid"] == APPID
    other = post(fake, "/wxa/business/getuserphonenumber", {"code": "ph-other"}, token)["phone_info"]
    assert (other["countryCode"], other["watermark"]["appid"]) == ("86", "wx-another-app")


# --- a second mini program (another platform's, shared/contract/platforms.md) -------------------------------

def test_a_second_mini_program_logs_in_with_its_own_appid_openid_and_the_same_unionid() -> None:
    with FakeWeChat(APPID, SECRET, apps={"wx-second-app": "second-secret"}) as two:
        first = login(two, "wx:o-person:1").json()
        second = login(two, "wx:o-person:2", appid="wx-second-app", secret="second-secret").json()
        assert (first["openid"], second["openid"]) == ("o-person", "o-person@wx-second-app")
        assert first["unionid"] == second["unionid"] == "un-o-person"  # one person across the mini programs
        assert two.session_key("o-person@wx-second-app") == second["session_key"]
        assert login(two, "wx:o-person:3", appid="wx-second-app", secret=SECRET).json()["errcode"] == 40125
        assert login(two, "wx:o-person:4", appid="wx-third-app", secret="second-secret").json()["errcode"] == 40013


def test_a_mini_program_added_over_http_gets_its_own_access_token(fake: FakeWeChat) -> None:
    assert login(fake, "wx:o-late:1", appid="wx-late-app", secret="late-secret").json()["errcode"] == 40013
    assert requests.post(f"{fake.base_url}/__fake__/apps", json={"appid": "wx-late-app", "secret": "late-secret"},
                         timeout=5).status_code == 200
    assert login(fake, "wx:o-late:2", appid="wx-late-app", secret="late-secret").json()["openid"] \
        == "o-late@wx-late-app"
    body = {"grant_type": "client_credential", "appid": "wx-late-app", "secret": "late-secret"}
    late = post(fake, "/cgi-bin/stable_token", body)["access_token"]
    assert late != access_token(fake)
    assert post(fake, "/wxa/msg_sec_check", {"content": "你好", "version": 2, "scene": 1,
                                              "openid": "o-late@wx-late-app"}, token=late)["result"]["suggest"] \
        == "pass"
    assert fake.checked()[-1]["appid"] == "wx-late-app"
    # an openid is per mini program: the first one's openid with the late one's token, and the reverse, are 40003
    assert post(fake, "/wxa/msg_sec_check", {"content": "你好", "version": 2, "scene": 1, "openid": "o-late"},
                token=late)["errcode"] == 40003
    assert post(fake, "/wxa/msg_sec_check", {"content": "你好", "version": 2, "scene": 1,
                                              "openid": "o-late@wx-late-app"}, token=access_token(fake))["errcode"] \
        == 40003
    assert post(fake, "/cgi-bin/stable_token", {**body, "secret": SECRET})["errcode"] == 40125
