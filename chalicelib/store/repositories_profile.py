"""The DynamoDB repositories of the caller's profile and of nickname moderation (services/profile.py,
nicknames.py): the account as its owner reads and changes it, and the moderation queues.

One call each: the profile is one GetItem (eventually consistent, as it always was), a change one
conditioned UpdateItem whose answer (ALL_NEW) is the account shown back. A refused condition comes back
as a bool or a domain error, never as a PynamoDB exception (store/single_writes.py).
"""
from __future__ import annotations

import logging

from pynamodb.exceptions import DeleteError

from ..domain.profile import APPROVE, HOLD, REJECT, REJECTED, REVIEW, SET, NicknameChange, ProfileChange
from ..errors import AccountDeletedError, NotFoundError
from .access import on
from .models import Account
from .privacy import ModerationItem
from .single_writes import written

log = logging.getLogger(__name__)


class ModerationQueue:
    ACCESS = (on(ModerationItem, "PutItem"),)

    def hold(self, queue: str, user_id: str, at: str) -> None:
        """Lists the user's pending nickname in `queue` (written before the account: a stale item is harmless)."""
        ModerationItem(queue, user_id, queued_at=at).save()


class OwnAccounts:
    ACCESS = (on(Account, "GetItem"),)

    def get(self, user_id: str) -> Account:
        """The account (one GetItem); NOT_FOUND, or ACCOUNT_DELETED for a token that outlived its account."""
        try:
            found = Account.get(user_id)
        except Account.DoesNotExist as exc:
            raise NotFoundError() from exc
        if found.deleted_at:  # the token outlived its account (services/erasure.py): log in again, as a new user
            raise AccountDeletedError()
        return found


class Profiles(OwnAccounts, ModerationQueue):
    """GET and PATCH /v1/me."""

    ACCESS = (on(Account, "UpdateItem"),)

    def update(self, user_id: str, change: ProfileChange, at: str) -> Account:
        """Writes `change` (one UpdateItem) and returns the account as it is now; ACCOUNT_DELETED when the
        account is gone (accounts are never removed: it was deleted)."""
        actions = _nickname_actions(change.nickname) if change.nickname else []
        if change.avatar_given:
            actions.append(Account.avatar_url.set(change.avatar_url))
        account = Account(user_id)
        alive = Account.user_id.exists() & Account.deleted_at.does_not_exist()
        if not written(lambda: account.update(actions=[*actions, Account.updated_at.set(at)], condition=alive)):
            raise AccountDeletedError()
        return account


def _nickname_actions(change: NicknameChange) -> list:
    if change.kind == HOLD:
        return [Account.nickname_pending.set(change.name), Account.nickname_check.set(change.queue)]
    cleared = [Account.nickname_pending.remove(), Account.nickname_check.remove()]
    return [Account.nickname.set(change.name), *cleared] if change.kind == SET else cleared


class NicknameReviews(ModerationQueue):
    """The moderation queues as the `recheck-nicknames` job and the console's moderators read them."""

    ACCESS = (on(Account, "GetItem", "UpdateItem"), on(ModerationItem, "DeleteItem", "Query"))

    def queued(self, queue: str, limit: int | None = None) -> list[tuple[str, str]]:
        """(user_id, queued_at) of the items in `queue` (one Query)."""
        return [(item.user_id, item.queued_at) for item in ModerationItem.query(queue, limit=limit)]

    def account(self, user_id: str) -> Account | None:
        """The account read consistently; None when there is none."""
        try:
            return Account.get(user_id, consistent_read=True)
        except Account.DoesNotExist:
            return None

    def settle(self, user_id: str, pending: str, verdict: str, at: str) -> bool:
        """Approves, rejects or moves to review the pending nickname, unless it changed meanwhile (False)."""
        if verdict == APPROVE:
            actions = _nickname_actions(NicknameChange(SET, pending))
        elif verdict == REJECT:
            actions = [Account.nickname_pending.remove(), Account.nickname_check.set(REJECTED)]
        else:
            actions = [Account.nickname_check.set(REVIEW)]
        account = Account(user_id)
        return written(lambda: account.update(actions=[*actions, Account.updated_at.set(at)],
                                              condition=Account.nickname_pending == pending))

    def drop(self, queue: str, user_id: str) -> None:
        """Removes the item; a failure is left to the next reader, which drops it."""
        item = ModerationItem(queue, user_id)
        try:
            item.delete()
        except DeleteError:
            log.warning("could not drop a moderation item; the next reader drops it")
