"""WeChat Sports (POST /v1/werun/sync): decrypt `wx.getWeRunData` with the user's stored session_key and
award `walk_steps` for today and yesterday by the day-total rule (operations.md).

A day's award is `f(total) - f(already credited)`, planned from the account's stored day total and
written on the condition of the account's version (which guards that total): two syncs racing, or a
sync repeated, never award a day twice.

A person on several platforms (docs/platforms.md "Step-days"): each platform awards its own points for the
day's steps, but the day's carbon is held by one platform, the first to credit it (`StepDayHeld`, the item
"steps#{person}#{day}" naming it); another records its awards with 0 carbon, `counted_via` the holder. A sync
assumes it holds the day; refused, it reads which platform does and posts again.
"""
from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ..domain import clock, numbers, persons
from ..domain.caps import award_day_total
from ..domain.commands_partners import SyncWeRun
from ..domain.guards import StepDayHeld
from ..domain.methodology import Rule
from ..domain.platforms import DEFAULT
from ..domain.posting import Posting, day_count
from ..domain.refusals import refuse_frozen
from ..domain.results_ingest import StepDay, WeRunResult
from ..errors import InvalidWeRunDataError, SessionExpiredError
from ..partners.wechat_phone import UndecryptableError, decrypt_user_data
from . import platforms

BEHAVIOR = "walk_steps"
MAX_AGE_SECONDS = 600  # a watermark older than this is a replay
FUTURE_SKEW_SECONDS = 300
EPOCH_MAX = 10**11  # seconds: far beyond any real timestamp, well inside what datetime and float take
STEPS_MAX = 1_000_000  # a day's steps above this are not a day's steps: the record is skipped as malformed


def sync_steps(command: SyncWeRun, uow: Any) -> WeRunResult:
    """Decrypts with the session_key of the user's latest login (`uow.session_keys`), then awards each
    recent day what its total earns beyond what the day already has, in one posting (none if nothing)."""
    account = uow.accounts.get(command.user_id)
    session_key = uow.session_keys.session_key(account.identity_key)
    if session_key is None:
        raise SessionExpiredError()
    try:
        data = decrypt_user_data(session_key, command.encrypted_data, command.iv)
    except UndecryptableError:
        raise SessionExpiredError() from None
    steps = _recent_steps(data, platforms.wechat_credentials(command.platform)[0])
    refuse_frozen(account)
    rule = uow.catalog.behavior(BEHAVIOR, command.platform)
    holders: dict[str, str] = {}
    with uow.posting(command.user_id, account=account) as posting:
        for attempt, current in enumerate(posting.attempts()):
            refuse_frozen(current)
            person = persons.person_of(current) if persons.shared(current) else None
            if attempt and person:  # a lost race, or another platform holds a step-day: which one
                holders = uow.step_days.holders(person, [day.isoformat() for day in steps])
            postings = _awards(rule, current, steps, command.platform, holders)
            if not postings:
                posting.answer(_result(steps, current, []))
                continue
            posting.stage(postings)
            for day in sorted({p.day for p in postings}) if person else ():
                holder = holders.get(day.isoformat())
                posting.guard(StepDayHeld(person, day.isoformat(), command.platform,
                                          None if holder in (None, command.platform) else holder))
            posting.commit(_result(steps, current, postings))
    return posting.result


def _awards(rule: Rule, account: Any, steps: dict[date, int], platform: str = DEFAULT,
            holders: dict[str, str] | None = None) -> list[Posting]:
    """Each day's `f(total) - f(already credited)` (operations.md), for the days that earn more. A step-day
    whose carbon another platform holds (`holders`, a person on several platforms) earns its points here, for 0
    carbon, `counted_via` that platform."""
    postings = []
    for day, total in sorted(steps.items()):
        before = day_count(account, day, BEHAVIOR)
        award = award_day_total(rule, before, Decimal(total))
        if award is None:
            continue
        holder = (holders or {}).get(day.isoformat())
        if holder not in (None, platform):
            postings.append(Posting("earn", award.points, 0, "werun", behavior=BEHAVIOR, rule=rule,
                                    inputs=award.inputs, day=day, counted_via=holder,
                                    day_count=replace(award.day, carbon_mg=before.carbon_mg)))
        else:
            postings.append(Posting("earn", award.points, award.carbon_mg, "werun", behavior=BEHAVIOR, rule=rule,
                                    inputs=award.inputs, day=day, day_count=award.day))
    return postings


def _result(steps: dict[date, int], account: Any, postings: list[Posting]) -> WeRunResult:
    counted = {p.day: p.day_count for p in postings}
    days = [StepDay(day, steps[day], counted.get(day) or day_count(account, day, BEHAVIOR))
            for day in sorted(steps, reverse=True)]
    return WeRunResult(days, sum(p.points for p in postings), sum(p.carbon_mg for p in postings))


def _recent_steps(data: dict, appid: str | None) -> dict[date, int]:
    """Today's and yesterday's step totals of data from the caller's platform's mini program (`appid`), fresh;
    INVALID_WERUN_DATA otherwise."""
    watermark, items = data.get("watermark"), data.get("stepInfoList")
    if not isinstance(watermark, dict) or not appid or watermark.get("appid") != appid:
        raise InvalidWeRunDataError(reason="appid")
    stamp = numbers.bounded_int(watermark.get("timestamp"), 0, EPOCH_MAX)
    if stamp is None or not -FUTURE_SKEW_SECONDS <= time.time() - stamp <= MAX_AGE_SECONDS:
        raise InvalidWeRunDataError(reason="stale")
    if not isinstance(items, list):
        raise InvalidWeRunDataError(reason="stepInfoList")
    today = clock.business_day(clock.now())
    wanted = {today, today - timedelta(days=1)}
    steps: dict[date, int] = {}
    for item in items:
        ts, step = (item.get("timestamp"), item.get("step")) if isinstance(item, dict) else (None, None)
        ts, step = numbers.bounded_int(ts, 0, EPOCH_MAX), numbers.bounded_int(step, 0, STEPS_MAX)
        if ts is None or step is None:
            continue
        day = clock.business_day(datetime.fromtimestamp(ts, clock.SHANGHAI))
        if day in wanted:
            steps[day] = max(step, steps.get(day, 0))
    return steps
