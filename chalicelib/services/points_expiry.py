"""Points expiry by lot (domain/lots.py): the yearly run, one account's expiry, and what GET /v1/me shows.

On 1 January (Asia/Shanghai) the points still held from lots of year Y and before expire, Y being this year
minus 1 minus the catalog's `points.expire_after_years` (default 1: the lots of 2025 expire at the end of
2026). Each account gets one `expire` entry (ledger and balance in one posting, so `reconcile` stays clean),
written only if the account's `expired_through` is still below Y in the very read the posting is conditioned
on: a repeated, late or overlapping run expires nothing twice.

Which accounts: every account is listed once, at its first login, in `account_shards` (64 shards, store/
privacy.py). A run reads each shard with paged Queries and the accounts 100 at a time, and posts only where
something is due. A shard finished without failures is marked "#expired#{Y}", so the daily schedule (cron at
00:00 Shanghai, like tree accrual) costs one read per shard on the other 364 days and catches up a run that
failed or was missed. In AWS the run fans out one worker per shard (chalicelib/jobs.py).
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any

from .. import bootstrap
from ..domain import clock
from ..domain import lots as rules
from ..domain.commands_expiry import ExpirePoints
from ..domain.posting import Posting
from ..domain.results_expiry import PointsExpired, PointsExpiring
from ..errors import AppError
from ..store import repositories_expiry as listed
from ..store.privacy import SHARDS
from ..store.unit_of_work import PostingUnitOfWork
from . import catalog

log = logging.getLogger("greensprout.expiry")
PAGE = 1000  # account keys read per Query page; accounts are then read 100 at a time
WORKERS = 8


def after_years() -> int | None:
    """The catalog's policy (`"points": {"expire_after_years": N | null}`), default 1; null: never."""
    policy = catalog.policies().get("points") or {}
    return policy["expire_after_years"] if "expire_after_years" in policy else rules.DEFAULT_AFTER_YEARS


def lots_of(account: Any) -> dict[str, int]:
    if account.lots is not None:
        return dict(account.lots)
    changed = clock.business_day(clock.parse_iso(account.updated_at or account.joined_at)).year
    return rules.legacy_lots(int(account.points), changed)


def expiring(account: Any, today: date) -> PointsExpiring:
    """The next points to expire and their last day. Without points nothing can expire: the policy (a cached
    catalog read) is not even looked at."""
    if int(account.points) <= 0:
        return PointsExpiring(0, None)
    return PointsExpiring(*rules.next_expiry(int(account.points), lots_of(account), today, after_years()))


def due_year(at: datetime) -> int | None:
    """The latest lot year that has expired at `at`; None when the policy says points never expire."""
    return rules.expired_through(clock.business_day(at), after_years())


def expire_points(command: ExpirePoints, uow: PostingUnitOfWork) -> PointsExpired:
    """One `expire` entry for what the account still holds from lots of `command.year` and before, written
    only if its `expired_through` is below the year in the very read the posting is conditioned on."""
    year = command.year
    with uow.posting(command.user_id) as posting:
        for account in posting.attempts():
            held = rules.held_through(int(account.points), lots_of(account), year)
            if held <= 0 or int(account.expired_through or 0) >= year:
                posting.answer(PointsExpired(0, None, int(account.points)))  # done already, or spent
                continue
            staged = posting.stage([Posting("expire", -held, 0, "admin", ref=f"points-expiry#{year}",
                                            reason=f"points from {year} and before expired",
                                            inputs={"lots_through": year})], {"expired_through": year})
            posting.commit(PointsExpired(held, staged.lines[0].receipt(), staged.points))
    return posting.result


def expire_account(user_id: str, year: int) -> int:
    """The job's and the console's: the points expired from one account (0: none)."""
    return expire_points(ExpirePoints(user_id, year), bootstrap.posting_uow()).points


def run(at: datetime, year: int | None = None, force: bool = False, dry_run: bool = False) -> dict:
    """Every shard in this process (run-jobs, the console): what is due at `at`, or through `year`.
    Shards already marked done for the year are skipped unless `force`."""
    year = due_year(at) if year is None else year
    if year is None:
        return {"year": None, "policy": "never", "dry_run": dry_run}
    done = set() if force or dry_run else listed.expired_shards(year)
    totals: Counter = Counter(shards_skipped=len(done))
    for shard in range(SHARDS):
        if shard in done:
            continue
        cursor = None
        while True:
            counts, cursor = expire_slice(shard, year, cursor, lambda: False, dry_run=dry_run, check_marker=False)
            totals.update(counts)
            if cursor is None:
                break
    return {"year": year, "dry_run": dry_run, **_counts(totals)}


def due_slice(shard: int, at: datetime, cursor: dict | None,
              out_of_time: Callable[[], bool]) -> tuple[dict, dict | None]:
    """One AWS worker's part of the scheduled run (chalicelib/jobs.py)."""
    year = due_year(at)
    if year is None:
        return {}, None
    return expire_slice(shard, year, cursor, out_of_time)


def expire_slice(shard: int, year: int, cursor: dict | None, out_of_time: Callable[[], bool],
                 dry_run: bool = False, check_marker: bool = True) -> tuple[dict, dict | None]:
    """Pages through one shard from `cursor` ({"key", "failed"}); marks the shard done when it ends clean."""
    if cursor is None and check_marker and not dry_run and listed.expired_shards(year, [shard]):
        return {"shards_skipped": 1}, None
    key, failed_before = (cursor or {}).get("key"), int((cursor or {}).get("failed", 0))
    totals: Counter = Counter()
    while True:
        user_ids, key = listed.listed_page(shard, key, PAGE)
        if user_ids:
            totals.update(_expire_page(user_ids, year, dry_run))
        if not key:
            failed = failed_before + totals["failed"]
            if not dry_run and not failed:
                listed.mark_expired(shard, year, clock.now(), _counts(totals))
            return _counts(totals), None
        if out_of_time():
            return _counts(totals), {"key": key, "failed": failed_before + totals["failed"]}


def _expire_page(user_ids: list[str], year: int, dry_run: bool) -> Counter:
    counts: Counter = Counter(accounts=len(user_ids))
    due = []
    for account in listed.accounts(user_ids):  # eventually consistent is enough to choose; posts re-read
        held = rules.held_through(int(account.points), lots_of(account), year)
        if held > 0 and not account.deleted_at and int(account.expired_through or 0) < year:
            due.append((account.user_id, held))
    counts.update(due=len(due))
    if dry_run or not due:
        counts.update(points=sum(held for _, held in due))
        return counts
    listed.warm_clients()
    users = [user_id for user_id, _ in due]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for expired in pool.map(lambda user_id: _expire_safely(user_id, year), users):
            if expired is None:
                counts.update(failed=1)
            elif expired:
                counts.update(expired_accounts=1, points=expired)
    return counts


def _expire_safely(user_id: str, year: int) -> int | None:
    try:
        return expire_account(user_id, year)
    except AppError as exc:  # a deleted account, DynamoDB unavailable (store/failures.py) ...
        log.warning("points expiry of %s failed (%s); the next run retries", user_id, type(exc).__name__)
        return None


def _counts(totals: Counter) -> dict:
    keys = ("accounts", "due", "expired_accounts", "points", "failed", "shards_skipped")
    return {key: int(totals.get(key, 0)) for key in keys}
