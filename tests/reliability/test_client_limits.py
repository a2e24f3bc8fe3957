"""Per-client limits on the expensive calls (issue 17, item 9): logins per source address (each one asks
WeChat's code2session), exports per user, partner syncs per user and partner (each one spends the
partner's request quota). Run at their default settings: the rest of the suite raises them
(infra/local/ephemeral.py), since it logs in thousands of users from 127.0.0.1 and syncs one user often."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from chalice.local import LambdaEventConverter

from chalicelib import ratelimit
from chalicelib.domain import clock
from chalicelib.services import quotas
from chalicelib.settings import SettingsError, from_environ, get_settings
from tests.support.api import DynamoDBCalls, call, login
from tests.support.partners import bind, sync
from tests.support.racer import race

LIMITS = ("LOGIN_RATE_PER_MINUTE", "EXPORTS_PER_HOUR", "PARTNER_SYNC_INTERVAL_SECONDS")
DEFAULTS = from_environ({"JWT_SECRET": "x" * 32})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Wall:
    """The quotas' clock, moved only when told (mid-hour, so no window ends by itself during a test)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 10, 20, 0, tzinfo=clock.SHANGHAI)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def defaults(monkeypatch):
    """The three limits at their defaults for this test, and the quotas on a clock that moves when told."""
    for name in LIMITS:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    wall = Wall()
    monkeypatch.setattr(quotas, "_now", wall)
    yield wall
    get_settings.cache_clear()  # read again, with the suite's values, once monkeypatch restores them


def junk_login(client):
    return call(client, "POST", "/v1/auth/login", {"code": f"junk-{uuid.uuid4().hex}"})


def good_login(client):
    return call(client, "POST", "/v1/auth/login", {"code": f"wx:o-{uuid.uuid4().hex[:16]}:{uuid.uuid4().hex[:6]}"})


def test_logins_beyond_the_limit_of_one_address_are_429_before_wechat_is_asked(client, stack, monkeypatch):
    buckets_clock = Clock()
    monkeypatch.setattr(ratelimit, "_logins", ratelimit.TokenBuckets(DEFAULTS.login_rate_per_minute,
                                                                     clock=buckets_clock))
    asked = stack.wechat.calls().get("/sns/jscode2session", 0)
    for _ in range(30):
        status, body = junk_login(client)
        assert (status, body["error"]["code"]) == (400, "INVALID_CODE")
    assert stack.wechat.calls()["/sns/jscode2session"] == asked + 30
    status, body = good_login(client)  # the 31st login of that address within a minute, a good code included
    assert (status, body["error"]["code"]) == (429, "RATE_LIMITED")
    assert body["error"]["details"]["retry_after_seconds"] >= 1
    assert junk_login(client)[0] == 429
    assert stack.wechat.calls()["/sns/jscode2session"] == asked + 30  # WeChat was not asked again
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", "203.0.113.9")
    assert good_login(client)[0] == 200  # another address is not affected
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", "127.0.0.1")
    buckets_clock.now += 2.0  # two seconds later the address has one login again
    assert good_login(client)[0] == 200
    assert good_login(client)[0] == 429


def test_an_ipv6_client_counts_by_its_64_and_a_mapped_ipv4_as_its_ipv4():
    key = ratelimit.client_key
    assert key("2001:db8:1:2:aaaa::1") == key("2001:db8:1:2:bbbb:cccc:dddd:9") != key("2001:db8:1:3::1")
    assert key("::ffff:203.0.113.9") == key("203.0.113.9") == "203.0.113.9" != key("203.0.113.10")
    assert key(None) == key("") == key("not an address") == "unknown"


def test_the_sixth_export_of_a_user_within_the_hour_is_429_and_reads_nothing(client, user, openid, defaults):
    for _ in range(5):
        assert call(client, "GET", "/v1/me/export", token=user["token"])[0] == 200
    with DynamoDBCalls() as calls:
        status, body = call(client, "GET", "/v1/me/export", token=user["token"])
    assert (status, body["error"]["code"]) == (429, "RATE_LIMITED")
    assert body["error"]["details"]["retry_after_seconds"] == 40 * 60  # until the clock's hour ends
    assert calls.operations == ["UpdateItem"]  # the refused count only: not one of the export's reads
    other = login(client, openid + "-other")
    assert call(client, "GET", "/v1/me/export", token=other["token"])[0] == 200  # another user is unaffected
    defaults.now += timedelta(minutes=40)
    assert call(client, "GET", "/v1/me/export", token=user["token"])[0] == 200  # a new hour, a new allowance


def test_a_second_sync_of_one_partner_within_a_minute_is_429_and_never_reaches_the_partner(client, stack, user,
                                                                                         openid, defaults):
    ref = bind(client, stack, user, "transit")
    bind(client, stack, user, "bank")
    stack.transit.add_ride(ref)
    assert sync(client, user, "transit")[1]["imported"] == 1
    asked = stack.transit.calls()["/v1/rides"]
    first = defaults.now
    for seconds in (0, 30, 59):
        defaults.now = first + timedelta(seconds=seconds)
        status, body = sync(client, user, "transit")
        assert (status, body["error"]["code"]) == (429, "RATE_LIMITED")
        assert body["error"]["details"]["retry_after_seconds"] == 60 - seconds
    assert stack.transit.calls()["/v1/rides"] == asked  # the partner's quota is not spent by refused syncs
    assert sync(client, user, "bank")[0] == 200  # the limit is per partner
    other = login(client, openid + "-other")
    bind(client, stack, other, "transit")
    assert sync(client, other, "transit")[0] == 200  # and per user
    defaults.now = first + timedelta(seconds=60)  # a minute after the first sync
    stack.transit.add_ride(ref)
    status, body = sync(client, user, "transit")
    assert (status, body["imported"]) == (200, 1)


def test_a_sync_of_an_unbound_partner_is_still_not_bound(client, user, defaults):
    for _ in range(2):
        status, body = sync(client, user, "bank")
        assert (status, body["error"]["code"]) == (409, "NOT_BOUND")


def _sync_in_another_container(user_id: str) -> str:
    from chalicelib.bootstrap import partner_uow
    from chalicelib.errors import AppError
    from chalicelib.services import partner_sync

    try:
        partner_sync.pull(user_id, "transit", partner_uow())
        return "ok"
    except AppError as error:
        return error.code


def test_syncs_racing_from_separate_containers_pass_once(client, stack, user, defaults):
    bind(client, stack, user, "transit")
    outcomes = race(_sync_in_another_container, [(user["id"],)] * 4)  # each process starts at the defaults
    assert sorted(result for _, result in outcomes) == ["RATE_LIMITED"] * 3 + ["ok"], outcomes


def test_the_limits_are_settings_refused_when_not_positive_and_the_sync_interval_may_be_off():
    env = {"JWT_SECRET": "x" * 32}
    assert (DEFAULTS.login_rate_per_minute, DEFAULTS.exports_per_hour, DEFAULTS.partner_sync_interval_seconds) == (
        30, 5, 60.0)
    tuned = from_environ({**env, "LOGIN_RATE_PER_MINUTE": "100", "EXPORTS_PER_HOUR": "2",
                          "PARTNER_SYNC_INTERVAL_SECONDS": "300"})
    assert (tuned.login_rate_per_minute, tuned.exports_per_hour, tuned.partner_sync_interval_seconds) == (
        100, 2, 300.0)
    for name in LIMITS:
        for bad in ("-1", "many", "nan") + (() if name == "PARTNER_SYNC_INTERVAL_SECONDS" else ("0",)):
            with pytest.raises(SettingsError, match=name):
                from_environ({**env, name: bad})
    assert from_environ({**env, "PARTNER_SYNC_INTERVAL_SECONDS": "0"}).partner_sync_interval_seconds == 0  # off


def test_with_the_sync_interval_off_syncs_racing_from_separate_containers_all_pass(client, stack, user, monkeypatch):
    monkeypatch.setenv("PARTNER_SYNC_INTERVAL_SECONDS", "0")  # what the processes start with
    bind(client, stack, user, "transit")
    outcomes = race(_sync_in_another_container, [(user["id"],)] * 4)
    assert sorted(result for _, result in outcomes) == ["ok"] * 4, outcomes
