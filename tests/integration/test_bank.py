"""Green finance events from the bank (shared/partners/bank.md): one OAuth token shared by every container
through DynamoDB, refreshed once when the bank refuses it, events pulled after the last one seen."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from chalicelib.services import partners
from chalicelib.store.partners import PartnerToken
from tests.support.partners import bind, call, ledger, me, now, push, sync


@pytest.fixture
def customer(client, stack, user):
    return user, bind(client, stack, user, "bank")


@pytest.fixture
def no_token_yet():
    """As on a fresh deployment: no token in DynamoDB and none in this container's memory."""
    try:
        PartnerToken.get("bank").delete()
    except PartnerToken.DoesNotExist:
        pass
    if partners.bank_tokens():
        partners.bank_tokens().forget()


def new_container():
    """What a freshly started Lambda container holds: nothing in memory."""
    partners.bank_tokens().forget()


def test_the_bank_token_is_fetched_once_across_syncs_and_containers(client, stack, user, openid, no_token_yet):
    from tests.support.api import login

    before = stack.bank.token_requests()
    user_ref = bind(client, stack, user, "bank")
    stack.bank.add_event(user_ref)
    for _ in range(3):
        assert sync(client, user, "bank")[0] == 200
    new_container()
    other = login(client, openid + "-2")
    bind(client, stack, other, "bank")
    assert sync(client, other, "bank")[0] == 200
    assert stack.bank.token_requests() - before == 1
    stored = str(PartnerToken.get("bank").attribute_values)
    assert stack.bank.issued_tokens() and not any(token in stored for token in stack.bank.issued_tokens())


def test_a_token_the_bank_invalidates_is_refreshed_once(client, stack, customer):
    user, ref = customer
    stack.bank.add_event(ref)
    assert sync(client, user, "bank")[0] == 200
    before = stack.bank.token_requests()
    stack.bank.invalidate_tokens()
    stack.bank.add_event(ref)
    status, body = sync(client, user, "bank")
    assert (status, body["imported"]) == (200, 1)
    new_container()  # another container, still holding nothing: finds the refreshed token in DynamoDB
    assert sync(client, user, "bank")[0] == 200
    assert stack.bank.token_requests() - before == 1


def test_green_events_earn_their_behaviour_and_the_daily_limit_gives_0_points_beyond_it(client, stack, customer):
    user, ref = customer
    for _ in range(4):
        stack.bank.add_event(ref, "e_statement")
    stack.bank.add_event(ref, "online_utility_payment")
    status, body = sync(client, user, "bank")
    assert (status, body["imported"]) == (200, 5)
    assert body["awarded"] == {"points": 3 * 2 + 5, "carbon_g": 4 * 24.0 + 89.0}
    entries = ledger(client, user)
    assert {(e["source"], e["kind"]) for e in entries} == {("bank", "earn")}
    assert sorted(e["ref"] for e in entries) == sorted(e["event_id"] for e in stack.bank.events_of(ref))


def test_unknown_types_and_events_from_before_consent_are_ignored(client, stack, user):
    from tests.support.partners import phone

    number = phone()
    ref = stack.bank.add_customer(number)
    stack.bank.add_event(ref, occurred_at=now() - timedelta(days=1))  # before the customer consented
    bind(client, stack, user, "bank", number)
    stack.bank.add_event(ref, "green_mortgage")  # a product the bank launched after our catalog
    stack.bank.add_raw_event(ref, {"customer_ref": ref, "type": "e_statement"})  # no event_id
    stack.bank.add_event(ref)
    status, body = sync(client, user, "bank")
    assert (status, body["imported"], body["ignored"]) == (200, 1, 3)
    assert me(client, user)["points"] == 2


def test_a_sync_continues_after_the_last_event_seen(client, stack, customer):
    user, ref = customer
    stack.bank.add_event(ref)
    assert sync(client, user, "bank")[1]["imported"] == 1
    stack.bank.add_event(ref)
    calls_before = stack.bank.calls().get("/v1/green-events", 0)
    body = sync(client, user, "bank")[1]
    assert (body["imported"], body["duplicates"]) == (1, 0)
    assert stack.bank.calls()["/v1/green-events"] - calls_before == 1


def test_events_pushed_and_pulled_count_once(client, stack, customer):
    user, ref = customer
    event = stack.bank.add_event(ref, "e_card_application")
    assert push(client, stack.bank, [event])[1] == {"accepted": 1, "duplicates": 0, "ignored": 0}
    body = sync(client, user, "bank")[1]
    assert (body["imported"], body["duplicates"]) == (0, 1)
    assert me(client, user)["points"] == 5


def test_a_bank_down_answers_503_and_changes_nothing(client, stack, customer):
    user, ref = customer
    stack.bank.add_event(ref)
    stack.bank.faults.add(path="/v1/green-events", status=500, count=-1)
    try:
        status, body = sync(client, user, "bank")
    finally:
        stack.bank.faults.clear()
    assert (status, body["error"]["code"]) == (503, "PARTNER_UNAVAILABLE")
    assert me(client, user)["points"] == 0
    assert sync(client, user, "bank")[1]["imported"] == 1


def test_binding_the_same_customer_again_pulls_after_the_last_event_seen_and_ignores_the_revoked_gap(
        client, stack, user):
    from tests.support.partners import phone

    number = phone()
    ref = bind(client, stack, user, "bank", number)
    stack.bank.add_event(ref)
    assert sync(client, user, "bank")[1]["imported"] == 1
    assert call(client, "DELETE", "/v1/partners/bank/consent", token=user["token"])[0] == 200
    time.sleep(1.2)
    stack.bank.add_event(ref, occurred_at=now())  # while revoked, a whole second from both ends: earns nothing
    time.sleep(1.2)
    assert bind(client, stack, user, "bank", number) == ref
    stack.bank.add_event(ref)

    body = sync(client, user, "bank")[1]
    assert (body["imported"], body["duplicates"], body["ignored"]) == (1, 0, 1)  # the first event is not re-read
    assert me(client, user)["points"] == 4
