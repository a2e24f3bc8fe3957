"""What an account deletion reads and changes (services/erasure.py), each step idempotent; PynamoDB stays here.

Module-level functions, not a class, each declaring what it touches (`@access`, store/access.py): each Lambda
function is granted what the functions it names declare, and the `finish-erasures` job names only the consents'
scrub and the erasure record's (chalicelib/jobs.py).
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pynamodb.exceptions import DeleteError, PutError, UpdateError

from ..domain import clock
from ..domain.platforms import DEFAULT, identity_key
from ..errors import NotFoundError, ServiceUnavailableError
from .access import access, on
from .market import Redemption
from .models import Account, IdempotencyRecord, Identity, LedgerEntry
from .partners import Consent, PartnerLink, PartnerReading
from .privacy import Erasure, ModerationItem
from .revocations import Revocation
from .trees import Adoption
from .tx import Tx, TxCancelledError

WAITING = "partners"  # the sparse `waiting` index's key: erasures whose partners have not confirmed yet


@access(on(Account, "GetItem"))
def account(user_id: str) -> Account:
    """Read consistently, deleted or not; NotFoundError when there is none."""
    try:
        return Account.get(user_id, consistent_read=True)
    except Account.DoesNotExist:
        raise NotFoundError() from None


@access(on(Erasure, "GetItem"))
def erasure(user_id: str) -> Erasure | None:
    try:
        return Erasure.get(user_id, consistent_read=True)
    except Erasure.DoesNotExist:
        return None


@access(on(Erasure, "PutItem"))
def record(user_id: str, channel: str, operator: str | None, reason: str | None, now: datetime) -> None:
    """The request, once: a retry of an unfinished deletion keeps the first."""
    try:
        Erasure(user_id, requested_at=clock.iso(now), channel=channel, operator=operator, reason=reason).save(
            condition=Erasure.user_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise ServiceUnavailableError() from exc


@access(on(Account, "UpdateItem"))
def freeze(user_id: str, reason: str, now: datetime) -> None:
    """Frozen with its version bumped, so a posting decided before cannot land after it."""
    Account(user_id).update(actions=[Account.frozen.set(True), Account.frozen_reason.set(reason),
                                     Account.version.add(1), Account.updated_at.set(clock.iso(now))],
                            condition=Account.user_id.exists())


@access(on(Adoption, "Query", index="by_user"), on(Consent, "Query"), on(Redemption, "Query", index="by_user"))
def issued_preview(user_id: str) -> tuple[list[str], list[str], int]:
    """A dry run: the issued redemptions' ids, the bound partners, and the number of adoptions."""
    issued = [r.redemption_id for r in Redemption.by_user.query(user_id) if r.status == "issued"]
    bound = [c.partner for c in Consent.query(user_id) if c.status == "bound"]
    return issued, bound, sum(1 for _ in Adoption.by_user.query(user_id))


@access(on(Redemption, "BatchGetItem"), on(Redemption, "Query", index="by_user"), on(LedgerEntry, "Query"))
def redemptions_of(user_id: str, since: str) -> list[Redemption]:
    return _mine(Redemption, "redemption_id", user_id, "market", since)


@access(on(Adoption, "BatchGetItem"), on(Adoption, "Query", index="by_user"), on(LedgerEntry, "Query"))
def adoptions_of(user_id: str, since: str) -> list[Adoption]:
    return _mine(Adoption, "adoption_id", user_id, "tree", since)


@access(
    on(Adoption, "BatchGetItem"),
    on(Adoption, "Query", index="by_user"),
    on(LedgerEntry, "Query"),
    on(Redemption, "BatchGetItem"),
    on(Redemption, "Query", index="by_user"),
)
def _mine(model, key: str, user_id: str, source: str, since: str) -> list:
    """The user's items from their `by_user` index, plus any made since `since` that the index (eventually
    consistent) may not show yet, found by their `spend` entries (a consistent read)."""
    found = {getattr(item, key): item for item in model.by_user.query(user_id)}
    recent = set()
    for entry in LedgerEntry.query(user_id, scan_index_forward=False, consistent_read=True):
        if entry.at < since:
            break
        if entry.kind == "spend" and entry.source == source and entry.ref and entry.ref not in found:
            recent.add(entry.ref)
    found.update({getattr(item, key): item for item in model.batch_get(sorted(recent), consistent_read=True)})
    return list(found.values())


@access(on(Redemption, "UpdateItem"))
def remove_address(redemption: Redemption) -> bool:
    """The delivery address (sealed and masked) goes; False when the redemption had none."""
    if not (redemption.address_sealed or redemption.address_masked):
        return False
    Redemption(redemption.redemption_id).update(
        actions=[Redemption.address_sealed.remove(), Redemption.address_masked.remove()],
        condition=Redemption.redemption_id.exists())
    return True


@access(on(Adoption, "UpdateItem"))
def anonymize_adoption(adoption_id: str, adopter_name: str) -> None:
    """The certificate's adopter name replaced; the tree leaves the `accruing` index."""
    Adoption(adoption_id).update(actions=[Adoption.adopter_name.set(adopter_name), Adoption.accrual_shard.remove()],
                                 condition=Adoption.adoption_id.exists())


@access(on(LedgerEntry, "Query"))
def recent_requests(user_id: str, since: str) -> tuple[set[str], list[tuple[str, str]]]:
    """The request records' keys the user's entries since `since` name, and (merchant id, request id) of
    the collection points' credits, remembered under the crediting staff member's id (services/collection.py)."""
    keys, credits = set(), []
    for entry in LedgerEntry.query(user_id, scan_index_forward=False):
        if entry.at < since:
            break
        if entry.request_id:
            keys.add(f"{user_id}#{entry.request_id}")
        if entry.kind == "refund" and entry.source == "market" and entry.ref:
            keys.add(f"{user_id}#cancel:{entry.ref}")  # services/redemptions.cancel_redemption's record
        if entry.source == "operator" and entry.request_id and entry.ref:
            credits.append((entry.ref, entry.request_id))
    return keys, credits


@access(on(Identity, "BatchGetItem"))
def user_ids_of(openids: list[str], platform: str = DEFAULT) -> dict[str, str]:
    """openid -> user id of the WeChat identities of `platform`'s mini program that exist (one BatchGetItem)."""
    keys = {identity_key(platform, openid): openid for openid in openids}
    return {keys[identity.key]: identity.user_id for identity in Identity.batch_get(list(keys))}


@access(on(Identity, "GetItem"))
def unionid_sealed(identity_key_: str) -> str | None:
    """The unionid sealed in the WeChat identity (read consistently), if WeChat gave one; None without it."""
    try:
        return Identity.get(identity_key_, consistent_read=True).unionid_sealed
    except Identity.DoesNotExist:
        return None


@access(on(IdempotencyRecord, "BatchWriteItem"))
def forget_requests(keys: set[str]) -> None:
    with IdempotencyRecord.batch_write() as batch:
        for key in sorted(keys):
            batch.delete(IdempotencyRecord(key))


@access(on(Identity, "DeleteItem"))
def remove_identity(identity_key: str, user_id: str) -> None:
    """The WeChat identity goes, unless it already belongs to a newer account (a login after deletion)."""
    try:
        Identity(identity_key).delete(condition=Identity.user_id == user_id)
    except DeleteError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise ServiceUnavailableError() from exc


@access(on(Account, "UpdateItem"), on(Revocation, "PutItem"))
def scrub_account(user_id: str, deleted_at: str, revocation: Revocation) -> None:
    """Every personal attribute of the account goes and it gets `deleted_at`, in one transaction with its
    `revocation`."""
    tx = Tx()
    tx.update("account", Account(user_id), actions=[
        Account.nickname.remove(), Account.avatar_url.remove(), Account.identity_key.remove(),
        Account.nickname_pending.remove(), Account.nickname_check.remove(), Account.minor_orgs.remove(),
        Account.odometer.remove(), Account.appeal.remove(),  # an appeal's text (docs/risk.md)
        Account.pseudonym.remove(),  # the only link of the public record's pseudonym to the user (docs/transparency.md)
        Account.frozen.set(True), Account.frozen_reason.set("account deleted"), Account.deleted_at.set(deleted_at),
        Account.version.add(1), Account.updated_at.set(deleted_at),
    ], condition=Account.user_id.exists())
    tx.put("revocation", revocation)
    try:
        tx.commit()
    except TxCancelledError:
        raise ServiceUnavailableError() from None  # the account exists (read at step 0): a conflict, retry


@access(on(ModerationItem, "DeleteItem"))
def leave_moderation(user_id: str, queues: tuple[str, ...] = ("unchecked", "review")) -> None:
    """Out of the nickname moderation queues (`queues`: the user's platform's partitions, services/nicknames)."""
    for queue in queues:
        ModerationItem(queue, user_id).delete()


@access(on(PartnerLink, "GetItem"), on(PartnerReading, "Query", index="readings_by_account"),
        on(PartnerReading, "BatchWriteItem"))
def forget_readings(partner: str, partner_ref: str) -> int:
    """Deletes the monthly readings of a partner account nobody holds any more (`partner_readings`, found by the
    GSI `readings_by_account`, a partition of that account alone: no scan); an account another user of the person
    still holds keeps them (its readings are that user's too). How many were deleted."""
    account = f"{partner}#{partner_ref}"
    try:
        if PartnerLink.get(account, consistent_read=True).holders():
            return 0
    except PartnerLink.DoesNotExist:
        pass
    keys = [item.key for item in PartnerReading.readings_by_account.query(account)]
    with PartnerReading.batch_write() as batch:
        for key in keys:
            batch.delete(PartnerReading(key))
    return len(keys)


@access(on(Consent, "Query", "UpdateItem"), forget_readings)
def scrub_consents(user_id: str) -> list[str]:
    """Removes the partner's reference from consents whose revocation the partner confirmed, after deleting the
    monthly readings of that partner account when nobody holds it any more (forget_readings); returns the
    partners still to confirm (their reference is what the retry needs)."""
    waiting = []
    for item in Consent.query(user_id):
        if item.revocation_pending or item.status == "bound":
            waiting.append(item.partner)
            continue
        if item.partner_ref is None and item.authorization_id is None:
            continue
        if item.partner_ref is not None:
            forget_readings(item.partner, item.partner_ref)
        history = [{k: v for k, v in event.items() if k != "partner_ref"} for event in item.history or []]
        try:
            item.update(actions=[
                Consent.partner_ref.remove(), Consent.authorization_id.remove(), Consent.cursor.remove(),
                Consent.pending_authorization_id.remove(), Consent.history.set(history),
                Consent.version.set(int(item.version) + 1)], condition=Consent.version == int(item.version))
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            waiting.append(item.partner)  # changed meanwhile (the retry job): the next pass scrubs it
    return waiting


@access(on(Erasure, "UpdateItem"))
def finish(user_id: str, outcome: dict, waiting: list[str], now: datetime) -> None:
    actions = [Erasure.outcome.set(outcome)]
    if waiting:
        actions.append(Erasure.waiting.set(WAITING))
    else:
        actions += [Erasure.waiting.remove(), Erasure.finished_at.set(clock.iso(now))]
    Erasure(user_id).update(actions=actions)


@access(on(Erasure, "Query", index="waiting_index"))
def waiting_users() -> Iterator[str]:
    """The users whose erasure waits for partners to confirm their revocations."""
    for item in Erasure.waiting_index.query(WAITING):
        yield item.user_id


@access(on(Erasure, "UpdateItem"))
def finished(user_id: str, now: datetime) -> None:
    Erasure(user_id).update(actions=[Erasure.waiting.remove(), Erasure.finished_at.set(clock.iso(now))])
