"""WeChat's subscribe/send (shared/partners/wechat.md, "Subscribe messages"): one message to one openid with the
mini program's stable access token (partners/wechat_phone.access_token, cached per container and mini program),
fetched again once with `force_refresh` when WeChat answers 40001/42001, and the call made again at once.

`send` answers WeChat's errcode (0: accepted, 43101: no acceptance left, 47003: bad data, -1: busy ...);
WeChatUnavailableError when WeChat could not be reached or answered no JSON (the caller retries later).
"""
from __future__ import annotations

import logging

from .wechat_phone import _TOKEN_INVALID, _post, access_token

log = logging.getLogger(__name__)
MINIPROGRAM_STATE = "formal"


def send(openid: str, template_id: str, page: str, data: dict, app: tuple[str, str] | None = None) -> int:
    """WeChat's errcode for the message (`app`: another platform's mini program, else WECHAT_APPID's)."""
    body = {"touser": openid, "template_id": template_id, "page": page, "miniprogram_state": MINIPROGRAM_STATE,
            "lang": "zh_CN", "data": data}
    errcode = 0
    for attempt in range(2):
        token = access_token(force_refresh=attempt > 0, app=app)
        answer = _post("/cgi-bin/message/subscribe/send", token, body)
        errcode = int(answer.get("errcode", 0) or 0)
        if errcode in _TOKEN_INVALID and attempt == 0:
            log.info("subscribe/send: access token refused (%s), fetched again once", errcode)
            continue
        break
    return errcode
