"""Consent to a partner: bound only with the phone WeChat verified, one user per partner account, revocable
at once (the partner told now or by the job later), kept as history; the phone is never stored or logged."""
from __future__ import annotations

import logging

import pytest

from chalicelib import jobs
from chalicelib.domain import clock
from chalicelib.store.partners import Consent, PartnerLink
from tests.support.api import call, login
from tests.support.partners import bind, phone, phone_code


def partners_of(client, user) -> dict:
    status, body = call(client, "GET", "/v1/partners", token=user["token"])
    assert status == 200
    return {item["id"]: item for item in body["items"]}


def consent(client, stack, user, partner, number):
    return call(client, "PUT", f"/v1/partners/{partner}/consent", {"phone_code": phone_code(stack, number)},
                token=user["token"])


@pytest.mark.parametrize("partner", ["transit", "bank"])
def test_binding_with_the_verified_phone_shows_the_partner_bound(client, stack, user, partner):
    assert partners_of(client, user)[partner]["status"] == "unbound"
    bind(client, stack, user, partner)
    listed = partners_of(client, user)[partner]
    assert listed["status"] == "bound" and listed["bound_at"].endswith("+08:00")
    from chalicelib.services import catalog

    catalog.forget()  # every partner `default` works with: the two built in and the catalog's open-protocol ones
    assert set(partners_of(client, user)) == {"transit", "bank", *catalog.open_partners()}


def test_a_phone_code_works_once(client, stack, user):
    number = phone()
    stack.transit.add_rider(number)
    code = phone_code(stack, number)
    assert call(client, "PUT", "/v1/partners/transit/consent", {"phone_code": code}, token=user["token"])[0] == 200
    call(client, "DELETE", "/v1/partners/transit/consent", token=user["token"])
    status, body = call(client, "PUT", "/v1/partners/transit/consent", {"phone_code": code}, token=user["token"])
    assert (status, body["error"]["code"]) == (400, "INVALID_PHONE_CODE")


def test_a_phone_typed_by_the_client_is_not_accepted(client, stack, user):
    number = phone()
    stack.transit.add_rider(number)
    status, body = call(client, "PUT", "/v1/partners/transit/consent", {"phone": number, "phone_code": number},
                        token=user["token"])
    assert (status, body["error"]["code"]) == (400, "INVALID_PHONE_CODE")
    assert partners_of(client, user)["transit"]["status"] == "unbound"


@pytest.mark.parametrize("partner", ["transit", "bank"])
def test_a_phone_without_an_account_at_the_partner_is_rejected(client, stack, user, partner):
    status, body = consent(client, stack, user, partner, phone())
    assert (status, body["error"]["code"]) == (422, "PARTNER_REJECTED")


@pytest.mark.parametrize("partner", ["transit", "bank"])
def test_a_partner_account_bound_to_another_user_is_refused(client, stack, user, openid, partner):
    number = phone()
    bind(client, stack, user, partner, number)
    other = login(client, openid + "-other")
    status, body = consent(client, stack, other, partner, number)
    assert (status, body["error"]["code"]) == (409, "PARTNER_ACCOUNT_TAKEN")
    assert partners_of(client, other)[partner]["status"] == "unbound"
    assert partners_of(client, user)[partner]["status"] == "bound"


def test_a_revoked_partner_account_may_be_bound_by_its_new_owner(client, stack, user, openid):
    number = phone()
    bind(client, stack, user, "bank", number)
    call(client, "DELETE", "/v1/partners/bank/consent", token=user["token"])
    other = login(client, openid + "-new-owner")
    assert consent(client, stack, other, "bank", number)[0] == 200


def test_unknown_partner_is_404(client, stack, user):
    status, body = call(client, "PUT", "/v1/partners/airline/consent", {"phone_code": "x"}, token=user["token"])
    assert (status, body["error"]["code"]) == (404, "UNKNOWN_PARTNER")
    assert call(client, "DELETE", "/v1/partners/airline/consent", token=user["token"])[0] == 404


def test_revoking_what_was_never_bound_is_404(client, user):
    status, body = call(client, "DELETE", "/v1/partners/transit/consent", token=user["token"])
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")


@pytest.mark.parametrize("partner", ["transit", "bank"])
def test_revoking_is_immediate_and_the_partner_is_told(client, stack, user, partner):
    bind(client, stack, user, partner)
    status, body = call(client, "DELETE", f"/v1/partners/{partner}/consent", token=user["token"])
    assert (status, body) == (200, {"id": partner, "status": "revoked"})
    assert partners_of(client, user)[partner]["status"] == "revoked"
    fake = stack.transit.authorizations() if partner == "transit" else stack.bank.consents()
    item = Consent.get(user["id"], partner)
    mine = [a for a in fake if a.get("authorization_id", a.get("consent_id")) == item.authorization_id]
    assert [a["active"] for a in mine] == [False]
    assert [h["event"] for h in item.history] == ["bound", "revoked", "revoked_at_partner"]
    assert item.revocation_pending is None


def test_revocation_at_a_partner_that_is_down_is_local_at_once_and_retried_by_the_job(client, stack, user):
    bind(client, stack, user, "transit")
    stack.transit.faults.add(path="/v1/authorizations/", status=503, count=-1)
    try:
        status, body = call(client, "DELETE", "/v1/partners/transit/consent", token=user["token"])
        assert (status, body["status"]) == (200, "revoked")
        assert partners_of(client, user)["transit"]["status"] == "revoked"
        item = Consent.get(user["id"], "transit")
        assert item.revocation_pending == "transit"
        assert assert_active(stack, item.authorization_id) is True
    finally:
        stack.transit.faults.clear()
    run_job("retry-partner-revocations")  # what `python -m admin run-jobs` and the AWS schedule run
    assert assert_active(stack, item.authorization_id) is False
    item = Consent.get(user["id"], "transit")
    assert item.revocation_pending is None and item.history[-1]["event"] == "revoked_at_partner"


def run_job(name: str) -> dict:
    return next(job for job in jobs.JOBS if job.name == name).run(clock.now())


def assert_active(stack, authorization_id: str) -> bool:
    return next(a["active"] for a in stack.transit.authorizations() if a["authorization_id"] == authorization_id)


def test_binding_again_after_revoking_keeps_the_history(client, stack, user):
    number = phone()
    bind(client, stack, user, "transit", number)
    call(client, "DELETE", "/v1/partners/transit/consent", token=user["token"])
    assert consent(client, stack, user, "transit", number)[0] == 200
    item = Consent.get(user["id"], "transit")
    assert [h["event"] for h in item.history] == ["bound", "revoked", "revoked_at_partner", "bound"]
    assert len(item.periods) == 2 and item.periods[0][1] is not None and item.periods[1][1] is None


def test_binding_twice_is_idempotent(client, stack, user):
    number = phone()
    bind(client, stack, user, "bank", number)
    status, body = consent(client, stack, user, "bank", number)
    assert (status, body["status"]) == (200, "bound")


def test_the_phone_is_neither_stored_nor_logged(client, stack, user, caplog):
    number = phone()
    with caplog.at_level(logging.DEBUG):
        ref = bind(client, stack, user, "transit", number)
    item = Consent.get(user["id"], "transit")
    assert item.partner_ref == ref
    assert number not in str(item.attribute_values)
    assert number not in str(PartnerLink.get(f"transit#{ref}").attribute_values)
    assert number not in caplog.text


def test_an_access_token_wechat_invalidated_is_fetched_again_once(client, stack, user):
    bind(client, stack, user, "bank")  # the container holds a token now
    call(client, "DELETE", "/v1/partners/bank/consent", token=user["token"])
    stack.wechat.invalidate_token()
    before = stack.wechat.calls().get("/cgi-bin/stable_token", 0)
    bind(client, stack, user, "bank")
    assert stack.wechat.calls()["/cgi-bin/stable_token"] - before == 1
