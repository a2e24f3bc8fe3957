"""Scripted farming is throttled: a user's writes beyond WRITE_RATE_PER_MINUTE answer 429 RATE_LIMITED,
while their reads and everyone else's writes go on."""
from __future__ import annotations

import pytest

from chalicelib import ratelimit
from chalicelib.settings import SettingsError, from_environ
from tests.support.api import call, login, request_id
from tests.support.market import load_catalog

BEHAVIOR = {"code": "rate_test_plate", "name": "限流测试", "category": "test", "unit": "event",
            "carbon": {"mg": 1000, "per": 1}, "points": {"points": 1, "per": 1}, "daily_limit": 1000,
            "channels": ["checkin"], "methodology": {"id": "TEST-rate", "version": "1", "source": "test"}}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def frozen_time(monkeypatch):
    """This process's write buckets at the default 60 a minute, on a clock that moves only when told."""
    clock = Clock()
    monkeypatch.setattr(ratelimit, "_writes", ratelimit.TokenBuckets(60, clock=clock))
    return clock


def _checkin(client, user):
    return call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": BEHAVIOR["code"]},
                token=user["token"])


def test_the_61st_write_in_a_minute_is_rate_limited_while_reads_and_other_users_go_on(client, user, openid,
                                                                                     frozen_time):
    load_catalog({"behaviors": [BEHAVIOR]})
    statuses = [_checkin(client, user)[0] for _ in range(60)]
    assert statuses == [201] * 60
    status, body = _checkin(client, user)
    assert (status, body["error"]["code"]) == (429, "RATE_LIMITED")
    assert body["error"]["details"]["retry_after_seconds"] >= 1
    assert call(client, "PATCH", "/v1/me", {"nickname": "脚本"}, token=user["token"])[0] == 429  # every write
    assert call(client, "GET", "/v1/me/member-code", token=user["token"])[0] == 429  # a GET that stores a code
    status, me = call(client, "GET", "/v1/me", token=user["token"])  # reads still work
    assert status == 200 and me["points"] == 60  # and the refused write changed nothing
    assert call(client, "GET", "/v1/me/ledger", token=user["token"])[0] == 200
    other = login(client, openid + "-other")
    assert _checkin(client, other)[0] == 201  # another user is unaffected
    frozen_time.now += 1.0  # a second later the bucket holds one write again
    assert _checkin(client, user)[0] == 201
    assert _checkin(client, user)[0] == 429


def test_an_anonymous_write_is_refused_as_unauthenticated_not_counted(client, frozen_time):
    for _ in range(70):
        status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "clean_plate"})
        assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED")


def test_a_bucket_refills_at_the_rate_and_never_above_its_capacity():
    clock = Clock()
    buckets = ratelimit.TokenBuckets(60, clock=clock)
    assert [buckets.take("u") for _ in range(60)] == [None] * 60
    assert buckets.take("u") == pytest.approx(1.0)
    clock.now += 30
    assert [buckets.take("u") for _ in range(30)] == [None] * 30
    assert buckets.take("u") is not None
    clock.now += 3600  # an hour idle refills to the capacity, not beyond
    assert [buckets.take("u") for _ in range(60)] == [None] * 60
    assert buckets.take("u") is not None


def test_buckets_forget_the_least_recently_seen_users_beyond_their_bound():
    buckets = ratelimit.TokenBuckets(1, clock=Clock(), max_users=3)
    for user in ("a", "b", "c", "d"):
        assert buckets.take(user) is None
    assert len(buckets._buckets) == 3 and "a" not in buckets._buckets


@pytest.mark.parametrize("method, route, limited", [
    ("POST", "/v1/checkins", True), ("PATCH", "/v1/me", True), ("DELETE", "/v1/partners/{partner_id}/consent", True),
    ("PUT", "/v1/partners/{partner_id}/consent", True), ("GET", "/v1/me/member-code", True),
    ("GET", "/v1/me", False), ("GET", "/v1/me/ledger", False),
])
def test_writes_are_limited_and_reads_are_not(method, route, limited):
    assert ratelimit.is_write(method, route) is limited


def test_the_limit_is_a_setting():
    env = {"JWT_SECRET": "x" * 32}
    assert from_environ(env).write_rate_per_minute == 60
    assert from_environ({**env, "WRITE_RATE_PER_MINUTE": "120"}).write_rate_per_minute == 120
    for bad in ("0", "-1", "many"):
        with pytest.raises(SettingsError, match="WRITE_RATE_PER_MINUTE"):
            from_environ({**env, "WRITE_RATE_PER_MINUTE": bad})
