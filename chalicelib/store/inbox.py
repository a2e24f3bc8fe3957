"""The aggregation inbox's DynamoDB side (services/aggregate.py decides what is filed): stream images read as
plain values, and each inbox item put once (attribute_not_exists), so a record delivered again is dropped."""
from __future__ import annotations

import json

from pynamodb.exceptions import PutError

from ..domain.aggregation import Filed
from ..domain.ranking import shard_of
from ..domain.values import immutable
from .access import on
from .aggregates import InboxItem
from .models import Identity, LedgerEntry


@immutable
class EntryImage:
    """A ledger entry as a stream record shows it."""

    user_id: str
    entry_id: str
    at: str
    day: str
    kind: str
    source: str
    points: int
    carbon_mg: int


@immutable
class IdentityImage:
    """An identity as a stream record shows it: when it was created and last logged in, and its platform (None:
    `default`)."""

    user_id: str
    created_at: str
    last_login_at: str | None
    platform: str | None = None


@immutable
class UnionImage:
    """A person's union item as a stream record shows it: the person and their user ids on every platform."""

    person_id: str
    users: tuple[str, ...]
    created_at: str


class DynamoInbox:
    """agg_inbox (store/aggregates.InboxItem); tests/unit/fakes_aggregation.py keeps it in memory."""

    ACCESS = (on(InboxItem, "PutItem"),)

    @staticmethod
    def entry(image: dict) -> EntryImage:
        entry = LedgerEntry.from_raw_data(image)
        return EntryImage(entry.user_id, entry.entry_id, entry.at, entry.day, entry.kind, entry.source,
                          int(entry.points), int(entry.carbon_mg))

    @staticmethod
    def identity(image: dict) -> IdentityImage:
        identity = Identity.from_raw_data(image)
        # `platform` comes with issue 20's Identity (main): until this branch has it, every identity is default's
        return IdentityImage(identity.user_id, identity.created_at, identity.last_login_at,
                             getattr(identity, "platform", None))

    @staticmethod
    def union(image: dict) -> UnionImage:
        users = json.loads((image.get("users") or {}).get("S") or "{}")
        return UnionImage(image["person_id"]["S"], tuple(users.values()), image["created_at"]["S"])

    @staticmethod
    def file(item: Filed) -> bool:
        """Puts the item pending in its user's shard (it never expires while pending: the fold sets the TTL);
        False when it was filed before (a stream record delivered again, maybe folded already)."""
        try:
            InboxItem(item.key, what=item.what, user_id=item.user_id, at=item.at, day=item.day, kind=item.kind,
                      source=item.source, points=item.points, carbon_mg=item.carbon_mg,
                      pending=f"s{shard_of(item.user_id):02d}").save(condition=InboxItem.key.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True
