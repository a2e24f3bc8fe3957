"""The DynamoDB repositories of consents as the user binds and revokes them (services/consent.py, partners.py).

The consent item (store/partners.Consent) is read and written as domain/consents.Consent. Binding puts the
new version of the consent (conditioned on the version read) and claims the partner account's link
(`PartnerLink`, conditioned on it being free or our person's) in one TransactWriteItems, so two persons can
never hold one partner account (one person may, on several platforms); revoking does the same and releases this
platform's hold on the link (store/partners.PartnerLink says the layout).

Split by who uses what, because each Lambda function is granted what the classes it names declare (`ACCESS`,
store/access.py; a subclass adds to its bases'): the `retry-partner-revocations` job names `PendingRevocations`,
the `finish-erasures` job `Consents`, the routes `Bindings`.
"""
from __future__ import annotations

from ..domain import consents
from ..domain.consents import BOUND, CHANGED, TAKEN, Holder
from ..domain.platforms import DEFAULT
from .access import on
from .failures import ConditionFailed
from .partner_tallies import BoundTally
from .partners import Consent, PartnerLink
from .repositories import Accounts
from .single_writes import written
from .tx import Tx


def consent_from(item: Consent) -> consents.Consent:
    return consents.Consent(
        item.user_id, item.partner, status=item.status, partner_ref=item.partner_ref,
        authorization_id=item.authorization_id, bound_at=item.bound_at, revoked_at=item.revoked_at,
        cursor=item.cursor, periods=tuple(item.periods or ()), history=tuple(item.history or ()),
        revocation_pending=item.revocation_pending, pending_authorization_id=item.pending_authorization_id,
        version=int(item.version or 0))


def item_of(consent: consents.Consent) -> Consent:
    """The whole item of a consent as it is put (a put replaces the item: `next_sync_at` starts afresh)."""
    return Consent(
        consent.user_id, consent.partner, status=consent.status, partner_ref=consent.partner_ref,
        authorization_id=consent.authorization_id, bound_at=consent.bound_at, revoked_at=consent.revoked_at,
        cursor=consent.cursor, periods=list(consent.periods), history=list(consent.history),
        revocation_pending=consent.revocation_pending, pending_authorization_id=consent.pending_authorization_id,
        version=consent.version)


def _link_key(partner: str, partner_ref: str | None) -> str:
    return f"{partner}#{partner_ref}"


class ConsentRecords:
    """What telling a partner about a revocation needs (the job and the routes alike)."""

    ACCESS = (on(Consent, "GetItem", "UpdateItem"), on(PartnerLink, "GetItem"))

    def get(self, user_id: str, partner: str) -> consents.Consent | None:
        """One consistent GetItem."""
        try:
            return consent_from(Consent.get(user_id, partner, consistent_read=True))
        except Consent.DoesNotExist:
            return None

    def holders(self, partner: str, partner_ref: str | None) -> set[str]:
        """The users (of every platform) the partner account is bound to now (one consistent GetItem of its link)."""
        try:
            return set(PartnerLink.get(_link_key(partner, partner_ref), consistent_read=True).holders().values())
        except PartnerLink.DoesNotExist:
            return set()

    def mark_told(self, before: consents.Consent, after: consents.Consent) -> bool:
        """Clears the pending revocation (one UpdateItem), unless the consent changed since `before` (False)."""
        item = Consent(before.user_id, before.partner)
        return written(lambda: item.update(actions=[
            Consent.revocation_pending.remove(), Consent.pending_authorization_id.remove(),
            Consent.history.set(list(after.history)), Consent.version.set(after.version)],
            condition=Consent.version == before.version))


class PendingRevocations(ConsentRecords):
    ACCESS = (on(Consent, "Query", index="pending_revocations"),)

    def pending(self, partner: str) -> list[consents.Consent]:
        """The consents revoked here whose revocation `partner` has not confirmed (a sparse index: no scan)."""
        return [consent_from(item) for item in Consent.pending_revocations.query(partner)]


class Consents(ConsentRecords):
    ACCESS = (on(Consent, "PutItem", "Query"), on(PartnerLink, "UpdateItem"), BoundTally)

    def of_user(self, user_id: str) -> list[consents.Consent]:
        """Every consent of the user (one Query)."""
        return [consent_from(item) for item in Consent.query(user_id)]

    def revoke(self, before: consents.Consent, after: consents.Consent, platform: str = DEFAULT) -> bool:
        """Writes the revoked consent and releases this platform's hold on its partner account's link in one
        transaction; False when the consent changed since `before` was read (read it again). A link this user
        does not hold is left alone."""
        if platform == DEFAULT:
            release = [PartnerLink.user_id.remove()]
            held = PartnerLink.user_id == before.user_id
        else:
            element = f"{platform}#{before.user_id}"
            release, held = [PartnerLink.platform_users.delete({element})], PartnerLink.platform_users.contains(element)
        try:
            self._commit(before, after, link_actions=[*release, PartnerLink.released_at.set(after.revoked_at)],
                         link_condition=held)
        except ConditionFailed as refused:
            if set(refused.failed) != {"link"}:
                return False
            try:  # the link was already free: revoke the consent alone
                self._commit(before, after)
            except ConditionFailed:
                return False
        return True

    @staticmethod
    def _commit(before: consents.Consent | None, after: consents.Consent, link_actions: list | None = None,
                link_condition: object = None) -> None:
        item = item_of(after)
        tx = Tx()
        tx.put("consent", item, condition=Consent.user_id.does_not_exist() if before is None
               else Consent.version == before.version)
        was, now = bool(before and before.status == consents.BOUND), after.status == consents.BOUND
        if was != now:  # the partner's count of bound consents (store/partner_tallies.py)
            BoundTally.stage_bound(tx, after.partner, after.user_id, 1 if now else -1)
        if link_actions:
            tx.update("link", PartnerLink(_link_key(after.partner, after.partner_ref)), actions=link_actions,
                      condition=link_condition)
        tx.commit()


class Bindings(Consents):
    """Every consent use case of the routes: binding too."""

    ACCESS = (Accounts,)

    def refuse_deleted(self, user_id: str):
        """The account, read consistently (one GetItem); NOT_FOUND or ACCOUNT_DELETED unless it lives: a token
        that outlived its deleted account binds nothing (services/erasure.py)."""
        return Accounts().get(user_id)

    def bind(self, before: consents.Consent | None, after: consents.Consent, holder: Holder | None = None) -> str:
        """Writes the bound consent and claims its partner account's link for `holder` in one transaction: BOUND;
        TAKEN when another person holds that partner account; CHANGED when the consent changed since `before`."""
        holder = holder or Holder(after.user_id, DEFAULT, "", after.user_id)
        if holder.platform == DEFAULT:
            hold = PartnerLink.user_id.set(after.user_id)
        else:
            hold = PartnerLink.platform_users.add({f"{holder.platform}#{after.user_id}"})
        ours = PartnerLink.user_id.is_in(*{after.user_id, holder.default_user or after.user_id})
        free = PartnerLink.user_id.does_not_exist() & PartnerLink.platform_users.does_not_exist()
        actions = [hold, PartnerLink.bound_at.set(after.bound_at), PartnerLink.released_at.remove()]
        if holder.person_id:
            actions.append(PartnerLink.person_id.set(holder.person_id))
            ours = ours | (PartnerLink.person_id == holder.person_id)
        try:
            self._commit(before, after, link_actions=actions, link_condition=free | ours)
        except ConditionFailed as refused:
            return TAKEN if refused.refused("link") else CHANGED
        return BOUND
