"""The one HTTP session every outside call shares per container (partners and WeChat: connection reuse).

It never follows a redirect: a partner (or anyone between us and it) answering 307 would otherwise make
requests send the same request, phone number, app secret or token included, to the address it names. A
3xx is handed back to the client like any answer it does not expect (503 PARTNER_UNAVAILABLE or
WECHAT_UNAVAILABLE).

This is the only module that imports `requests` (with its charset and IDNA packages, about a tenth of a cold
start's import: docs/performance.md), and the clients import it inside the function that calls out, so a
container that serves check-ins never loads it.
"""
from __future__ import annotations

from typing import Any

import requests


class _NoRedirects(requests.Session):
    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


RequestException = requests.RequestException  # what a call that got no answer raises
_session: requests.Session | None = None


def session() -> requests.Session:
    global _session
    if _session is None:
        _session = _NoRedirects()
        _session.headers["User-Agent"] = "GreenSprout/1"
    return _session
