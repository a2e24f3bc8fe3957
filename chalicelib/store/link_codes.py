"""Link codes of the open protocol (shared/partners/open-protocol.md, "Linking a user"): the item and its
repository.

`link_codes` — pk `key` = the code's SHA-256 (hex): the code itself is a credential and is never stored. A
code is the user's, on their platform, for one partner; valid until `expires_epoch`; used once: the partner's
link claims it by setting `used_by` (its `user_ref`) on the condition that it is unused or already claimed by
that same `user_ref` (a partner retrying a link whose answer it lost), of that partner and still valid. A link
the bind then refuses (the account taken by another person) gives the claim back, so a refused attempt does not
use the code up. TTL purges it a day after it expires.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from ..domain import clock
from ..domain.values import immutable
from .access import on
from .failures import of_database
from .models import table_meta
from .single_writes import written


class LinkCode(Model):
    Meta = table_meta("link_codes")
    key = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    platform = UnicodeAttribute(null=True)  # absent for `default`'s users
    partner = UnicodeAttribute()
    link_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    expires_epoch = NumberAttribute()
    used_by = UnicodeAttribute(null=True)
    used_at = UnicodeAttribute(null=True)
    purge_at = TTLAttribute(null=True)


@immutable
class Code:
    """A link code as the use case reads it."""

    user_id: str
    platform: str | None
    partner: str
    link_id: str
    expires_epoch: int
    used_by: str | None


def key_of(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class LinkCodes:
    ACCESS = (on(LinkCode, "GetItem", "PutItem", "UpdateItem"),)

    def add(self, code: str, user_id: str, platform: str | None, partner: str, link_id: str, now: datetime,
            expires: datetime) -> bool:
        """A new code (one PutItem); False when its key is a code already (60+ random bits: drawn again)."""
        item = LinkCode(key_of(code), user_id=user_id, platform=platform, partner=partner, link_id=link_id,
                        created_at=clock.iso(now), expires_epoch=int(expires.timestamp()),
                        purge_at=expires + timedelta(days=1))
        return written(lambda: item.save(condition=LinkCode.key.does_not_exist()))

    def get(self, code: str) -> Code | None:
        """The code's item (one consistent GetItem), or None when there is none."""
        try:
            item = LinkCode.get(key_of(code), consistent_read=True)
        except LinkCode.DoesNotExist:
            return None
        except PynamoDBException as exc:
            raise (of_database(exc) or exc) from exc
        return Code(item.user_id, item.platform, item.partner, item.link_id, int(item.expires_epoch), item.used_by)

    def claim(self, code: str, partner: str, user_ref: str, now: datetime) -> bool:
        """Marks the code used by `user_ref` (one UpdateItem): False unless it is `partner`'s, still valid, and
        unused or already claimed by that same `user_ref`."""
        item = LinkCode(key_of(code))
        return written(lambda: item.update(
            actions=[LinkCode.used_by.set(user_ref), LinkCode.used_at.set(clock.iso(now))],
            condition=LinkCode.key.exists() & (LinkCode.partner == partner)
            & (LinkCode.expires_epoch > int(now.timestamp()))
            & (LinkCode.used_by.does_not_exist() | (LinkCode.used_by == user_ref))))

    def give_back(self, code: str, user_ref: str) -> None:
        """Undoes this `user_ref`'s claim (one UpdateItem; nothing when another claim holds it)."""
        item = LinkCode(key_of(code))
        written(lambda: item.update(actions=[LinkCode.used_by.remove(), LinkCode.used_at.remove()],
                                    condition=LinkCode.used_by == user_ref))
