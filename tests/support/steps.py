"""WeChat Sports in the tests: what the mini program sends after wx.getWeRunData, encrypted by the fake WeChat."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.domain import clock
from tests.support.api import call


def day_start(days_ago: int = 0) -> int:
    """The stepInfoList timestamp of a day: its start in China time."""
    day = clock.business_day(clock.now()) - timedelta(days=days_ago)
    return int(datetime(day.year, day.month, day.day, tzinfo=clock.SHANGHAI).timestamp())


def werun(client, stack, user, steps: dict[int, int], **options):
    """POST /v1/werun/sync with {days_ago: steps}."""
    info = [{"timestamp": day_start(ago), "step": count} for ago, count in sorted(steps.items(), reverse=True)]
    data = stack.wechat.werun(user["openid"], info, **options)
    return call(client, "POST", "/v1/werun/sync", data, token=user["token"])
