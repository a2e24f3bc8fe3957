"""Nudges (shared/contract/nudges.md): allowances over HTTP, and messages sent through the fake WeChat over HTTP by
the same work the scheduled jobs do (`python -m admin nudges send --now T`)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest

from admin.__main__ import main as admin
from chalicelib.domain import clock
from infra.local.ephemeral import DEMO_PLATFORM
from tests.support.api import DynamoDBCalls, call, login, request_id
from tests.support.market import give_points, new_goods, new_merchant, redeem, staff_login, verify
from tests.support.persons import login_on

ALL = ["coupon_expiring", "points_expiring", "redemption_used", "weekly_report"]


def accept(client, user, topics, rid=None):
    return call(client, "POST", "/v1/me/subscriptions", {"request_id": rid or request_id(), "accepted": topics},
                token=user["token"])


def allowances(client, user) -> dict:
    status, body = call(client, "GET", "/v1/me/subscriptions", token=user["token"])
    assert status == 200, body
    return body


def send(now: datetime, topic: str | None = None, capsys=None) -> dict:
    args = ["nudges", "send", "--json", "--now", now.isoformat()] + (["--topic", topic] if topic else [])
    assert admin(args) == 0


def to(stack, openid: str) -> list[dict]:
    return [m for m in stack.wechat.messages() if m.get("touser") == openid]


def received(stack, openid: str) -> list[dict]:
    return [r for r in stack.wechat.subscribe_received() if (r["body"] or {}).get("touser") == openid]


def noon(days: int = 0) -> datetime:
    """12:00 Asia/Shanghai, `days` from today: outside quiet hours."""
    today = clock.business_day(clock.now())
    return datetime.combine(today + timedelta(days=days), datetime.min.time(), clock.SHANGHAI).replace(hour=12)


def coupon(client, user, valid_days: int = 2, name: str = "测试咖啡券") -> dict:
    give_points(user, 30)
    status, body = redeem(client, user, new_goods(name=name, valid_days=valid_days)["id"])
    assert status == 201, body
    return body["redemption"]


# ----- allowances --------------------------------------------------------------------------------------------
def test_accepted_topics_become_allowances_once_per_request_and_at_most_ten(client, user):
    rid = request_id()
    status, body = accept(client, user, ["coupon_expiring", "coupon_expiring", "weekly_report"], rid)
    assert status == 200, body
    assert body == {"allowances": {"coupon_expiring": 1, "points_expiring": 0, "redemption_used": 0,
                                   "weekly_report": 1}}
    assert accept(client, user, ["coupon_expiring", "coupon_expiring", "weekly_report"], rid) == (200, body)
    assert accept(client, user, ["points_expiring"], rid)[0] == 409  # another payload under the same request_id
    for _ in range(12):
        assert accept(client, user, ["coupon_expiring"])[0] == 200
    shown = allowances(client, user)
    assert shown["allowances"] == {"coupon_expiring": 10, "points_expiring": 0, "redemption_used": 0,
                                   "weekly_report": 1}
    assert shown["sent"] == []


def test_an_unknown_topic_is_refused_and_nothing_is_applied(client, user):
    status, body = accept(client, user, ["coupon_expiring", "lottery"])
    assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR"
    assert body["error"]["details"]["field"] == "accepted"
    assert allowances(client, user)["allowances"]["coupon_expiring"] == 0
    status, body = accept(client, user, "coupon_expiring")
    assert status == 400 and body["error"]["details"]["field"] == "accepted"


def test_a_platform_has_its_own_templates_and_inherits_none(client, openid):
    other = login_on(client, openid, DEMO_PLATFORM)
    status, body = accept(client, other, ["coupon_expiring"])
    assert status == 200 and body == {"allowances": {"coupon_expiring": 1, "redemption_used": 0}}
    status, body = accept(client, other, ["weekly_report"])  # `default` has it, company-demo does not
    assert status == 400 and body["error"]["details"]["field"] == "accepted"
    own = login(client, openid)  # the same person's `default` user has allowances of its own
    assert allowances(client, own)["allowances"]["coupon_expiring"] == 0


# ----- coupons expiring ----------------------------------------------------------------------------------------
def test_a_coupon_expiring_within_three_days_gets_one_message_however_often_the_job_runs(client, stack, user):
    assert accept(client, user, ["coupon_expiring"])[0] == 200
    assert accept(client, user, ["coupon_expiring"])[0] == 200
    redemption = coupon(client, user)
    for _ in range(3):
        send(noon(), "coupon_expiring")
    sent = to(stack, user["openid"])
    assert len(sent) == 1
    message = sent[0]
    assert message["template_id"] == "tpl-demo-coupon-expiring"
    assert message["page"] == f"pages/redemption/detail?id={redemption['id']}"
    assert message["data"]["thing1"]["value"] == "测试咖啡券"
    text = json.dumps(message, ensure_ascii=False)
    assert redemption["code"] not in text and stack.wechat.apps() and "access_token" not in text
    shown = allowances(client, user)
    assert shown["allowances"]["coupon_expiring"] == 1  # one of two consumed
    assert [(s["topic"], s["ref"]) for s in shown["sent"]] == [("coupon_expiring", redemption["id"])]


def test_no_allowance_no_message(client, stack, user):
    coupon(client, user)
    send(noon(), "coupon_expiring")
    assert received(stack, user["openid"]) == []


def test_a_coupon_expiring_later_is_not_sent_yet(client, stack, user):
    accept(client, user, ["coupon_expiring"])
    coupon(client, user, valid_days=20)
    send(noon(), "coupon_expiring")
    assert received(stack, user["openid"]) == []


def test_a_withdrawn_acceptance_43101_consumes_the_allowance_and_is_never_retried(client, stack):
    user = login(client, "nosub-" + uuid.uuid4().hex[:12])  # the fake answers 43101 to this openid
    accept(client, user, ["coupon_expiring"])
    coupon(client, user)
    send(noon(), "coupon_expiring")
    assert [r["errcode"] for r in received(stack, user["openid"])] == [43101]
    assert allowances(client, user)["allowances"]["coupon_expiring"] == 0
    accept(client, user, ["coupon_expiring"])  # a new acceptance does not bring the subject back
    send(noon(), "coupon_expiring")
    send(noon(1), "coupon_expiring")
    assert len(received(stack, user["openid"])) == 1
    assert allowances(client, user)["allowances"]["coupon_expiring"] == 1


def test_an_invalid_access_token_is_refreshed_once_and_the_message_sent_at_once(client, stack, user):
    accept(client, user, ["coupon_expiring"])
    coupon(client, user)
    tokens_before = stack.wechat.calls().get("/cgi-bin/stable_token", 0)
    stack.wechat.subscribe_errors([40001], touser=user["openid"])
    send(noon(), "coupon_expiring")
    assert [r["errcode"] for r in received(stack, user["openid"])] == [40001, 0]
    assert stack.wechat.calls()["/cgi-bin/stable_token"] == tokens_before + 1
    assert len(to(stack, user["openid"])) == 1


def test_a_busy_wechat_is_retried_by_later_runs_five_minutes_apart_then_failed(client, stack, user):
    accept(client, user, ["coupon_expiring"])
    coupon(client, user)
    stack.wechat.subscribe_errors([-1, -1, -1], touser=user["openid"])
    start = noon()
    send(start, "coupon_expiring")
    send(start + timedelta(minutes=2))  # too early: not tried again
    assert len(received(stack, user["openid"])) == 1
    assert allowances(client, user)["allowances"]["coupon_expiring"] == 1  # given back meanwhile
    send(start + timedelta(minutes=6))
    send(start + timedelta(minutes=12))
    send(start + timedelta(minutes=18))
    send(start + timedelta(minutes=40))
    assert [r["errcode"] for r in received(stack, user["openid"])] == [-1, -1, -1]  # three attempts, then failed
    assert allowances(client, user)["allowances"]["coupon_expiring"] == 1  # kept


def test_a_busy_wechat_then_success_sends_once(client, stack, user):
    accept(client, user, ["coupon_expiring"])
    coupon(client, user)
    stack.wechat.subscribe_errors([-1], touser=user["openid"])
    send(noon(), "coupon_expiring")
    send(noon() + timedelta(minutes=5))
    send(noon() + timedelta(minutes=11))
    assert [r["errcode"] for r in received(stack, user["openid"])] == [-1, 0]
    assert allowances(client, user)["allowances"]["coupon_expiring"] == 0


def test_quiet_hours_defer_to_eight(client, stack, user):
    accept(client, user, ["coupon_expiring"])
    coupon(client, user)
    late = noon().replace(hour=23)
    send(late, "coupon_expiring")
    send(late + timedelta(hours=8), "coupon_expiring")  # 07:00
    assert received(stack, user["openid"]) == []
    send(late + timedelta(hours=9), "coupon_expiring")  # 08:00
    assert len(to(stack, user["openid"])) == 1


def test_the_daily_limit_holds_across_topics(client, stack, user):
    """A coupon and points both due: one message a business day, the other the next day."""
    accept(client, user, ["coupon_expiring", "points_expiring"])
    give_points(user, 100)  # this year's lot: expires on 31 December of next year
    year = clock.business_day(clock.now()).year + 1
    at = datetime(year, 12, 10, 12, 0, tzinfo=clock.SHANGHAI)
    _coupon_expiring_at(user, at + timedelta(days=2))
    send(at)
    assert len(to(stack, user["openid"])) == 1
    send(at + timedelta(hours=3))
    assert len(to(stack, user["openid"])) == 1
    send(at + timedelta(days=1))
    sent = {m["template_id"]: m for m in to(stack, user["openid"])}
    assert set(sent) == {"tpl-demo-coupon-expiring", "tpl-demo-points-expiring"}
    points = sent["tpl-demo-points-expiring"]
    assert points["data"]["time2"]["value"] == f"{year}-12-31" and points["data"]["number1"]["value"] == "100"
    assert points["page"] == "pages/ledger/index"


def test_a_worker_out_of_time_hands_its_cursor_over_and_the_next_goes_on(client, stack, monkeypatch):
    from chalicelib.services import nudge_topics

    users = [login(client, "o-" + uuid.uuid4().hex[:16]) for _ in range(2)]
    for n, user in enumerate(users):
        accept(client, user, ["coupon_expiring"])
        _coupon_expiring_at(user, noon() + timedelta(seconds=n + 1), bucket="due#5")  # the shard's first two
    monkeypatch.setattr(nudge_topics, "PAGE", 1)
    outcomes, cursor = nudge_topics.sweep_shard(5, noon(), ("coupon_expiring",), None, lambda: True)
    assert outcomes.get("sent") == 1 and cursor["topic"] == "coupon_expiring" and cursor["key"]
    assert [len(to(stack, user["openid"])) for user in users] == [1, 0]
    outcomes, cursor = nudge_topics.sweep_shard(5, noon(), ("coupon_expiring",), cursor, lambda: True)
    assert outcomes.get("sent") == 1
    assert [len(to(stack, user["openid"])) for user in users] == [1, 1]


def _coupon_expiring_at(user, expires: datetime, bucket: str | None = None) -> str:
    import secrets

    from chalicelib.store.market import Redemption, expiry_bucket

    redemption = Redemption("rd-" + uuid.uuid4().hex, user_id=user["id"], goods_id="t-x", goods_name="未来的券",
                            kind="coupon", merchant_id="m-cafe", code=secrets.token_hex(8), status="issued",
                            points_spent=0, created_at=clock.iso(clock.now()), expires_at=clock.iso(expires),
                            expires_epoch=int(expires.timestamp()), expiry_bucket=bucket or expiry_bucket(),
                            cancellable=True,
                            refund_on_expiry=False)
    redemption.save()
    return redemption.redemption_id


def test_a_frozen_account_gets_nothing_even_after_it_is_unfrozen(client, stack, user):
    accept(client, user, ["coupon_expiring"])
    coupon(client, user)
    assert admin(["user", "freeze", user["id"], "--reason", "test", "--yes"]) == 0
    send(noon(), "coupon_expiring")
    assert admin(["user", "unfreeze", user["id"], "--reason", "test", "--yes"]) == 0
    send(noon(1), "coupon_expiring")
    assert received(stack, user["openid"]) == []
    assert allowances(client, user)["allowances"]["coupon_expiring"] == 1  # kept


def test_a_deleted_account_gets_nothing_and_its_allowances_are_forgotten(client, stack, user):
    from chalicelib.store.nudges import Nudge

    accept(client, user, ["coupon_expiring", "weekly_report"])
    coupon(client, user)
    assert call(client, "DELETE", "/v1/me", {"confirm": "DELETE"}, token=user["token"])[0] == 200
    assert list(Nudge.query(user["id"])) == []
    send(noon(), "coupon_expiring")
    assert received(stack, user["openid"]) == []


# ----- weekly report, receipts ---------------------------------------------------------------------------------
def test_the_weekly_report_goes_to_users_who_earned_that_week_once(client, stack, user):
    accept(client, user, ["weekly_report"])
    accept(client, user, ["weekly_report"])
    status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "no_cutlery"},
                        token=user["token"])
    assert status == 201, body
    idle = login(client, "o-" + uuid.uuid4().hex[:16])
    accept(client, idle, ["weekly_report"])
    today = clock.business_day(clock.now())
    monday = today + timedelta(days=7 - today.weekday())
    at = datetime.combine(monday, datetime.min.time(), clock.SHANGHAI).replace(hour=9, minute=30)
    send(at - timedelta(hours=1), "weekly_report")  # Monday 08:30: not yet
    assert to(stack, user["openid"]) == []
    send(at, "weekly_report")
    send(at + timedelta(days=1), "weekly_report")
    sent = to(stack, user["openid"])
    assert len(sent) == 1 and sent[0]["template_id"] == "tpl-demo-weekly-report"
    assert sent[0]["data"]["number2"]["value"] == "2"  # no_cutlery: 2 points
    assert sent[0]["data"]["thing1"]["value"].startswith(today.strftime("%G-W%V"))
    assert to(stack, idle["openid"]) == []


def test_a_receipt_arrives_after_a_verify(client, stack, user):
    accept(client, user, ["redemption_used"])
    merchant_id, staff_openids = new_merchant()
    give_points(user, 30)
    status, body = redeem(client, user, new_goods(merchant_id, name="有机蔬菜")["id"])
    assert status == 201, body
    redemption = body["redemption"]
    staff = staff_login(client, staff_openids[0])  # after the catalog load, warming the cache as a container does
    from chalicelib.services import catalog

    catalog.risk_settings()  # and the risk rules' thresholds, cached once a minute like the catalog
    with DynamoDBCalls() as calls:
        status, body = verify(client, staff, redemption["code"])
    assert status == 200, body
    assert calls.operations == ["GetItem", "TransactWriteItems"]  # the receipt rides in the scan's transaction
    assert admin(["run-jobs", "--once", "--job", "send-receipts"]) == 0
    sent = to(stack, user["openid"])
    assert len(sent) == 1 and sent[0]["template_id"] == "tpl-demo-redemption-used"
    assert sent[0]["data"]["thing1"]["value"] == "有机蔬菜"
    assert redemption["code"] not in json.dumps(sent[0], ensure_ascii=False)
    assert admin(["run-jobs", "--once", "--job", "send-receipts"]) == 0
    assert len(to(stack, user["openid"])) == 1


def test_a_platform_user_is_messaged_through_its_own_mini_program(client, stack, openid):
    other = login_on(client, openid, DEMO_PLATFORM)
    accept(client, other, ["coupon_expiring"])
    redemption_id = _coupon_expiring_at(other, noon(2))
    send(noon(), "coupon_expiring")
    # the fake records every attempt (one refused by a token another test expired is retried): one was accepted
    [sent] = [r for r in stack.wechat.subscribe_received()
              if r["body"]["page"].endswith(redemption_id) and r["errcode"] == 0]
    assert sent["appid"] == "wx-demo-company"
    assert sent["body"]["template_id"] == "tpl-company-coupon-expiring"
    assert sent["body"]["touser"] == f"{openid}@wx-demo-company"  # the platform's own openid of the person


def test_stats_count_what_was_sent_and_refused(client, stack, user, capsys):
    accept(client, user, ["coupon_expiring"])
    coupon(client, user)
    send(noon(), "coupon_expiring")
    capsys.readouterr()
    assert admin(["nudges", "stats", "--days", "2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["days"]
    assert any(r["topic"] == "coupon_expiring" and r["sent"] >= 1 for r in rows)
    assert set(rows[0]) == {"day", "topic", "sent", "refused", "failed", "deferred"}


@pytest.fixture
def user(client, openid):
    return login(client, openid)


def test_the_catalog_refuses_a_template_for_an_unknown_topic(tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"subscribe_templates": {"lottery": "tpl-x"}}), encoding="utf-8")
    assert admin(["load", str(path), "--yes"]) == 1


def test_data_wechat_refuses_47003_fails_at_once_and_keeps_the_allowance(client, stack, user):
    accept(client, user, ["coupon_expiring"])
    coupon(client, user)
    stack.wechat.subscribe_errors([47003], touser=user["openid"])
    send(noon(), "coupon_expiring")
    send(noon() + timedelta(minutes=10))
    assert [r["errcode"] for r in received(stack, user["openid"])] == [47003]
    assert allowances(client, user)["allowances"]["coupon_expiring"] == 1


def test_the_fake_wechat_refuses_data_beyond_wechats_limits_over_http(stack):
    import requests

    token = requests.post(f"{stack.wechat.base_url}/cgi-bin/stable_token", json={
        "grant_type": "client_credential", "appid": stack.wechat.appid, "secret": stack.wechat.secret}).json()
    url = f"{stack.wechat.base_url}/cgi-bin/message/subscribe/send?access_token={token['access_token']}"
    message = {"touser": "o-fake-check", "template_id": "tpl", "page": "pages/ledger/index",
               "data": {"thing1": {"value": "超" * 21}, "number2": {"value": "12"}}}
    assert requests.post(url, json=message).json()["errcode"] == 47003
    message["data"]["thing1"]["value"] = "超" * 20
    assert requests.post(url, json=message).json()["errcode"] == 0
    assert requests.post(url.replace("access_token=", "access_token=x"), json=message).json()["errcode"] == 40001
