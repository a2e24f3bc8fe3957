"""Sending nudges (shared/contract/nudges.md, docs/nudges.md): one (user, topic, subject) at most once.

    send_one: the account's checks -> quiet hours -> claim (ONE transaction: marker `sending`, an allowance
    taken, the day's claim, the account not frozen nor deleted) -> WeChat subscribe/send -> the outcome written

The claim is written before WeChat is called, so whatever retries, repeated runs or racing workers happen, only
the worker whose claim passed calls WeChat for that subject. WeChat has no idempotency key: a crash after its
answer and before ours is written leaves the marker `sending`, which is never sent again (a skipped message,
never a second one). 43101 keeps the allowance taken and ends the subject; 40001/42001 are handled by the client
(a fresh token, once, at once); -1, a transport failure or an unknown answer becomes `retry` (a later run, at
least 5 minutes later, at most 3 attempts within the hour) or `failed`, the allowance and the day given back.

Which subjects fall due is services/nudge_topics.py's; the jobs and the console run `run` / the slices below.
"""
from __future__ import annotations

import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from ..domain import clock
from ..domain import nudges as rules
from ..domain.nudges import Subject
from ..domain.platforms import DEFAULT, openid_in, platform_of
from ..errors import WeChatUnavailableError
from ..store import nudge_sends as store
from .subscriptions import templates

log = logging.getLogger("greensprout.nudges")
REFUSED_BY_WECHAT = 43101
TRANSIENT = (-1, 40001, 42001, 45009)  # busy, a token still refused after one refresh, a quota: a later run
WORKERS = 8  # users whose messages one worker sends at once (each: a claim, WeChat, the outcome)


def app_of(platform: str) -> tuple[str, str] | None:
    """The mini program whose access token sends to `platform`'s users (None: WECHAT_APPID's)."""
    if platform == DEFAULT:
        return None
    from .platforms import wechat_credentials

    appid, secret = wechat_credentials(platform)
    return (appid, secret) if appid and secret else None


def send_one(subject: Subject, account: Any, now: datetime, tally: Counter, retry_of: Any = None) -> str:
    """Sends `subject` to the account's user if everything allows it; the outcome: sent, refused, retry, failed,
    deferred (quiet hours, the day's message already accepted), or skipped (no template, no allowance, already
    claimed, frozen or deleted)."""
    topic = subject.topic
    platform = platform_of(account)
    template = templates(platform).get(topic)
    openid = openid_in(getattr(account, "identity_key", None), platform) if account is not None else None
    if account is None or not template or not openid:
        return "skipped"
    if account.frozen or account.deleted_at:  # what falls due meanwhile is never sent, even after an unfreeze
        store.skip(subject.user_id, topic, subject.subject, now, retry_of)
        return "skipped"
    if rules.held_back(topic, now):
        tally[(topic, "deferred")] += 1
        return "deferred"
    try:
        message = retry_of.message if retry_of is not None and retry_of.message else {
            "template": template, "page": rules.page_of(topic, subject.subject), "data": rules.message_data(subject)}
    except rules.MessageDataError as exc:  # our bug (WeChat would answer 47003): reported, nothing claimed
        log.error("nudge %s of %s not sent: %s", topic, subject.user_id, exc)
        tally[(topic, "failed")] += 1
        return "failed"
    day = None if topic == rules.REDEMPTION_USED else clock.business_day(now).isoformat()
    refused = store.claim(subject.user_id, topic, subject.subject, day, now, platform, retry_of)
    if refused == store.DAY:
        tally[(topic, "deferred")] += 1
        return "deferred"
    if refused == "conflict":
        return "conflict"  # a concurrent transaction on these items: nothing written, a later run tries again
    if refused:
        return "skipped"
    try:
        from ..partners import wechat_subscribe

        errcode = wechat_subscribe.send(openid, message["template"], message["page"], message["data"],
                                        app_of(platform))
    except WeChatUnavailableError:
        errcode = -1
    return _settle(subject, day, now, errcode, message, retry_of, tally)


def _settle(subject: Subject, day: str | None, now: datetime, errcode: int, message: dict, retry_of: Any,
            tally: Counter) -> str:
    user, topic, ref = subject.user_id, subject.topic, subject.subject
    if errcode == 0:
        store.settle_sent(user, topic, ref, now)
        tally[(topic, "sent")] += 1
        return "sent"
    if errcode == REFUSED_BY_WECHAT:
        store.settle_unsent(user, topic, ref, day, now, "refused", errcode, give_back=False)
        tally[(topic, "refused")] += 1
        return "refused"
    epoch = int(now.timestamp())
    attempts = int(retry_of.attempts or 0) + 1 if retry_of is not None else 1
    first = int(retry_of.first_epoch or epoch) if retry_of is not None else epoch
    if errcode in TRANSIENT and not rules.give_up(attempts, first, epoch):
        store.settle_unsent(user, topic, ref, day, now, "retry", errcode, give_back=True, message=message,
                            next_epoch=epoch + rules.RETRY_AFTER_SECONDS)
        return "retry"
    log.warning("nudge %s of %s failed: errcode %s", topic, user, errcode)
    store.settle_unsent(user, topic, ref, day, now, "failed", errcode, give_back=True)
    tally[(topic, "failed")] += 1
    return "failed"


def send_all(subjects: list[Subject], now: datetime, tally: Counter, again: set | None = None) -> Counter:
    """The subjects whose user holds an allowance of the topic and that have no marker yet, each sent: WORKERS users
    at a time, one user's subjects in order (their claims meet on the user's day item). `again` collects the
    (user, subject) whose claim met a concurrent transaction (nothing written: to try again)."""
    outcomes: Counter = Counter()
    by_topic: dict[str, list[Subject]] = {}
    for subject in subjects:
        by_topic.setdefault(subject.topic, []).append(subject)
    ready: list[Subject] = []
    for topic, group in by_topic.items():
        state = store.read_state(topic, [(s.user_id, s.subject) for s in group])
        chosen = [s for s in group if _open(*state[(s.user_id, s.subject)])]
        outcomes.update(skipped=len(group) - len(chosen))
        ready += chosen
    if not ready:
        return outcomes
    accounts = store.accounts([s.user_id for s in ready])
    by_user: dict[str, list[Subject]] = {}
    for subject in ready:
        by_user.setdefault(subject.user_id, []).append(subject)

    def send_user(group: list[Subject]) -> tuple[Counter, Counter]:
        mine, counted = Counter(), Counter()
        for subject in group:
            outcome = send_one(subject, accounts.get(subject.user_id), now, counted)
            mine[outcome] += 1
            if outcome == "conflict" and again is not None:
                again.add((subject.user_id, subject.subject))
        return mine, counted

    groups = list(by_user.values())
    if len(groups) == 1:
        results = [send_user(groups[0])]
    else:
        store.warm_clients()
        with ThreadPoolExecutor(max_workers=min(WORKERS, len(groups))) as pool:
            results = list(pool.map(send_user, groups))
    for mine, counted in results:
        outcomes.update(mine)
        tally.update(counted)
    return outcomes


def _open(allowances: int, marker: Any) -> bool:
    """An allowance left and no marker yet: worth a claim."""
    return allowances > 0 and marker is None


def retry_shard(shard: int, now: datetime, tally: Counter) -> Counter:
    """The markers of `shard` waiting for a retry whose time has come, sent again with their message."""
    outcomes: Counter = Counter()
    due = store.retries_due(shard, int(now.timestamp()))
    accounts = store.accounts([marker.pk for marker in due]) if due else {}
    for marker in due:
        subject = Subject(marker.pk, marker.topic, marker.subject)
        outcomes[send_one(subject, accounts.get(marker.pk), now, tally, retry_of=marker)] += 1
    return outcomes


def record(tally: Counter, now: datetime) -> None:
    """The run's counts into the day's stats (one UpdateItem per topic and outcome that happened)."""
    day = clock.business_day(now).isoformat()
    for (topic, outcome), n in sorted(tally.items()):
        store.count(day, topic, outcome, n)
