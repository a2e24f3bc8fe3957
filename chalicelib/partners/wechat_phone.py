"""WeChat calls that need the mini program's access token, and WeChat's user-data decryption
(shared/partners/wechat.md).

The access token is the *stable* one (`/cgi-bin/stable_token` does not invalidate other containers'
tokens), cached per container and mini program and fetched again once when WeChat answers 40001/42001. The
verified phone number (`getuserphonenumber`) is the only phone we ever trust; it is never logged. A platform's
mini program (`app`: its appid and AppSecret, services/platforms.wechat_credentials) has its own access token and
its own phone codes; without `app` they are `WECHAT_APPID`'s.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time

from ..errors import InvalidPhoneCodeError, NotMainlandPhoneError, OtherAppPhoneError, WeChatUnavailableError
from ..settings import get_settings

log = logging.getLogger(__name__)
TOKEN_MARGIN_SECONDS = 300
_TOKEN_INVALID = (40001, 42001)
MAINLAND = "86"
_lock = threading.Lock()
_token: tuple[str, float] | None = None  # WECHAT_APPID's (access_token, monotonic expiry)
_app_tokens: dict[str, tuple[str, float]] = {}  # another mini program's, by appid


class UndecryptableError(ValueError):
    """The data does not decrypt with this session key (padding or JSON): the key is stale."""


def decrypt_user_data(session_key: str, encrypted_data: bytes, iv: bytes) -> dict:
    """AES-128-CBC with PKCS#7, key = base64-decoded session_key; the plaintext JSON object."""
    # cryptography's ciphers load here, on the first decryption, not with the API (a cold check-in's import)
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    try:
        key = base64.b64decode(session_key, validate=True)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(encrypted_data) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        data = json.loads(unpadder.update(padded) + unpadder.finalize())
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise UndecryptableError(type(exc).__name__) from None
    if not isinstance(data, dict):
        raise UndecryptableError("not a JSON object")
    return data


def access_token(force_refresh: bool = False, app: tuple[str, str] | None = None) -> str:
    """The stable access token of `app` (appid, secret; WECHAT_APPID's without it), from this container's cache
    while it is valid."""
    global _token
    with _lock:
        cached = _token if app is None else _app_tokens.get(app[0])
        if cached and not force_refresh and time.monotonic() < cached[1]:
            return cached[0]
        settings = get_settings()
        appid, secret = app or (settings.wechat_appid, settings.wechat_secret)
        data = _post("/cgi-bin/stable_token", None, {
            "grant_type": "client_credential", "appid": appid, "secret": secret, "force_refresh": force_refresh})
        token = data.get("access_token")
        if not isinstance(token, str):
            log.error("stable_token refused: errcode %s", data.get("errcode"))
            raise WeChatUnavailableError()
        expires_in = int(data.get("expires_in") or 0)
        fresh = (token, time.monotonic() + max(expires_in - TOKEN_MARGIN_SECONDS, 0))
        if app is None:
            _token = fresh
        else:
            _app_tokens[app[0]] = fresh
        return token


def phone_number(code: str, app: tuple[str, str] | None = None) -> str:
    """getuserphonenumber: the verified phone of a phone-number button's one-time code, asked with `app`'s access
    token (WECHAT_APPID's without it) and verified for `app`'s mini program.

    40029 (invalid or used code), a number outside mainland China or one verified for another mini program
    -> INVALID_PHONE_CODE (each with its own message); on 40001/42001 the token is fetched again once,
    with `force_refresh` (WeChat would otherwise hand back the same stable token).
    """
    for attempt in range(2):
        token = access_token(force_refresh=attempt > 0, app=app)
        data = _post("/wxa/business/getuserphonenumber", token, {"code": code})
        errcode = data.get("errcode", 0)
        if errcode in _TOKEN_INVALID and attempt == 0:
            continue
        if errcode == 40029:
            raise InvalidPhoneCodeError()
        info = data.get("phone_info") if errcode == 0 else None
        phone = info.get("purePhoneNumber") if isinstance(info, dict) else None
        if not isinstance(phone, str) or not phone:
            log.error("getuserphonenumber failed: errcode %s", errcode)
            raise WeChatUnavailableError()
        _check_origin(info, app[0] if app else get_settings().wechat_appid)
        return phone
    raise WeChatUnavailableError()


def _check_origin(info: dict, own_appid: str) -> None:
    """Only a mainland number (countryCode "86") verified for our own mini program (watermark.appid) may
    bind: the partners know mainland numbers only, and `purePhoneNumber` alone would let a foreign number
    sharing the digits stand in for a mainland one (shared/partners/wechat.md)."""
    if str(info.get("countryCode")) != MAINLAND:
        log.info("getuserphonenumber: a number outside mainland China refused")
        raise NotMainlandPhoneError()
    watermark = info.get("watermark")
    appid = watermark.get("appid") if isinstance(watermark, dict) else None
    if not appid or appid != own_appid:
        log.warning("getuserphonenumber: a phone verified for another mini program refused")
        raise OtherAppPhoneError()


def _post(path: str, token: str | None, body: dict) -> dict:
    from .http_session import RequestException, session  # `requests` loads on the first call, not with the API

    settings = get_settings()
    try:
        response = session().post(settings.wechat_api_base + path, params={"access_token": token} if token else None,
                                  json=body, timeout=settings.partner_timeout_seconds)
        data = response.json() if response.status_code == 200 else None
    except (RequestException, ValueError) as exc:
        log.warning("WeChat %s unreachable: %s", path, type(exc).__name__)
        raise WeChatUnavailableError() from None
    if not isinstance(data, dict):
        log.warning("WeChat %s answered HTTP %s", path, response.status_code)
        raise WeChatUnavailableError()
    return data
