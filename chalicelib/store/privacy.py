"""PynamoDB models of privacy and points expiry: the list of every account by shard, account erasures and the
nickname moderation queue.

Nothing here is written by a check-in. `account_shards` gets one item per account, in the first login's
transaction; `erasures` one per deleted account; `moderation` one per nickname waiting for a check.
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..domain import shards
from ..domain.ids import stable_shard
from ..domain.platforms import DEFAULT
from .models import table_meta

SHARDS = shards.ACCOUNTS  # never lower it: accounts keep the shard they were listed under
USER_PREFIX = "u_"  # user ids (domain/ids.py); a shard's run markers sort before them ("#expired#2025")


def shard_of(user_id: str) -> int:
    """A stable shard for a user (sha256, not Python's salted hash())."""
    return stable_shard(user_id, SHARDS)


class AccountShard(Model):
    """account_shards — pk `shard` (0..63), sk `user_id`: every account, listed once when it is created.

    What a job that must visit every account reads instead of scanning the accounts table: the yearly
    points expiry Queries one shard per worker, 1,000 keys a page, and reads the accounts 100 at a time.
    A shard's item with sk "#expired#{year}" marks that the expiry of that year's lots is done for the
    whole shard (a repeated or overlapping run skips it); user ids start with "u_", so a Query of
    `begins_with(user_id, "u_")` never returns a marker.
    """

    Meta = table_meta("account_shards")
    shard = NumberAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    listed_at = UnicodeAttribute(null=True)
    outcome = JSONAttribute(null=True)  # a marker's counts


def expiry_marker(shard: int, year: int, platform: str = DEFAULT) -> AccountShard:
    """A shard done for `platform`'s accounts' lots of `year`: `#expired#{year}` for `default` (as before
    platforms), `#expired#{platform}#{year}` for another."""
    return AccountShard(shard, f"#expired#{year}" if platform == DEFAULT else f"#expired#{platform}#{year}")


class ErasuresWaiting(GlobalSecondaryIndex):
    """GSI `waiting` — pk `waiting` ("partners"), sk `user_id`. Sparse: only erasures that still wait for a
    partner to confirm a revocation carry `waiting`; the finishing job reads this and nothing else."""

    class Meta:
        index_name = "waiting"
        projection = KeysOnlyProjection()

    waiting = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)


class Erasure(Model):
    """erasures — pk `user_id`: the record that an account was deleted (PIPL's right to erasure).

    Holds no personal data: the opaque user id, when, through which channel ("user": DELETE /v1/me;
    "console": `python -m admin user delete`), the operator's reason, and what was done (`outcome`:
    consents revoked, redemptions cancelled, points forfeited). `finished_at` is set when every step is
    done; `waiting` while a partner has still to confirm a revocation (the consent keeps the partner's
    reference until then, so the retry can find the authorization).
    """

    Meta = table_meta("erasures")
    user_id = UnicodeAttribute(hash_key=True)
    requested_at = UnicodeAttribute()
    channel = UnicodeAttribute()
    operator = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    waiting = UnicodeAttribute(null=True)
    outcome = JSONAttribute(null=True)
    waiting_index = ErasuresWaiting()


class ModerationItem(Model):
    """moderation — pk `queue` ("unchecked": WeChat's check could not be made; "review": WeChat asked for a
    human review), sk `user_id`: a nickname waiting to be cleared. The nickname itself stays on the account
    (`nickname_pending`), so a queue item carries nothing personal; an item whose account no longer waits
    (changed again, deleted) is dropped by the next reader."""

    Meta = table_meta("moderation")
    queue = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    queued_at = UnicodeAttribute()


PRIVACY_MODELS: tuple[type[Model], ...] = (AccountShard, Erasure, ModerationItem)
