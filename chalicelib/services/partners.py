"""The partners a user can let share data with us, their clients, and what the user sees of their consents."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..errors import UnknownPartnerError
from ..partners import bank, transit
from ..partners.transit import Binding, Page
from ..store.partners import Consent
from ..store.shared_token import SharedToken


class PartnerClient(Protocol):
    def authorize(self, phone: str) -> Binding: ...

    def revoke(self, authorization_id: str) -> None: ...

    def page(self, partner_ref: str, cursor: str | None) -> Page: ...


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    scopes: tuple[str, ...]
    cursor_per_authorization: bool  # transit cursors start at an authorization; bank ones are event ids


PARTNERS = {
    "transit": Partner("transit", "泸州公交", ("rides",), cursor_per_authorization=True),
    "bank": Partner("bank", "合作银行绿色金融", ("green_events",), cursor_per_authorization=False),
}
_bank_tokens: SharedToken | None = None


def partner(partner_id: object) -> Partner:
    found = PARTNERS.get(partner_id) if isinstance(partner_id, str) else None
    if found is None:
        raise UnknownPartnerError(partner=partner_id if isinstance(partner_id, str) else None)
    return found


def client(partner_id: str) -> PartnerClient:
    """The partner's client; PARTNER_UNAVAILABLE when this stage is not configured for it."""
    global _bank_tokens
    if partner_id == "transit":
        return transit.client()
    configured = bank.configured()
    if _bank_tokens is None:
        _bank_tokens = SharedToken("bank", configured.fetch_token)
    configured.tokens = _bank_tokens
    return configured


def bank_tokens() -> SharedToken | None:
    """This container's shared bank token (None before the first bank call)."""
    return _bank_tokens


def consent_of(user_id: str, partner_id: str) -> Consent | None:
    try:
        return Consent.get(user_id, partner_id, consistent_read=True)
    except Consent.DoesNotExist:
        return None


def list_partners(user_id: str) -> dict:
    """GET /v1/partners: every partner with the caller's consent status (one Query)."""
    consents = {c.partner: c for c in Consent.query(user_id)}
    items = []
    for spec in PARTNERS.values():
        consent = consents.get(spec.id)
        status = consent.status if consent else "unbound"
        items.append({"id": spec.id, "name": spec.name, "scopes": list(spec.scopes), "status": status,
                      "bound_at": consent.bound_at if consent else None,
                      "revoked_at": consent.revoked_at if consent and status == "revoked" else None})
    return {"items": items, "next_cursor": None}


def export(user_id: str) -> list[dict]:
    """The caller's consents and their history, for GET /v1/me/export."""
    return [{"id": c.partner, "status": c.status, "bound_at": c.bound_at, "revoked_at": c.revoked_at,
             "history": list(c.history or [])} for c in Consent.query(user_id)]
