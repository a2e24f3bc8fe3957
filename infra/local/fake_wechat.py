"""A fake of WeChat's server API (shared/partners/wechat.md) that `make run` and the tests point
`WECHAT_API_BASE` at. It answers like the real one, errors included (HTTP 200 with `errcode`).

It serves one mini program (appid, secret) and any more added with `add_app` (`POST /__fake__/apps`
{"appid", "secret"}, `--app APPID:SECRET`): the mini programs of several platforms bound to one Open Platform
account. Every call must carry a known appid (else 40013) and that appid's secret (else 40125).

Login codes (`js_code`) it understands, all single use once they succeed (then 40163):
  `wx:<openid>[:<anything>]`    logs in as <openid> (unionid "un-<openid>", a fresh session_key each time); with
                                another appid than the first, as "<openid>@<appid>" (an openid is per mini
                                program) with the same unionid "un-<openid>" (one person across them)
  codes registered through `POST /__fake__/codes`
  `err-<N>[-<anything>]`        answers errcode N (40029, 45011, 40226, -1 ...); never consumed
  `slow-<seconds>[-<anything>]` sleeps, then logs in as "o-slow"
  `http-<status>[-<anything>]`  answers that HTTP status with a non-JSON body
  anything else                 40029
Phone-number codes (`POST /__fake__/phone_codes` {"code", "phone", "country_code"?, "appid"?}) answer a
mainland number verified for this mini program unless told another country code (then `phoneNumber` is
"+<cc> <phone>") or another appid in the watermark (a code issued to another mini program).
Content checks (`/wxa/msg_sec_check`, v2): text containing "违禁" is `risky`, "待审" is `review`, anything else
`pass`; an openid of another mini program than the access token's is 40003 (an openid is per mini program).
Subscribe messages (`/cgi-bin/message/subscribe/send`): a message whose data breaks WeChat's limits (`thing` over
20 characters, `number` not digits or over 32, `time` not a date or time) is 47003; a `touser` starting with
"nosub" is 43101. `POST /__fake__/subscribe_errors` {"errcodes": [43101, -1 ...], "touser"?} makes the next
calls (to that openid only, with `touser`) answer those errcodes, one each, in order (40001 among them also
invalidates the access tokens, as a real expiry would). Every call is recorded as received (`GET
/__fake__/subscribe_received`: body, appid, errcode); the accepted ones are the `messages`.
WeChat outages: `faults` (infra/local/fake_faults.py, `POST /__fake__/faults`) fail chosen API paths.
Tests and `make run` drive it through the control API under `/__fake__/` (or the same methods in-process).

CLI: `python -m infra.local.fake_wechat --port 8010 --appid A --secret S [--app B:SB ...]`.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from infra.local.fake_faults import Faults
from infra.local.fake_http import BadJsonError, FakeHTTPServer, Handler, Request, Response
from infra.local.shutdown import block_until_interrupted

TOKEN_TTL_SECONDS = 7200
SLOW_OPENID = "o-slow"
ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40029: "invalid code",
    40125: "invalid appsecret",
    40163: "code been used",
    40226: "high risk user",
    41008: "missing code",
    42001: "access_token expired",
    43101: "user refuse to accept the msg",
    45011: "api minute-quota reach limit mustslower retry next minute",
    47001: "data format error",
    61010: "user is not in the mini program in the last 2 hours",
}
RISKY_WORDS = ("违禁",)  # msg_sec_check: text holding one of these is "risky" (label 20006, 违法犯罪)
REVIEW_WORDS = ("待审",)  # and these "review" (label 21000, 其他)
_ERR_CODE = re.compile(r"err-(-?\d+)(?:-.*)?", re.DOTALL)
_SLOW_CODE = re.compile(r"slow-(\d+(?:\.\d+)?)(?:-.*)?", re.DOTALL)
_HTTP_CODE = re.compile(r"http-(\d{3})(?:-.*)?", re.DOTALL)
OK = Response({"ok": True})


def wechat_error(errcode: int) -> Response:
    """An error the way WeChat sends it: HTTP 200, errcode, errmsg with a request id."""
    errmsg = f"{ERRMSG.get(errcode, 'error')} rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}"
    return Response({"errcode": errcode, "errmsg": errmsg})


def encrypt_user_data(session_key: str, plaintext: bytes) -> tuple[str, str]:
    """AES-CBC with PKCS#7 as WeChat encrypts `wx.getWeRunData`: (base64 ciphertext, base64 random IV)."""
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(base64.b64decode(session_key)), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    return base64.b64encode(ciphertext).decode(), base64.b64encode(iv).decode()


_TIME_VALUE = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?|\d{2}:\d{2}")


def _template_data_ok(data: object) -> bool:
    """WeChat's limits on subscribe-message data (47003 otherwise): `thing` 1..20 characters, `number` 1..32
    digits (a decimal point allowed), `time` a date or a time; every value a string under {"value"}."""
    if not isinstance(data, dict) or not data:
        return False
    for name, field in data.items():
        value = field.get("value") if isinstance(field, dict) else None
        if not isinstance(value, str):
            return False
        if name.startswith("thing") and not 0 < len(value) <= 20:
            return False
        if name.startswith("number") and not (re.fullmatch(r"\d+(\.\d+)?", value) and len(value) <= 32):
            return False
        if name.startswith("time") and not _TIME_VALUE.fullmatch(value):
            return False
    return True


def _ok_after(action: Callable[[], None]) -> Handler:
    """A control handler that runs `action` and answers {"ok": true}."""

    def handler(_: Request) -> Response:
        action()
        return OK

    return handler


def _required(body: dict[str, Any], *names: str) -> list[Any]:
    """The named fields of a control request, or BadJsonError (a 400) naming the missing one."""
    missing = [name for name in names if body.get(name) in (None, "")]
    if missing:
        raise BadJsonError(f"missing field {missing[0]!r}")
    return [body[name] for name in names]


class FakeWeChat(FakeHTTPServer):
    """WeChat's server API for one mini program (appid, secret), with thread-safe in-memory state."""

    name = "fake-wechat"

    def __init__(self, appid: str, secret: str, port: int = 0, apps: dict[str, str] | None = None) -> None:
        super().__init__(port)
        self.appid = appid
        self.secret = secret
        self._apps = {appid: secret, **(apps or {})}  # every mini program it serves: appid -> secret
        self._lock = threading.Lock()
        self.faults = Faults()  # outages of chosen WeChat API paths (the control API is never failed)
        self.reset()
        self.routes = {
            ("GET", "/sns/jscode2session"): self._code2session,
            ("POST", "/cgi-bin/stable_token"): self._stable_token,
            ("POST", "/wxa/business/getuserphonenumber"): self._phone_number,
            ("POST", "/cgi-bin/message/subscribe/send"): self._subscribe_send,
            ("POST", "/wxa/msg_sec_check"): self._msg_sec_check,
            ("POST", "/__fake__/faults"): lambda r: (self.faults.add_from(r.json()), OK)[1],
            ("POST", "/__fake__/faults/clear"): _ok_after(self.faults.clear),
            ("POST", "/__fake__/codes"): self._post_code,
            ("POST", "/__fake__/apps"): lambda r: (self.add_app(*_required(r.json(), "appid", "secret")), OK)[1],
            ("GET", "/__fake__/session_key"): self._get_session_key,
            ("POST", "/__fake__/werun"): self._post_werun,
            ("POST", "/__fake__/phone_codes"): self._post_phone_code,
            ("POST", "/__fake__/invalidate_token"): _ok_after(self.invalidate_token),
            ("GET", "/__fake__/calls"): lambda _: Response(self.calls()),
            ("GET", "/__fake__/messages"): lambda _: Response({"messages": self.messages()}),
            ("GET", "/__fake__/subscribe_received"): lambda _: Response({"received": self.subscribe_received()}),
            ("POST", "/__fake__/subscribe_errors"): lambda r: (self.subscribe_errors(
                *_required(r.json(), "errcodes"), touser=r.json().get("touser")), OK)[1],
            ("POST", "/__fake__/reset"): _ok_after(self.reset),
        }

    # ----- the control API, also callable in-process -------------------------------------------------
    def reset(self) -> None:
        """Forget everything: codes, session keys, the access token, phone codes, call counts, messages."""
        with self._lock:
            self._codes: dict[str, str] = {}
            self._used_codes: set[str] = set()
            self._session_keys: dict[str, str] = {}
            self._tokens: dict[str, tuple[str, float]] = {}  # appid -> (access token, expires at)
            self._phone_codes: dict[str, tuple[str, str, str | None]] = {}  # code -> (phone, country, appid)
            self._calls: Counter[str] = Counter()
            self._messages: list[dict[str, Any]] = []
            self._received: list[dict[str, Any]] = []  # every subscribe/send call: body, appid, errcode
            self._next_errcodes: list[tuple[int, str | None]] = []  # (errcode, only for this touser)
            self._checked: list[dict[str, Any]] = []
        self.faults.clear()

    def add_app(self, appid: str, secret: str) -> None:
        """Serve another mini program too (another platform's), bound to the same Open Platform account."""
        with self._lock:
            self._apps[appid] = secret

    def apps(self) -> dict[str, str]:
        with self._lock:
            return dict(self._apps)

    def register_code(self, code: str, openid: str) -> None:
        """Make `code` a (single-use) login code for `openid`."""
        with self._lock:
            self._codes[code] = openid

    def session_key(self, openid: str) -> str | None:
        """The session_key WeChat gave at `openid`'s latest login."""
        with self._lock:
            return self._session_keys.get(openid)

    def werun(
        self, openid: str, step_info: list[dict[str, int]], watermark_timestamp: int | None = None,
        appid: str | None = None, session_key: str | None = None,
    ) -> dict[str, str] | None:
        """What `wx.getWeRunData` hands the mini program: {"encrypted_data", "iv"}; None without a key."""
        key = session_key or self.session_key(openid)
        if key is None:
            return None
        watermark = {"appid": appid or self.appid, "timestamp": watermark_timestamp or int(time.time())}
        plaintext = json.dumps({"stepInfoList": step_info, "watermark": watermark}, separators=(",", ":"))
        encrypted_data, iv = encrypt_user_data(key, plaintext.encode())
        return {"encrypted_data": encrypted_data, "iv": iv}

    def add_phone_code(self, code: str, phone: str, country_code: str = "86", appid: str | None = None) -> None:
        """Make `code` a single-use phone-number code for `phone` (e.g. "13800138000"), of `country_code`
        ("86": mainland China), verified for `appid` (this mini program's unless told another)."""
        with self._lock:
            self._phone_codes[code] = (phone, str(country_code), appid)

    def invalidate_token(self) -> None:
        """The current access tokens answer 40001 from now on; stable_token then issues new ones."""
        with self._lock:
            self._tokens.clear()

    def calls(self) -> dict[str, int]:
        """How many times each WeChat API path was called (the control API is not counted)."""
        with self._lock:
            return dict(self._calls)

    def messages(self) -> list[dict[str, Any]]:
        """The subscribe messages accepted so far, as sent."""
        with self._lock:
            return list(self._messages)

    def subscribe_errors(self, errcodes: list[int], touser: str | None = None) -> None:
        """The next subscribe/send calls (to `touser` only, if given) answer these errcodes, one each, in order."""
        with self._lock:
            self._next_errcodes.extend((int(code), touser) for code in errcodes)

    def subscribe_received(self) -> list[dict[str, Any]]:
        """Every subscribe/send call, accepted or not: {"body", "appid", "errcode"}."""
        with self._lock:
            return list(self._received)

    def checked(self) -> list[dict[str, Any]]:
        """The texts msg_sec_check judged so far: {"content", "openid", "scene", "suggest", "appid"} (the appid of
        the access token it was asked with)."""
        with self._lock:
            return list(self._checked)

    # ----- the WeChat API ------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Count WeChat API calls, then route."""
        if not request.path.startswith("/__fake__/"):
            with self._lock:
                self._calls[request.path] += 1
            if faulty := self.faults.check(request):
                return faulty
        return super().handle(request)

    def _known_app(self, appid: object, secret: object) -> Response | None:
        """40013 for an appid it does not serve, 40125 for another secret than that appid's, else None."""
        with self._lock:
            expected = self._apps.get(appid) if isinstance(appid, str) else None
        if expected is None:
            return wechat_error(40013)
        return None if secret == expected else wechat_error(40125)

    def _code2session(self, request: Request) -> Response:
        query = request.query
        if refused := self._known_app(query.get("appid"), query.get("secret")):
            return refused
        if query.get("grant_type") != "authorization_code":
            return wechat_error(40002)
        code = query.get("js_code", "")
        if not code:
            return wechat_error(41008)
        if match := _HTTP_CODE.fullmatch(code):
            body = f"<html><body><h1>{match[1]}</h1>upstream trouble</body></html>"
            return Response(body, status=int(match[1]), content_type="text/html; charset=utf-8")
        if match := _ERR_CODE.fullmatch(code):
            return wechat_error(int(match[1]))
        if match := _SLOW_CODE.fullmatch(code):
            time.sleep(float(match[1]))
        return self._login(code, query["appid"])

    def _login(self, code: str, appid: str | None = None) -> Response:
        """Consume a login code and start a new session for its openid (in that mini program)."""
        with self._lock:
            if code in self._used_codes:
                return wechat_error(40163)
            person = self._openid_for(code)
            if not person:
                return wechat_error(40029)
            self._used_codes.add(code)
            openid = person if appid in (None, self.appid) else f"{person}@{appid}"
            session_key = base64.b64encode(os.urandom(16)).decode()
            self._session_keys[openid] = session_key
        return Response({"openid": openid, "session_key": session_key, "unionid": f"un-{person}"})

    def _openid_for(self, code: str) -> str | None:
        if code in self._codes:
            return self._codes[code]
        if code.startswith("wx:"):
            return code.split(":", 2)[1]
        if _SLOW_CODE.fullmatch(code):
            return SLOW_OPENID
        return None

    def _stable_token(self, request: Request) -> Response:
        body = self._wechat_body(request)
        if body is None:
            return wechat_error(47001)
        if body.get("grant_type") != "client_credential":
            return wechat_error(40002)
        if refused := self._known_app(body.get("appid"), body.get("secret")):
            return refused
        with self._lock:
            now = time.time()
            token, expires_at = self._tokens.get(body["appid"], (None, 0.0))
            if body.get("force_refresh") or token is None or now >= expires_at:
                token, expires_at = secrets.token_urlsafe(48), now + TOKEN_TTL_SECONDS
                self._tokens[body["appid"]] = (token, expires_at)
        return Response({"access_token": token, "expires_in": math.ceil(expires_at - now)})

    def _token_error(self, request: Request) -> Response | None:
        """40001 for an unknown or invalidated access token, 42001 for an expired one, else None."""
        with self._lock:
            given = request.query.get("access_token")
            expires_at = next((at for token, at in self._tokens.values() if given and token == given), None)
            if expires_at is None:
                return wechat_error(40001)
            if time.time() >= expires_at:
                return wechat_error(42001)
        return None

    def _token_app(self, request: Request) -> str | None:
        """The appid whose access token the (already checked) request carries."""
        with self._lock:
            given = request.query.get("access_token")
            return next((appid for appid, (token, _) in self._tokens.items() if token == given), None)

    def _openid_of_app(self, openid: str, appid: str | None) -> bool:
        """Whether `_login` gives `openid` in the mini program `appid`: "<openid>" in the first, "<openid>@<appid>"
        in another."""
        return openid.endswith(f"@{appid}") if appid != self.appid else "@" not in openid

    def _phone_number(self, request: Request) -> Response:
        if error := self._token_error(request):
            return error
        body = self._wechat_body(request)
        if body is None:
            return wechat_error(47001)
        with self._lock:
            issued = self._phone_codes.pop(str(body.get("code")), None)
        if issued is None:
            return wechat_error(40029)
        phone, country, appid = issued
        watermark = {"appid": appid or self.appid, "timestamp": int(time.time())}
        phone_info = {"phoneNumber": phone if country == "86" else f"+{country} {phone}", "purePhoneNumber": phone,
                      "countryCode": country}
        return Response({"errcode": 0, "errmsg": "ok", "phone_info": {**phone_info, "watermark": watermark}})

    def _subscribe_send(self, request: Request) -> Response:
        body = self._wechat_body(request)
        appid = self._token_app(request)
        touser = body.get("touser") if isinstance(body, dict) else None
        with self._lock:
            hooked = next(((n, code) for n, (code, only) in enumerate(self._next_errcodes)
                           if only in (None, touser)), None)
            if hooked is not None:
                del self._next_errcodes[hooked[0]]
                hooked = hooked[1]
            if hooked in (40001, 42001):
                self._tokens.clear()
        errcode = hooked if hooked is not None else self._subscribe_errcode(request, body)
        with self._lock:
            self._received.append({"body": body, "appid": appid, "errcode": errcode})
            if errcode == 0:
                self._messages.append(body)
                msgid = len(self._messages)
        if errcode != 0:
            return wechat_error(errcode)
        return Response({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    def _subscribe_errcode(self, request: Request, body: dict[str, Any] | None) -> int:
        if error := self._token_error(request):
            return int(error.body["errcode"])  # type: ignore[index]
        if body is None:
            return 47001
        if not body.get("template_id"):
            return 40037
        if not isinstance(body.get("touser"), str) or not body["touser"]:
            return 40003
        if str(body["touser"]).startswith("nosub"):
            return 43101
        return 0 if _template_data_ok(body.get("data")) else 47003

    def _msg_sec_check(self, request: Request) -> Response:
        """msgSecCheck v2: {"content", "version": 2, "scene": 1..4, "openid"} -> result.suggest and label."""
        if error := self._token_error(request):
            return error
        body = self._wechat_body(request)
        if body is None or body.get("version") != 2 or body.get("scene") not in (1, 2, 3, 4) \
                or not isinstance(body.get("content"), str) or not isinstance(body.get("openid"), str):
            return wechat_error(47001)
        appid = self._token_app(request)
        if not self._openid_of_app(body["openid"], appid):
            return wechat_error(40003)
        content = body["content"]
        if any(word in content for word in RISKY_WORDS):
            suggest, label = "risky", 20006
        elif any(word in content for word in REVIEW_WORDS):
            suggest, label = "review", 21000
        else:
            suggest, label = "pass", 100
        with self._lock:
            self._checked.append({"content": content, "openid": body["openid"], "scene": body["scene"],
                                  "suggest": suggest, "appid": appid})
        trace = f"{secrets.token_hex(4)}-{secrets.token_hex(4)}"
        return Response({"errcode": 0, "errmsg": "ok", "trace_id": trace,
                         "result": {"suggest": suggest, "label": label},
                         "detail": [{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label}]})

    @staticmethod
    def _wechat_body(request: Request) -> dict[str, Any] | None:
        """The JSON body of a WeChat API call (None when it is not a JSON object: WeChat says 47001)."""
        try:
            return request.json()
        except BadJsonError:
            return None

    # ----- the control API over HTTP -------------------------------------------------------------------
    def _post_code(self, request: Request) -> Response:
        self.register_code(*_required(request.json(), "code", "openid"))
        return OK

    def _post_phone_code(self, request: Request) -> Response:
        body = request.json()
        self.add_phone_code(*_required(body, "code", "phone"), country_code=str(body.get("country_code") or "86"),
                            appid=body.get("appid") or None)
        return OK

    def _get_session_key(self, request: Request) -> Response:
        session_key = self.session_key(request.query.get("openid", ""))
        if session_key is None:
            return Response({"error": "no session key for that openid (not logged in yet)"}, status=404)
        return Response({"session_key": session_key})

    def _post_werun(self, request: Request) -> Response:
        body = request.json()
        openid, step_info = _required(body, "openid", "step_info")
        try:
            data = self.werun(openid, step_info, body.get("watermark_timestamp"), body.get("appid"),
                              body.get("session_key"))
        except ValueError as exc:  # a session_key that is not base64 of 16, 24 or 32 bytes
            return Response({"error": f"bad session_key: {exc}"}, status=400)
        if data is None:
            return Response({"error": "no session key for that openid: log in first"}, status=404)
        return Response(data)


def main(argv: list[str] | None = None) -> int:
    """Serve the fake WeChat API in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(description="Fake WeChat server API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8010)
    for name in ("appid", "secret"):
        env = f"WECHAT_{name.upper()}"
        parser.add_argument(f"--{name}", default=os.environ.get(env), required=env not in os.environ,
                            help=f"default: ${env}")
    parser.add_argument("--app", action="append", default=[], metavar="APPID:SECRET",
                        help="another mini program it serves (another platform's); repeatable")
    args = parser.parse_args(argv)
    apps = dict(app.split(":", 1) for app in args.app)
    with FakeWeChat(args.appid, args.secret, port=args.port, apps=apps) as fake:
        print(f"fake WeChat API at {fake.base_url} (appid {fake.appid}); Ctrl-C to stop", flush=True)
        block_until_interrupted()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
