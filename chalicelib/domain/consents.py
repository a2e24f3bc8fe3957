"""A user's consent to a partner sharing their data, and how binding and revoking change it. Pure.

`periods` lists [bound_at, revoked_at | None]: partner data counts only when its own time falls inside one
of them and the consent is bound now. `history` keeps every change for the user's export. Every change
is a new version of the consent, written on the condition that the version read is still the stored one
(store/repositories_consent.py). The phone number is never kept: only the partner's reference.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from . import persons
from .platforms import DEFAULT
from .values import immutable

BOUND, REVOKED, UNBOUND = "bound", "revoked", "unbound"
TAKEN, CHANGED = "taken", "changed"  # a bind refused: the partner account is another user's; the consent changed


@immutable
class Consent:
    user_id: str
    partner: str
    status: str = REVOKED
    partner_ref: str | None = None
    authorization_id: str | None = None
    bound_at: str | None = None
    revoked_at: str | None = None
    cursor: str | None = None
    periods: tuple = ()
    history: tuple = ()
    revocation_pending: str | None = None  # the partner id while the partner has not heard of the revocation
    pending_authorization_id: str | None = None
    version: int = 0

    @property
    def is_bound(self) -> bool:
        return self.status == BOUND


@immutable
class BindPartner:
    """PUT /v1/partners/{id}/consent: the one-time code of WeChat's phone-number button."""

    user_id: str
    partner_id: str
    phone_code: str
    platform: str = DEFAULT


@immutable
class Holder:
    """Who binds a partner account: a user of a platform, the person it is, and that person's `default` user (which
    may hold a link of before persons by its `user_id` alone; None when the person has none)."""

    user_id: str
    platform: str
    person_id: str
    default_user: str | None


def holder_of(account: Any, user_id: str, platform: str) -> Holder:
    """The holder a bind of `account`'s user claims the partner account for (a missing account: its own person)."""
    if account is None:
        return Holder(user_id, platform, persons.derived_person_id(user_id), user_id if platform == DEFAULT else None)
    default_user = user_id if platform == DEFAULT else persons.peers_of(account).get(DEFAULT)
    return Holder(user_id, platform, persons.person_of(account), default_user)


@immutable
class ConsentState:
    """What the user sees of one consent after binding or revoking."""

    partner: str
    status: str
    bound_at: str | None = None


@immutable
class PartnerConsent:
    """A partner as GET /v1/partners lists it, with the caller's consent status."""

    id: str
    name: str
    scopes: tuple[str, ...]
    status: str
    bound_at: str | None
    revoked_at: str | None
    # How the mini program links the user: `phone` (the phone-number button, PUT .../consent) for the built-in
    # partners, `link_code` (POST .../link-code, handed to the partner's own mini program) for open-protocol ones.
    link: str = "phone"


def bound(before: Consent | None, user_id: str, partner: str, partner_ref: str, authorization_id: str,
          now: str, cursor_per_authorization: bool) -> Consent:
    """The consent bound to the partner account `partner_ref` from `now`. A partner whose cursors are event
    ids (the bank) keeps the cursor when the same account is bound again; one whose cursors start at an
    authorization (the bus company) starts afresh."""
    keep_cursor = before and not cursor_per_authorization and before.partner_ref == partner_ref
    return Consent(user_id, partner, status=BOUND, partner_ref=partner_ref, authorization_id=authorization_id,
                   bound_at=now, cursor=before.cursor if keep_cursor else None,
                   periods=(*(before.periods if before else ()), [now, None]),
                   history=(*(before.history if before else ()),
                            {"at": now, "event": "bound", "partner_ref": partner_ref}),
                   version=(before.version if before else 0) + 1)


def revoked(consent: Consent, now: str) -> Consent:
    """Revoked here at `now`: its open period closes, and the partner still has to hear of it. The cursor is
    kept: `bound` hands it on when the same partner account is bound again (events are pulled after it; those
    of the revoked gap are refused by the periods)."""
    periods = [list(p) for p in consent.periods]
    if periods and periods[-1][1] is None:
        periods[-1][1] = now
    return Consent(consent.user_id, consent.partner, status=REVOKED, partner_ref=consent.partner_ref,
                   authorization_id=consent.authorization_id, bound_at=consent.bound_at, revoked_at=now,
                   cursor=consent.cursor, periods=tuple(periods),
                   history=(*consent.history, {"at": now, "event": "revoked"}),
                   revocation_pending=consent.partner, pending_authorization_id=consent.authorization_id,
                   version=consent.version + 1)


def told(consent: Consent, now: str) -> Consent:
    """The partner has revoked the authorization too: nothing is pending any more."""
    return replace(consent, revocation_pending=None, pending_authorization_id=None, version=consent.version + 1,
                   history=(*consent.history, {"at": now, "event": "revoked_at_partner"}))
