"""Per-user limits on the expensive calls, held in DynamoDB so that they hold across Lambda containers:
`GET /v1/me/export` (EXPORTS_PER_HOUR, default 5 per user) and `POST /v1/partners/{id}/sync`
(one per user and partner every PARTNER_SYNC_INTERVAL_SECONDS, default 60), so that 20 accounts cannot
spend a bank's whole request quota, nor one account a table's read capacity. Beyond either: 429
RATE_LIMITED with `retry_after_seconds`, before the partner or the tables are read.

Exports: a fixed window per user, one conditioned ADD on a `counters` item ("quota#export#{user}#{hour}",
`count < limit`, purged by TTL) before the dozen reads an export makes; the window is the clock's hour, so
at its edge the limit can be used twice in quick succession, never more over any longer stretch.

Syncs: the consent item itself holds `next_sync_at`; the sync reads its consent by the very UpdateItem that
moves it on (`status = bound` and `next_sync_at <= now`, ALL_NEW), so the limit costs no DynamoDB call
beyond the consent read a sync always made. Only a refused sync reads the consent again, to tell NOT_BOUND
from RATE_LIMITED and say how long to wait. Check-ins, redemptions and ledger reads never come here.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from ..domain import clock
from ..errors import NotBoundError, RateLimitedError, ServiceUnavailableError
from ..settings import get_settings

HOUR = 3600
ATTEMPTS = 2


def _now() -> datetime:
    return clock.now()


def quotas() -> Any:
    from ..store.repositories_quotas import Quotas

    return Quotas()


def sync_slots() -> Any:
    from ..store.repositories_quotas import SyncSlots

    return SyncSlots()


def take(kind: str, subject: str, limit: int, window_seconds: int, store: Any = None) -> None:
    """Counts one use of `kind` by `subject` in the current window; RATE_LIMITED when `limit` were made."""
    epoch = int(_now().timestamp())
    window = epoch // window_seconds
    purge = datetime.fromtimestamp((window + 1) * window_seconds, clock.SHANGHAI) + timedelta(hours=1)
    if not (store or quotas()).take(f"quota#{kind}#{subject}#{window}", limit, purge):
        raise RateLimitedError(retry_after_seconds=max(1, (window + 1) * window_seconds - epoch))


def export(user_id: str, store: Any = None) -> None:
    """One of the user's EXPORTS_PER_HOUR exports, or RATE_LIMITED."""
    take("export", user_id, get_settings().exports_per_hour, HOUR, store)


def claim_sync(user_id: str, partner_id: str, slots: Any = None) -> Any:
    """The user's bound consent with `partner_id`, read by the write that claims their next sync slot;
    NOT_BOUND without one, RATE_LIMITED while the last sync's interval runs."""
    slots = slots or sync_slots()
    interval_ms = round(get_settings().partner_sync_interval_seconds * 1000)  # 0: no interval (the test suite)
    for _ in range(ATTEMPTS):
        now_ms = clock.epoch_ms(_now())
        consent = slots.claim(user_id, partner_id, now_ms, interval_ms)
        if consent is not None:
            return consent
        current = slots.current(user_id, partner_id)
        if current is None or current.status != "bound":
            raise NotBoundError(partner=partner_id)
        if current.next_sync_at is not None and int(current.next_sync_at) > now_ms:
            wait = math.ceil((int(current.next_sync_at) - now_ms) / 1000)
            raise RateLimitedError(retry_after_seconds=max(1, wait))
    raise ServiceUnavailableError()
