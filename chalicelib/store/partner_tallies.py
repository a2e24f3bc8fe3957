"""What `python -m admin partner list` shows of each partner without a scan: its deliveries of the last 24 hours
and how many users hold a consent to it, as counters (`counters` table, the table of store/market.LimitCounter).

- "partner#{id}#deliveries#{YYYY-MM-DDTHH}#{shard}": a webhook delivery's outcome ADDed (accepted, duplicates,
  ignored events; a refused delivery as `refused`) to one of SHARDS parts of its hour (chosen at random: a busy
  partner's pushes never meet on one key), purged by TTL 3 days later. One UpdateItem per delivery, after its
  answer is decided; a failure to count is logged and never fails the delivery.
- "partner#{id}#bound#{shard}": consents bound now, +1 in the transaction that binds, -1 in the one that revokes
  (the shard: the user's, so one user's bind and revoke meet on one part). Consents bound before this counter
  existed are not in it: it counts from the upgrade (docs/partners.md).
The console reads them by key, one BatchGetItem.
"""
from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from ..domain import clock
from ..domain.ids import stable_shard
from .access import on
from .market import LimitCounter
from .models import table_meta
from .tx import Tx

log = logging.getLogger(__name__)
SHARDS = 8
OUTCOMES = ("accepted", "duplicates", "ignored", "refused")


class PartnerTally(Model):
    Meta = table_meta("counters")  # made by store/market.LimitCounter (chalicelib/store/tables.py)
    key = UnicodeAttribute(hash_key=True)
    accepted = NumberAttribute(null=True)
    duplicates = NumberAttribute(null=True)
    ignored = NumberAttribute(null=True)
    refused = NumberAttribute(null=True)
    count = NumberAttribute(null=True)
    purge_at = TTLAttribute(null=True)


def _hour(moment: datetime) -> str:
    return moment.astimezone(clock.SHANGHAI).strftime("%Y-%m-%dT%H")


def delivery_key(partner: str, hour: str, shard: int) -> str:
    return f"partner#{partner}#deliveries#{hour}#{shard}"


def bound_key(partner: str, user_id: str) -> str:
    return f"partner#{partner}#bound#{stable_shard(user_id, SHARDS)}"


class BoundTally:
    """The consent count, written by the transactions that bind and revoke (store/repositories_consent.py)."""

    ACCESS = (on(LimitCounter, "UpdateItem"),)

    @staticmethod
    def stage_bound(tx: Tx, partner: str, user_id: str, delta: int) -> None:
        """The consent count's part ADDed in a bind's (+1) or a revocation's (-1) transaction."""
        tx.update("tally", PartnerTally(bound_key(partner, user_id)), actions=[PartnerTally.count.add(delta)])


class PartnerTallies:
    # the `counters` table's model (policies name tables by the models of chalicelib/store/tables.py)
    ACCESS = (on(LimitCounter, "UpdateItem", "BatchGetItem"),)

    def delivered(self, partner: str, counts: dict[str, int], now: datetime | None = None) -> None:
        """Adds one delivery's outcome (best effort: logged, never raised)."""
        now = now or clock.now()
        item = PartnerTally(delivery_key(partner, _hour(now), random.randrange(SHARDS)))
        actions = [getattr(PartnerTally, name).add(int(counts.get(name, 0))) for name in OUTCOMES]
        try:
            item.update(actions=[*actions, PartnerTally.purge_at.set(now + timedelta(days=3))])
        except PynamoDBException:
            log.warning("%s delivery not counted", partner)

    def read(self, partner: str, now: datetime | None = None) -> dict:
        """{"bound": n, "last_24h": {accepted, duplicates, ignored, refused}} (one BatchGetItem per 100 keys)."""
        now = now or clock.now()
        hours = [_hour(now - timedelta(hours=n)) for n in range(24)]
        keys = [delivery_key(partner, hour, shard) for hour in hours for shard in range(SHARDS)]
        keys += [f"partner#{partner}#bound#{shard}" for shard in range(SHARDS)]
        totals, bound = dict.fromkeys(OUTCOMES, 0), 0
        for item in PartnerTally.batch_get(keys):
            if "#bound#" in item.key:
                bound += int(item.count or 0)
            else:
                for name in OUTCOMES:
                    totals[name] += int(getattr(item, name) or 0)
        return {"bound": bound, "last_24h": totals}
