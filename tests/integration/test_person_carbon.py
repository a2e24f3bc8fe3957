"""The person's carbon across platforms (shared/contract/platforms.md, API): `GET /v1/me` shows `carbon_g`, the
carbon counted via the caller's platform, and `person_carbon_g`, the person's across every platform, each
reduction once; `reconcile` proves the person's figure against their accounts."""
from __future__ import annotations

import pytest

from chalicelib.store.models import Account
from tests.support.api import DynamoDBCalls, call, login, request_id
from tests.support.partners import sync
from tests.support.persons import login_on, pull, rider, rides_platform
from tests.support.photos import evidence_for
from tests.support.reconcile import reconciled


def _checkin(client, user: dict, behavior: str = "clean_plate") -> int:
    """A check-in; a clean plate (rewarded on both demo platforms) with its photo, as the demo catalog requires."""
    return call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": behavior,
                                                 **evidence_for(client, user, behavior)}, token=user["token"])[0]


def _carbon(client, user: dict) -> tuple[float, float]:
    status, body = call(client, "GET", "/v1/me", token=user["token"])
    assert status == 200, body
    return body["carbon_g"], body["person_carbon_g"]


def test_a_person_on_one_platform_has_the_carbon_of_their_account(client, openid):
    alone = login(client, openid)
    assert _checkin(client, alone) == 201
    assert _carbon(client, alone) == (144.0, 144.0)


def test_carbon_earned_before_the_second_platform_is_the_persons_there(client, openid):
    on_default = login(client, openid)
    assert _checkin(client, on_default) == 201
    demo = login_on(client, openid)  # the join: the person's carbon so far comes along
    assert _carbon(client, demo) == (0.0, 144.0)
    assert reconciled(on_default, demo)["clean"]


def test_each_platforms_carbon_adds_to_the_persons_on_every_platform(client, openid):
    on_default, demo = login(client, openid), login_on(client, openid)
    assert _checkin(client, on_default) == 201
    assert _checkin(client, demo) == 201
    assert _checkin(client, demo, "no_cutlery") == 201
    assert _carbon(client, on_default)[1] == _carbon(client, demo)[1]
    default_carbon, person = _carbon(client, on_default)
    demo_carbon, _ = _carbon(client, demo)
    assert default_carbon == 144.0 and person == pytest.approx(default_carbon + demo_carbon) and demo_carbon > 144
    assert reconciled(on_default, demo)["clean"]


def test_a_ride_imported_on_two_platforms_is_the_persons_once(client, stack, openid, tmp_path):
    on_default, other, ref = rider(client, stack, openid, rides_platform(stack, tmp_path))
    stack.transit.add_ride(ref)
    assert sync(client, on_default, "transit")[1]["imported"] == 1
    assert pull(other["id"])["imported"] == 1
    assert _carbon(client, on_default) == (80.0, 80.0) and _carbon(client, other) == (0.0, 80.0)
    assert reconciled(on_default, other)["clean"]


def test_the_third_platforms_join_brings_the_whole_persons_carbon(client, stack, openid, tmp_path):
    on_default, demo = login(client, openid), login_on(client, openid)
    assert _checkin(client, on_default) == 201 and _checkin(client, demo) == 201
    third = login_on(client, openid, rides_platform(stack, tmp_path))
    assert _carbon(client, third) == (0.0, 288.0)
    assert Account.get(third["id"], consistent_read=True).peers == {"default": on_default["id"],
                                                                     "company-demo": demo["id"]}
    assert reconciled(on_default, demo, third)["clean"]


def test_reconcile_finds_a_persons_carbon_that_is_not_the_sum_of_their_accounts(client, openid):
    on_default, demo = login(client, openid), login_on(client, openid)
    assert _checkin(client, on_default) == 201
    Account(demo["id"]).update(actions=[Account.person_carbon_mg.add(1)])  # as a lost ADD would leave it
    try:
        result = reconciled(on_default, demo)
        assert not result["clean"]
        [problem] = result["mismatches"]
        assert (problem["user_id"], problem["person_carbon_mg"], problem["users_carbon_mg"]) == (
            demo["id"], 144001, 144000)
    finally:  # a platform's whole reconcile (test_console_platforms) must not find this test's corruption
        Account(demo["id"]).update(actions=[Account.person_carbon_mg.add(-1)])
    assert reconciled(on_default, demo)["clean"]


def test_showing_the_persons_carbon_costs_no_read(client, openid):
    on_default, demo = login(client, openid), login_on(client, openid)
    _carbon(client, demo)
    with DynamoDBCalls() as calls:
        _carbon(client, on_default)
    assert calls.operations == ["GetItem"]


def test_a_posting_that_read_the_account_before_the_join_adds_its_carbon_to_the_persons(client, openid):
    from chalicelib import bootstrap
    from chalicelib.domain.posting import Posting

    on_default = login(client, openid)
    before = Account.get(on_default["id"], consistent_read=True)  # read, as a posting in flight has
    demo = login_on(client, openid)  # the join lands in between
    uow = bootstrap.posting_uow()
    with uow.posting(on_default["id"], account=before) as posting:
        for _ in posting.attempts():
            posting.stage([Posting("adjust", 7, 5000, "operator", reason="a correction with carbon")])
            posting.commit("done")
    assert posting.result == "done"
    assert [Account.get(user["id"], consistent_read=True).person_carbon_mg for user in (on_default, demo)] == [
        5000, 5000]  # the first attempt lost to the join's new version; the next saw the peers
    assert reconciled(on_default, demo)["clean"]


def test_a_user_deleted_and_back_on_a_platform_is_a_new_user_and_no_peer_of_the_old(client, openid):
    on_default, demo = login(client, openid), login_on(client, openid)
    assert _checkin(client, on_default) == 201
    status, _ = call(client, "DELETE", "/v1/me", {"confirm": "DELETE"}, token=on_default["token"])
    assert status == 200
    again = login(client, openid)  # WeChat's same user, a new user of `default`
    assert again["id"] != on_default["id"]
    assert Account.get(again["id"], consistent_read=True).peers == {"company-demo": demo["id"]}
    assert Account.get(demo["id"], consistent_read=True).peers == {"default": again["id"]}
    assert _carbon(client, demo) == (0.0, 0.0)  # the deleted user's reductions are no longer the person's
    assert reconciled(again, demo)["clean"]


def test_a_person_deleted_and_back_on_their_only_platform_has_no_peers(client, openid):
    first = login(client, openid)
    assert _checkin(client, first) == 201
    assert call(client, "DELETE", "/v1/me", {"confirm": "DELETE"}, token=first["token"])[0] == 200
    again = login(client, openid)
    assert not Account.get(again["id"], consistent_read=True).peers
    assert _carbon(client, again) == (0.0, 0.0)
    assert reconciled(again)["clean"]
