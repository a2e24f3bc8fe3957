"""Account deletion (DELETE /v1/me; `python -m admin user delete`): PIPL's right to erasure around an
immutable ledger.

The user id is an opaque random id: once every personal attribute linked to it is gone, it is the
anonymous id under which the ledger's amounts stay, so balances (`reconcile`), org totals, public figures
and already issued reductions remain true. Steps, each idempotent, so a second DELETE, the console or a
retry after a crash half-way finishes what is left:

1. the request is recorded (`erasures`, the first one kept) and the account frozen: it earns and spends
   nothing from now on;
2. every consent is revoked: here at once, at the partner now or by the retry job when it is down;
3. unused redemptions are cancelled and refunded (an issued code past its expiry is expired as the
   expiry job would), then every delivery address is removed;
4. adoptions: the certificate's adopter name is replaced and accrual stops;
5. the balance left is forfeited by one `expire` entry (the ledger still sums to the balance);
6. the request records of the last 48 hours (they hold responses) are deleted;
7. the WeChat identity is deleted (a later login makes a new, empty account) and the account loses its
   nickname, avatar, identity key and latest odometer reading and gets `deleted_at`, in one transaction with
   its revocation: every route refuses the old tokens (401) within a minute in every container, at once in
   this one (services/revocations.py; DELETE /v1/me again is still answered), every write too
   (posting.load_account);
8. the boards the person was ever listed on are marked for rebuilding (their name goes), and consents
   lose the partner's reference as soon as the partner has confirmed the revocation (now, or through
   `finish_waiting`, the job that follows the partners' retries).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pynamodb.exceptions import DeleteError, PutError, UpdateError

from .. import bootstrap
from ..domain import clock
from ..domain.commands_expiry import ForfeitBalance
from ..domain.posting import Posting
from ..domain.privacy import DELETED_NAME
from ..domain.results_expiry import PointsForfeited
from ..errors import AppError, NotFoundError, ServiceUnavailableError
from ..store.idempotency import REMEMBER_FOR
from ..store.market import Redemption
from ..store.models import Account, IdempotencyRecord, Identity, LedgerEntry
from ..store.partners import Consent
from ..store.privacy import Erasure, ModerationItem
from ..store.trees import Adoption
from ..store.tx import Tx, TxCancelledError
from ..store.unit_of_work import PostingUnitOfWork
from . import catalog, consent, expiry, public_names, redemptions, revocations

log = logging.getLogger("greensprout.erasure")
FROZEN_REASON = "account deletion"
RECENT = timedelta(minutes=10)  # far beyond how long a GSI lags behind its table
WAITING = "partners"


def delete_account(user_id: str, channel: str, operator: str | None = None, reason: str | None = None) -> dict:
    """Deletes the account (see the module's steps); a deleted one answers as deleted, changing nothing."""
    account = _account(user_id)
    orgs = [o["id"] for o in account.orgs or []]
    if account.deleted_at:
        done = _erasure(user_id)
        if done is None or not (done.finished_at or done.waiting):  # an earlier run stopped after step 7
            _last_steps(user_id, orgs, dict(done.outcome or {}) if done else {})
        return {"deleted": True, "id": user_id, "deleted_at": account.deleted_at, "already": True}
    now = clock.now()
    _record(user_id, channel, operator, reason, now)
    _freeze(account)
    outcome = {"consents_revoked": consent.revoke_all(user_id)}
    outcome.update(_settle_redemptions(user_id))
    outcome["adoptions"] = _anonymize_adoptions(user_id)
    outcome["points_forfeited"] = _forfeit(user_id)
    outcome["request_records_deleted"] = _forget_requests(user_id, now)
    _remove_identity(account)
    deleted_at = clock.iso(clock.now())
    _scrub_account(user_id, deleted_at)
    waiting = _last_steps(user_id, orgs, outcome)
    return {"deleted": True, "id": user_id, "deleted_at": deleted_at, "waiting_for_partners": waiting, **outcome}


def _last_steps(user_id: str, orgs: list[str], outcome: dict) -> list[str]:
    """Step 8 and the record's end: boards to rebuild, consents scrubbed, finished or waiting for partners."""
    outcome["boards_marked"] = public_names.mark_boards_of(user_id, orgs)
    waiting = _scrub_consents(user_id)
    _finish(user_id, outcome, waiting)
    return waiting


def _erasure(user_id: str) -> Erasure | None:
    try:
        return Erasure.get(user_id, consistent_read=True)
    except Erasure.DoesNotExist:
        return None


def preview(user_id: str) -> dict:
    """What a deletion would do (the console's --dry-run), reading only."""
    account = _account(user_id)
    issued = [r.redemption_id for r in Redemption.by_user.query(user_id) if r.status == "issued"]
    return {"id": user_id, "already_deleted": bool(account.deleted_at),
            "consents_to_revoke": [c.partner for c in Consent.query(user_id) if c.status == "bound"],
            "redemptions_to_cancel": issued, "adoptions": sum(1 for _ in Adoption.by_user.query(user_id)),
            "points_to_forfeit": int(account.points), "orgs": [o["id"] for o in account.orgs or []]}


def finish_waiting(now: datetime) -> dict:
    """The job: erasures whose partner revocations are now confirmed lose the partner's reference."""
    finished = left = 0
    for item in Erasure.waiting_index.query(WAITING):
        try:
            consent.revoke_all(item.user_id)  # one that could not even be revoked here is revoked now
        except AppError:
            left += 1
            continue
        if _scrub_consents(item.user_id):
            left += 1
            continue
        Erasure(item.user_id).update(actions=[Erasure.waiting.remove(), Erasure.finished_at.set(clock.iso(now))])
        finished += 1
    return {"finished": finished, "waiting": left}


def _account(user_id: str) -> Account:
    try:
        return Account.get(user_id, consistent_read=True)
    except Account.DoesNotExist:
        raise NotFoundError() from None


def _record(user_id: str, channel: str, operator: str | None, reason: str | None, now: datetime) -> None:
    try:
        Erasure(user_id, requested_at=clock.iso(now), channel=channel, operator=operator, reason=reason).save(
            condition=Erasure.user_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise ServiceUnavailableError() from exc  # else: a retry of an unfinished deletion, keep the first


def _freeze(account: Account) -> None:
    """Frozen with its version bumped, so a posting planned before cannot land after (admin/accounts.py)."""
    account.update(actions=[Account.frozen.set(True), Account.frozen_reason.set(FROZEN_REASON),
                            Account.version.add(1), Account.updated_at.set(clock.iso(clock.now()))],
                   condition=Account.user_id.exists())


def _settle_redemptions(user_id: str) -> dict:
    """Issued codes cancelled (refunded) or expired; every delivery address removed."""
    cancelled, expired, addresses = [], [], 0
    for redemption in _mine(Redemption, "redemption_id", user_id, "market"):
        if redemption.status == "issued":
            now = clock.now()
            if now.timestamp() < int(redemption.expires_epoch):
                if _refund(redemption, now):
                    cancelled.append(redemption.redemption_id)
            else:
                try:
                    expiry.expire_one(redemption, now)
                    expired.append(redemption.redemption_id)
                except AppError:
                    pass  # settled meanwhile (used, cancelled, expired by the job)
        if redemption.address_sealed or redemption.address_masked:
            Redemption(redemption.redemption_id).update(
                actions=[Redemption.address_sealed.remove(), Redemption.address_masked.remove()],
                condition=Redemption.redemption_id.exists())
            addresses += 1
    return {"redemptions_cancelled": cancelled, "redemptions_expired": expired, "addresses_removed": addresses}


def _refund(redemption: Redemption, now: datetime) -> bool:
    """The user's cancel without its `cancellable` test: every unused code goes, refunded (then forfeited)."""
    return redemptions.refund(redemption, "cancelled", "account deletion", now, bootstrap.posting_uow())


def _anonymize_adoptions(user_id: str) -> int:
    """The certificate no longer names the adopter; the tree stops accruing to a closed account."""
    count = 0
    for adoption in _mine(Adoption, "adoption_id", user_id, "tree"):
        Adoption(adoption.adoption_id).update(
            actions=[Adoption.adopter_name.set(DELETED_NAME), Adoption.accrual_shard.remove()],
            condition=Adoption.adoption_id.exists())
        count += 1
    return count


def _mine(model, key: str, user_id: str, source: str) -> list:
    """The user's redemptions or adoptions from their `by_user` index, plus any made in the last minutes that
    the index (eventually consistent) may not show yet, found by their `spend` entries (a consistent read)."""
    found = {getattr(item, key): item for item in model.by_user.query(user_id)}
    since = clock.iso(clock.now() - RECENT)
    recent = set()
    for entry in LedgerEntry.query(user_id, scan_index_forward=False, consistent_read=True):
        if entry.at < since:
            break
        if entry.kind == "spend" and entry.source == source and entry.ref and entry.ref not in found:
            recent.add(entry.ref)
    found.update({getattr(item, key): item for item in model.batch_get(sorted(recent), consistent_read=True)})
    return list(found.values())


def _forfeit(user_id: str) -> int:
    return forfeit_balance(ForfeitBalance(user_id), bootstrap.posting_uow()).points


def forfeit_balance(command: ForfeitBalance, uow: PostingUnitOfWork) -> PointsForfeited:
    """The balance left (refunds included) leaves by one `expire` entry: the account ends at zero. A retry
    finds nothing left, so it writes nothing (no request record is needed)."""
    with uow.posting(command.user_id) as posting:
        for account in posting.attempts():
            if int(account.points) <= 0:
                posting.answer(PointsForfeited(0, None))
                continue
            staged = posting.stage([Posting("expire", -int(account.points), 0, "admin", ref="account-deletion",
                                            reason="account deleted: points forfeited")])
            posting.commit(PointsForfeited(int(account.points), staged.lines[0].receipt()))
    return posting.result


def _forget_requests(user_id: str, now: datetime) -> int:
    """The request records of the last 48 hours: found from the ledger entries they wrote (no scan)."""
    since = clock.iso(now - REMEMBER_FOR - timedelta(hours=1))
    keys, credits = set(), []
    for entry in LedgerEntry.query(user_id, scan_index_forward=False):
        if entry.at < since:
            break
        if entry.request_id:
            keys.add(f"{user_id}#{entry.request_id}")
        if entry.kind == "refund" and entry.source == "market" and entry.ref:
            keys.add(f"{user_id}#cancel:{entry.ref}")  # services/redemptions.cancel_redemption's record
        if entry.source == "operator" and entry.request_id and entry.ref:
            credits.append((entry.ref, entry.request_id))  # kept under the crediting staff member's id
    keys |= _staff_records(credits)
    with IdempotencyRecord.batch_write() as batch:
        for key in sorted(keys):
            batch.delete(IdempotencyRecord(key))
    return len(keys)


def _staff_records(credits: list[tuple[str, str]]) -> set[str]:
    """A collection point's credit is remembered under the staff member's id (its answer names the member):
    the keys of every staff member of the crediting merchant (the catalog lists their openids; a few)."""
    openids = {openid: merchant_id for merchant_id, _ in credits
               for openid in (catalog.merchants().get(merchant_id) or {}).get("staff_openids", [])}
    if not openids:
        return set()
    staff = {}
    for identity in Identity.batch_get([f"wx#{openid}" for openid in openids]):
        staff.setdefault(openids[identity.key.removeprefix("wx#")], []).append(identity.user_id)
    return {f"{staff_id}#{request_id}" for merchant_id, request_id in credits
            for staff_id in staff.get(merchant_id, [])}


def _remove_identity(account: Account) -> None:
    """Deletes the WeChat identity unless it already belongs to a newer account (a login after deletion)."""
    if not account.identity_key:
        return
    try:
        Identity(account.identity_key).delete(condition=Identity.user_id == account.user_id)
    except DeleteError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise ServiceUnavailableError() from exc


def _scrub_account(user_id: str, deleted_at: str) -> None:
    """In one transaction with the account's revocation: from the commit on, every container refuses the old
    tokens within a minute, on every route (services/revocations.py), this one at once."""
    tx = Tx()
    tx.update("account", Account(user_id), actions=[
        Account.nickname.remove(), Account.avatar_url.remove(), Account.identity_key.remove(),
        Account.nickname_pending.remove(), Account.nickname_check.remove(), Account.minor_orgs.remove(),
        Account.odometer.remove(),
        Account.frozen.set(True), Account.frozen_reason.set("account deleted"), Account.deleted_at.set(deleted_at),
        Account.version.add(1), Account.updated_at.set(deleted_at),
    ], condition=Account.user_id.exists())
    revocations.put_deleted(tx, user_id)
    try:
        tx.commit()
    except TxCancelledError:
        raise ServiceUnavailableError() from None  # the account exists (read at step 0): a conflict, retry
    revocations.deleted(user_id)
    for queue in ("unchecked", "review"):
        ModerationItem(queue, user_id).delete()


def _scrub_consents(user_id: str) -> list[str]:
    """Removes the partner's reference from consents whose revocation the partner confirmed; returns the
    partners still to confirm (their reference is what the retry needs)."""
    waiting = []
    for item in Consent.query(user_id):
        if item.revocation_pending or item.status == "bound":
            waiting.append(item.partner)
            continue
        if item.partner_ref is None and item.authorization_id is None:
            continue
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


def _finish(user_id: str, outcome: dict, waiting: list[str]) -> None:
    actions = [Erasure.outcome.set(outcome)]
    if waiting:
        actions.append(Erasure.waiting.set(WAITING))
    else:
        actions += [Erasure.waiting.remove(), Erasure.finished_at.set(clock.iso(clock.now()))]
    Erasure(user_id).update(actions=actions)
