"""The nudges' pure rules (chalicelib/domain/nudges.py): quiet hours, the week reported, the points window, the
retry budget, and messages within WeChat's field limits that carry no code."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from chalicelib.domain import clock
from chalicelib.domain import nudges as rules
from chalicelib.domain.nudges import MessageDataError, Subject


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=clock.SHANGHAI)


@pytest.mark.parametrize(("moment", "quiet"), [
    ("2026-12-03 21:59:59", False), ("2026-12-03 22:00:00", True), ("2026-12-04 07:59:59", True),
    ("2026-12-04 08:00:00", False), ("2026-12-04 12:00:00", False)])
def test_quiet_hours_are_22_to_8_in_shanghai(moment, quiet):
    assert rules.is_quiet(at(moment)) is quiet
    assert rules.held_back("coupon_expiring", at(moment)) is quiet
    assert rules.held_back("redemption_used", at(moment)) is False  # receipts are never held back


def test_quiet_hours_read_any_time_zone_as_shanghai():
    assert rules.is_quiet(datetime.fromisoformat("2026-12-03T14:30:00+00:00"))  # 22:30 in Shanghai


def test_the_weekly_report_is_last_weeks_from_monday_nine():
    assert rules.report_week(at("2026-12-07 08:59")) is None  # Monday before 09:00
    assert rules.report_week(at("2026-12-07 09:00")) == (date(2026, 11, 30), date(2026, 12, 6))
    assert rules.report_week(at("2026-12-13 23:00")) == (date(2026, 11, 30), date(2026, 12, 6))  # Sunday
    assert rules.iso_week(date(2026, 11, 30)) == "2026-W49"
    assert rules.iso_week(date(2027, 1, 1)) == "2026-W53"


def test_points_are_due_within_thirty_days_of_their_last_day():
    today = date(2026, 12, 3)
    assert rules.points_due(10, date(2026, 12, 31), today)
    assert not rules.points_due(10, date(2027, 12, 31), today)
    assert not rules.points_due(0, date(2026, 12, 31), today)
    assert not rules.points_due(10, None, today)


def test_three_attempts_within_the_hour_then_failed():
    assert not rules.give_up(1, 0, 0)
    assert not rules.give_up(2, 0, 600)
    assert rules.give_up(3, 0, 900)
    assert rules.give_up(1, 0, 3400)  # the next try would fall after the hour


def test_a_long_goods_name_is_cut_to_twenty_characters_and_no_message_carries_a_code():
    name = "超长的有机蔬菜礼盒兑换券仅限本店周末使用请提前预约"
    subject = Subject("u_1", "coupon_expiring", "01JD3W5Z8Q7K3M9QX2ABCDEFGJ",
                      (("goods_name", name), ("expires_on", "2026-12-05")))
    data = rules.message_data(subject)
    assert len(data["thing1"]["value"]) == 20 and data["thing1"]["value"].endswith("…")
    assert data["time2"]["value"] == "2026-12-05"
    assert rules.page_of("coupon_expiring", subject.subject) == "pages/redemption/detail?id=01JD3W5Z8Q7K3M9QX2ABCDEFGJ"
    for topic, facts, ref in (
            ("points_expiring", (("points", "120"),), "2026-12-31"),
            ("redemption_used", (("goods_name", "咖啡"), ("used_at", "2026-12-03 10:15")), "r1"),
            ("weekly_report", (("points", "35"), ("carbon_mg", "1234567")), "2026-W49")):
        values = [field["value"] for field in rules.message_data(Subject("u_1", topic, ref, facts)).values()]
        assert all(len(value) <= 20 for value in values), values
    facts = (("points", "35"), ("carbon_mg", "1234567"))
    weekly = rules.message_data(Subject("u_1", "weekly_report", "2026-W49", facts))
    assert weekly["thing3"]["value"] == "减排 1.23 千克二氧化碳" and weekly["number2"]["value"] == "35"


def test_a_value_outside_wechats_limits_is_refused_before_it_is_sent():
    with pytest.raises(MessageDataError):
        rules.check_data({"number1": {"value": "12a"}})
    with pytest.raises(MessageDataError):
        rules.check_data({"time2": {"value": "tomorrow"}})
    with pytest.raises(MessageDataError):
        rules.check_data({"thing1": {"value": "x" * 21}})


def test_the_hourly_job_sweeps_reports_and_points_once_a_day():
    from chalicelib.services.nudge_topics import scheduled_topics

    assert scheduled_topics(at("2026-11-09 10:00")) == ("coupon_expiring",)
    assert scheduled_topics(at("2026-11-09 09:00")) == ("coupon_expiring", "weekly_report")
    assert scheduled_topics(at("2026-12-09 09:30")) == ("coupon_expiring", "weekly_report", "points_expiring")


def test_make_run_prints_a_line_per_message_the_fake_wechat_accepted(capsys):
    from types import SimpleNamespace

    from infra.local.stack import print_messages

    sent = [{"touser": "o-demo", "template_id": "tpl-demo-redemption-used", "page": "pages/redemption/detail?id=r1",
             "data": {"thing1": {"value": "咖啡券"}, "time2": {"value": "2026-12-03 10:15"}}}]
    fakes = SimpleNamespace(wechat=SimpleNamespace(messages=lambda: list(sent)))
    assert print_messages(fakes, 0) == 1
    assert print_messages(fakes, 1) == 1  # nothing new: nothing printed again
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["==> WeChat message sent to o-demo: tpl-demo-redemption-used (pages/redemption/detail?id=r1): "
                     "咖啡券, 2026-12-03 10:15"]
