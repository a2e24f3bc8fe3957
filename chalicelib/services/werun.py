"""WeChat Sports (POST /v1/werun/sync): decrypt `wx.getWeRunData` with the user's stored session_key and
award `walk_steps` for today and yesterday by the day-total rule (operations.md).

A day's award is `f(total) - f(already credited)`, planned from the account's stored day total and
written on the condition of the account's version (which guards that total): two syncs racing, or a
sync repeated, never award a day twice.
"""
from __future__ import annotations

import base64
import binascii
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

from ..domain import clock, numbers
from ..domain.caps import award_day_total
from ..domain.refusals import refuse_frozen
from ..errors import InvalidWeRunDataError, SessionExpiredError, ValidationError
from ..partners.wechat_phone import UndecryptableError, decrypt_user_data
from ..sealing import unseal
from ..settings import get_settings
from ..store.models import Account, Identity
from . import catalog
from .ingest import NothingToPost
from .posting import Plan, Posting, carbon_g, day_count, load_account, post
from .tokens import Caller

BEHAVIOR = "walk_steps"
MAX_AGE_SECONDS = 600  # a watermark older than this is a replay
FUTURE_SKEW_SECONDS = 300
EPOCH_MAX = 10**11  # seconds: far beyond any real timestamp, well inside what datetime and float take
STEPS_MAX = 1_000_000  # a day's steps above this are not a day's steps: the record is skipped as malformed
MAX_FIELD = 16384


def sync(caller: Caller, body: dict) -> dict:
    encrypted, iv = _decoded(body, "encrypted_data"), _decoded(body, "iv")
    if len(iv) != 16:
        raise ValidationError("iv 无效", field="iv")
    account = load_account(caller.user_id)
    try:
        data = decrypt_user_data(_session_key(account), encrypted, iv)
    except UndecryptableError:
        raise SessionExpiredError() from None
    steps = _recent_steps(data)
    refuse_frozen(account)
    rule = catalog.behavior(BEHAVIOR)
    awarded: dict = {"points": 0, "carbon_mg": 0, "account": account}

    def plan(current: Account) -> Plan:
        postings = []
        for day, total in sorted(steps.items()):
            award = award_day_total(rule, day_count(current, day, BEHAVIOR), Decimal(total))
            if award is not None:
                postings.append(Posting("earn", award.points, award.carbon_mg, "werun", behavior=BEHAVIOR, rule=rule,
                                        inputs=award.inputs, day=day, day_count=award.day))
        refuse_frozen(current)
        awarded.update(points=sum(p.points for p in postings), carbon_mg=sum(p.carbon_mg for p in postings),
                       account=current, postings=postings)
        if not postings:
            raise NothingToPost()
        return Plan(postings, respond=lambda entries, after: (200, {}))

    try:
        post(caller.user_id, plan, account=account)
    except NothingToPost:
        pass
    return _response(steps, awarded)


def _response(steps: dict[date, int], awarded: dict) -> dict:
    account: Account = awarded["account"]
    counted = {p.day: p.day_count for p in awarded.get("postings", [])}
    days = []
    for day in sorted(steps, reverse=True):
        count = counted.get(day) or day_count(account, day, BEHAVIOR)
        days.append({"date": day.isoformat(), "steps": steps[day], "carbon_g": carbon_g(count.carbon_mg),
                     "points": count.points})
    return {"days": days, "awarded": {"points": awarded["points"], "carbon_g": carbon_g(awarded["carbon_mg"])}}


def _decoded(body: dict, name: str) -> bytes:
    raw = body.get(name)
    if not isinstance(raw, str) or not 0 < len(raw) <= MAX_FIELD:
        raise ValidationError(f"{name} 须为 wx.getWeRunData 返回的字符串", field=name,
                              reason="length" if isinstance(raw, str) else "type", min_length=1,
                              max_length=MAX_FIELD, rule=f"{name}: base64 text of wx.getWeRunData, at most {MAX_FIELD} "
                                                         "characters")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(f"{name} 不是有效的 base64", field=name, reason="pattern",
                              rule=f"{name}: standard base64 (A-Z a-z 0-9 + / and = padding) of wx.getWeRunData",
                              ) from None


def _session_key(account: Account) -> str:
    """The session_key of the user's latest login; SESSION_EXPIRED when there is none to use."""
    try:
        identity = Identity.get(account.identity_key, consistent_read=True) if account.identity_key else None
    except Identity.DoesNotExist:
        identity = None
    if identity is None or not identity.session_key_sealed:
        raise SessionExpiredError()
    try:
        return unseal(identity.session_key_sealed, identity.key)
    except Exception:  # noqa: BLE001 - a key sealed under another DATA_KEY: log in again
        raise SessionExpiredError() from None


def _recent_steps(data: dict) -> dict[date, int]:
    """Today's and yesterday's step totals of data from our mini program, fresh; INVALID_WERUN_DATA otherwise."""
    watermark, items = data.get("watermark"), data.get("stepInfoList")
    if not isinstance(watermark, dict) or watermark.get("appid") != get_settings().wechat_appid:
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
