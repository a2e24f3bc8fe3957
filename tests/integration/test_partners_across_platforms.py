"""One person binds one partner account on several platforms (shared/contract/platforms.md rule 7): each platform's
consent route binds it with the platform's own mini program, another person is still refused, a pushed ride reaches
every platform of the person that holds a consent (its carbon once, each platform's points within its caps), and
the partner hears of a revocation only when none of the person's platforms still holds a consent."""
from __future__ import annotations

import pytest

from chalicelib.api.shapes import entry_json
from chalicelib.store.models import Account, LedgerEntry
from chalicelib.store.partners import Consent, PartnerLink
from chalicelib.store.repositories_ledger import line
from tests.support.api import call, login
from tests.support.partners import ledger, phone, phone_code, push
from tests.support.persons import bind_on, bound_on_both, login_on, steps_platform
from tests.support.reconcile import reconciled


@pytest.fixture
def person(client, stack, openid, rides):
    """One person: a `default` user and a user of the rides platform, each bound to one bus account by the route."""
    return bound_on_both(client, stack, openid, rides)


def _entries(user: dict) -> list[dict]:
    return [entry_json(line(entry)) for entry in LedgerEntry.query(user["id"], consistent_read=True)]


def _account(user: dict) -> Account:
    return Account.get(user["id"], consistent_read=True)


def _active_at_partner(stack, user: dict) -> bool:
    authorization_id = Consent.get(user["id"], "transit", consistent_read=True).authorization_id
    return next(a["active"] for a in stack.transit.authorizations() if a["authorization_id"] == authorization_id)


def test_one_person_binds_one_bus_account_on_two_platforms(client, stack, person, rides):
    on_default, on_rides, ref, number = person
    link = PartnerLink.get(f"transit#{ref}", consistent_read=True)
    assert link.holders() == {"default": on_default["id"], rides: on_rides["id"]}
    status, listed = call(client, "GET", "/v1/partners", token=on_rides["token"])
    assert status == 200 and [(p["id"], p["status"]) for p in listed["items"]] == [("transit", "bound")]
    again = bind_on(client, on_rides, stack, number)  # binding again answers the same
    assert (again[0], again[1]["status"]) == (200, "bound")
    authorizations = {Consent.get(u["id"], "transit").authorization_id for u in (on_default, on_rides)}
    assert len(authorizations) == 1  # the bus company's one authorization serves both


def test_the_phone_code_is_the_platforms_own_mini_programs(client, stack, openid, rides):
    on_rides, number = login_on(client, openid, rides), phone()
    stack.transit.add_rider(number)
    status, body = call(client, "PUT", "/v1/partners/transit/consent", {"phone_code": phone_code(stack, number)},
                        token=on_rides["token"])  # a code of `default`'s mini program
    assert (status, body["error"]["code"]) == (400, "INVALID_PHONE_CODE")
    assert bind_on(client, on_rides, stack, number)[0] == 200


def test_another_person_binding_it_on_another_platform_is_refused(client, stack, person, rides, openid):
    _, _, _, number = person
    someone = login_on(client, "o-else-" + openid, rides)
    status, body = bind_on(client, someone, stack, number)
    assert (status, body["error"]["code"]) == (409, "PARTNER_ACCOUNT_TAKEN")
    on_default = login(client, "o-else-" + openid)
    status, body = call(client, "PUT", "/v1/partners/transit/consent", {"phone_code": phone_code(stack, number)},
                        token=on_default["token"])
    assert (status, body["error"]["code"]) == (409, "PARTNER_ACCOUNT_TAKEN")


def test_a_pushed_ride_reaches_both_platforms_its_carbon_once(client, stack, person, rides):
    on_default, on_rides, ref, _ = person
    rides_pushed = [stack.transit.add_ride(ref) for _ in range(3)]
    assert push(client, stack.transit, rides_pushed) == (200, {"accepted": 3, "duplicates": 0, "ignored": 0})
    held = ledger(client, on_default)
    assert sorted((e["points"], e["carbon_g"], e["counted_via"]) for e in held) == [(10, 80.0, None)] * 3
    counted = _entries(on_rides)
    assert sorted(e["points"] for e in counted) == [0, 6, 6]  # 2 rides a day earn there
    assert {(e["carbon_g"], e["counted_via"]) for e in counted} == {(0.0, "default")}
    assert (_account(on_default).carbon_mg, _account(on_rides).carbon_mg) == (240000, 0)
    assert (_account(on_default).points, _account(on_rides).points) == (30, 12)
    assert push(client, stack.transit, rides_pushed[:1])[1] == {"accepted": 0, "duplicates": 1, "ignored": 0}
    status, body = call(client, "POST", "/v1/partners/transit/sync", token=on_rides["token"])
    assert (status, body["imported"]) == (200, 0)  # pulled on the platform too: already there
    assert reconciled(on_default, on_rides)["clean"]


def test_revoking_on_one_platform_keeps_the_other_and_the_partner_is_told_by_the_last(client, stack, person, rides):
    on_default, on_rides, ref, _ = person
    status, body = call(client, "DELETE", "/v1/partners/transit/consent", token=on_rides["token"])
    assert (status, body) == (200, {"id": "transit", "status": "revoked"})
    assert _active_at_partner(stack, on_rides)  # `default` still holds a consent to that bus account
    assert PartnerLink.get(f"transit#{ref}", consistent_read=True).holders() == {"default": on_default["id"]}
    assert push(client, stack.transit, [stack.transit.add_ride(ref)])[1]["accepted"] == 1
    assert [e["counted_via"] for e in ledger(client, on_default)] == [None]
    assert _entries(on_rides) == []
    status, _ = call(client, "DELETE", "/v1/partners/transit/consent", token=on_default["token"])
    assert status == 200
    assert not _active_at_partner(stack, on_default)  # the last consent gone: the partner is told
    assert PartnerLink.get(f"transit#{ref}", consistent_read=True).holders() == {}


def test_revoking_on_default_first_keeps_the_other_platform(client, stack, person, rides):
    on_default, on_rides, ref, _ = person
    assert call(client, "DELETE", "/v1/partners/transit/consent", token=on_default["token"])[0] == 200
    assert _active_at_partner(stack, on_default)
    assert push(client, stack.transit, [stack.transit.add_ride(ref)])[1]["accepted"] == 1
    [entry] = _entries(on_rides)
    assert (entry["points"], entry["carbon_g"], entry["counted_via"]) == (6, 80.0, None)  # held there now
    assert ledger(client, on_default) == []
    assert call(client, "DELETE", "/v1/partners/transit/consent", token=on_rides["token"])[0] == 200
    assert not _active_at_partner(stack, on_rides)
    assert reconciled(on_default, on_rides)["clean"]


def test_a_platform_that_does_not_work_with_the_partner_answers_as_for_an_unknown_one(client, stack, openid,
                                                                                      tmp_path):
    steps = steps_platform(stack, tmp_path)
    walker = login_on(client, openid, steps)
    assert call(client, "GET", "/v1/partners", token=walker["token"]) == (200, {"items": [], "next_cursor": None})
    for method, path, body in (("PUT", "/v1/partners/transit/consent", {"phone_code": "pc_x"}),
                               ("DELETE", "/v1/partners/transit/consent", None),
                               ("POST", "/v1/partners/transit/sync", None)):
        status, answer = call(client, method, path, body, token=walker["token"])
        assert (status, answer["error"]["code"]) == (404, "UNKNOWN_PARTNER"), (method, path)
