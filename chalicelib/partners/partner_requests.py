"""The one request function of the bus company's and the bank's clients.

Each attempt is signed afresh by the caller's `sign` (transit refuses a reused nonce, so urllib3's
`Retry`, which resends the same headers, cannot be used). 429 (honouring Retry-After), 5xx, timeouts
and refused connections are retried with jittered exponential back-off, all inside a time budget that
leaves room in API Gateway's 29 s; what still fails becomes 503 PARTNER_UNAVAILABLE. A Retry-After is
the partner's word, so it is bounded: one that is not a finite number of seconds >= 0 ("nan", "-3",
"inf", a date) is ignored for the back-off; one longer than MAX_RETRY_AFTER_SECONDS or than what is left
of the budget gives up at once. Redirects are never followed (`http_session.session`). Nothing here logs a body,
a query string or a header: they can hold phone numbers and tokens.
"""
from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from ..domain.values import immutable
from ..errors import PartnerUnavailableError
from ..settings import get_settings

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
BUDGET_SECONDS = 10.0  # one partner call, retries included
BACKOFF_SECONDS = 0.2  # first back-off; doubles each attempt, with jitter
MAX_RETRY_AFTER_SECONDS = 5.0  # a partner asking us to wait longer is unavailable for this request
ID_MAX = 128  # the longest id or reference a partner may give: it becomes part of DynamoDB keys (2 KB at most)
CURSOR_MAX = 1024  # the longest paging cursor kept on the consent item


@immutable
class Outgoing:
    """One request as it is signed and sent: `path` is the URL's full path, `query` already encoded."""

    method: str
    url: str
    path: str
    query: str
    body: bytes
    headers: dict[str, str]


Signer = Callable[[Outgoing], dict[str, str]]


def outgoing(method: str, base: str, path: str, query: str = "", body: bytes = b"",
             content_type: str | None = None) -> Outgoing:
    url = base + path + (f"?{query}" if query else "")
    headers = {"Content-Type": content_type} if content_type else {}
    return Outgoing(method, url, urlsplit(base).path + path, query, body, headers)


def send(partner: str, request: Outgoing, sign: Signer, budget: float = BUDGET_SECONDS) -> requests.Response:
    """The partner's answer to `request` (any status but 429/5xx), or PartnerUnavailableError."""
    # Imported on the first partner call, not with the API: a check-in's cold start does not load `requests`.
    from .http_session import RequestException, session

    timeout = get_settings().partner_timeout_seconds
    deadline = time.monotonic() + budget
    for attempt in range(MAX_ATTEMPTS):
        delay = _backoff(attempt)
        try:
            response = session().request(request.method, request.url, data=request.body or None,
                                         headers={**request.headers, **sign(request)}, timeout=timeout)
        except RequestException as exc:
            log.warning("%s %s %s: %s (attempt %d)", partner, request.method, request.path,
                        type(exc).__name__, attempt + 1)
        else:
            if response.status_code != 429 and response.status_code < 500:
                return response
            log.warning("%s %s %s answered %s (attempt %d)", partner, request.method, request.path,
                        response.status_code, attempt + 1)
            if response.status_code == 429:
                delay = _retry_after(response, delay)
        too_long = delay > MAX_RETRY_AFTER_SECONDS or time.monotonic() + delay + timeout > deadline
        if attempt + 1 == MAX_ATTEMPTS or too_long:
            break
        time.sleep(delay)
    raise PartnerUnavailableError(partner=partner)


def _backoff(attempt: int) -> float:
    ceiling = BACKOFF_SECONDS * 2 ** attempt
    return random.uniform(ceiling / 2, ceiling)


def _retry_after(response: requests.Response, default: float) -> float:
    """Retry-After in seconds (the partners send seconds); the back-off `default` when it is absent or is not
    a finite number of seconds >= 0 (never NaN or infinity: `time.sleep` refuses NaN, and NaN compares false
    with every bound)."""
    raw = response.headers.get("Retry-After", "").strip()
    if not raw or len(raw) > 16:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        return default
    return seconds if math.isfinite(seconds) and seconds >= 0 else default


def bounded(value: object, limit: int = ID_MAX) -> str | None:
    """A partner-given id as text when it is a non-empty string (or a whole number) of at most `limit`
    characters, else None: the caller then treats the answer as one the partner's document does not allow."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def in_path(value: str) -> str:
    """A partner-given id made safe as one path segment ("/", "?", "#", ".." cannot change the URL)."""
    return quote(value, safe="")


def json_of(response: requests.Response) -> dict:
    """The JSON object of a partner answer; {} when it is not one."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def unexpected(partner: str, response: requests.Response) -> PartnerUnavailableError:
    """An answer the partner's document does not allow here: log the status and code, give up."""
    log.error("%s answered unexpected HTTP %s (%s)", partner, response.status_code,
              json_of(response).get("code") or json_of(response).get("error"))
    return PartnerUnavailableError(partner=partner)
