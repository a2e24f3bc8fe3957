"""The DynamoDB repositories of partner data coming in (services/ingest.py, partner_sync.py, webhooks.py,
werun.py): partner links, consents, seen events, webhook replay guards and WeChat session keys.

Batch reads are consistent BatchGetItems; the seen-event item and the consent check are staged into the
posting's one transaction (store/dynamo_uow_partners.py); a refused condition is answered as a bool here.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from pynamodb.exceptions import PutError, UpdateError

from ..domain import clock
from ..domain.partner_events import SEEN_TTL
from ..sealing import unseal
from .access import on
from .models import Account, Identity
from .partners import Consent, PartnerLink, ReplayGuard, SeenEvent
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

    def users(self, partner: str, refs: Iterable[str]) -> dict[str, str]:
        """partner_ref -> user_id of the partner accounts bound to a user now."""
        keys = {f"{partner}#{ref}" for ref in refs}
        found = PartnerLink.batch_get(keys, consistent_read=True) if keys else []
        return {link.key.split("#", 1)[1]: link.user_id for link in found if link.user_id}


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
    ACCESS = (on(SeenEvent, "BatchGetItem", "PutItem"),)

    def seen(self, keys: Iterable[str]) -> set[str]:
        """Which of the event keys are already counted (consistent batch read)."""
        keys = set(keys)
        return {item.key for item in SeenEvent.batch_get(keys, consistent_read=True)} if keys else set()

    def stage_new(self, tx: Tx, label: str, key: str, user_id: str, day: date) -> None:
        """The event marked seen, provided it was not (kept SEEN_TTL, then deleted by TTL)."""
        now = clock.now()
        tx.put(label, SeenEvent(key, user_id=user_id, day=day.isoformat(), at=clock.iso(now),
                                expires_at=now + SEEN_TTL),
               condition=SeenEvent.key.does_not_exist())


class CarbonClaims:
    ACCESS = (on(SeenEvent, "PutItem", "ConditionCheckItem"),)

    def stage_claim(self, tx: Tx, label: str, key: str, via: str, user_id: str, entry_id: str, carbon_mg: int,
                    day: date) -> None:
        """The person's reduction recorded on `via`, provided no platform recorded it (returns the claim that is
        there otherwise). Kept like a seen event (SEEN_TTL), well past the 7 days an event may arrive late."""
        now = clock.now()
        tx.put_new(label, SeenEvent, {"key": key, "user_id": user_id, "day": day.isoformat(), "at": clock.iso(now),
                                      "expires_at": now + SEEN_TTL, "via": via, "entry_id": entry_id,
                                      "carbon_mg": carbon_mg}, return_old=True)

    def stage_held(self, tx: Tx, label: str, key: str, via: str) -> None:
        tx.check(label, SeenEvent, key, None, condition=SeenEvent.via == via)

    @staticmethod
    def holder(raw_item: dict | None) -> str | None:
        """The platform a refused claim returned as holding the carbon."""
        return ((raw_item or {}).get("via") or {}).get("S")


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
