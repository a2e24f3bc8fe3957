"""Binding and revoking a partner (PUT / DELETE /v1/partners/{id}/consent), and the revocations a partner
that was down still has to hear about.

Binding trusts only the phone WeChat verified (the phone-number button's code), hands it to the partner,
and keeps only the partner's reference: the phone is neither stored nor logged. The partner account is
claimed for this user in the transaction that binds the consent (`PartnerLink`), so two users can never
hold it. Revoking takes effect here at once; the partner is told now, or by `retry_revocations` later.
"""
from __future__ import annotations

import logging
from datetime import datetime

from pynamodb.exceptions import UpdateError

from ..domain import clock
from ..errors import (
    NotFoundError,
    PartnerAccountTakenError,
    PartnerUnavailableError,
    ServiceUnavailableError,
    ValidationError,
)
from ..partners import wechat_phone
from ..partners.transit import Binding
from ..store.partners import Consent, PartnerLink
from ..store.tx import Tx, TxCancelledError
from .partners import PARTNERS, Partner, client, consent_of, partner
from .posting import load_account
from .tokens import Caller

log = logging.getLogger(__name__)
ATTEMPTS = 3


def bound_json(consent: Consent) -> dict:
    return {"id": consent.partner, "status": "bound", "bound_at": consent.bound_at}


def bind(caller: Caller, partner_id: str, body: dict) -> dict:
    spec = partner(partner_id)
    code = body.get("phone_code")
    if not isinstance(code, str) or not 1 <= len(code) <= 128:
        raise ValidationError("phone_code 须为手机号按钮返回的 code", field="phone_code")
    partner_client = client(spec.id)  # a stage without the partner fails before the one-time code is spent
    consent = consent_of(caller.user_id, spec.id)
    if consent and consent.status == "bound":
        return bound_json(consent)
    load_account(caller.user_id)  # a token that outlived its deleted account binds nothing (services/erasure.py)
    phone = wechat_phone.phone_number(code)
    if consent and consent.pending_authorization_id:  # finish the old revocation before binding anew
        _revoke_at_partner(consent)
    binding = partner_client.authorize(phone)
    for _ in range(ATTEMPTS):
        try:
            return bound_json(_store_binding(caller.user_id, spec, consent, binding))
        except TxCancelledError as cancelled:
            if "link" in cancelled.failed:
                raise PartnerAccountTakenError(partner=spec.id) from None
        consent = consent_of(caller.user_id, spec.id)
        if consent and consent.status == "bound" and consent.partner_ref == binding.partner_ref:
            return bound_json(consent)  # a simultaneous bind of the same account won
    raise ServiceUnavailableError()


def _store_binding(user_id: str, spec: Partner, consent: Consent | None, binding: Binding) -> Consent:
    now = clock.iso(clock.now())
    link_key = f"{spec.id}#{binding.partner_ref}"
    keep_cursor = consent and not spec.cursor_per_authorization and consent.partner_ref == binding.partner_ref
    version = int(consent.version) if consent else 0
    after = Consent(user_id, spec.id, status="bound", partner_ref=binding.partner_ref,
                    authorization_id=binding.authorization_id, bound_at=now,
                    cursor=consent.cursor if keep_cursor else None,
                    periods=[*(consent.periods if consent else []), [now, None]],
                    history=[*(consent.history if consent else []),
                             {"at": now, "event": "bound", "partner_ref": binding.partner_ref}],
                    version=version + 1)
    tx = Tx()
    tx.put("consent", after, condition=Consent.user_id.does_not_exist() if consent is None
           else Consent.version == version)
    tx.update("link", PartnerLink(link_key), actions=[PartnerLink.user_id.set(user_id), PartnerLink.bound_at.set(now),
                                                      PartnerLink.released_at.remove()],
              condition=PartnerLink.user_id.does_not_exist() | (PartnerLink.user_id == user_id))
    tx.commit()
    return after


def revoke(caller: Caller, partner_id: str) -> dict:
    """Revoked here at once (nothing of this user is ingested from now on); the partner is told now or later."""
    spec = partner(partner_id)
    for _ in range(ATTEMPTS):
        consent = consent_of(caller.user_id, spec.id)
        if consent is None:
            raise NotFoundError()
        if consent.status != "bound":
            return {"id": spec.id, "status": "revoked"}
        try:
            revoked = _store_revocation(consent)
        except TxCancelledError:
            continue
        _tell_partner(revoked)
        return {"id": spec.id, "status": "revoked"}
    raise ServiceUnavailableError()


def _store_revocation(consent: Consent) -> Consent:
    now = clock.iso(clock.now())
    version = int(consent.version)
    periods = [list(p) for p in consent.periods or []]
    if periods and periods[-1][1] is None:
        periods[-1][1] = now
    after = Consent(consent.user_id, consent.partner, status="revoked", partner_ref=consent.partner_ref,
                    authorization_id=consent.authorization_id, bound_at=consent.bound_at, revoked_at=now,
                    periods=periods, history=[*(consent.history or []), {"at": now, "event": "revoked"}],
                    revocation_pending=consent.partner, pending_authorization_id=consent.authorization_id,
                    version=version + 1)
    tx = Tx()
    tx.put("consent", after, condition=Consent.version == version)
    tx.update("link", PartnerLink(f"{consent.partner}#{consent.partner_ref}"),
              actions=[PartnerLink.user_id.remove(), PartnerLink.released_at.set(now)],
              condition=PartnerLink.user_id == consent.user_id)
    try:
        tx.commit()
    except TxCancelledError as cancelled:
        if set(cancelled.failed) != {"link"}:
            raise
        only_consent = Tx()  # the link was already free: revoke the consent alone
        only_consent.put("consent", after, condition=Consent.version == version)
        only_consent.commit()
    return after


def _revoke_at_partner(consent: Consent) -> None:
    """DELETE the pending authorization at the partner, unless another user has bound that partner account
    since (the partner then answered them with the same authorization, which is theirs now)."""
    try:
        link = PartnerLink.get(f"{consent.partner}#{consent.partner_ref}", consistent_read=True)
        taken_over = bool(link.user_id and link.user_id != consent.user_id)
    except PartnerLink.DoesNotExist:
        taken_over = False
    if not taken_over:
        client(consent.partner).revoke(consent.pending_authorization_id)


def _tell_partner(consent: Consent) -> bool:
    """Revokes at the partner and clears the pending marker; False (left for the job) when it is down."""
    authorization_id = consent.pending_authorization_id
    try:
        _revoke_at_partner(consent)
    except PartnerUnavailableError:
        log.warning("%s revocation left for retry", consent.partner)
        return False
    now = clock.iso(clock.now())
    for _ in range(ATTEMPTS):
        if consent is None or consent.pending_authorization_id != authorization_id:
            return True
        try:
            consent.update(actions=[
                Consent.revocation_pending.remove(), Consent.pending_authorization_id.remove(),
                Consent.history.set([*(consent.history or []), {"at": now, "event": "revoked_at_partner"}]),
                Consent.version.set(int(consent.version) + 1)], condition=Consent.version == int(consent.version))
            return True
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            consent = consent_of(consent.user_id, consent.partner)  # a concurrent change: read again
    return False


def retry_revocations(now: datetime) -> dict:
    """The job: tell partners about revocations they missed while down (sparse index, no scan)."""
    told = left = 0
    for partner_id in PARTNERS:
        for consent in Consent.pending_revocations.query(partner_id):
            if _tell_partner(consent_of(consent.user_id, partner_id) or consent):
                told += 1
            else:
                left += 1
    return {"told": told, "left": left}


def revoke_all(user_id: str) -> list[str]:
    """Every bound consent of a user, revoked (for DELETE /v1/me)."""
    caller = Caller(user_id, ("user",))
    return [revoke(caller, c.partner)["id"] for c in Consent.query(user_id) if c.status == "bound"]
