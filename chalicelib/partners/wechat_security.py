"""WeChat's text content check, msgSecCheck v2 (shared/partners/wechat.md).

`POST {WECHAT_API_BASE}/wxa/msg_sec_check?access_token=` with {"content", "version": 2, "scene", "openid"}
answers {"errcode": 0, "result": {"suggest": "pass" | "review" | "risky", "label": N}}. It uses the same
stable access token as the phone-number exchange: that of the user's platform's mini program, whose openid it
sends (wechat_phone.py: cached per container and appid, fetched again once on 40001/42001). The text and the
openid are never logged.
"""
from __future__ import annotations

import logging

from ..errors import WeChatUnavailableError
from .wechat_phone import _TOKEN_INVALID, _post, access_token

log = logging.getLogger(__name__)
PATH = "/wxa/msg_sec_check"
SCENE_PROFILE = 1  # 1 资料 (a profile's nickname), 2 评论, 3 论坛, 4 社交日志
VERDICTS = ("pass", "review", "risky")


def check_text(content: str, openid: str, scene: int = SCENE_PROFILE,
               app: tuple[str, str] | None = None) -> str | None:
    """WeChat's verdict on `content` written by `openid` (an openid of `app`'s mini program: its appid and secret,
    WECHAT_APPID's without it; the check uses that mini program's access token): "pass", "review" or "risky";
    None when WeChat could not give one (down, busy, our token refused, the user unknown to it): the caller holds
    the text back."""
    body = {"content": content, "version": 2, "scene": scene, "openid": openid}
    try:
        for attempt in range(2):
            data = _post(PATH, access_token(force_refresh=attempt > 0, app=app), body)
            errcode = data.get("errcode", 0)
            if errcode in _TOKEN_INVALID and attempt == 0:
                continue
            suggest = (data.get("result") or {}).get("suggest") if errcode == 0 else None
            if suggest in VERDICTS:
                return suggest
            log.warning("msg_sec_check gave no verdict: errcode %s", errcode)
            return None
    except WeChatUnavailableError:
        log.warning("msg_sec_check unreachable: the text waits for the recheck job")
    return None
