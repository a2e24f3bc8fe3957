"""expire-redemptions: issued codes past `expires_at` become `expired`, refunded where the goods said so.

A sharded job (chalicelib/jobs.py, scheduling.py): hourly, one worker per shard of the sparse `due` index
(EXPIRY_SHARDS). The index holds issued redemptions only, keyed `expiry_bucket` = "due#{shard}" and sorted
by `expires_epoch`, so a worker reads only what is due (`expires_epoch <= now`), PAGE_SIZE at a time, and a
run finds everything a missed run left. A page's redemptions are expired WORKERS users at a time (one
user's in order); when its time runs out a worker hands the page cursor over (scheduling.py), and a run stops
before the next hourly run starts, leaving the rest to it (`job_slice`): one worker per shard at a time. The
console (`python -m admin expire-redemptions`) and run-jobs run every shard to its end in one process.

Paced, so no key the job shares gets hot (docs/capacity.md): a worker gives a stock item back at most
REFUNDS_PER_STOCK_ITEM / EXPIRY_SHARDS refunds a second (its share: all the shards' workers together give
one stock item REFUNDS_PER_STOCK_ITEM, so a goods with N stock shards takes N x that), and expires at most
DUE_WRITES_PER_WORKER redemptions a second (each removes an entry of its shard's `due` index key).

Every change is conditioned on `status = issued`, so running twice, late, by two workers at once, or next
to a merchant's scan or a user's cancel changes each redemption at most once. A refund is a posting
(services/redemptions.refund): the ledger entry, the balance and the redemption's move in one transaction.
"""
from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from .. import bootstrap
from ..domain import clock
from ..domain.market import stock_key
from ..domain.pacing import Pace
from ..errors import AppError, ServiceUnavailableError
from ..store import repositories_expiry as due_items
from ..store.market import EXPIRY_SHARDS
from . import redemptions

log = logging.getLogger("greensprout.expiry")
PAGE_SIZE = 100  # redemptions read by one Query of a shard
WORKERS = 4  # users of a page expired in parallel by one worker
REFUNDS_PER_STOCK_ITEM = 250  # refunds a second one stock item takes from all the workers together
DUE_WRITES_PER_WORKER = 250  # expiries a second of one worker, each an index write on its shard's `due` key
NEXT_RUN_MARGIN = 60  # seconds before the next scheduled run at which a run stops
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
    pace = Pace()  # paced as one worker, shard after shard
    for shard in range(EXPIRY_SHARDS):
        cursor: dict | None = None
        while True:
            counts, cursor = expire_slice(shard, now, cursor, lambda: False, failed=failed, pace=pace)
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


def job_slice(shard: int, at: datetime, every_seconds: int, cursor: dict | None,
              out_of_time: Callable[[], bool]) -> tuple[dict, dict | None]:
    """One worker of the scheduled run at `at` (chalicelib/jobs.py; the next run is `every_seconds` later):
    `expire_slice` until its time runs out (the cursor to hand over) or the next run is about to start (no
    cursor: the next run's worker of the shard goes on from the shard's start, where only what is still due is
    left), so a shard's workers never overlap and the pace is the shard's."""
    next_run = at.timestamp() + every_seconds - NEXT_RUN_MARGIN

    def stop() -> bool:
        return out_of_time() or time.time() >= next_run

    counts, cursor = expire_slice(shard, at, cursor, stop)
    return counts, cursor if time.time() < next_run else None


def expire_slice(shard: int, now: datetime, cursor: dict | None, out_of_time: Callable[[], bool],
                 failed: list[dict] | None = None, pace: Pace | None = None) -> tuple[dict, dict | None]:
    """Pages through one shard's due redemptions until none is left (cursor None) or `out_of_time()` (the
    cursor to resume at), at one worker's pace (`pace`: shared with other slices run one after the other).
    Counts: due, to_refund, expired, refunded, points_refunded, skipped, failed."""
    epoch = int(now.timestamp())
    totals: Counter = Counter()
    pace = pace or Pace()
    while True:
        redemptions, cursor = due_items.due_page(shard, epoch, cursor, PAGE_SIZE)
        if redemptions:
            totals.update(_expire_page(redemptions, now, failed, pace))
        if not cursor:
            return {name: totals[name] for name in COUNTS}, None
        if out_of_time():
            return {name: totals[name] for name in COUNTS}, cursor


def _expire_page(redemptions: list[Any], now: datetime, failed: list[dict] | None, pace: Pace) -> Counter:
    by_user: dict[str, list[Any]] = defaultdict(list)
    for redemption in redemptions:
        by_user[redemption.user_id].append(redemption)
    groups = list(by_user.values())
    if len(groups) == 1 or WORKERS == 1:
        results = [_expire_user(group, now, pace) for group in groups]
    else:
        due_items.warm_clients()
        with ThreadPoolExecutor(max_workers=min(WORKERS, len(groups))) as pool:
            results = list(pool.map(lambda group: _expire_user(group, now, pace), groups))
    totals: Counter = Counter()
    for counts, failures in results:
        totals.update(counts)
        if failed is not None:
            failed.extend(failures)
    return totals


def _expire_user(redemptions: list[Any], now: datetime, pace: Pace) -> tuple[Counter, list[dict]]:
    """One user's due redemptions, in order (their refunds post to one account), each in its turn."""
    counts: Counter = Counter()
    failures: list[dict] = []
    for redemption in redemptions:
        refund = bool(redemption.refund_on_expiry)
        counts.update(due=1, to_refund=int(refund))
        _take_turn(pace, redemption, refund)
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


def _take_turn(pace: Pace, redemption: Any, refund: bool) -> None:
    """Waits for the redemption's turn: its stock item's (a refund gives a unit back there: the shard its unit
    came from) at the worker's share of REFUNDS_PER_STOCK_ITEM, then its `due` key's at DUE_WRITES_PER_WORKER."""
    timer = PACE_TIME
    if refund:
        shard = redemption.stock_shard
        item = stock_key(redemption.goods_id, None if shard is None else int(shard), redemption.platform)
        timer.wait_until(pace.reserve(item, REFUNDS_PER_STOCK_ITEM / EXPIRY_SHARDS, timer.now()))
    timer.wait_until(pace.reserve(str(redemption.expiry_bucket), DUE_WRITES_PER_WORKER, timer.now()))


class RealTime:
    """The clock a worker's pace keeps: monotonic seconds, and sleeping until a moment. (Tests give the job a
    virtual one, tests/support/pacing.py, that records the moments instead of sleeping through them.)"""

    @staticmethod
    def now() -> float:
        return time.monotonic()

    @staticmethod
    def wait_until(moment: float) -> None:
        delay = moment - time.monotonic()
        if delay > 0:
            time.sleep(delay)


PACE_TIME: Any = RealTime()


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
