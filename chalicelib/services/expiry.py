"""expire-redemptions: issued codes past `expires_at` become `expired`, refunded where the goods said so.

A sharded job (chalicelib/jobs.py, scheduling.py): hourly, one worker per shard of the sparse `due` index
(EXPIRY_SHARDS). The index holds issued redemptions only, keyed `expiry_bucket` = "due#{shard}" and sorted
by `expires_epoch`, so a worker reads only what is due (`expires_epoch <= now`), PAGE_SIZE at a time, and a
run finds everything a missed run left. A page's redemptions are expired WORKERS users at a time (one
user's in order); when its time runs out a worker hands the page cursor over (scheduling.py). The console
(`python -m admin expire-redemptions`) and run-jobs run every shard to its end in one process.

Every change is conditioned on `status = issued`, so running twice, late, by two workers at once, or next
to a merchant's scan or a user's cancel changes each redemption at most once. A refund is a posting
(services/redemptions.refund): the ledger entry, the balance and the redemption's move in one transaction.
"""
from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from .. import bootstrap
from ..domain import clock
from ..errors import AppError, ServiceUnavailableError
from ..store import repositories_expiry as due_items
from ..store.market import EXPIRY_SHARDS
from . import redemptions

log = logging.getLogger("greensprout.expiry")
PAGE_SIZE = 100  # redemptions read by one Query of a shard
WORKERS = 4  # users of a page expired in parallel by one worker (docs/capacity.md: the `due` keys stay cool)
PREVIEW_IDS = 100
COUNTS = ("due", "to_refund", "expired", "refunded", "points_refunded", "skipped", "failed")


class _Settled(AppError):
    """The redemption left `issued` (used, cancelled, expired) between the query and the write."""


def expire_due(now: datetime, dry_run: bool = False) -> dict:
    """Everything due at `now`, every shard to its end (the console, run-jobs); a report an operator can read.
    A dry run only counts (two counting Queries a shard) and lists the first PREVIEW_IDS ids."""
    report = {"now": clock.iso(now), "dry_run": dry_run}
    if dry_run:
        return {**report, **preview(now), "expired": 0, "refunded": 0, "points_refunded": 0, "skipped": 0,
                "failed": []}
    totals: Counter = Counter()
    failed: list[dict] = []
    for shard in range(EXPIRY_SHARDS):
        cursor: dict | None = None
        while True:
            counts, cursor = expire_slice(shard, now, cursor, lambda: False, failed=failed)
            totals.update(counts)
            if cursor is None:
                break
    return {**report, **{name: totals[name] for name in COUNTS}, "failed": failed}


def preview(now: datetime) -> dict:
    epoch = int(now.timestamp())
    due = to_refund = 0
    ids: list[str] = []
    for shard in range(EXPIRY_SHARDS):
        shard_due, shard_to_refund, shard_ids = due_items.due_counts(shard, epoch, PREVIEW_IDS - len(ids))
        due, to_refund, ids = due + shard_due, to_refund + shard_to_refund, ids + shard_ids
    return {"due": due, "to_refund": to_refund, "redemptions": ids}


def expire_slice(shard: int, now: datetime, cursor: dict | None, out_of_time: Callable[[], bool],
                 failed: list[dict] | None = None) -> tuple[dict, dict | None]:
    """Pages through one shard's due redemptions until none is left (cursor None) or `out_of_time()` (the
    cursor to resume at). Counts: due, to_refund, expired, refunded, points_refunded, skipped, failed."""
    epoch = int(now.timestamp())
    totals: Counter = Counter()
    while True:
        redemptions, cursor = due_items.due_page(shard, epoch, cursor, PAGE_SIZE)
        if redemptions:
            totals.update(_expire_page(redemptions, now, failed))
        if not cursor:
            return {name: totals[name] for name in COUNTS}, None
        if out_of_time():
            return {name: totals[name] for name in COUNTS}, cursor


def _expire_page(redemptions: list[Any], now: datetime, failed: list[dict] | None) -> Counter:
    by_user: dict[str, list[Any]] = defaultdict(list)
    for redemption in redemptions:
        by_user[redemption.user_id].append(redemption)
    groups = list(by_user.values())
    if len(groups) == 1 or WORKERS == 1:
        results = [_expire_user(group, now) for group in groups]
    else:
        due_items.warm_clients()
        with ThreadPoolExecutor(max_workers=min(WORKERS, len(groups))) as pool:
            results = list(pool.map(lambda group: _expire_user(group, now), groups))
    totals: Counter = Counter()
    for counts, failures in results:
        totals.update(counts)
        if failed is not None:
            failed.extend(failures)
    return totals


def _expire_user(redemptions: list[Any], now: datetime) -> tuple[Counter, list[dict]]:
    """One user's due redemptions, in order (their refunds post to one account)."""
    counts: Counter = Counter()
    failures: list[dict] = []
    for redemption in redemptions:
        refund = bool(redemption.refund_on_expiry)
        counts.update(due=1, to_refund=int(refund))
        try:
            refunded = expire_one(redemption, now)
        except _Settled:
            counts.update(skipped=1)
            continue
        except AppError as exc:  # the account was deleted, DynamoDB unavailable ...: report, keep going
            if isinstance(exc, ServiceUnavailableError):
                log.warning("expiring %s failed (%r); the next run tries again", redemption.redemption_id,
                            exc.__cause__ or exc)
            failures.append({"id": redemption.redemption_id, "error": exc.code})
            counts.update(failed=1)
            continue
        counts.update(expired=1)
        if refunded:
            counts.update(refunded=1, points_refunded=int(redemption.points_spent))
    return counts, failures


def expire_one(redemption: Any, now: datetime) -> bool:
    """Expires one issued redemption (the stored one, or the domain's); True when it was refunded.
    _Settled when it is no longer issued."""
    if not redemption.refund_on_expiry:
        if not due_items.expire_unrefunded(redemption.redemption_id, now):
            raise _Settled()
        return False
    if not redemptions.refund(redemption, "expired", "expired", now, bootstrap.posting_uow()):
        raise _Settled()
    return True
