"""The DynamoDB repositories of partner data coming in (services/ingest.py, partner_sync.py, webhooks.py,
werun.py): partner links, consents, seen events, monthly readings, webhook replay guards and WeChat session keys.

Batch reads are consistent BatchGetItems; the seen-event item and the consent check are staged into the
posting's one transaction (store/dynamo_uow_partners.py); a refused condition is answered as a bool here.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pynamodb.exceptions import PutError, UpdateError

from ..domain import clock
from ..domain.guards_ingest import EventUnseen, ReadingRecorded
from ..domain.partner_events import SEEN_TTL, Sighting
from ..domain.platforms import DEFAULT
from ..domain.readings import Recorded, Share
from ..sealing import unseal
from .access import on
from .models import Account, Identity
from .partners import Consent, PartnerLink, PartnerReading, ReplayGuard, SeenEvent
from .repositories import Accounts
from .tx import Tx

CONDITION_FAILED = "ConditionalCheckFailedException"


class BatchAccounts(Accounts):
    ACCESS = (on(Account, "BatchGetItem"),)

    def many(self, user_ids: list[str]) -> dict[str, Account]:
        """The accounts found, read consistently in batches (a webhook's users)."""
        return {a.user_id: a for a in Account.batch_get(user_ids, consistent_read=True)}


class PartnerLinks:
    ACCESS = (on(PartnerLink, "BatchGetItem"),)

    def holders(self, partner: str, refs: Iterable[str]) -> dict[str, list[str]]:
        """partner_ref -> the users holding that partner account now, one per platform of its person (`default`'s
        first, then by platform id), for the accounts held at all (consistent BatchGetItems of the links)."""
        keys = {f"{partner}#{ref}" for ref in refs}
        found = PartnerLink.batch_get(keys, consistent_read=True) if keys else []
        held = {link.key.split("#", 1)[1]: link.holders() for link in found}
        return {ref: [users[p] for p in sorted(users, key=lambda p: (p != DEFAULT, p))]
                for ref, users in held.items() if users}


class Consents:
    ACCESS = (on(Consent, "BatchGetItem", "ConditionCheckItem", "GetItem", "UpdateItem"),)

    def get(self, user_id: str, partner: str) -> Consent | None:
        try:
            return Consent.get(user_id, partner, consistent_read=True)
        except Consent.DoesNotExist:
            return None

    def many(self, user_ids: list[str], partner: str) -> dict[str, Consent]:
        return {c.user_id: c for c in Consent.batch_get([(u, partner) for u in user_ids], consistent_read=True)}

    def advance(self, consent: Consent, cursor: str | None) -> bool:
        """Stores the pull's new cursor while the consent is still the bound one read; False otherwise (no
        version bump: a cursor move never conflicts with a bind or a revocation, which set it themselves)."""
        still_bound = (Consent.status == "bound") & (Consent.authorization_id == consent.authorization_id)
        try:
            consent.update(actions=[Consent.cursor.set(cursor)], condition=still_bound)
        except UpdateError as exc:
            if exc.cause_response_code == CONDITION_FAILED:
                return False
            raise
        return True

    def stage_still_bound(self, tx: Tx, label: str, user_id: str, partner: str, authorization_id: str | None) -> None:
        tx.check(label, Consent, user_id, partner,
                 condition=(Consent.status == "bound") & (Consent.authorization_id == authorization_id))


class SeenEvents:
    ACCESS = (on(SeenEvent, "BatchGetItem", "PutItem", "UpdateItem"),)

    def seen(self, keys: Iterable[str]) -> dict[str, Sighting]:
        """The event keys already imported on some platform, with what their items say (consistent batch read)."""
        keys = set(keys)
        return {item.key: sighting(item) for item in SeenEvent.batch_get(keys, consistent_read=True)} if keys else {}

    def stage_new(self, tx: Tx, label: str, guard: EventUnseen) -> None:
        """The event marked seen on the guard's platform, provided it was not (kept SEEN_TTL, then deleted by TTL).

        New on every platform: the item is put naming this platform as the holder of the carbon (`default`'s is
        the item as it was before platforms, which reads as `default`'s: an import of a person on one platform
        writes no more bytes than it did). Held by another platform: the item must still name that holder and not
        this platform, and gains this platform."""
        if guard.holder is None:
            now = clock.now()
            holds = {} if guard.platform == DEFAULT else {"platforms": {guard.platform}, "via": guard.platform}
            tx.put(label, SeenEvent(guard.key, user_id=guard.user_id, day=guard.day.isoformat(), at=clock.iso(now),
                                    expires_at=now + SEEN_TTL, **holds),
                   condition=SeenEvent.key.does_not_exist())
            return
        held = SeenEvent.via == guard.holder
        if guard.holder == DEFAULT:  # an item of before platforms names no holder: it is `default`'s
            held = held | SeenEvent.via.does_not_exist()
        tx.update(label, SeenEvent(guard.key), actions=[SeenEvent.via.set(guard.holder),
                                                        SeenEvent.platforms.add({guard.holder, guard.platform})],
                  condition=SeenEvent.key.exists() & held & ~SeenEvent.platforms.contains(guard.platform))


class PartnerReadings:
    ACCESS = (on(PartnerReading, "BatchGetItem", "PutItem", "UpdateItem"),)

    def many(self, keys: Iterable[str]) -> dict[str, Recorded]:
        """The readings recorded under these keys (consistent BatchGetItems, 100 keys each)."""
        keys = set(keys)
        found = PartnerReading.batch_get(keys, consistent_read=True) if keys else []
        return {item.key: recorded(item) for item in found}

    def stage_record(self, tx: Tx, label: str, guard: ReadingRecorded) -> None:
        """The reading recorded as `guard.recorded` says, on the condition that the item still holds what it was
        computed from (`guard.before`): new; the holder's revision read; the holder and the shares read."""
        r, before, now = guard.recorded, guard.before, clock.iso(clock.now())
        if before is None:
            tx.put(label, PartnerReading(guard.key, event_id=r.event_id, user_id=r.user_id, revision=r.revision,
                                         usage=str(r.usage), baseline=None if r.baseline is None else str(r.baseline),
                                         saved=str(r.saved), carbon_mg=r.carbon_mg, points=r.points,
                                         day=guard.day.isoformat(), at=now, worth=r.worth,
                                         via=None if r.via == DEFAULT else r.via, account=account_of(guard.key)),
                   condition=PartnerReading.key.does_not_exist())
            return
        if guard.platform == before.via:
            tx.update(label, PartnerReading(guard.key), actions=[
                PartnerReading.revision.set(r.revision), PartnerReading.usage.set(str(r.usage)),
                PartnerReading.saved.set(str(r.saved)), PartnerReading.carbon_mg.set(r.carbon_mg),
                PartnerReading.points.set(r.points), PartnerReading.worth.set(r.worth),
                PartnerReading.day.set(guard.day.isoformat()), PartnerReading.at.set(now)],
                condition=PartnerReading.key.exists() & (PartnerReading.revision == before.revision))
            return
        held = PartnerReading.via == before.via
        if before.via == DEFAULT:  # `default` holding is the item without `via`
            held = PartnerReading.via.does_not_exist()
        same = PartnerReading.shares == shares_of(before) if before.shares else PartnerReading.shares.does_not_exist()
        tx.update(label, PartnerReading(guard.key), actions=[PartnerReading.shares.set(shares_of(r))],
                  condition=PartnerReading.key.exists() & held & same)


def account_of(key: str) -> str:
    """"{partner}#{user_ref}" of a reading's key "{partner}#{user_ref}#{month}"."""
    return key.rsplit("#", 1)[0]


def shares_of(r: Recorded) -> dict[str, list]:
    return {platform: [s.user_id, s.revision, s.points, s.worth] for platform, s in r.shares.items()}


def recorded(item: PartnerReading) -> Recorded:
    shares = {platform: Share(str(v[0]), int(v[1]), int(v[2]), int(v[3]))
              for platform, v in (item.shares or {}).items()}
    return Recorded(item.event_id, item.user_id, int(item.revision), Decimal(item.usage),
                    None if item.baseline is None else Decimal(item.baseline), Decimal(item.saved),
                    int(item.carbon_mg), int(item.points), item.via or DEFAULT,
                    None if item.worth is None else int(item.worth), shares)


def sighting(item: SeenEvent) -> Sighting:
    return Sighting(frozenset(item.platforms or {DEFAULT}), item.via or DEFAULT)


class ReplayGuards:
    ACCESS = (on(ReplayGuard, "DeleteItem", "PutItem"),)

    def claim(self, key: str, window: timedelta) -> bool:
        """Claims a webhook delivery for `window`; False when it was claimed within it (a replay)."""
        now, mine = datetime.now(UTC), uuid.uuid4().hex
        try:
            ReplayGuard(key, expires_at=now + window, claim=mine).save(
                condition=ReplayGuard.key.does_not_exist() | (ReplayGuard.expires_at < now)
                | (ReplayGuard.claim == mine))
        except PutError as exc:
            if exc.cause_response_code == CONDITION_FAILED:
                return False
            raise
        return True

    def release(self, key: str) -> None:
        ReplayGuard(key).delete()


class SessionKeys:
    ACCESS = (on(Identity, "GetItem"),)

    def session_key(self, identity_key: str | None) -> str | None:
        """The WeChat session_key of the user's latest login, or None when there is none to use (none
        stored, or sealed under another DATA_KEY)."""
        try:
            identity = Identity.get(identity_key, consistent_read=True) if identity_key else None
        except Identity.DoesNotExist:
            identity = None
        if identity is None or not identity.session_key_sealed:
            return None
        try:
            return unseal(identity.session_key_sealed, identity.key)
        except Exception:  # noqa: BLE001 - a key sealed under another DATA_KEY: log in again
            return None
