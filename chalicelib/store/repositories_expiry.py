"""What the expiry jobs read and mark: the redemptions due in one shard of the `due` index (services/expiry.py)
and the accounts listed in one account shard (services/points_expiry.py), page by page from an opaque
DynamoDB key the jobs hand over (chalicelib/scheduling.py). The postings themselves go through the unit of
work (store/dynamo_uow.py); a redemption expired without a refund is one conditioned UpdateItem here.

Module-level functions, not a class, each declaring what it touches (`@access`, store/access.py): the API
names `expire_unrefunded` (an account deletion) but no job's Query (chalicelib/bootstrap.py).
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime

from pynamodb.exceptions import UpdateError

from ..domain import clock
from ..errors import ServiceUnavailableError
from .access import access, on
from .market import Redemption, expiry_bucket
from .models import Account
from .privacy import SHARDS, USER_PREFIX, AccountShard, expiry_marker
from .tx import connection


@access(on(Redemption, "Query", index="due"))
def due_page(shard: int, epoch: int, key: dict | None, limit: int) -> tuple[list[Redemption], dict | None]:
    """Up to `limit` issued redemptions of `shard` due at `epoch` from `key`, and the key to go on from."""
    page = Redemption.due.query(expiry_bucket(shard), Redemption.expires_epoch <= epoch, limit=limit,
                                last_evaluated_key=key)
    return list(page), page.last_evaluated_key


@access(on(Redemption, "Query", index="due"))
def due_counts(shard: int, epoch: int, ids_wanted: int) -> tuple[int, int, list[str]]:
    """A dry run's look at one shard: due, to refund (two counting Queries), and the first ids."""
    bucket = expiry_bucket(shard)
    due = Redemption.due.count(bucket, Redemption.expires_epoch <= epoch)
    to_refund = Redemption.due.count(bucket, Redemption.expires_epoch <= epoch,
                                     filter_condition=Redemption.refund_on_expiry == True)  # noqa: E712
    ids = [r.redemption_id for r in Redemption.due.query(bucket, Redemption.expires_epoch <= epoch,
                                                         limit=ids_wanted)] if ids_wanted > 0 else []
    return due, to_refund, ids


@access(on(Redemption, "UpdateItem"))
def expire_unrefunded(redemption_id: str, now: datetime) -> bool:
    """`issued` -> `expired` for goods that refund nothing; False when it had left `issued` (or is not due)."""
    try:
        Redemption(redemption_id).update(actions=[
            Redemption.status.set("expired"), Redemption.expired_at.set(clock.iso(now)),
            Redemption.expiry_bucket.remove(),
        ], condition=(Redemption.status == "issued") & (Redemption.expires_epoch <= int(now.timestamp())))
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise ServiceUnavailableError() from exc
    return True


def warm_clients() -> None:
    """PynamoDB builds its botocore clients lazily without a lock: built before threads share them."""
    _ = Account._get_connection().connection.client, Redemption._get_connection().connection.client
    _ = connection().client


@access(on(AccountShard, "Query"))
def listed_page(shard: int, key: dict | None, limit: int) -> tuple[list[str], dict | None]:
    """Up to `limit` user ids listed in account shard `shard` from `key`, and the key to go on from."""
    page = AccountShard.query(shard, AccountShard.user_id.startswith(USER_PREFIX), limit=limit,
                              last_evaluated_key=key)
    user_ids = [item.user_id for item in page]
    return user_ids, page.last_evaluated_key


@access(on(Account, "BatchGetItem"))
def accounts(user_ids: list[str]) -> list[Account]:
    """Eventually consistent (BatchGetItem): enough to choose; each posting reads its account again."""
    return list(Account.batch_get(user_ids))


@access(on(AccountShard, "BatchGetItem"))
def expired_shards(years: dict[str, int], shards: list[int] | None = None) -> set[int]:
    """The account shards already marked done for every platform's year of `years` ({platform: lot year}):
    one BatchGetItem of a marker per shard and platform (PynamoDB pages it by 100 keys)."""
    wanted = list(range(SHARDS) if shards is None else shards)
    keys = [(marker.shard, marker.user_id) for marker in
            (expiry_marker(shard, year, platform) for shard in wanted for platform, year in years.items())]
    found = Counter(int(item.shard) for item in AccountShard.batch_get(keys))
    return {shard for shard in wanted if found[shard] == len(years)}


@access(on(AccountShard, "PutItem"))
def mark_expired(shard: int, years: dict[str, int], at: datetime, outcome: dict) -> None:
    """Marks `shard` done for each platform's year of `years` (one PutItem a platform, once a year)."""
    for platform, year in years.items():
        marker = expiry_marker(shard, year, platform)
        marker.listed_at, marker.outcome = clock.iso(at), outcome
        marker.save()
