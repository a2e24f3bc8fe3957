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

from collections import Counter
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
DAILY_SWEEP_HOUR = 9  # Asia/Shanghai: the hourly job's run that also sweeps the weekly report and points


def coupon_subjects(shard: int, now: datetime) -> list[Subject]:
    start = int(now.timestamp())
    subjects, key = [], None
    while True:
        page, key = found.expiring_page(shard, start, start + int(rules.COUPON_WINDOW.total_seconds()), key, PAGE)
        for redemption in page:
            last = clock.from_epoch_ms(int(redemption.expires_epoch) * 1000) - timedelta(seconds=1)
            expires = clock.business_day(last)
            subjects.append(Subject(redemption.user_id, rules.COUPON_EXPIRING, redemption.redemption_id,
                                    (("goods_name", redemption.goods_name or ""), ("expires_on", expires.isoformat()))))
        if not key:
            return subjects


def points_subjects(shard: int, now: datetime) -> list[Subject]:
    from .points_expiry import expiring

    today = clock.business_day(now)
    if not rules.points_due(1, today.replace(month=12, day=31), today):
        return []  # points expire on 31 December only: nothing is within 30 days before December
    subjects = []
    for users in _holder_pages(rules.POINTS_EXPIRING, shard):
        for account in store.accounts(users).values():
            if account.deleted_at:
                continue
            soon = expiring(account, today)
            if rules.points_due(soon.points, soon.on, today):
                subjects.append(Subject(account.user_id, rules.POINTS_EXPIRING, soon.on.isoformat(),
                                        (("points", str(soon.points)),)))
    return subjects


def weekly_subjects(shard: int, now: datetime) -> list[Subject]:
    week = rules.report_week(now)
    if week is None:
        return []
    label = rules.iso_week(week[0])
    subjects = []
    for users in _holder_pages(rules.WEEKLY_REPORT, shard):
        state = store.read_state(rules.WEEKLY_REPORT, [(user, label) for user in users])
        for user in users:
            left, marker = state[(user, label)]
            if left <= 0 or marker is not None:
                continue
            earned = found.week_earnings(user, *week)
            if earned is not None:
                subjects.append(Subject(user, rules.WEEKLY_REPORT, label,
                                        (("points", str(max(earned[0], 0))), ("carbon_mg", str(max(earned[1], 0))))))
    return subjects


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


def _holder_pages(topic: str, shard: int):
    key = None
    while True:
        users, key = store.holders(topic, shard, key, PAGE)
        if users:
            yield users
        if not key:
            return


FINDERS = {rules.COUPON_EXPIRING: coupon_subjects, rules.POINTS_EXPIRING: points_subjects,
           rules.WEEKLY_REPORT: weekly_subjects}


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


def scheduled_sweep(shard: int, now: datetime) -> dict:
    """The hourly job's worker for `shard` (chalicelib/jobs.py)."""
    return sweep_shard(shard, now, scheduled_topics(now))


def sweep_shard(shard: int, now: datetime, topics: tuple[str, ...] = rules.SWEPT) -> dict:
    """One shard of the sweep: each topic's due subjects, in the order of `topics` (the daily limit lets the first
    through)."""
    tally: Counter = Counter()
    outcomes: Counter = Counter()
    for topic in topics:
        if topic == rules.COUPON_EXPIRING and shard >= EXPIRY_SHARDS:
            continue
        outcomes.update(nudges.send_all(FINDERS[topic](shard, now), now, tally))
    nudges.record(tally, now)
    return dict(outcomes)


def receipts_shard(shard: int, now: datetime) -> dict:
    """One shard of the minute job: queued receipts, then the retries that are due."""
    tally: Counter = Counter()
    subjects, queued = receipt_subjects(shard)
    outcomes = nudges.send_all(subjects, now, tally)
    for item in queued:
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
            totals.update(sweep_shard(shard, at, topics))
    return {"at": clock.iso(at), **{name: int(totals[name]) for name in
                                    ("sent", "refused", "retry", "failed", "deferred", "skipped")}}
