"""What falls due, topic by topic, one shard at a time, without a scan (docs/nudges.md "Finding"):

- coupon_expiring: the redemption expiry job's sparse `due` index (issued redemptions only), shard by shard,
  `expires_epoch` in (now, now + 3 days]: one Query page per shard and 100 redemptions.
- points_expiring and weekly_report: the `holders` index of the nudges table (users who ever accepted the topic),
  shard by shard; their accounts (BatchGetItem) say what expires and when (services/points_expiry.expiring); last
  week's ledger entries (one Query per holder with an allowance left) say what they earned.
- redemption_used: the receipts a verification queued in its own transaction (store/scans.py), and the retries.
`run(at)` does every shard of every topic in this process (the console, run-jobs); the jobs run one shard.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from ..domain import clock
from ..domain import nudges as rules
from ..domain.nudges import Subject
from ..store import nudge_sends as store
from ..store import nudge_topics as found
from ..store.market import EXPIRY_SHARDS
from ..store.nudges import SHARDS
from . import nudges

PAGE = 100
SWEEP_EVERY = 3600  # the hourly job (chalicelib/jobs.py)
DAILY_SWEEP_HOUR = 9  # Asia/Shanghai: the hourly job's run that also sweeps the weekly report and points


def coupon_page(shard: int, now: datetime, key: dict | None) -> tuple[list[Subject], dict | None]:
    if shard >= EXPIRY_SHARDS:
        return [], None
    start = int(now.timestamp())
    page, key = found.expiring_page(shard, start, start + int(rules.COUPON_WINDOW.total_seconds()), key, PAGE)
    subjects = []
    for redemption in page:
        last = clock.from_epoch_ms(int(redemption.expires_epoch) * 1000) - timedelta(seconds=1)
        expires = clock.business_day(last)
        subjects.append(Subject(redemption.user_id, rules.COUPON_EXPIRING, redemption.redemption_id,
                                (("goods_name", redemption.goods_name or ""), ("expires_on", expires.isoformat()))))
    return subjects, key


def points_page(shard: int, now: datetime, key: dict | None) -> tuple[list[Subject], dict | None]:
    from .points_expiry import expiring

    today = clock.business_day(now)
    if not rules.points_due(1, today.replace(month=12, day=31), today):
        return [], None  # points expire on 31 December only: nothing is within 30 days before December
    users, key = store.holders(rules.POINTS_EXPIRING, shard, key, PAGE)
    subjects = []
    for account in (store.accounts(users) if users else {}).values():
        if account.deleted_at:
            continue
        soon = expiring(account, today)
        if rules.points_due(soon.points, soon.on, today):
            subjects.append(Subject(account.user_id, rules.POINTS_EXPIRING, soon.on.isoformat(),
                                    (("points", str(soon.points)),)))
    return subjects, key


def weekly_page(shard: int, now: datetime, key: dict | None) -> tuple[list[Subject], dict | None]:
    week = rules.report_week(now)
    if week is None:
        return [], None
    label = rules.iso_week(week[0])
    users, key = store.holders(rules.WEEKLY_REPORT, shard, key, PAGE)
    state = store.read_state(rules.WEEKLY_REPORT, [(user, label) for user in users]) if users else {}
    subjects = []
    for user in users:
        left, marker = state[(user, label)]
        if left <= 0 or marker is not None:
            continue
        earned = found.week_earnings(user, *week)
        if earned is not None:
            subjects.append(Subject(user, rules.WEEKLY_REPORT, label,
                                    (("points", str(max(earned[0], 0))), ("carbon_mg", str(max(earned[1], 0))))))
    return subjects, key


def receipt_subjects(shard: int) -> tuple[list[Subject], list]:
    queued = store.receipts(shard, PAGE)
    redemptions = store.redemptions([item.sk for item in queued]) if queued else {}
    subjects = []
    for item in queued:
        redemption = redemptions.get(item.sk)
        if redemption is not None and redemption.status == "used":
            used_at = clock.parse_iso(redemption.used_at).strftime("%Y-%m-%d %H:%M")
            subjects.append(Subject(redemption.user_id, rules.REDEMPTION_USED, redemption.redemption_id,
                                    (("goods_name", redemption.goods_name or ""), ("used_at", used_at))))
    return subjects, queued


PAGES = {rules.COUPON_EXPIRING: coupon_page, rules.POINTS_EXPIRING: points_page, rules.WEEKLY_REPORT: weekly_page}


def scheduled_topics(now: datetime) -> tuple[str, ...]:
    """What an hourly run sweeps: coupons every hour; the weekly report and points, whose holders are many, once a
    day, in the run of DAILY_SWEEP_HOUR (from Monday 09:00 the week's report; points only in the 30 days before
    31 December, the only day points expire); a subject the daily limit held back goes on a later day's run."""
    local = now.astimezone(clock.SHANGHAI)
    topics = [rules.COUPON_EXPIRING]
    if local.hour == DAILY_SWEEP_HOUR:
        topics.append(rules.WEEKLY_REPORT)
        if rules.points_due(1, local.date().replace(month=12, day=31), local.date()):
            topics.append(rules.POINTS_EXPIRING)
    return tuple(topics)


def scheduled_sweep(shard: int, now: datetime, cursor: dict | None,
                    out_of_time: Callable[[], bool]) -> tuple[dict, dict | None]:
    """The hourly job's worker for `shard` (chalicelib/jobs.py): page after page, handing its cursor over to a fresh
    invocation when its time runs out (scheduling.py). A coupon cursor is dropped once the next hour's run has
    started (that run reads the window again); the day's reports and points go on to their end, however long."""
    counts, cursor = sweep_shard(shard, now, scheduled_topics(now), cursor, out_of_time)
    late = time.time() >= now.timestamp() + SWEEP_EVERY
    return counts, None if cursor and late and cursor["topic"] == rules.COUPON_EXPIRING else cursor


def sweep_shard(shard: int, now: datetime, topics: tuple[str, ...] = rules.SWEPT, cursor: dict | None = None,
                out_of_time: Callable[[], bool] = lambda: False) -> tuple[dict, dict | None]:
    """One shard of the sweep from `cursor` ({"topic", "key"}): each topic's due subjects page by page, in the
    order of `topics` (the daily limit lets the first through); the cursor to go on from when `out_of_time()`."""
    tally: Counter = Counter()
    outcomes: Counter = Counter()
    start = topics.index(cursor["topic"]) if cursor and cursor.get("topic") in topics else 0
    key = (cursor or {}).get("key")
    try:
        for topic in topics[start:]:
            while True:
                subjects, key = PAGES[topic](shard, now, key)
                outcomes.update(nudges.send_all(subjects, now, tally))
                if not key:
                    break
                if out_of_time():
                    return dict(outcomes), {"topic": topic, "key": key}
    finally:
        nudges.record(tally, now)
    return dict(outcomes), None


def receipts_shard(shard: int, now: datetime) -> dict:
    """One shard of the minute job: queued receipts, then the retries that are due."""
    tally: Counter = Counter()
    subjects, queued = receipt_subjects(shard)
    again: set = set()
    outcomes = nudges.send_all(subjects, now, tally, again)
    retried = {subject for user, subject in again}
    for item in queued:
        if item.sk not in retried:  # sent, settled, or nothing to send: done; a lost race: the next minute's
            store.receipt_done(item)
    outcomes.update(nudges.retry_shard(shard, now, tally))
    nudges.record(tally, now)
    return dict(outcomes)


def run(at: datetime, topic: str | None = None) -> dict:
    """Everything due at `at`, every shard (the console, run-jobs): receipts and retries, then the sweeps."""
    totals: Counter = Counter()
    topics = rules.SWEPT if topic is None else tuple(t for t in rules.SWEPT if t == topic)
    for shard in range(SHARDS):
        if topic in (None, rules.REDEMPTION_USED):
            totals.update(receipts_shard(shard, at))
        if topics:
            totals.update(sweep_shard(shard, at, topics)[0])
    return {"at": clock.iso(at), **{name: int(totals[name]) for name in
                                    ("sent", "refused", "retry", "failed", "deferred", "skipped", "conflict")}}
