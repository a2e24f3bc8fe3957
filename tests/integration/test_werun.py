"""WeChat Sports steps (POST /v1/werun/sync): decrypted with the session_key of the latest login, awarded by
the day-total rule for today and yesterday, refused when stale or not ours."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from chalicelib.domain import clock
from tests.support.api import call, login
from tests.support.partners import ledger, me
from tests.support.steps import werun


def test_steps_are_awarded_from_the_day_total_and_capped_by_the_demo_rule(client, stack, user):
    status, body = werun(client, stack, user, {0: 12345})
    assert status == 200
    assert body["awarded"] == {"points": 20, "carbon_g": 202.458}
    assert body["days"][0] == {"date": clock.business_day(clock.now()).isoformat(), "steps": 12345,
                               "carbon_g": 202.458, "points": 20}
    status, body = werun(client, stack, user, {0: 15000})
    assert body["awarded"] == {"points": 0, "carbon_g": 43.542}
    assert (me(client, user)["points"], me(client, user)["carbon_g"]) == (20, 246.0)
    entries = ledger(client, user)
    assert [(e["source"], e["behavior"], e["carbon_g"]) for e in entries] == [
        ("werun", "walk_steps", 43.542), ("werun", "walk_steps", 202.458)]
    assert entries[0]["methodology"] == {"id": "LZ-walk", "version": "2024.1"}


def test_the_same_total_again_or_a_lower_one_awards_nothing(client, stack, user):
    werun(client, stack, user, {0: 8000})
    for steps in (8000, 7000):
        status, body = werun(client, stack, user, {0: steps})
        assert (status, body["awarded"]) == (200, {"points": 0, "carbon_g": 0.0})
    assert len(ledger(client, user)) == 1


def test_steps_beyond_30000_a_day_count_nothing(client, stack, user):
    werun(client, stack, user, {0: 30000})
    body = werun(client, stack, user, {0: 45000})[1]
    assert body["awarded"] == {"points": 0, "carbon_g": 0.0}
    assert me(client, user)["carbon_g"] == 492.0


def test_yesterday_and_today_count_on_their_own_days_and_older_days_not_at_all(client, stack, user):
    body = werun(client, stack, user, {0: 1000, 1: 5000, 2: 20000})[1]
    assert body["awarded"] == {"points": 2 + 10, "carbon_g": 16.4 + 82.0}
    assert [d["steps"] for d in body["days"]] == [1000, 5000]
    from chalicelib.store.models import LedgerEntry

    today = clock.business_day(clock.now())
    days = sorted(e.day for e in LedgerEntry.query(user["id"]))
    assert days == [(today - timedelta(days=1)).isoformat(), today.isoformat()]


def test_data_encrypted_with_an_old_session_key_answers_401_session_expired(client, stack, openid):
    user = login(client, openid)
    old_key = stack.wechat.session_key(openid)
    user = login(client, openid)  # a new login: WeChat and we hold a new session_key
    status, body = werun(client, stack, user, {0: 5000}, session_key=old_key)
    assert (status, body["error"]["code"]) == (401, "SESSION_EXPIRED")
    assert me(client, user)["points"] == 0
    assert werun(client, stack, user, {0: 5000})[0] == 200  # after wx.getWeRunData again


def test_garbage_that_does_not_decrypt_answers_401(client, user):
    data = {"encrypted_data": "AAAAAAAAAAAAAAAAAAAAAA==", "iv": "AAAAAAAAAAAAAAAAAAAAAA=="}
    status, body = call(client, "POST", "/v1/werun/sync", data, token=user["token"])
    assert (status, body["error"]["code"]) == (401, "SESSION_EXPIRED")


@pytest.mark.parametrize("options", [{"appid": "wx-someone-else"},
                                     {"watermark_timestamp": int(time.time()) - 3600}])
def test_foreign_or_stale_data_answers_400_invalid_werun_data(client, stack, user, options):
    status, body = werun(client, stack, user, {0: 5000}, **options)
    assert (status, body["error"]["code"]) == (400, "INVALID_WERUN_DATA")
    assert me(client, user)["points"] == 0


def test_missing_fields_are_a_validation_error(client, user):
    status, body = call(client, "POST", "/v1/werun/sync", {"iv": "AAAA"}, token=user["token"])
    assert (status, body["error"]["code"], body["error"]["details"]["field"]) == (400, "VALIDATION_ERROR",
                                                                                   "encrypted_data")


def test_a_frozen_account_earns_no_steps(client, stack, user):
    from admin.__main__ import main as admin

    assert admin(["user", "freeze", user["id"], "--reason", "test"]) == 0
    status, body = werun(client, stack, user, {0: 5000})
    assert (status, body["error"]["code"]) == (403, "ACCOUNT_FROZEN")
