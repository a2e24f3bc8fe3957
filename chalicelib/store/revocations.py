"""PynamoDB model of the accounts whose tokens must stop working before they expire.

One small item per deleted account, and per frozen account while a token issued before (or during) the freeze
may still verify; containers read the whole partition once a minute (services/revocations.py).
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from ..errors import ServiceUnavailableError
from .access import access, on
from .failures import ConditionFailed
from .models import Account, table_meta
from .tx import Tx


class Revocation(Model):
    """revocations — pk `shard` (0..SHARDS-1 of services/revocations.py), sk `user_id`: an account whose
    tokens are refused (`kind` "deleted": everywhere, 401) or whose staff powers are (`kind` "frozen": 403
    ACCOUNT_FROZEN on staff routes). Holds no personal data: the opaque user id, the kind, when.

    Written once per deletion (in the account's scrub transaction), per console freeze (in the freeze's
    transaction) and per login of a frozen staff member (its new token's lifetime); deleted by an unfreeze.
    `expires_at` (TTL) is past the lifetime of every token the item must refuse, so the partition holds
    only the last token lifetime's deletions and freezes: a few hundred items for tens of millions of users.
    """

    Meta = table_meta("revocations")
    shard = NumberAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # "deleted" | "frozen"
    at = UnicodeAttribute()
    expires_at = TTLAttribute()


@access(on(Revocation, "Query"))
def revoked(shards: int, now: float) -> dict[str, str]:
    """{user_id: kind} of every shard's items still in their time at `now` (epoch seconds): one Query per shard
    (TTL deletes late: an item past its time is skipped)."""
    return {item.user_id: item.kind for shard in range(shards) for item in Revocation.query(shard)
            if item.expires_at.timestamp() > now}


@access(on(Account, "ConditionCheckItem"), on(Revocation, "PutItem"))
def put_while_frozen(item: Revocation) -> bool:
    """Writes `item` provided its account is still frozen and not deleted: one transaction of a check and a put.
    False when the account is no longer frozen (an unfreeze won); 503 when a conflict or DynamoDB was in the way."""
    tx = Tx()
    tx.check("account", Account, item.user_id, None,
             (Account.frozen == True) & Account.deleted_at.does_not_exist())  # noqa: E712 (a condition)
    tx.put("revocation", item)
    try:
        tx.commit()
    except ConditionFailed as cancelled:
        if "account" in cancelled.failed and not cancelled.conflict:
            return False
        raise ServiceUnavailableError() from None
    return True


ACCESS = (revoked, put_while_frozen)  # what refusing revoked tokens touches (services/revocations.py)
