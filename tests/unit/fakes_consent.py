"""In-memory consents and partners, for fast tests of the consent use cases (services/consent.py) only.

They keep store/repositories_consent.py's promises: a bind or a revocation is written whole or not at all,
conditioned on the consent's version read and on who holds the partner account's link. Whether DynamoDB
keeps them (transactions, races) is tested against DynamoDB Local: tests/integration/test_consent.py,
tests/races/test_partner_races.py.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from chalicelib.domain.consents import BOUND, CHANGED, TAKEN, Consent
from chalicelib.errors import AccountDeletedError, PartnerUnavailableError
from chalicelib.partners.transit import Binding


class InMemoryConsents:
    """`before_write`: called before each bind or revocation is checked, to land a concurrent change."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Consent] = {}
        self.links: dict[str, str] = {}  # "{partner}#{partner_ref}" -> the user holding it
        self.deleted: set[str] = set()
        self.writes = 0
        self.before_write: Callable[[], None] | None = None

    def get(self, user_id: str, partner: str) -> Consent | None:
        return self.items.get((user_id, partner))

    def holder(self, partner: str, partner_ref: str | None) -> str | None:
        return self.links.get(f"{partner}#{partner_ref}")

    def holders(self, partner: str, partner_ref: str | None) -> set[str]:
        holder = self.holder(partner, partner_ref)
        return {holder} if holder else set()

    def mark_told(self, before: Consent, after: Consent) -> bool:
        return self._put_if_unchanged(before, after)

    def pending(self, partner: str) -> list[Consent]:
        return [c for c in self.items.values() if c.revocation_pending == partner]

    def of_user(self, user_id: str) -> list[Consent]:
        return [c for (user, _), c in sorted(self.items.items()) if user == user_id]

    def refuse_deleted(self, user_id: str) -> None:
        if user_id in self.deleted:
            raise AccountDeletedError()

    def bind(self, before: Consent | None, after: Consent, holder: object = None) -> str:
        if self.before_write:
            self.before_write()
        link = f"{after.partner}#{after.partner_ref}"
        if self.links.get(link, after.user_id) != after.user_id:
            return TAKEN
        if not self._put_if_unchanged(before, after):
            return CHANGED
        self.links[link] = after.user_id
        return BOUND

    def revoke(self, before: Consent, after: Consent, platform: str = "default") -> bool:
        if self.before_write:
            self.before_write()
        if not self._put_if_unchanged(before, after):
            return False
        link = f"{before.partner}#{before.partner_ref}"
        if self.links.get(link) == before.user_id:
            del self.links[link]
        return True

    def _put_if_unchanged(self, before: Consent | None, after: Consent) -> bool:
        stored = self.items.get((after.user_id, after.partner))
        if (stored is None) != (before is None) or (stored and stored.version != before.version):
            return False
        self.items[(after.user_id, after.partner)] = after
        self.writes += 1
        return True


@dataclass
class FakePartnerClient:
    """A partner that authorizes each phone as its own account ("ref-1", "ref-2" ... in order of first sight)
    and records revocations."""

    refs: dict[str, str] = field(default_factory=dict)
    down: bool = False
    authorized: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)

    def authorize(self, phone: str) -> Binding:
        if self.down:
            raise PartnerUnavailableError()
        self.authorized.append(phone)
        return Binding(f"auth-{len(self.authorized)}", self.refs.setdefault(phone, f"ref-{len(self.refs) + 1}"))

    def revoke(self, authorization_id: str) -> None:
        if self.down:
            raise PartnerUnavailableError()
        self.revoked.append(authorization_id)


@dataclass
class FakePartnerApis:
    """The partners and WeChat's phone-number check: a phone code "code-N" is the phone "N"."""

    clients: dict[str, FakePartnerClient] = field(
        default_factory=lambda: {"transit": FakePartnerClient(), "bank": FakePartnerClient()})
    codes_used: list[str] = field(default_factory=list)

    def client(self, partner_id: str) -> FakePartnerClient:
        return self.clients[partner_id]

    def partner_ids(self) -> tuple[str, ...]:
        return tuple(self.clients)

    def partner(self, partner_id: object, platform: str = "default"):
        """The built-in partners only (the catalog's open-protocol ones are the integration tests')."""
        from chalicelib.errors import UnknownPartnerError
        from chalicelib.services.partners import PARTNERS

        if partner_id not in PARTNERS:
            raise UnknownPartnerError(partner=partner_id)
        return PARTNERS[partner_id]

    def phone_number(self, code: str, platform: str = "default") -> str:
        self.codes_used.append(code)
        return code.removeprefix("code-")
