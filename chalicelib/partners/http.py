"""The one HTTP session partner clients share per container (connection reuse across invocations)."""
from __future__ import annotations

import requests

_session: requests.Session | None = None


def session() -> requests.Session:
    global _session
    if _session is None:
        _session = requests.Session()
        _session.headers["User-Agent"] = "GreenSprout/1"
    return _session
