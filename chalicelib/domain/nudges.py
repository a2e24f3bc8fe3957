"""Nudges (shared/contract/nudges.md): the topics, when each falls due, quiet hours, and the messages' texts.

Pure rules: no store, no WeChat. A message is (template id, page, data); its data fields follow WeChat's limits
(`thing` at most 20 characters, `number` digits only, at most 32, `time` a date or a time) and carry no phone
number, redemption or member code, or token: only a goods name, a date, a number of points and a carbon mass.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from . import clock
from .values import immutable

COUPON_EXPIRING, POINTS_EXPIRING, REDEMPTION_USED, WEEKLY_REPORT = (
    "coupon_expiring", "points_expiring", "redemption_used", "weekly_report")
TOPICS = (COUPON_EXPIRING, POINTS_EXPIRING, REDEMPTION_USED, WEEKLY_REPORT)
SWEPT = (COUPON_EXPIRING, POINTS_EXPIRING, WEEKLY_REPORT)  # found by the hourly job; receipts come from the queue
MAX_ALLOWANCES = 10  # kept per user and topic
SENT_SHOWN = 20  # GET /v1/me/subscriptions lists the last 20 messages sent
QUIET_FROM, QUIET_UNTIL = time(22, 0), time(8, 0)  # Asia/Shanghai; receipts aside
COUPON_WINDOW = timedelta(days=3)
POINTS_WINDOW_DAYS = 30
WEEKLY_FROM = time(9, 0)  # on Mondays
RETRY_AFTER_SECONDS = 300  # -1 and transport failures: a later run, at least this much later
MAX_ATTEMPTS = 3  # within RETRY_WINDOW_SECONDS of the first, then failed
RETRY_WINDOW_SECONDS = 3600
THING_MAX, NUMBER_MAX = 20, 32
PAGES = {
    COUPON_EXPIRING: "pages/redemption/detail?id={ref}",
    POINTS_EXPIRING: "pages/ledger/index",
    REDEMPTION_USED: "pages/redemption/detail?id={ref}",
    WEEKLY_REPORT: "pages/summary/index",
}


class MessageDataError(ValueError):
    """A message field outside WeChat's limits (our bug: WeChat would answer 47003)."""


@immutable
class Subject:
    """One thing a user may be told once: (topic, subject) with the message's facts."""

    user_id: str
    topic: str
    subject: str  # the redemption id, the expiry date YYYY-12-31, the ISO week YYYY-Www
    facts: tuple[tuple[str, str], ...] = ()

    def fact(self, name: str) -> str:
        return dict(self.facts).get(name, "")


def is_quiet(at: datetime) -> bool:
    """22:00 (included) to 08:00 (excluded), Asia/Shanghai."""
    moment = at.astimezone(clock.SHANGHAI).time()
    return moment >= QUIET_FROM or moment < QUIET_UNTIL


def held_back(topic: str, at: datetime) -> bool:
    return topic != REDEMPTION_USED and is_quiet(at)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def report_week(at: datetime) -> tuple[date, date] | None:
    """(Monday, Sunday) of the week whose report is due at `at`: the last full week, from Monday 09:00; None on
    a Monday before 09:00 (the week before it was due since last Monday and is not sent any more)."""
    local = at.astimezone(clock.SHANGHAI)
    monday = local.date() - timedelta(days=local.weekday())
    if local.weekday() == 0 and local.time() < WEEKLY_FROM:
        return None
    return monday - timedelta(days=7), monday - timedelta(days=1)


def points_due(points: int, on: date | None, today: date) -> bool:
    """Some points expire within POINTS_WINDOW_DAYS (their last day `on` is at most that far)."""
    return points > 0 and on is not None and today <= on <= today + timedelta(days=POINTS_WINDOW_DAYS)


def thing(text: str) -> str:
    """A `thing` value: at most 20 characters, cut with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= THING_MAX else text[:THING_MAX - 1] + "…"


def carbon_text(carbon_mg: int) -> str:
    kg = carbon_mg / 1_000_000
    return thing(f"减排 {kg:.2f} 千克二氧化碳" if kg >= 0.01 else f"减排 {carbon_mg // 1000} 克二氧化碳")


def message_data(subject: Subject) -> dict[str, dict[str, str]]:
    """The template's data of `subject`'s topic (the catalog's template for the topic has these fields)."""
    topic = subject.topic
    if topic == COUPON_EXPIRING:
        values = {"thing1": thing(subject.fact("goods_name") or "优惠券"), "time2": subject.fact("expires_on"),
                  "thing3": "优惠券即将过期，请及时使用"}
    elif topic == POINTS_EXPIRING:
        values = {"number1": subject.fact("points"), "time2": subject.subject, "thing3": "积分即将过期，请尽快兑换"}
    elif topic == REDEMPTION_USED:
        values = {"thing1": thing(subject.fact("goods_name") or "兑换商品"), "time2": subject.fact("used_at"),
                  "thing3": "已核销，感谢参与低碳行动"}
    elif topic == WEEKLY_REPORT:
        values = {"thing1": thing(f"{subject.subject} 低碳周报"), "number2": subject.fact("points") or "0",
                  "thing3": carbon_text(int(subject.fact("carbon_mg") or 0))}
    else:
        raise MessageDataError(f"no topic {topic!r}")
    data = {name: {"value": value} for name, value in values.items()}
    check_data(data)
    return data


_TIME = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?")


def check_data(data: dict[str, dict[str, str]]) -> None:
    """WeChat's limits (wechat.md): `thing` <= 20 characters, `number` <= 32 digits, `time` a date or time."""
    for name, field in data.items():
        value = field["value"]
        if name.startswith("thing") and not 0 < len(value) <= THING_MAX:
            raise MessageDataError(f"{name}: {value!r}")
        if name.startswith("number") and not (value.isdigit() and len(value) <= NUMBER_MAX):
            raise MessageDataError(f"{name}: {value!r}")
        if name.startswith("time") and not _TIME.fullmatch(value):
            raise MessageDataError(f"{name}: {value!r}")


def page_of(topic: str, ref: str) -> str:
    return PAGES[topic].format(ref=ref)


def give_up(attempts: int, first_epoch: int, now_epoch: int) -> bool:
    """After a transient failure: no attempt left within the hour (then failed, the allowance kept)."""
    return attempts >= MAX_ATTEMPTS or now_epoch + RETRY_AFTER_SECONDS >= first_epoch + RETRY_WINDOW_SECONDS
