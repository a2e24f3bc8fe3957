"""The DynamoDB side of per-user limits (services/quotas.py): a fixed-window counter item per user and window
(`counters`, purged by TTL), and the sync slot held on the consent item itself (`next_sync_at`).
Each is one conditioned UpdateItem; a refused condition is answered as False / None."""
from __future__ import annotations

from datetime import datetime

from .access import on
from .market import LimitCounter
from .partners import Consent
from .single_writes import written


class Quotas:
    ACCESS = (on(LimitCounter, "UpdateItem"),)

    def take(self, key: str, limit: int, purge_at: datetime) -> bool:
        """One more use counted on `key`, provided fewer than `limit` were (one UpdateItem); False otherwise."""
        counter = LimitCounter(key)
        count = LimitCounter.count
        return written(lambda: counter.update(actions=[count.add(1), LimitCounter.purge_at.set(purge_at)],
                                              condition=count.does_not_exist() | (count < limit)))


class SyncSlots:
    ACCESS = (on(Consent, "GetItem", "UpdateItem"),)

    def claim(self, user_id: str, partner_id: str, now_ms: int, interval_ms: int) -> Consent | None:
        """The bound consent, read by the UpdateItem that moves its next sync slot `interval_ms` on from
        `now_ms` (ALL_NEW); None when it is not bound, or its slot is not free yet (0: no interval)."""
        consent = Consent(user_id, partner_id)
        bound = Consent.status == "bound"
        free = Consent.next_sync_at.does_not_exist() | (Consent.next_sync_at <= now_ms)
        claimed = written(lambda: consent.update(actions=[Consent.next_sync_at.set(now_ms + interval_ms)],
                                                 condition=bound & free if interval_ms else bound))
        return consent if claimed else None

    def current(self, user_id: str, partner_id: str) -> Consent | None:
        """The consent as it is now (one consistent GetItem), to say why a claim was refused."""
        try:
            return Consent.get(user_id, partner_id, consistent_read=True)
        except Consent.DoesNotExist:
            return None
