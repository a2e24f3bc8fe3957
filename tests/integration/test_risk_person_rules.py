"""The rules that judge a person's own history in the write that brings it (docs/risk.md "Rules"): repeated step
counts at a WeChat Sports sync (rule 1), machine timing at a self-reported check-in (rule 2). A farmer is put under
review by that very write (its credits held); an honest person near the line is not; a person a reviewer cleared is
not put under review again for the same days."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from admin.__main__ import main as admin
from chalicelib.domain import clock
from chalicelib.services import catalog
from chalicelib.store.models import LedgerEntry
from tests.support.api import call, login, request_id
from tests.support.market import load_catalog
from tests.support.reconcile import reconciled
from tests.support.steps import werun


def review(client, user) -> dict:
    status, body = call(client, "GET", "/v1/me", token=user["token"])
    assert status == 200, body
    return body["review"]


def kinds(user) -> list[str]:
    return sorted(entry.kind for entry in LedgerEntry.query(user["id"], consistent_read=True))


@pytest.fixture
def risk_section():
    """Loads a catalog `risk` section for one test, and the defaults back after it."""
    def load(section: dict) -> None:
        load_catalog({"risk": section})
        catalog.forget()
    yield load
    load_catalog({"risk": {}})
    catalog.forget()


# Rule 1: repeated step counts ------------------------------------------------------------------------------------

def test_the_same_step_total_on_five_of_fourteen_days_puts_the_sync_s_awards_on_hold(client, stack, user):
    status, body = werun(client, stack, user, {0: 12888, 1: 12888, 3: 12888, 8: 12888, 13: 12888, 2: 4100})
    assert status == 200, body
    shown = review(client, user)
    assert (shown["status"], shown["rules"], shown["points_held"]) == ("under_review", ["steps_repeat"], 40)
    assert kinds(user) == ["held", "held"]  # today's and yesterday's awards, written as held entries
    assert call(client, "GET", "/v1/me", token=user["token"])[1]["points"] == 0
    assert reconciled(user)["clean"]


def test_four_equal_days_or_five_spread_beyond_fourteen_days_are_an_honest_walker_s(client, stack, user):
    werun(client, stack, user, {0: 9000, 1: 9000, 5: 9000, 9: 9000, 14: 9000, 20: 9000, 3: 8000})
    assert review(client, user)["status"] == "clear"
    assert kinds(user) == ["earn", "earn"]


def test_days_without_steps_never_count(client, stack, user):
    werun(client, stack, user, {ago: 0 for ago in range(14)} | {0: 6000})
    assert review(client, user)["status"] == "clear"


def test_near_the_daily_maximum_seven_days_in_a_row_is_flagged_and_six_are_not(client, stack, user, openid):
    near = {ago: 28500 + 37 * ago for ago in range(6)}  # 95% of the 30,000 a day counts, and more: six days
    werun(client, stack, user, near | {6: 20000, 7: 29990})
    assert review(client, user)["status"] == "clear"

    farmer = login(client, openid + "-f")
    werun(client, stack, farmer, {ago: 28500 + 37 * ago for ago in range(7)})
    shown = review(client, farmer)
    assert (shown["status"], shown["rules"]) == ("under_review", ["steps_near_max"])
    assert reconciled(user, farmer)["clean"]


def test_a_released_walker_is_not_flagged_again_for_the_same_days(client, stack, user):
    history = {1: 12888, 3: 12888, 8: 12888, 10: 12888, 13: 12888}
    werun(client, stack, user, history)
    assert review(client, user)["rules"] == ["steps_repeat"]
    assert admin(["risk", "release", user["id"], "--reason", "test: a pedometer that rounds"]) == 0
    werun(client, stack, user, history | {0: 7000})
    assert review(client, user)["status"] == "clear"
    assert call(client, "GET", "/v1/me", token=user["token"])[1]["points"] == 20 + 14  # released, and today's
    assert reconciled(user)["clean"]


def test_the_catalog_section_sets_how_many_equal_days_are_too_many(client, stack, user, risk_section):
    risk_section({"steps_same_total_days": 3})
    werun(client, stack, user, {0: 7777, 4: 7777, 9: 7777})
    assert review(client, user)["rules"] == ["steps_repeat"]


# Rule 2: machine timing ------------------------------------------------------------------------------------------

def no_cutlery_at(client, user, moments: list[datetime], monkeypatch) -> list[int]:
    """Check-ins of no_cutlery (self-reported, no photo, 3 a day) made at `moments` of the app's clock."""
    statuses = []
    for moment in moments:
        monkeypatch.setattr(clock, "now", lambda moment=moment: moment)
        status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "no_cutlery"},
                            token=user["token"])
        assert status == 201, body
        statuses.append(status)
    monkeypatch.undo()
    return statuses


def schedule(count: int, gap: timedelta, jitter: list[float] | None = None) -> list[datetime]:
    """`count` moments `gap` apart, from 00:20 three days ago (China time): a script's schedule, within the caps."""
    day = clock.business_day(clock.now()) - timedelta(days=3)
    start = datetime.combine(day, time(0, 20), clock.SHANGHAI)
    jitter = jitter or [0.0] * count
    return [start + gap * n + timedelta(seconds=jitter[n]) for n in range(count)]


def test_ten_check_ins_eight_hours_apart_to_the_second_are_a_machine_s(client, user, monkeypatch):
    jitter = [0.0, 0.3, -0.2, 0.4, 0.1, -0.3, 0.2, 0.0, -0.1, 0.3]  # gaps within 1.1 s of one another
    no_cutlery_at(client, user, schedule(10, timedelta(hours=8), jitter), monkeypatch)
    shown = review(client, user)
    assert (shown["status"], shown["rules"], shown["points_held"]) == ("under_review", ["machine_timing"], 2)
    assert kinds(user) == ["earn"] * 9 + ["held"]  # the tenth check-in, which showed it, is held
    assert reconciled(user)["clean"]


def test_nine_such_check_ins_or_ten_with_one_gap_three_seconds_off_are_not(client, user, openid, monkeypatch):
    no_cutlery_at(client, user, schedule(9, timedelta(hours=8)), monkeypatch)
    assert review(client, user)["status"] == "clear"

    other = login(client, openid + "-b")
    jitter = [0.0] * 5 + [3.0] * 5  # one gap 3 s longer than the rest
    no_cutlery_at(client, other, schedule(10, timedelta(hours=8), jitter), monkeypatch)
    assert review(client, other)["status"] == "clear"
    assert kinds(other) == ["earn"] * 10

