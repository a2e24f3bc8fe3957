"""The partners a user can let share data with us, their clients, and what the user sees of their consents."""
from __future__ import annotations

from typing import Any, Protocol

from ..domain.consents import REVOKED, UNBOUND, Consent, PartnerConsent
from ..domain.open_partners import PROTOCOL, OpenPartner, from_catalog, usable_secret
from ..domain.platforms import DEFAULT
from ..domain.values import immutable
from ..errors import UnknownPartnerError, WeChatUnavailableError
from ..partners import bank, open_protocol, transit, wechat_phone
from ..partners.transit import Binding, Page
from ..settings import get_settings
from ..store.shared_token import SharedToken
from . import catalog


class PartnerClient(Protocol):
    def authorize(self, phone: str) -> Binding: ...

    def revoke(self, authorization_id: str) -> None: ...

    def page(self, partner_ref: str, cursor: str | None) -> Page: ...


@immutable
class Partner:
    id: str
    name: str
    scopes: tuple[str, ...]
    cursor_per_authorization: bool  # transit cursors start at an authorization; bank ones are event ids
    protocol: str | None = None  # "open-v1" for a partner of the open protocol (its catalog entry); None: built in

    @property
    def is_open(self) -> bool:
        return self.protocol == PROTOCOL


PARTNERS = {
    "transit": Partner("transit", "泸州公交", ("rides",), cursor_per_authorization=True),
    "bank": Partner("bank", "合作银行绿色金融", ("green_events",), cursor_per_authorization=False),
}
_bank_tokens: SharedToken | None = None


def partner(partner_id: object, platform: str = DEFAULT) -> Partner:
    """The partner of that id, built in or of the open protocol (a catalog entry with a usable secret), if
    `platform` works with it (its catalog entry's `partners`; `default` works with every partner); 404
    UNKNOWN_PARTNER otherwise, as for a partner that does not exist."""
    found = None
    if isinstance(partner_id, str):
        found = PARTNERS.get(partner_id) or _open(partner_id)
    if found is not None and platform != DEFAULT and found.id not in partners_of(platform):
        found = None
    if found is None:
        raise UnknownPartnerError(partner=partner_id if isinstance(partner_id, str) else None)
    return found


def _open(partner_id: str) -> Partner | None:
    """An open-protocol partner of the catalog whose secret is set and long enough (open-protocol.md: else it
    is unknown). The catalog is cached a minute per container."""
    data = catalog.open_partners().get(partner_id)
    if data is None or not usable_secret(get_settings().partner_secret_of(partner_id)):
        return None
    return Partner(data["id"], data["name"], tuple(data["scopes"]), cursor_per_authorization=False,
                   protocol=PROTOCOL)


def open_partner(partner_id: str) -> OpenPartner:
    """The open-protocol partner's entry, with its event mappings (UNKNOWN_PARTNER unless `partner` finds it)."""
    spec = partner(partner_id)
    if not spec.is_open:
        raise UnknownPartnerError(partner=partner_id)
    return mappings(spec)


def mappings(spec: Partner) -> OpenPartner:
    """The event mappings of an open-protocol partner `partner` has found (its catalog entry, cached)."""
    return from_catalog(catalog.open_partners()[spec.id])


def every_partner_id() -> tuple[str, ...]:
    """The ids of every partner: the built-in ones, then the catalog's open-protocol ones (usable or not)."""
    return (*PARTNERS, *sorted(catalog.open_partners()))


def partners_of(platform: str) -> tuple[str, ...]:
    """The ids of the partners `platform` works with (for `default`: every partner, the catalog's cached)."""
    if platform == DEFAULT:
        return every_partner_id()
    from .platforms import platform as platform_of

    return tuple(p for p in every_partner_id() if p in platform_of(platform).partners)


def client(partner_id: str) -> PartnerClient:
    """The partner's client; PARTNER_UNAVAILABLE when this stage is not configured for it."""
    global _bank_tokens
    if partner_id == "transit":
        return transit.client()
    if partner_id != "bank":
        spec = open_partner(partner_id)
        return open_protocol.OpenClient(spec.id, spec.revoke_url, get_settings().partner_secret_of(spec.id) or "")
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
    def partner_ids() -> tuple[str, ...]:
        return every_partner_id()

    @staticmethod
    def partner(partner_id: object, platform: str = DEFAULT) -> Partner:
        return partner(partner_id, platform)

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
    specs = (PARTNERS.get(p) or _open(p) for p in partners_of(platform))  # an open one without its secret: None
    for spec in (spec for spec in specs if spec is not None):
        consent = found.get(spec.id)
        status = consent.status if consent else UNBOUND
        listed.append(PartnerConsent(spec.id, spec.name, spec.scopes, status, consent.bound_at if consent else None,
                                     consent.revoked_at if consent and status == REVOKED else None,
                                     "link_code" if spec.is_open else "phone"))
    return listed


def export(user_id: str) -> list[Consent]:
    """For services/export.py: the caller's consents and their history (api/shapes_consent.py's JSON)."""
    from ..bootstrap import consents

    return consents().of_user(user_id)
