"""The DynamoDB repositories of collection points and operator corrections (store/repositories.py's kind):
member codes, the day's credited counters, failed-scan windows, and an account's standing (freezing)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from pynamodb.exceptions import PynamoDBException

from ..domain import clock
from ..domain.guards_collection import CreditUnderCeiling, MemberCodeUnused, ScansNotLimited
from ..domain.platforms import DEFAULT
from ..errors import AccountDeletedError, NotFoundError
from .access import on
from .failures import Unavailable
from .market import LimitCounter, MemberCode, code_key, credited_key
from .models import Account
from .revocations import Revocation
from .tx import Tx


def _unavailable(exc: PynamoDBException) -> Unavailable:
    """A failed PynamoDB call: Unavailable, except a ValidationException (re-raised: our bug)."""
    if exc.cause_response_code == "ValidationException":
        raise exc
    return Unavailable()


class Members:
    ACCESS = (on(Account, "GetItem"),)

    def get(self, user_id: str) -> Account:
        """The account as its owner reads it (one GetItem, eventually consistent, as services/profile.py)."""
        try:
            found = Account.get(user_id)
        except Account.DoesNotExist:
            raise NotFoundError() from None
        except PynamoDBException as exc:
            raise _unavailable(exc) from exc
        if found.deleted_at:
            raise AccountDeletedError()
        return found


class MemberCodes:
    ACCESS = (on(MemberCode, "GetItem", "PutItem", "UpdateItem"),)

    def get(self, code: str, platform: str = DEFAULT) -> MemberCode | None:
        """The member code's item (one consistent GetItem), or None when `platform` has no such code (its `code`
        attribute is the key: "P#{code}" on another platform P than `default`)."""
        try:
            return MemberCode.get(code_key(platform, code), consistent_read=True)
        except MemberCode.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise _unavailable(exc) from exc

    def add(self, code: str, user_id: str, created_at: datetime, expires_at: datetime,
            platform: str = DEFAULT) -> bool:
        """A new member code of a user of `platform` (one PutItem); False when `code` is a live code of the
        platform already (drawn again)."""
        item = MemberCode(code_key(platform, code), user_id=user_id, created_at=clock.iso(created_at),
                          expires_epoch=int(expires_at.timestamp()), purge_at=expires_at + timedelta(days=1))
        try:
            item.save(condition=MemberCode.code.does_not_exist())
        except PynamoDBException as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise _unavailable(exc) from exc
        return True

    def stage_use(self, tx: Tx, label: str, guard: MemberCodeUnused) -> None:
        tx.update(label, MemberCode(guard.code), actions=[
            MemberCode.used_at.set(guard.used_at), MemberCode.used_by.set(guard.used_by)],
            condition=MemberCode.used_at.does_not_exist() & (MemberCode.expires_epoch > guard.at_epoch)
            & (MemberCode.user_id == guard.user_id))


class CollectionCounters:
    ACCESS = (on(LimitCounter, "ConditionCheckItem", "UpdateItem"),)

    def stage_window_check(self, tx: Tx, label: str, guard: ScansNotLimited) -> None:
        tx.check(label, LimitCounter, guard.window, None,
                 condition=LimitCounter.key.does_not_exist() | (LimitCounter.count < guard.limit))

    def stage_credit(self, tx: Tx, label: str, guard: CreditUnderCeiling) -> None:
        """The day's credited total grows, within the ceiling; the counter goes 3 days after its day."""
        purge = datetime.combine(guard.day + timedelta(days=3), time(), clock.SHANGHAI)
        tx.update(label, LimitCounter(credited_key(guard.cap, guard.owner, guard.behavior, guard.day)),
                  actions=[LimitCounter.count.add(guard.taken_milli), LimitCounter.purge_at.set(purge)],
                  condition=LimitCounter.count.does_not_exist()
                  | (LimitCounter.count <= guard.ceiling_milli - guard.taken_milli))


class Standing:
    """Freezing: the account's flag, its version bumped (a write planned before cannot land after), and the
    revocation item the staff routes read (services/revocations.py), in one transaction."""

    ACCESS = (on(Account, "GetItem", "UpdateItem"), on(Revocation, "DeleteItem", "PutItem"))

    def get(self, user_id: str) -> Account:
        try:
            return Account.get(user_id, consistent_read=True)
        except Account.DoesNotExist:
            raise NotFoundError() from None
        except PynamoDBException as exc:
            raise _unavailable(exc) from exc

    def set_frozen(self, user_id: str, frozen: bool, reason: str | None, at: datetime,
                   revocation: Revocation | None) -> None:
        """ConditionFailed (store/failures.py) when the account is gone or deleted meanwhile, or a concurrent
        write was in the way; `revocation` is written with a freeze."""
        tx = Tx()
        tx.update("account", Account(user_id), actions=[
            Account.frozen.set(frozen), Account.frozen_reason.set(reason if frozen else None),
            Account.version.add(1), Account.updated_at.set(clock.iso(at))],
            condition=Account.user_id.exists() & Account.deleted_at.does_not_exist())
        if revocation is not None:
            tx.put("revocation", revocation)
        tx.commit()

    def drop_freeze(self, shard: int, user_id: str) -> None:
        """The freeze's revocation item goes, if there is one (expired, or never written: nothing to do)."""
        try:
            Revocation(shard, user_id).delete(condition=Revocation.kind == "frozen")
        except PynamoDBException as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise _unavailable(exc) from exc
