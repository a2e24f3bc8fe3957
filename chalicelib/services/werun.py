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

from ..domain import clock, numbers, persons, risk
from ..domain.caps import award_day_total
from ..domain.commands_partners import SyncWeRun
from ..domain.guards import StepDayHeld
from ..domain.methodology import Rule
from ..domain.platforms import DEFAULT
from ..domain.posting import Posting, day_count
from ..domain.refusals import refuse_frozen
from ..domain.results_ingest import StepDay, WeRunResult
from ..domain.review import Flag
from ..errors import InvalidWeRunDataError, SessionExpiredError
from ..partners.wechat_phone import UndecryptableError, decrypt_user_data
from . import platforms

BEHAVIOR = "walk_steps"
MAX_AGE_SECONDS = 600  # a watermark older than this is a replay
FUTURE_SKEW_SECONDS = 300
EPOCH_MAX = 10**11  # seconds: far beyond any real timestamp, well inside what datetime and float take
HISTORY_DAYS = 30  # WeChat sends 30 days (today and the 29 before); the risk rules judge the last 14 of them
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
    history = _step_days(data, platforms.wechat_credentials(command.platform)[0])
    today = clock.business_day(clock.now())
    steps = {day: total for day, total in history.items() if day in (today, today - timedelta(days=1))}
    refuse_frozen(account)
    rule = uow.catalog.behavior(BEHAVIOR, command.platform)
    settings = uow.catalog.risk_settings()
    holders: dict[str, str] = {}
    with uow.posting(command.user_id, account=account) as posting:
        for attempt, current in enumerate(posting.attempts()):
            refuse_frozen(current)
            person = persons.person_of(current) if persons.shared(current) else None
            if attempt and person:  # a lost race, or another platform holds a step-day: which one
                holders = uow.step_days.holders(person, [day.isoformat() for day in steps])
            postings = _awards(rule, current, steps, command.platform, holders)
            flag = _steps_flag(current, history, today, rule, settings)
            if not postings and flag is None:
                posting.answer(_result(steps, current, []))
                continue
            posting.stage(postings, flag=flag)
            for day in sorted({p.day for p in postings}) if person else ():
                holder = holders.get(day.isoformat())
                posting.guard(StepDayHeld(person, day.isoformat(), command.platform,
                                          None if holder in (None, command.platform) else holder))
            posting.commit(_result(steps, current, postings))
    return posting.result


def _steps_flag(account: Any, history: dict[date, int], today: date, rule: Rule,
                settings: risk.RiskSettings) -> Flag | None:
    """Rule 1, repeated step counts (docs/risk.md): judged on the days WeChat sent with this sync (its last 30 days),
    after the account's last review; the flag puts the account under review in this sync's own write (its awards
    are then held). No read of its own."""
    cleared = risk.cleared_at(account)
    days = risk.step_days_after(history, clock.business_day(cleared) if cleared else None)
    fired = risk.first_new(account, risk.steps_rules(days, today, rule.daily_quantity_max, settings))
    return Flag(fired, risk.steps_reason(fired, days, today, settings)) if fired else None


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


def _step_days(data: dict, appid: str | None) -> dict[date, int]:
    """The day totals (WeChat sends its last 30 days) of data from the caller's platform's mini program (`appid`),
    fresh; INVALID_WERUN_DATA otherwise. Today and yesterday earn; the rest only the risk rules read."""
    watermark, items = data.get("watermark"), data.get("stepInfoList")
    if not isinstance(watermark, dict) or not appid or watermark.get("appid") != appid:
        raise InvalidWeRunDataError(reason="appid")
    stamp = numbers.bounded_int(watermark.get("timestamp"), 0, EPOCH_MAX)
    if stamp is None or not -FUTURE_SKEW_SECONDS <= time.time() - stamp <= MAX_AGE_SECONDS:
        raise InvalidWeRunDataError(reason="stale")
    if not isinstance(items, list):
        raise InvalidWeRunDataError(reason="stepInfoList")
    today = clock.business_day(clock.now())
    oldest = today - timedelta(days=HISTORY_DAYS - 1)
    steps: dict[date, int] = {}
    for item in items:
        ts, step = (item.get("timestamp"), item.get("step")) if isinstance(item, dict) else (None, None)
        ts, step = numbers.bounded_int(ts, 0, EPOCH_MAX), numbers.bounded_int(step, 0, STEPS_MAX)
        if ts is None or step is None:
            continue
        day = clock.business_day(datetime.fromtimestamp(ts, clock.SHANGHAI))
        if oldest <= day <= today:
            steps[day] = max(step, steps.get(day, 0))
    return steps
