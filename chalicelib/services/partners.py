"""The partners a user can let share data with us, their clients, and what the user sees of their consents."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..domain.consents import REVOKED, UNBOUND, Consent, PartnerConsent
from ..domain.platforms import DEFAULT
from ..errors import UnknownPartnerError, WeChatUnavailableError
from ..partners import bank, transit, wechat_phone
from ..partners.transit import Binding, Page
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


def partner(partner_id: object, platform: str = DEFAULT) -> Partner:
    """The partner of that id, if `platform` works with it (its catalog entry's `partners`; `default` works with
    every partner); 404 UNKNOWN_PARTNER otherwise, as for a partner that does not exist."""
    found = PARTNERS.get(partner_id) if isinstance(partner_id, str) else None
    if found is not None and found.id not in partners_of(platform):
        found = None
    if found is None:
        raise UnknownPartnerError(partner=partner_id if isinstance(partner_id, str) else None)
    return found


def partners_of(platform: str) -> tuple[str, ...]:
    """The ids of the partners `platform` works with (no read for `default`)."""
    if platform == DEFAULT:
        return tuple(PARTNERS)
    from .platforms import platform as platform_of

    return tuple(p for p in PARTNERS if p in platform_of(platform).partners)


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


class PartnerApis:
    """The partners' clients and WeChat's verified phone number, over HTTP (tests/unit pass fakes)."""

    @staticmethod
    def client(partner_id: str) -> PartnerClient:
        return client(partner_id)

    @staticmethod
    def phone_number(code: str, platform: str = DEFAULT) -> str:
        """The verified phone of `platform`'s mini program's phone-number code (`default`'s: WECHAT_APPID's);
        WECHAT_UNAVAILABLE when that platform's AppSecret is not set (WeChat is not asked)."""
        if platform == DEFAULT:
            return wechat_phone.phone_number(code)
        from .platforms import wechat_credentials

        appid, secret = wechat_credentials(platform)
        if not appid or not secret:
            raise WeChatUnavailableError()
        return wechat_phone.phone_number(code, (appid, secret))


def list_partners(user_id: str, consents: Any, platform: str = DEFAULT) -> list[PartnerConsent]:
    """GET /v1/partners: every partner the caller's platform works with, with the caller's consent status (one
    Query)."""
    found = {c.partner: c for c in consents.of_user(user_id)}
    listed = []
    for spec in (PARTNERS[p] for p in partners_of(platform)):
        consent = found.get(spec.id)
        status = consent.status if consent else UNBOUND
        listed.append(PartnerConsent(spec.id, spec.name, spec.scopes, status, consent.bound_at if consent else None,
                                     consent.revoked_at if consent and status == REVOKED else None))
    return listed


def export(user_id: str) -> list[Consent]:
    """For services/export.py: the caller's consents and their history (api/shapes_consent.py's JSON)."""
    from ..bootstrap import consents

    return consents().of_user(user_id)
