"""Binding and revoking a partner (services/consent.py) over in-memory consents and partners: no Java, no
DynamoDB endpoint, no HTTP. The same promises against DynamoDB Local and the fake partners over HTTP:
tests/integration/test_consent.py, tests/races/test_partner_races.py."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from chalicelib.domain import consents as rules
from chalicelib.domain.consents import BindPartner, Consent, ConsentState
from chalicelib.errors import AccountDeletedError, NotFoundError, PartnerAccountTakenError, UnknownPartnerError
from chalicelib.services.consent import bind, retry_revocations, revoke, revoke_all
from tests.unit.fakes_consent import FakePartnerApis, InMemoryConsents


@pytest.fixture
def consents() -> InMemoryConsents:
    return InMemoryConsents()


@pytest.fixture
def apis() -> FakePartnerApis:
    return FakePartnerApis()


def test_binding_keeps_the_partner_s_reference_claims_its_account_and_opens_a_period(consents, apis):
    state = bind(BindPartner("u1", "transit", "code-13800000001"), consents, apis)

    stored = consents.get("u1", "transit")
    assert state == ConsentState("transit", "bound", stored.bound_at)
    assert (stored.status, stored.partner_ref, stored.authorization_id) == ("bound", "ref-1", "auth-1")
    assert consents.holder("transit", "ref-1") == "u1"
    assert stored.periods == ([stored.bound_at, None],)
    assert [h["event"] for h in stored.history] == ["bound"]
    assert "13800000001" not in repr(stored)  # the phone is handed to the partner, never kept


def test_binding_again_answers_the_same_without_spending_the_code_or_asking_the_partner(consents, apis):
    first = bind(BindPartner("u1", "bank", "code-1"), consents, apis)
    again = bind(BindPartner("u1", "bank", "code-2"), consents, apis)

    assert again == first
    assert apis.codes_used == ["code-1"] and apis.client("bank").authorized == ["1"]
    assert consents.writes == 1


def test_a_partner_account_another_user_holds_is_refused_and_nothing_is_written(consents, apis):
    bind(BindPartner("u1", "transit", "code-1"), consents, apis)
    with pytest.raises(PartnerAccountTakenError):
        bind(BindPartner("u2", "transit", "code-1"), consents, apis)

    assert consents.get("u2", "transit") is None
    assert consents.holder("transit", "ref-1") == "u1"


def test_a_deleted_account_binds_nothing_and_its_phone_code_is_not_spent(consents, apis):
    consents.deleted.add("u1")
    with pytest.raises(AccountDeletedError):
        bind(BindPartner("u1", "transit", "code-1"), consents, apis)
    assert apis.codes_used == [] and consents.writes == 0


def test_an_unknown_partner_is_refused_before_anything_is_asked(consents, apis):
    with pytest.raises(UnknownPartnerError):
        bind(BindPartner("u1", "airline", "code-1"), consents, apis)
    assert apis.codes_used == []


def test_a_simultaneous_bind_of_the_same_account_that_won_is_the_answer(consents, apis):
    def the_other_request_wins():
        consents.before_write = None
        bind(BindPartner("u1", "transit", "code-1"), consents, FakePartnerApis())

    consents.before_write = the_other_request_wins
    state = bind(BindPartner("u1", "transit", "code-1"), consents, apis)

    assert state.status == "bound" and state == ConsentState("transit", "bound", consents.get("u1", "transit").bound_at)
    assert consents.writes == 1  # the loser wrote nothing


def test_revoking_frees_the_account_closes_the_period_and_tells_the_partner(consents, apis):
    bind(BindPartner("u1", "transit", "code-1"), consents, apis)

    assert revoke("u1", "transit", consents, apis) == ConsentState("transit", "revoked")

    stored = consents.get("u1", "transit")
    assert stored.status == "revoked" and stored.periods[-1][1] == stored.revoked_at
    assert consents.holder("transit", "ref-1") is None
    assert apis.client("transit").revoked == ["auth-1"]
    assert stored.revocation_pending is None and stored.pending_authorization_id is None
    assert [h["event"] for h in stored.history] == ["bound", "revoked", "revoked_at_partner"]


def test_revoking_again_answers_the_same_and_tells_the_partner_once(consents, apis):
    bind(BindPartner("u1", "bank", "code-1"), consents, apis)
    revoke("u1", "bank", consents, apis)

    assert revoke("u1", "bank", consents, apis) == ConsentState("bank", "revoked")
    assert apis.client("bank").revoked == ["auth-1"]


def test_revoking_a_partner_never_bound_is_not_found(consents, apis):
    with pytest.raises(NotFoundError):
        revoke("u1", "transit", consents, apis)


def test_a_partner_down_hears_of_the_revocation_from_the_job_once_it_is_back(consents, apis):
    bind(BindPartner("u1", "transit", "code-1"), consents, apis)
    apis.client("transit").down = True

    assert revoke("u1", "transit", consents, apis).status == "revoked"  # revoked here at once
    assert consents.get("u1", "transit").pending_authorization_id == "auth-1"
    assert retry_revocations(datetime(2026, 12, 2), consents, apis) == {"told": 0, "left": 1}

    apis.client("transit").down = False
    assert retry_revocations(datetime(2026, 12, 2), consents, apis) == {"told": 1, "left": 0}
    assert apis.client("transit").revoked == ["auth-1"]
    assert consents.pending("transit") == []


def test_a_pending_revocation_is_finished_before_binding_anew_unless_another_user_took_the_account(consents, apis):
    bind(BindPartner("u1", "transit", "code-1"), consents, apis)
    apis.client("transit").down = True
    revoke("u1", "transit", consents, apis)
    apis.client("transit").down = False
    bind(BindPartner("u2", "transit", "code-1"), consents, apis)  # the partner account is u2's now

    bind(BindPartner("u1", "transit", "code-2"), consents, apis)

    assert apis.client("transit").revoked == []  # auth-1 was not u1's to revoke any more
    assert consents.get("u1", "transit").partner_ref == "ref-2"


def test_binding_keeps_a_bank_cursor_for_the_same_account_and_a_bus_cursor_never():
    before = Consent("u1", "bank", partner_ref="ref-1", cursor="c-9", version=3)

    kept = rules.bound(before, "u1", "bank", "ref-1", "auth-2", "2026-12-02T09:00:00.000+08:00", False)
    other = rules.bound(before, "u1", "bank", "ref-2", "auth-2", "2026-12-02T09:00:00.000+08:00", False)
    transit = rules.bound(replace(before, partner="transit"), "u1", "transit", "ref-1", "auth-2",
                          "2026-12-02T09:00:00.000+08:00", True)

    assert (kept.cursor, other.cursor, transit.cursor) == ("c-9", None, None)
    assert kept.version == 4


def test_a_revocation_keeps_the_bank_cursor_for_the_same_account_bound_again(consents, apis):
    bind(BindPartner("u1", "bank", "code-1"), consents, apis)
    consents.items[("u1", "bank")] = replace(consents.get("u1", "bank"), cursor="c-9")
    revoke("u1", "bank", consents, apis)

    assert consents.get("u1", "bank").cursor == "c-9"
    bind(BindPartner("u1", "bank", "code-1"), consents, apis)
    assert consents.get("u1", "bank").cursor == "c-9" and len(consents.get("u1", "bank").periods) == 2


def test_deleting_an_account_revokes_every_bound_consent(consents, apis, monkeypatch):
    from chalicelib.services import consent

    monkeypatch.setattr(consent, "PartnerApis", lambda: apis)
    bind(BindPartner("u1", "transit", "code-1"), consents, apis)
    bind(BindPartner("u1", "bank", "code-1"), consents, apis)
    revoke("u1", "bank", consents, apis)

    assert revoke_all("u1", consents) == ["transit"]
    assert {c.status for c in consents.of_user("u1")} == {"revoked"}
