"""Deleting a user of a person on several platforms (docs/privacy.md, "A person on several platforms"): the user's
account is erased as on `default`, its platform's holder of a partner account is released, and it leaves its
person: the union item and its peers no longer name it, the person's carbon on the others is their own from then
on (the deleted account keeps its carbon, anonymous), and the person's last user takes the union item with it."""
from __future__ import annotations

import json

import pytest

from admin.__main__ import main as admin
from chalicelib.store import persons
from chalicelib.store.failures import ConditionFailed
from chalicelib.store.models import Account, LedgerEntry
from chalicelib.store.partners import Consent, PartnerLink
from chalicelib.store.tx import Tx
from infra.local.ephemeral import DEMO_PLATFORM
from tests.support.aggregates import checkin
from tests.support.api import call, login
from tests.support.partners import ledger, phone, push, sync
from tests.support.persons import bind_on, bound_on_both, login_on, pull
from tests.support.reconcile import reconciled


@pytest.fixture
def person(client, stack, openid, rides):
    """One person: a `default` user and a user of the rides platform, each bound to one bus account by the route."""
    on_default, on_rides, ref, _ = bound_on_both(client, stack, openid, rides)
    return on_default, on_rides, ref


def _me(client, user) -> dict:
    status, body = call(client, "GET", "/v1/me", token=user["token"])
    assert status == 200, body
    return body


def _delete(client, user) -> None:
    status, body = call(client, "DELETE", "/v1/me", {"confirm": "DELETE"}, token=user["token"])
    assert (status, body) == (200, {"deleted": True})


def _account(user: dict) -> Account:
    return Account.get(user["id"], consistent_read=True)


def _union(openid: str) -> dict | None:
    """The users of the person's union item (None: there is none)."""
    return persons.union_users(persons.union_key(f"un-{openid}"))


def _active_at_partner(stack, user: dict) -> bool:
    authorization_id = Consent.get(user["id"], "transit", consistent_read=True).authorization_id
    return next(a["active"] for a in stack.transit.authorizations() if a["authorization_id"] == authorization_id)


def _entries(user: dict) -> int:
    return sum(1 for _ in LedgerEntry.query(user["id"], consistent_read=True))


def test_deleting_the_user_on_a_platform_leaves_the_persons_default_user_its_own(client, stack, openid, person,
                                                                                rides):
    on_default, on_rides, ref = person
    stack.transit.add_ride(ref)
    assert pull(on_rides["id"])["carbon_mg"] == 80000  # the rides platform holds this ride's carbon
    assert sync(client, on_default, "transit")[1]["imported"] == 1  # counted via rides on `default`
    checkin(client, on_default)
    before = _me(client, on_default)
    own = before["carbon_g"]
    assert before["person_carbon_g"] == own + 80.0

    _delete(client, on_rides)

    after = _me(client, on_default)
    assert (after["points"], after["carbon_g"], after["person_carbon_g"]) == (before["points"], own, own)
    deleted = _account(on_rides)
    assert (deleted.deleted_at is not None, deleted.carbon_mg, deleted.peers, deleted.person_carbon_mg) == (
        True, 80000, None, None)  # its carbon stays in the deployment's totals, under the anonymous id
    assert (_account(on_default).peers, _account(on_default).person_carbon_mg) == (None, None)
    assert _union(openid) == {"default": on_default["id"]}
    assert PartnerLink.get(f"transit#{ref}", consistent_read=True).holders() == {"default": on_default["id"]}
    assert _active_at_partner(stack, on_default)  # `default` still holds a consent: the partner keeps it
    left = _entries(on_rides)
    assert push(client, stack.transit, [stack.transit.add_ride(ref)])[1]["accepted"] == 1
    newest = ledger(client, on_default)[0]
    assert (newest["carbon_g"], newest["counted_via"]) == (80.0, None)  # counted on `default` only
    assert _entries(on_rides) == left
    checkin(client, on_default, "no_cutlery")
    me = _me(client, on_default)
    assert me["person_carbon_g"] == me["carbon_g"] > own + 80.0  # its own carbon, the deleted account's not in it
    assert _account(on_rides).person_carbon_mg is None  # no more ADDs to the deleted account
    assert reconciled(on_default, on_rides)["clean"]


def test_deleting_the_default_user_leaves_the_persons_user_on_the_platform_its_own(client, stack, openid, person,
                                                                                   rides):
    on_default, on_rides, ref = person
    assert push(client, stack.transit, [stack.transit.add_ride(ref)])[1]["accepted"] == 1  # held by `default`
    checkin(client, on_default)
    before = _me(client, on_rides)
    assert (before["carbon_g"], before["person_carbon_g"]) == (0.0, _me(client, on_default)["carbon_g"])

    _delete(client, on_default)

    after = _me(client, on_rides)
    assert (after["points"], after["carbon_g"], after["person_carbon_g"]) == (before["points"], 0.0, 0.0)
    assert _union(openid) == {rides: on_rides["id"]}
    assert PartnerLink.get(f"transit#{ref}", consistent_read=True).holders() == {rides: on_rides["id"]}
    assert _active_at_partner(stack, on_rides)
    assert push(client, stack.transit, [stack.transit.add_ride(ref)])[1]["accepted"] == 1
    newest = max(ledger(client, on_rides), key=lambda e: e["at"])
    assert (newest["points"], newest["carbon_g"], newest["counted_via"]) == (6, 80.0, None)  # now held here
    me = _me(client, on_rides)
    assert me["person_carbon_g"] == me["carbon_g"] == 80.0
    assert reconciled(on_default, on_rides)["clean"]


def test_the_persons_last_user_takes_the_union_item_with_it_by_the_route_or_the_console(client, openid):
    alone = login_on(client, "o-alone-" + openid)
    assert _union("o-alone-" + openid) == {DEMO_PLATFORM: alone["id"]}
    _delete(client, alone)
    assert _union("o-alone-" + openid) is None
    on_demo, on_default = login_on(client, openid), login(client, openid)
    assert admin(["user", "delete", on_demo["id"], "--platform", DEMO_PLATFORM, "--reason", "ticket 20",
                  "--yes"]) == 0  # the console runs the same erasure
    assert _union(openid) == {"default": on_default["id"]}
    assert _account(on_default).peers is None
    _delete(client, on_default)
    assert _union(openid) is None
    again = login_on(client, openid)  # a later login is a new person of its own
    assert _union(openid) == {DEMO_PLATFORM: again["id"]} and _account(again).peers is None
    assert reconciled(alone, on_demo, on_default, again)["clean"]


def test_a_join_racing_a_deletion_leaves_no_dangling_peer(client, stack, openid, person, rides):
    on_default, on_rides, ref = person
    stack.transit.add_ride(ref)
    assert pull(on_rides["id"])["carbon_mg"] == 80000
    key = persons.union_key(f"un-{openid}")
    users = persons.union_users(key)
    stale = Tx()  # the deletion read the person ...
    assert persons.stage_leave(stale, key, users, _account(on_rides), persons.accounts_of(users))
    on_demo = login_on(client, openid)  # ... a login on a third platform joins it ...
    with pytest.raises(ConditionFailed):
        stale.commit()  # ... and what the deletion read is refused: it reads again
    assert persons.leave(key, on_rides["id"])
    assert _union(openid) == {"default": on_default["id"], DEMO_PLATFORM: on_demo["id"]}
    assert _account(on_demo).peers == {"default": on_default["id"]}
    assert _account(on_default).peers == {DEMO_PLATFORM: on_demo["id"]}
    assert (_account(on_demo).person_carbon_mg, _account(on_default).person_carbon_mg) == (0, 0)
    assert not persons.leave(key, on_rides["id"])  # done: nothing names it any more
    assert reconciled(on_default, on_rides, on_demo)["clean"]


def test_reconcile_passes_for_the_deployment_and_per_platform_after_deletions(client, stack, openid, person, rides,
                                                                              capsys):
    on_default, on_rides, ref = person
    assert push(client, stack.transit, [stack.transit.add_ride(ref)])[1]["accepted"] == 1
    _delete(client, on_default)
    assert push(client, stack.transit, [stack.transit.add_ride(ref)])[1]["accepted"] == 1
    _delete(client, on_rides)
    assert _union(openid) is None
    for args in (["reconcile", "--json"], ["reconcile", "--platform", rides, "--json"]):
        capsys.readouterr()
        assert admin(args) == 0
        assert json.loads(capsys.readouterr().out)["clean"]


def test_a_deletion_revokes_a_consent_to_a_partner_the_platform_no_longer_works_with(client, stack, tmp_path):
    """A platform's catalog dropped the partner its user is bound to: the deletion still revokes the consent,
    releases the platform's holder of the partner account and tells the partner (its client is configured)."""
    import uuid

    from tests.support.persons import _onboard

    pid = "t-drops-" + uuid.uuid4().hex[:6]
    entry = {"id": pid, "name": "停止合作平台", "wechat_appid": "wx-" + pid,
             "branding": {"name": "停止合作平台", "slogan": "公交", "primary_color": "#123456", "logo_url": None},
             "behaviors": [{"code": "bus_ride"}], "partners": ["transit"]}
    _onboard(stack, tmp_path, entry, "drops-secret")
    number = phone()
    ref = stack.transit.add_rider(number)
    user = login_on(client, "o-" + uuid.uuid4().hex[:12], pid)
    assert bind_on(client, user, stack, number, appid=entry["wechat_appid"])[0] == 200
    assert _active_at_partner(stack, user)
    authorization_id = Consent.get(user["id"], "transit", consistent_read=True).authorization_id
    _onboard(stack, tmp_path, {**entry, "partners": []}, "drops-secret")  # the platform stops working with it
    status, body = call(client, "GET", "/v1/partners", token=user["token"])
    assert (status, body["items"]) == (200, [])
    _delete(client, user)
    assert Consent.get(user["id"], "transit", consistent_read=True).status == "revoked"
    assert PartnerLink.get(f"transit#{ref}", consistent_read=True).holders() == {}
    assert [a["active"] for a in stack.transit.authorizations() if a["authorization_id"] == authorization_id] == [
        False]  # the partner was told
    assert reconciled(user)["clean"]
