"""Binding and revoking a partner (PUT / DELETE /v1/partners/{id}/consent), and the revocations a partner
that was down still has to hear about.

Binding trusts only the phone WeChat verified (the phone-number button's code), hands it to the partner,
and keeps only the partner's reference: the phone is neither stored nor logged. The partner account is
claimed for this user's person in the transaction that binds the consent (store/repositories_consent.Bindings),
so two persons can never hold it; one person may, on each platform that works with the partner (the phone code
is then the platform's mini program's). Revoking takes effect here at once, on the caller's platform only; the
partner is told now, or by `retry_revocations` later, and only once no user of any platform holds the partner
account any more (until then the authorization serves the others). The consent's rules are domain/consents.py's;
`consents` is the repository (bootstrap.consents(); tests/unit/fakes_consent.py in unit tests), `apis` the partners
and WeChat over HTTP.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from ..domain import clock
from ..domain import consents as rules
from ..domain.consents import BindPartner, Consent, ConsentState
from ..domain.platforms import DEFAULT
from ..errors import (
    LinkByCodeError,
    NotFoundError,
    PartnerAccountTakenError,
    PartnerUnavailableError,
    ServiceUnavailableError,
    UnknownPartnerError,
    ValidationError,
)
from .partners import PartnerApis

log = logging.getLogger(__name__)
ATTEMPTS = 3


def bind(command: BindPartner, consents: Any, apis: Any = None) -> ConsentState:
    """Binds the partner account of the phone WeChat verified; binding again answers the same. A partner
    account another user holds is PARTNER_ACCOUNT_TAKEN; a deleted account binds nothing."""
    apis = apis or PartnerApis()
    spec = apis.partner(command.partner_id, command.platform)
    if spec.is_open:  # linked by a link code in the partner's mini program (services/open_links.py)
        raise LinkByCodeError(partner=spec.id)
    code = command.phone_code
    if not isinstance(code, str) or not 1 <= len(code) <= 128:
        raise ValidationError("phone_code 须为手机号按钮返回的 code", field="phone_code")
    partner_client = apis.client(spec.id)  # a stage without the partner fails before the one-time code is spent
    consent = consents.get(command.user_id, spec.id)
    if consent and consent.is_bound:
        return _state(consent)
    holder = rules.holder_of(consents.refuse_deleted(command.user_id), command.user_id, command.platform)
    phone = apis.phone_number(code, command.platform)
    if consent and consent.pending_authorization_id:  # finish the old revocation before binding anew
        _revoke_at_partner(consent, consents, apis)
    binding = partner_client.authorize(phone)
    for _ in range(ATTEMPTS):
        after = rules.bound(consent, command.user_id, spec.id, binding.partner_ref, binding.authorization_id,
                            clock.iso(clock.now()), spec.cursor_per_authorization)
        outcome = consents.bind(consent, after, holder)
        if outcome == rules.BOUND:
            return _state(after)
        if outcome == rules.TAKEN:
            raise PartnerAccountTakenError(partner=spec.id)
        consent = consents.get(command.user_id, spec.id)
        if consent and consent.is_bound and consent.partner_ref == binding.partner_ref:
            return _state(consent)  # a simultaneous bind of the same account won
    raise ServiceUnavailableError()


def _state(consent: Consent) -> ConsentState:
    return ConsentState(consent.partner, consent.status, consent.bound_at)


def revoke(user_id: str, partner_id: str, consents: Any, apis: Any = None, platform: str = DEFAULT) -> ConsentState:
    """Revoked here at once (nothing of this user is ingested from now on); the partner is told now or later,
    unless another platform's user of the person still holds the partner account. NOT_FOUND when the user never
    bound the partner; revoking again answers the same."""
    apis = apis or PartnerApis()
    spec = apis.partner(partner_id, platform)
    return _revoke_consent(user_id, spec.id, consents, apis, platform)


def _revoke_consent(user_id: str, partner_id: str, consents: Any, apis: Any, platform: str) -> ConsentState:
    """The revocation itself: the consent revoked and `platform`'s holder released in one write, then the
    partner told (now, or by the job)."""
    for _ in range(ATTEMPTS):
        consent = consents.get(user_id, partner_id)
        if consent is None:
            raise NotFoundError()
        if not consent.is_bound:
            return ConsentState(partner_id, rules.REVOKED)
        revoked = rules.revoked(consent, clock.iso(clock.now()))
        if consents.revoke(consent, revoked, platform):
            _tell_partner(revoked, consents, apis)
            return ConsentState(partner_id, rules.REVOKED)
    raise ServiceUnavailableError()


def _revoke_at_partner(consent: Consent, consents: Any, apis: Any) -> None:
    """DELETE the pending authorization at the partner, unless another user holds that partner account now:
    another person who bound it since, or the same person on another platform (the partner answered them with
    the same authorization, which serves them now; the last of them to revoke tells the partner)."""
    if not consents.holders(consent.partner, consent.partner_ref) - {consent.user_id}:
        apis.client(consent.partner).revoke(consent.pending_authorization_id)


def _tell_partner(consent: Consent | None, consents: Any, apis: Any) -> bool:
    """Revokes at the partner and clears the pending marker; False (left for the job) when it is down, or when
    this stage has no client for it any more (an open-protocol partner the catalog no longer lists or whose
    secret is unset: told by the job once it has one again)."""
    authorization_id = consent.pending_authorization_id
    try:
        _revoke_at_partner(consent, consents, apis)
    except (PartnerUnavailableError, UnknownPartnerError):
        log.warning("%s revocation left for retry", consent.partner)
        return False
    now = clock.iso(clock.now())
    for _ in range(ATTEMPTS):
        if consent is None or consent.pending_authorization_id != authorization_id:
            return True
        if consents.mark_told(consent, rules.told(consent, now)):
            return True
        consent = consents.get(consent.user_id, consent.partner)  # a concurrent change: read again
    return False


def pending_revocations() -> Any:
    """The job's repository (imported here: the routes do not load it)."""
    from ..store.repositories_consent import PendingRevocations

    return PendingRevocations()


def retry_revocations(now: datetime, store: Any = None, apis: Any = None) -> dict:
    """The job: tell partners about revocations they missed while down (sparse index, no scan). Its report
    counts the partners told and the revocations left for the next run."""
    store, apis = store or pending_revocations(), apis or PartnerApis()
    told = left = 0
    for partner_id in apis.partner_ids():
        for consent in store.pending(partner_id):
            if _tell_partner(store.get(consent.user_id, partner_id) or consent, store, apis):
                told += 1
            else:
                left += 1
    return {"told": told, "left": left}


def revoke_all(user_id: str, consents: Any = None, platform: str = DEFAULT, apis: Any = None) -> list[str]:
    """Every bound consent of a user of `platform`, revoked (an account's deletion), each releasing that
    platform's holder of its partner account; the partners revoked. Whatever `platform`'s catalog lists now: a
    partner it no longer works with (or no longer known at all) is revoked here and released all the same, and
    told as any revocation is (now if this stage has its client, else by the job)."""
    if consents is None:
        from ..store.repositories_consent import Consents

        consents = Consents()
    apis = apis or PartnerApis()
    return [_revoke_consent(user_id, c.partner, consents, apis, platform).partner
            for c in consents.of_user(user_id) if c.is_bound]
