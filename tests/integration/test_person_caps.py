"""Self-reported behaviour across platforms (shared/contract/platforms.md rules 3 and 4): a check-in on another
platform earns that platform's points for the deployment's grams; the deployment's daily limit caps the person
on every platform together, a platform's lower limit caps that platform; a behaviour a platform does not
reward is 404 there."""
from __future__ import annotations

import pytest

from chalicelib.domain import clock
from chalicelib.store.market import LimitCounter
from chalicelib.store.models import Account, LedgerEntry
from chalicelib.store.repositories import person_day_key
from tests.support.api import DynamoDBCalls, call, login, request_id
from tests.support.persons import login_on
from tests.support.photos import evidence_for
from tests.support.reconcile import reconciled


def _checkin(client, user: dict, behavior: str = "clean_plate") -> tuple[int, dict]:
    """A check-in; a clean plate (the behaviour company-demo rewards with its own points and limit) with its
    photo, as the demo catalog requires."""
    return call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": behavior,
                                                 **evidence_for(client, user, behavior)}, token=user["token"])


def test_a_checkin_on_the_second_platform_earns_its_points_for_the_deployments_grams(client, openid):
    demo = login_on(client, openid)
    status, body = _checkin(client, demo)
    assert status == 201, body
    assert (body["entry"]["points"], body["entry"]["carbon_g"]) == (3, 144.0)  # its 3 points, 144 g as anywhere
    account = Account.get(demo["id"], consistent_read=True)
    assert (account.points, account.carbon_mg, account.platform) == (3, 144000, "company-demo")
    assert reconciled(demo)["clean"]


def test_a_behaviour_the_platform_does_not_reward_is_unknown_there(client, openid):
    demo = login_on(client, openid)
    status, body = _checkin(client, demo, "garbage_sorting")
    assert (status, body["error"]["code"]) == (404, "UNKNOWN_BEHAVIOR")
    assert _checkin(client, login(client, openid), "garbage_sorting")[0] == 201  # `default` rewards it


def test_the_platforms_lower_limit_caps_its_own_checkins(client, openid):
    demo = login_on(client, openid)
    assert [_checkin(client, demo)[0] for _ in range(2)] == [201, 201]
    status, body = _checkin(client, demo)
    assert (status, body["error"]["code"]) == (429, "DAILY_LIMIT_REACHED")
    assert Account.get(demo["id"], consistent_read=True).points == 6
    assert reconciled(demo)["clean"]


def test_the_fourth_clean_plate_of_a_person_is_refused_whole_on_either_platform(client, openid):
    on_default, demo = login(client, openid), login_on(client, openid)
    assert [_checkin(client, on_default)[0] for _ in range(2)] == [201, 201]
    assert _checkin(client, demo)[0] == 201  # the person's third of the day
    for user in (on_default, demo):  # the fourth, wherever it is reported
        status, body = _checkin(client, user)
        assert (status, body["error"]["code"]) == (429, "DAILY_LIMIT_REACHED"), body
    assert Account.get(on_default["id"], consistent_read=True).points == 10  # nothing written by the refusals
    assert Account.get(demo["id"], consistent_read=True).points == 3
    assert len(list(LedgerEntry.query(on_default["id"]))) == 2
    assert len(list(LedgerEntry.query(demo["id"]))) == 1
    assert _checkin(client, on_default, "no_cutlery")[0] == 201  # another behaviour has its own count
    assert reconciled(on_default, demo)["clean"]


def test_the_days_earlier_clean_plates_count_once_the_person_logs_in_on_a_second_platform(client, openid):
    on_default = login(client, openid)
    assert [_checkin(client, on_default)[0] for _ in range(2)] == [201, 201]  # a person of one platform so far
    demo = login_on(client, openid)  # the join: the person's users are two from now on
    assert Account.get(on_default["id"], consistent_read=True).peers == {"company-demo": demo["id"]}
    assert _checkin(client, demo)[0] == 201  # the person's third of the day
    for user in (demo, on_default):
        status, body = _checkin(client, user)
        assert (status, body["error"]["code"]) == (429, "DAILY_LIMIT_REACHED"), body
    assert reconciled(on_default, demo)["clean"]


def test_a_person_on_one_platform_writes_no_person_counter(client, openid):
    alone = login(client, openid)
    with DynamoDBCalls() as calls:
        assert _checkin(client, alone, "no_cutlery")[0] == 201  # a check-in without a photo: its two calls
    assert calls.operations == ["GetItem", "TransactWriteItems"]
    account = Account.get(alone["id"], consistent_read=True)
    assert not account.peers and account.person_id  # joinable, but alone: the account's count suffices
    today = clock.business_day(clock.now()).isoformat()
    with pytest.raises(LimitCounter.DoesNotExist):
        LimitCounter.get(person_day_key(account.person_id, today, "no_cutlery"), consistent_read=True)


def test_different_people_do_not_share_a_cap(client, openid):
    assert [_checkin(client, login(client, openid))[0] for _ in range(3)] == [201] * 3
    assert _checkin(client, login_on(client, "o-other-" + openid))[0] == 201


def test_a_checkin_on_the_second_platform_costs_one_read_and_one_transaction(client, openid):
    demo = login_on(client, openid)
    _checkin(client, demo, "no_cutlery")  # warm the platform's catalog
    with DynamoDBCalls() as calls:
        assert _checkin(client, demo, "no_cutlery")[0] == 201  # without a photo
    assert calls.operations == ["GetItem", "TransactWriteItems"]
