"""Nudges (docs/nudges.md): one table, `nudges`, pk `pk`, sk `sk`, several kinds of item.

Per user (pk = the user id; a deletion removes them all, services/erasure.py):
- `allow#{topic}`: `count` allowances left (0..10); `holder` = "{topic}#{shard}" (shard 0..7 from the user id),
  GSI `holders` (pk `holder`, sk `pk`): the users who ever accepted a topic, which the points and weekly sweeps
  walk shard by shard instead of every account.
- `sent#{topic}#{subject}`: the at-most-once marker of (user, topic, subject), `state` sending | sent | refused |
  retry | failed. Written (attribute_not_exists, or from `retry` with the attempts read) in the very transaction
  that takes the allowance, BEFORE WeChat is called; what WeChat answered is written after. A marker in `retry`
  carries `retry_bucket` = "retry#{shard}" and `next_epoch` (GSI `retries`, sparse) and the message to send
  again. Purged by TTL after PURGE_DAYS, long after its subject stopped being due.
- `day#{YYYY-MM-DD}`: the business day's one accepted message (receipts aside), put with attribute_not_exists in
  the same transaction; given back when WeChat did not accept.
Shared, sharded so no key is hot:
- pk `receipt#{shard}`, sk the redemption id: a verification queued a receipt (store/scans.py, in the scan's own
  transaction); the receipts job sends it and deletes the item.
- pk `stats#{day}`, sk `{topic}#{shard}`: counters sent / refused / failed / deferred (ADD).
"""
from __future__ import annotations

import secrets
import zlib
from datetime import datetime, timedelta

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..domain import clock
from .models import table_meta

SHARDS = 8  # holders, retries, receipts: one Query per shard and run
STAT_SHARDS = 8
PURGE_DAYS = 60
ALLOW, SENT, DAY, RECEIPT, STATS = "allow#", "sent#", "day#", "receipt#", "stats#"


class Replayed(Exception):
    """The request_id already succeeded: its first answer."""

    def __init__(self, status: int, body: dict) -> None:
        super().__init__("replayed")
        self.status, self.body = status, body


class Holders(GlobalSecondaryIndex):
    """GSI `holders` — pk `holder` = "{topic}#{shard}", sk `pk` (the user id); keys only."""

    class Meta:
        index_name = "holders"
        projection = KeysOnlyProjection()

    holder = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class Retries(GlobalSecondaryIndex):
    """GSI `retries` — pk `retry_bucket` = "retry#{shard}", sk `next_epoch`; sparse: markers in `retry` only."""

    class Meta:
        index_name = "retries"
        projection = AllProjection()

    retry_bucket = UnicodeAttribute(hash_key=True)
    next_epoch = NumberAttribute(range_key=True)


class Nudge(Model):
    Meta = table_meta("nudges")
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    count = NumberAttribute(null=True)  # allow#: allowances left
    holder = UnicodeAttribute(null=True)  # allow#
    platform = UnicodeAttribute(null=True)  # allow#, sent#: the user's platform (absent for `default`)
    state = UnicodeAttribute(null=True)  # sent#
    attempts = NumberAttribute(null=True)  # sent#: calls made to WeChat
    first_epoch = NumberAttribute(null=True)  # sent#: the first attempt
    next_epoch = NumberAttribute(null=True)  # sent# in retry
    retry_bucket = UnicodeAttribute(null=True)  # sent# in retry
    message = JSONAttribute(null=True)  # sent# in retry: {"template", "page", "data"} to send again
    topic = UnicodeAttribute(null=True)  # sent#, day#
    subject = UnicodeAttribute(null=True)  # sent#, day#
    at = UnicodeAttribute(null=True)  # sent#: when WeChat accepted it; receipt#: the verification
    day = UnicodeAttribute(null=True)  # sent#: the business day of the claim
    errcode = NumberAttribute(null=True)  # sent#: WeChat's last answer
    user_id = UnicodeAttribute(null=True)  # receipt#
    n_sent = NumberAttribute(null=True)  # stats#
    n_refused = NumberAttribute(null=True)
    n_failed = NumberAttribute(null=True)
    n_deferred = NumberAttribute(null=True)
    purge_at = TTLAttribute(null=True)
    holders = Holders()
    retries = Retries()


def shard_of(user_id: str) -> int:
    return zlib.crc32(user_id.encode()) % SHARDS


def allow_key(topic: str) -> str:
    return f"{ALLOW}{topic}"


def sent_key(topic: str, subject: str) -> str:
    return f"{SENT}{topic}#{subject}"


def day_key(day: str) -> str:
    return f"{DAY}{day}"


def holder_of(topic: str, shard: int) -> str:
    return f"{topic}#{shard}"


def retry_bucket(user_id: str) -> str:
    return f"retry#{shard_of(user_id)}"


def receipt_item(redemption_id: str, now: datetime) -> Nudge:
    """The receipt a verification queues in its own transaction (store/scans.py): `receipt#{random shard}`."""
    return Nudge(f"{RECEIPT}{secrets.randbelow(SHARDS)}", redemption_id, at=clock.iso(now),
                 purge_at=now + timedelta(days=2))
