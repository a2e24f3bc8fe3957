"""Failed guesses per person, so codes cannot be guessed: redemption and member codes scanned by staff
(`kind` "verify"), and org invite codes typed by users (`kind` "invite").

A fixed 10-minute window per person and kind: each failure is a conditioned ADD (`count < 10`), and the
successful write's own transaction checks the same counter, so once a window holds 10 failures every
attempt of that person, right or wrong, answers 429 until the window ends: a guesser learns nothing more.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NoReturn

from ..domain import clock
from ..errors import AppError, RateLimitedError
from ..store import attempts as windows

MAX_FAILURES = 10
WINDOW_SECONDS = 600


KINDS = ("verify", "invite")


def window_key(user_id: str, now: datetime, kind: str = "verify") -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown attempts kind {kind!r}")
    return f"{kind}-failures#{user_id}#{int(now.timestamp()) // WINDOW_SECONDS}"


def _retry_after(now: datetime) -> int:
    return WINDOW_SECONDS - int(now.timestamp()) % WINDOW_SECONDS


def purge_at(now: datetime) -> datetime:
    """When a window's counter may go: an hour after the window after `now`'s."""
    purge = datetime.fromtimestamp((int(now.timestamp()) // WINDOW_SECONDS + 2) * WINDOW_SECONDS, clock.SHANGHAI)
    return purge + timedelta(hours=1)


def refuse(user_id: str, error: AppError, now: datetime | None = None, kind: str = "verify",
           counters: Any = windows) -> NoReturn:
    """Counts a failed attempt, then raises `error`, or RATE_LIMITED once the window is full. `counters`: what
    keeps the windows (`count_failure(window_key, limit, purge_at)`: store/attempts.py, or a use case's
    repository: store/scans.Scans, store/repositories_orgs.Memberships, their in-memory fakes)."""
    now = now or clock.now()
    if not counters.count_failure(window_key(user_id, now, kind), MAX_FAILURES, purge_at(now)):
        raise RateLimitedError(retry_after_seconds=_retry_after(now))
    raise error


def limited(now: datetime) -> RateLimitedError:
    return RateLimitedError(retry_after_seconds=_retry_after(now))
