"""A person's step-day counted once across platforms (shared/contract/platforms.md rule 2): each platform that
rewards steps awards its own points for the day's steps through its own mini program, and the day's carbon is
held by one platform, the first to credit it; the others record their awards with 0 carbon, `counted_via` it."""
from __future__ import annotations

from datetime import datetime

import pytest

from chalicelib.domain import clock
from chalicelib.store.models import Account, LedgerEntry
from tests.support.api import call, login
from tests.support.persons import STEPS_PLATFORM_APPID, login_on, steps_platform
from tests.support.reconcile import reconciled


@pytest.fixture(scope="module")
def steps(stack, database, tmp_path_factory):
    return steps_platform(stack, tmp_path_factory.mktemp("steps"))


def _today() -> int:
    day = clock.business_day(clock.now())
    return int(datetime(day.year, day.month, day.day, tzinfo=clock.SHANGHAI).timestamp())


def _sync(client, stack, user: dict, count: int, appid: str | None = None) -> tuple[int, dict]:
    """What the user's mini program sends after wx.getWeRunData (`appid`: a platform's other than `default`,
    whose openid for the same WeChat user is "<openid>@<appid>" in the fake WeChat)."""
    openid = user["openid"] if appid is None else f"{user['openid']}@{appid}"
    data = stack.wechat.werun(openid, [{"timestamp": _today(), "step": count}], appid=appid)
    return call(client, "POST", "/v1/werun/sync", data, token=user["token"])


def _entries(user: dict) -> list[LedgerEntry]:
    return list(LedgerEntry.query(user["id"], consistent_read=True))


def _carbon(user: dict) -> tuple[int, int | None]:
    account = Account.get(user["id"], consistent_read=True)
    return int(account.carbon_mg), account.person_carbon_mg


def test_a_step_day_synced_on_two_platforms_counts_its_carbon_once(client, stack, openid, steps):
    on_default, walker = login(client, openid), login_on(client, openid, steps)
    assert _sync(client, stack, on_default, 12345)[1]["awarded"] == {"points": 20, "carbon_g": 202.458}
    status, body = _sync(client, stack, walker, 12345, STEPS_PLATFORM_APPID)
    assert (status, body["awarded"]) == (200, {"points": 12, "carbon_g": 0.0}), body  # its points, no carbon
    [entry] = _entries(walker)
    assert (entry.points, entry.carbon_mg, entry.counted_via) == (12, 0, "default")
    assert _carbon(on_default) == (202458, 202458) and _carbon(walker) == (0, 202458)
    assert reconciled(on_default, walker)["clean"]


def test_the_platform_that_credits_first_holds_the_days_carbon_as_it_grows(client, stack, openid, steps):
    on_default, walker = login(client, openid), login_on(client, openid, steps)
    assert _sync(client, stack, walker, 5000, STEPS_PLATFORM_APPID)[1]["awarded"] == {"points": 5, "carbon_g": 82.0}
    assert _sync(client, stack, on_default, 8000)[1]["awarded"] == {"points": 16, "carbon_g": 0.0}
    assert _sync(client, stack, walker, 8000, STEPS_PLATFORM_APPID)[1]["awarded"] == {"points": 3, "carbon_g": 49.2}
    assert [e.counted_via for e in _entries(on_default)] == [steps]
    assert _carbon(walker) == (131200, 131200) and _carbon(on_default) == (0, 131200)
    assert reconciled(on_default, walker)["clean"]


def test_steps_credited_before_the_second_platform_stay_with_their_platform(client, stack, openid, steps):
    on_default = login(client, openid)
    assert _sync(client, stack, on_default, 10000)[1]["awarded"]["carbon_g"] == 164.0  # a person of one platform
    walker = login_on(client, openid, steps)  # the join: today's step-day is `default`'s
    assert _sync(client, stack, walker, 10000, STEPS_PLATFORM_APPID)[1]["awarded"] == {"points": 10, "carbon_g": 0.0}
    assert _carbon(walker) == (0, 164000)
    assert reconciled(on_default, walker)["clean"]


def test_a_platform_that_does_not_reward_steps_answers_unknown_behaviour(client, stack, openid):
    demo = login_on(client, openid)  # company-demo rewards clean plates and cutlery only
    status, body = _sync(client, stack, demo, 5000, "wx-demo-company")
    assert (status, body["error"]["code"]) == (404, "UNKNOWN_BEHAVIOR")


def test_steps_from_another_mini_program_are_refused_on_a_platform(client, stack, openid, steps):
    walker = login_on(client, openid, steps)
    openid_there = f"{openid}@{STEPS_PLATFORM_APPID}"
    data = stack.wechat.werun(openid_there, [{"timestamp": _today(), "step": 5000}])  # `default`'s appid
    status, body = call(client, "POST", "/v1/werun/sync", data, token=walker["token"])
    assert (status, body["error"]["code"]) == (400, "INVALID_WERUN_DATA")
    assert _entries(walker) == []
