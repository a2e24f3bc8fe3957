"""In-memory partner repositories and unit of work (store/dynamo_uow_partners.py's promises), for fast tests
of the ingest and WeChat Sports use cases only: links, consents, seen events, replay guards, session keys.
Whether DynamoDB keeps those promises is tested against DynamoDB Local (tests/integration, tests/races)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from chalicelib.domain.guards_ingest import ConsentStillBound, EventUnseen
from chalicelib.domain.partner_events import Sighting
from tests.unit.fakes import FakeAccount, InMemoryAccounts, InMemoryPostingUnitOfWork


@dataclass
class FakePartnerAccount(FakeAccount):
    identity_key: str | None = None  # where the session_key of the latest login is (WeChat Sports)


@dataclass
class FakeConsent:
    """The Consent attributes ingestion reads (store/partners.py)."""

    user_id: str
    partner: str
    partner_ref: str
    periods: list = field(default_factory=lambda: [["2026-01-05T09:00:00.000+08:00", None]])
    status: str = "bound"
    authorization_id: str | None = "auth_1"
    cursor: str | None = None


class InMemoryBatchAccounts(InMemoryAccounts):
    def many(self, user_ids: list[str]) -> dict:
        return {u: self.get(u) for u in user_ids if u in self.items}


class InMemoryLinks:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def holders(self, partner: str, refs) -> dict[str, list[str]]:
        """The users holding each account: one (a str) or several, one per platform (a list)."""
        found = {ref: self.items[(partner, ref)] for ref in refs if (partner, ref) in self.items}
        return {ref: [held] if isinstance(held, str) else list(held) for ref, held in found.items()}


class InMemoryConsents:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], FakeConsent] = {}
        self.reads = 0

    def add(self, consent: FakeConsent) -> FakeConsent:
        self.items[(consent.user_id, consent.partner)] = consent
        return consent

    def get(self, user_id: str, partner: str) -> FakeConsent | None:
        self.reads += 1
        return self.items.get((user_id, partner))

    def many(self, user_ids: list[str], partner: str) -> dict[str, FakeConsent]:
        return {u: self.items[(u, partner)] for u in user_ids if (u, partner) in self.items}

    def advance(self, consent: FakeConsent, cursor: str | None) -> bool:
        stored = self.items.get((consent.user_id, consent.partner))
        if stored is None or stored.status != "bound" or stored.authorization_id != consent.authorization_id:
            return False
        stored.cursor = cursor
        return True


class InMemorySeen:
    """`keys`: the events seen on some platform; `sightings`: what their items say (a key without one is an item
    of before platforms: `default`'s)."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.sightings: dict[str, Sighting] = {}

    def sighting(self, key: str) -> Sighting:
        return self.sightings.get(key) or Sighting(frozenset({"default"}), "default")

    def seen(self, keys) -> dict[str, Sighting]:
        return {key: self.sighting(key) for key in self.keys & set(keys)}

    def mark(self, guard: EventUnseen) -> None:
        if guard.holder is None:
            self.sightings[guard.key] = Sighting(frozenset({guard.platform}), guard.platform)
        else:
            platforms = self.sighting(guard.key).platforms | {guard.holder, guard.platform}
            self.sightings[guard.key] = Sighting(platforms, guard.holder)
        self.keys.add(guard.key)

    def holds(self, guard: EventUnseen) -> bool:
        if guard.holder is None:
            return guard.key not in self.keys
        now = self.sighting(guard.key)
        return guard.key in self.keys and now.holder == guard.holder and not now.seen_on(guard.platform)


class InMemoryReplayGuards:
    def __init__(self) -> None:
        self.claimed: set[str] = set()

    def claim(self, key: str, window: timedelta) -> bool:
        if key in self.claimed:
            return False
        self.claimed.add(key)
        return True

    def release(self, key: str) -> None:
        self.claimed.discard(key)


class InMemorySessionKeys:
    def __init__(self) -> None:
        self.keys: dict[str, str] = {}

    def session_key(self, identity_key: str | None) -> str | None:
        return self.keys.get(identity_key) if identity_key else None


class InMemoryPartnerUnitOfWork(InMemoryPostingUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.accounts = InMemoryBatchAccounts()
        self.links = InMemoryLinks()
        self.consents = InMemoryConsents()
        self.seen = InMemorySeen()
        self.replay_guards = InMemoryReplayGuards()
        self.session_keys = InMemorySessionKeys()

    def prepare_threads(self) -> None:
        pass

    def _holds(self, guard: object) -> bool:
        if isinstance(guard, EventUnseen):
            return self.seen.holds(guard)
        if isinstance(guard, ConsentStillBound):
            consent = self.consents.items.get((guard.user_id, guard.partner))
            return consent is not None and consent.status == "bound" and (
                consent.authorization_id == guard.authorization_id)
        return super()._holds(guard)

    def _apply(self, record: dict | None) -> None:
        super()._apply(record)
        for guard in self.guards:
            if isinstance(guard, EventUnseen):
                self.seen.mark(guard)
