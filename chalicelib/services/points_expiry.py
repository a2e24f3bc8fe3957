"""Points expiry by lot (domain/lots.py): the yearly run, one account's expiry, and what GET /v1/me shows.

On 1 January (Asia/Shanghai) the points still held from lots of year Y and before expire, Y being this year
minus 1 minus the `points.expire_after_years` of the account's platform (the catalog's top level for `default`,
the platform entry's `points` for another, stored in `P#policy`; default 1 when none was loaded: the lots of 2025
expire at the end of 2026). Each account gets one `expire` entry (ledger and balance in one posting, so
`reconcile` stays clean), written only if the account's `expired_through` is still below Y in the very read the
posting is conditioned on: a repeated, late or overlapping run expires nothing twice.

Which accounts: every account is listed once, at its first login, in `account_shards` (64 shards, store/
privacy.py). A run reads each shard with paged Queries and the accounts 100 at a time, and posts only where
something is due, each account by its platform's year (the policies are read once, when a run or a shard
starts). A shard finished without failures is marked "#expired#{Y}" for `default` and "#expired#{P}#{Y}" for
each other platform whose points expire, so the daily schedule (cron at
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
from ..domain.platforms import ALL, DEFAULT, platform_of
from ..domain.posting import Posting
from ..domain.results_expiry import PointsExpired, PointsExpiring
from ..errors import AppError
from ..store import repositories_expiry as listed
from ..store.privacy import SHARDS
from ..store.unit_of_work import PostingUnitOfWork
from . import catalog
from .platforms import every_id

log = logging.getLogger("greensprout.expiry")
PAGE = 1000  # account keys read per Query page; accounts are then read 100 at a time
WORKERS = 8


def after_years(platform: str = DEFAULT) -> int | None:
    """`platform`'s policy (`"points": {"expire_after_years": N | null}`: the catalog's top level for `default`,
    a platform entry's `points` for another), default 1 when none was loaded; null: never."""
    policy = catalog.policies(platform).get("points") or {}
    return policy["expire_after_years"] if "expire_after_years" in policy else rules.DEFAULT_AFTER_YEARS


def due_years(at: datetime, platform: str = ALL) -> dict[str, int | None]:
    """{platform: the latest lot year that has expired at `at`, None when its policy says never} for `platform`,
    or for `default` and every platform of the catalog (`all`): the catalog read once, for the whole run."""
    scope = every_id() if platform == ALL else [platform]
    day = clock.business_day(at)
    return {pid: rules.expired_through(day, after_years(pid)) for pid in scope}


def lots_of(account: Any) -> dict[str, int]:
    if account.lots is not None:
        return dict(account.lots)
    changed = clock.business_day(clock.parse_iso(account.updated_at or account.joined_at)).year
    return rules.legacy_lots(int(account.points), changed)


def expiring(account: Any, today: date) -> PointsExpiring:
    """The next points to expire and their last day, by the policy of the account's platform. Without points
    nothing can expire: the policy (a cached catalog read) is not even looked at."""
    if int(account.points) <= 0:
        return PointsExpiring(0, None)
    return PointsExpiring(*rules.next_expiry(int(account.points), lots_of(account), today,
                                             after_years(platform_of(account))))


def due_year(at: datetime, platform: str = DEFAULT) -> int | None:
    """The latest lot year of `platform` that has expired at `at`; None when its policy says never."""
    return due_years(at, platform)[platform]


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


def run(at: datetime, year: int | None = None, force: bool = False, dry_run: bool = False,
        platform: str = DEFAULT) -> dict:
    """Every shard in this process (run-jobs, the console): the accounts of `platform` (default `default`; `all`:
    every platform's, as the scheduled job runs it), each by its platform's policy: what is due at `at`, or
    through `year` for every platform of the scope whose points expire at all. Shards already marked done for
    those years are skipped unless `force`."""
    due = due_years(at, platform)
    years = {pid: (due_year_ if year is None else year) for pid, due_year_ in due.items() if due_year_ is not None}
    shown = {"year": years.get(DEFAULT if platform == ALL else platform), "years": years, "dry_run": dry_run}
    if not years:
        return {**shown, "policy": "never"}
    done = set() if force or dry_run else listed.expired_shards(years)
    totals: Counter = Counter(shards_skipped=len(done))
    for shard in range(SHARDS):
        if shard in done:
            continue
        cursor = None
        while True:
            counts, cursor = expire_slice(shard, years, cursor, lambda: False, dry_run=dry_run, check_marker=False)
            totals.update(counts)
            if cursor is None:
                break
    return {**shown, **_counts(totals)}


def due_slice(shard: int, at: datetime, cursor: dict | None,
              out_of_time: Callable[[], bool]) -> tuple[dict, dict | None]:
    """One AWS worker's part of the scheduled run (chalicelib/jobs.py): every platform's accounts of the shard.
    The years are read from the catalog when the shard starts and travel in the cursor, so a shard handed from
    worker to worker expires by one reading of the policies."""
    years = (cursor or {}).get("years")
    if years is None:
        years = {pid: year for pid, year in due_years(at).items() if year is not None}
    if not years:
        return {}, None
    return expire_slice(shard, years, cursor, out_of_time)


def expire_slice(shard: int, years: dict[str, int], cursor: dict | None, out_of_time: Callable[[], bool],
                 dry_run: bool = False, check_marker: bool = True) -> tuple[dict, dict | None]:
    """Pages through one shard from `cursor` ({"key", "failed", "years"}), expiring each listed account of a
    platform of `years` ({platform: lot year}) through its platform's year; marks the shard done for each of
    them when it ends clean."""
    if cursor is None and check_marker and not dry_run and listed.expired_shards(years, [shard]):
        return {"shards_skipped": 1}, None
    key, failed_before = (cursor or {}).get("key"), int((cursor or {}).get("failed", 0))
    totals: Counter = Counter()
    while True:
        user_ids, key = listed.listed_page(shard, key, PAGE)
        if user_ids:
            totals.update(_expire_page(user_ids, years, dry_run))
        if not key:
            failed = failed_before + totals["failed"]
            if not dry_run and not failed:
                listed.mark_expired(shard, years, clock.now(), _counts(totals))
            return _counts(totals), None
        if out_of_time():
            return _counts(totals), {"key": key, "failed": failed_before + totals["failed"], "years": years}


def _expire_page(user_ids: list[str], years: dict[str, int], dry_run: bool) -> Counter:
    """The accounts of the page whose platform is in `years` and that hold points of its year or before."""
    counts: Counter = Counter(accounts=len(user_ids))
    due = []
    for account in listed.accounts(user_ids):  # eventually consistent is enough to choose; posts re-read
        year = years.get(platform_of(account))
        if year is None:
            continue  # another platform's account (a run of one platform), or its points never expire
        held = rules.held_through(int(account.points), lots_of(account), year)
        if held > 0 and not account.deleted_at and int(account.expired_through or 0) < year:
            due.append((account.user_id, year, held))
    counts.update(due=len(due))
    if dry_run or not due:
        counts.update(points=sum(held for _, _, held in due))
        return counts
    listed.warm_clients()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for expired in pool.map(lambda one: _expire_safely(one[0], one[1]), due):
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
