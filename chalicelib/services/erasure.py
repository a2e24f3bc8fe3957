"""Account deletion (DELETE /v1/me; `python -m admin user delete`): PIPL's right to erasure around an
immutable ledger.

The user id is an opaque random id: once every personal attribute linked to it is gone, it is the
anonymous id under which the ledger's amounts stay, so balances (`reconcile`), org totals, public figures
and already issued reductions remain true. Steps, each idempotent, so a second DELETE, the console or a
retry after a crash half-way finishes what is left:

1. the request is recorded (`erasures`, the first one kept) and the account frozen: it earns and spends
   nothing from now on;
2. every consent is revoked: here at once, at the partner now or by the retry job when it is down; the
   user's platform's holder of the partner account is released (a person's other platforms keep theirs);
3. unused redemptions are cancelled and refunded (an issued code past its expiry is expired as the
   expiry job would), then every delivery address is removed;
4. adoptions: the certificate's adopter name is replaced and accrual stops;
5. the balance left is forfeited by one `expire` entry (the ledger still sums to the balance);
6. the request records of the last 48 hours (they hold responses) are deleted;
7. the account leaves its person (a person on several platforms, or one with a union item): the union item
   no longer names it (deleted with the person's last user), its peers no longer name it and their person's
   carbon loses its carbon (store/persons.leave); it keeps its own carbon, anonymous. Then the WeChat
   identity (whose sealed unionid finds the union item) is deleted (a later login makes a new, empty
   account) and the account loses its nickname, avatar, identity key, latest odometer reading and the pseudonym
   of the public transparency record (docs/transparency.md: its only link to the user) and gets
   `deleted_at`, in one transaction with its revocation: every route refuses the old tokens (401) within a
   minute in every container, at once in this one (services/revocations.py; DELETE /v1/me again is still
   answered), every write too (store/repositories.Accounts.get);
8. the boards the person was ever listed on are marked for rebuilding (their name goes), and consents
   lose the partner's reference as soon as the partner has confirmed the revocation (now, or through
   `finish_waiting`, the job that follows the partners' retries);
9. the evidence photos the user uploaded are deleted: a List of the user's own prefix in the bucket
   (`evidence/{platform}/{user_id}/`, domain/evidence.py), never the bucket's. Their perceptual hashes stay
   (store/photo_hashes.py: 64 bits each, no user id with them; docs/privacy.md). The nudges' allowances, sent
   markers and day claims go too (store/nudges.py): nothing is sent to a deleted account.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from .. import bootstrap
from ..domain import clock, evidence, persons
from ..domain.commands_expiry import ForfeitBalance
from ..domain.platforms import platform_of
from ..domain.posting import Posting
from ..domain.privacy import DELETED_NAME
from ..domain.profile import QUEUES
from ..domain.results_expiry import PointsForfeited
from ..errors import AppError
from ..sealing import unseal
from ..store import evidence_objects
from ..store import repositories_erasure as erasures
from ..store.idempotency import REMEMBER_FOR
from ..store.persons import leave as leave_person
from ..store.persons import union_key
from ..store.repositories_nudges import erase as forget_nudges
from ..store.unit_of_work import PostingUnitOfWork
from . import catalog, consent, expiry, nicknames, public_names, redemptions, revocations

log = logging.getLogger("greensprout.erasure")
FROZEN_REASON = "account deletion"
RECENT = timedelta(minutes=10)  # far beyond how long a GSI lags behind its table


def delete_account(user_id: str, channel: str, operator: str | None = None, reason: str | None = None) -> dict:
    """Deletes the account (see the module's steps); a deleted one answers as deleted, changing nothing."""
    account = erasures.account(user_id)
    orgs = [o["id"] for o in account.orgs or []]
    if account.deleted_at:
        done = erasures.erasure(user_id)
        if done is None or not (done.finished_at or done.waiting):  # an earlier run stopped after step 7
            _last_steps(user_id, orgs, dict(done.outcome or {}) if done else {}, platform_of(account))
        return {"deleted": True, "id": user_id, "deleted_at": account.deleted_at, "already": True}
    now = clock.now()
    erasures.record(user_id, channel, operator, reason, now)
    erasures.freeze(user_id, FROZEN_REASON, clock.now())
    platform = platform_of(account)
    outcome = {"consents_revoked": consent.revoke_all(user_id, platform=platform)}
    outcome.update(_settle_redemptions(user_id))
    outcome["adoptions"] = _anonymize_adoptions(user_id)
    outcome["points_forfeited"] = _forfeit(user_id)
    outcome["request_records_deleted"] = _forget_requests(user_id, now, platform)
    outcome["left_person"] = _leave_person(account)
    _remove_identity(account)
    deleted_at = clock.iso(clock.now())
    erasures.scrub_account(user_id, deleted_at, revocations.deleted_item(user_id))
    revocations.deleted(user_id)
    erasures.leave_moderation(user_id, tuple(nicknames.queue_key(queue, platform) for queue in QUEUES))
    waiting = _last_steps(user_id, orgs, outcome, platform)
    return {"deleted": True, "id": user_id, "deleted_at": deleted_at, "waiting_for_partners": waiting, **outcome}


def _last_steps(user_id: str, orgs: list[str], outcome: dict, platform: str) -> list[str]:
    """Step 8 and the record's end: boards to rebuild, consents scrubbed, finished or waiting for partners."""
    outcome["boards_marked"] = public_names.mark_boards_of(user_id, orgs, platform=platform)  # its platform's
    outcome["evidence_photos_deleted"] = evidence_objects.delete_prefix(evidence.user_prefix(platform, user_id))
    outcome["nudge_items_deleted"] = forget_nudges(user_id)  # allowances and what was sent (docs/nudges.md)
    waiting = erasures.scrub_consents(user_id)
    erasures.finish(user_id, outcome, waiting, clock.now())
    return waiting


def preview(user_id: str) -> dict:
    """What a deletion would do (the console's --dry-run), reading only."""
    account = erasures.account(user_id)
    issued, bound, adoptions = erasures.issued_preview(user_id)
    return {"id": user_id, "already_deleted": bool(account.deleted_at), "consents_to_revoke": bound,
            "redemptions_to_cancel": issued, "adoptions": adoptions, "points_to_forfeit": int(account.points),
            "orgs": [o["id"] for o in account.orgs or []]}


def finish_waiting(now: datetime) -> dict:
    """The job: erasures whose partner revocations are now confirmed lose the partner's reference."""
    finished = left = 0
    for user_id in erasures.waiting_users():
        try:  # one that could not even be revoked here is revoked now, releasing its platform's holder
            consent.revoke_all(user_id, platform=platform_of(erasures.account(user_id)))
        except AppError:
            left += 1
            continue
        if erasures.scrub_consents(user_id):
            left += 1
            continue
        erasures.finished(user_id, now)
        finished += 1
    return {"finished": finished, "waiting": left}


def _settle_redemptions(user_id: str) -> dict:
    """Issued codes cancelled (refunded) or expired; every delivery address removed."""
    cancelled, expired, addresses = [], [], 0
    for redemption in erasures.redemptions_of(user_id, clock.iso(clock.now() - RECENT)):
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
        addresses += int(erasures.remove_address(redemption))
    return {"redemptions_cancelled": cancelled, "redemptions_expired": expired, "addresses_removed": addresses}


def _refund(redemption: Any, now: datetime) -> bool:
    """The user's cancel without its `cancellable` test: every unused code goes, refunded (then forfeited)."""
    return redemptions.refund(redemption, "cancelled", "account deletion", now, bootstrap.posting_uow())


def _anonymize_adoptions(user_id: str) -> int:
    """The certificate no longer names the adopter; the tree stops accruing to a closed account."""
    adoptions = erasures.adoptions_of(user_id, clock.iso(clock.now() - RECENT))
    for adoption in adoptions:
        erasures.anonymize_adoption(adoption.adoption_id, DELETED_NAME)
    return len(adoptions)


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


def _forget_requests(user_id: str, now: datetime, platform: str) -> int:
    """The request records of the last 48 hours: found from the ledger entries they wrote (no scan)."""
    keys, credits = erasures.recent_requests(user_id, clock.iso(now - REMEMBER_FOR - timedelta(hours=1)))
    keys |= _staff_records(credits, platform)
    erasures.forget_requests(keys)
    return len(keys)


def _staff_records(credits: list[tuple[str, str]], platform: str) -> set[str]:
    """A collection point's credit is remembered under the staff member's id (its answer names the member):
    the keys of every staff member of the crediting merchant, one of the user's platform's merchants (its catalog
    lists their openids; a few), whose WeChat identities are that platform's (staff of a platform are users of
    its mini program)."""
    if not credits:
        return set()
    merchants = catalog.merchants(platform)
    openids = {openid: merchant_id for merchant_id, _ in credits
               for openid in (merchants.get(merchant_id) or {}).get("staff_openids", [])}
    if not openids:
        return set()
    staff: dict[str, list[str]] = {}
    for openid, staff_id in erasures.user_ids_of(list(openids), platform).items():
        staff.setdefault(openids[openid], []).append(staff_id)
    return {f"{staff_id}#{request_id}" for merchant_id, request_id in credits
            for staff_id in staff.get(merchant_id, [])}


def _leave_person(account: Any) -> bool:
    """The account leaves its person (store/persons.leave): out of the union item's users (the item deleted with
    its last user), out of its peers' `peers`, its carbon out of the person's carbon they keep; it keeps its own
    carbon, anonymous. The union item is found from the unionid sealed in the WeChat identity, so this runs
    before the identity goes. True when something was written."""
    if not account.person_id and not persons.peers_of(account):
        return False  # no unionid joined it to a person (login and backfill give person_id with the union item)
    key = None
    sealed = erasures.unionid_sealed(account.identity_key) if account.identity_key else None
    if sealed:
        key = union_key(unseal(sealed, account.identity_key))
    if key is None and not persons.peers_of(account):
        return False  # no union item to find, no peer to leave
    return leave_person(key, account.user_id)


def _remove_identity(account: Any) -> None:
    """Deletes the WeChat identity unless it already belongs to a newer account (a login after deletion)."""
    if account.identity_key:
        erasures.remove_identity(account.identity_key, account.user_id)
