"""WeChat's server API (shared/partners/wechat.md), reached through WECHAT_API_BASE.

WeChat reports most errors with HTTP 200 and an `errcode`; this client turns them into ours.
Nothing here logs a code, a session_key or a phone number.
"""
from __future__ import annotations

import logging
import time

from ..domain.values import immutable
from ..errors import InvalidCodeError, RateLimitedError, RiskyUserError, WeChatUnavailableError
from ..settings import get_settings

log = logging.getLogger(__name__)
_BUSY = -1


@immutable
class WeChatSession:
    openid: str
    session_key: str
    unionid: str | None


def code_to_session(code: str, appid: str | None = None, secret: str | None = None) -> WeChatSession:
    """jscode2session: the wx.login code for the user's openid and session_key, with the mini program's
    appid and AppSecret (a platform's own; WECHAT_APPID and WECHAT_SECRET when not given).

    40029/40163 -> INVALID_CODE, 45011 -> RATE_LIMITED, 40226 -> RISKY_USER; -1, HTTP failures and
    timeouts are retried once, then WECHAT_UNAVAILABLE.
    """
    settings = get_settings()
    params = {"appid": appid or settings.wechat_appid, "secret": secret or settings.wechat_secret,
              "js_code": code, "grant_type": "authorization_code"}
    for attempt in range(2):
        data = _get_json("/sns/jscode2session", params)
        errcode = data.get("errcode", 0) if data is not None else _BUSY
        if errcode == 0 and data is not None:
            if not isinstance(data.get("openid"), str) or not isinstance(data.get("session_key"), str):
                raise WeChatUnavailableError()
            return WeChatSession(data["openid"], data["session_key"], data.get("unionid"))
        if errcode in (40029, 40163):
            raise InvalidCodeError()
        if errcode == 45011:
            raise RateLimitedError()
        if errcode == 40226:
            raise RiskyUserError()
        if errcode != _BUSY:
            log.error("jscode2session refused our credentials: errcode %s", errcode)
            raise WeChatUnavailableError()
        if attempt == 0:
            time.sleep(0.2)
    raise WeChatUnavailableError()


def _get_json(path: str, params: dict) -> dict | None:
    """GET a WeChat endpoint; None when WeChat could not be reached or answered nonsense."""
    from .http_session import RequestException, session  # `requests` loads on a login, not with the API

    settings = get_settings()
    try:
        response = session().get(settings.wechat_api_base + path, params=params,
                                 timeout=settings.partner_timeout_seconds)
    except RequestException as exc:
        log.warning("WeChat %s unreachable: %s", path, type(exc).__name__)
        return None
    if response.status_code != 200:
        log.warning("WeChat %s answered HTTP %s", path, response.status_code)
        return None
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
