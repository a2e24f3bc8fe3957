"""Accounts whose tokens stop working before they expire: a deleted account (every authenticated route answers
401 UNAUTHENTICATED) and a frozen one (staff routes answer 403 ACCOUNT_FROZEN; as a user it still reads).

A token is verified without a DynamoDB call (services/tokens.py) and lives two hours (JWT_TTL_SECONDS), so the
account's own item cannot be read on every request. Instead each deletion and each freeze writes one small item
to the `revocations` table (store/revocations.py), and every container reads that table's partitions at most
once a minute (CACHE_SECONDS), as it reads the catalog: a warm request checks its caller with a dict lookup.
So a deleted or frozen account loses its token's powers in every container within a minute, and at once in the
container that made the change.

Scale: an item lives one token lifetime plus MARGIN_SECONDS (TTL; the reader skips one past its time), so the
partition holds the deletions and freezes of the last two hours and a little: at a deletion rate of 10,000 a
day among tens of millions of users, about 1,000 items of ~60 bytes, one Query page of ~15 read units. Writes
are one per deletion, freeze, unfreeze and login of a frozen staff member; reads one Query per shard per
container per minute (2,000 warm containers: ~35 Queries a second, far below one partition's 3,000 read
units a second). SHARDS spreads the items over more partitions if that ever changes: writers put an account
under `shard_of(user_id)`, readers Query every shard. Lowering it is safe one token lifetime after the change.
"""
from __future__ import annotations

import time
from datetime import UTC, datetime

from ..domain import clock
from ..domain.ids import stable_shard
from ..errors import AccountDeletedError, AccountFrozenError
from ..settings import get_settings
from ..store import revocations as stored
from ..store.revocations import Revocation
from .tokens import LEEWAY_SECONDS

CACHE_SECONDS = 60.0
SHARDS = 1
MARGIN_SECONDS = 300  # beyond the token lifetime: leeway, clock skew between containers, a slow login
DELETED, FROZEN = "deleted", "frozen"
_FROZEN_STAFF = "账户已被冻结，暂不能使用工作人员功能"
_cache: dict[str, tuple[float, dict[str, str]]] = {}  # {"revoked": (loaded at (monotonic), {user_id: kind})}


def shard_of(user_id: str) -> int:
    return stable_shard(user_id, SHARDS)


def revoked() -> dict[str, str]:
    hit = _cache.get("revoked")
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    found = stored.revoked(SHARDS, time.time())
    _cache["revoked"] = (time.monotonic(), found)
    return found


def forget() -> None:
    """Drops the container's cache (tests)."""
    _cache.clear()


def refuse_deleted(user_id: str) -> None:
    """401 UNAUTHENTICATED for the token of a deleted account (api/web.Routes.caller, every route)."""
    if revoked().get(user_id) == DELETED:
        raise AccountDeletedError()


def refuse_frozen_staff(user_id: str) -> None:
    """403 ACCOUNT_FROZEN for staff whose own account is frozen (or deleted: frozen first)."""
    if user_id in revoked():
        raise AccountFrozenError(_FROZEN_STAFF)


def _note(user_id: str, kind: str | None) -> None:
    """This container knows of its own change at once (a new dict: a copy kept by a test stays as it was)."""
    hit = _cache.get("revoked")
    if hit:
        revoked = {k: v for k, v in hit[1].items() if k != user_id}
        _cache["revoked"] = (hit[0], {**revoked, user_id: kind} if kind else revoked)


def _item(user_id: str, kind: str) -> Revocation:
    expires = int(time.time()) + get_settings().jwt_ttl_seconds + LEEWAY_SECONDS + MARGIN_SECONDS
    return Revocation(shard_of(user_id), user_id, kind=kind, at=clock.iso(clock.now()),
                      expires_at=datetime.fromtimestamp(expires, tz=UTC))


def deleted_item(user_id: str) -> Revocation:
    """Written by the deletion's own transaction (services/erasure.py): every token of the account is refused."""
    return _item(user_id, DELETED)


def deleted(user_id: str) -> None:
    _note(user_id, DELETED)


def frozen_item(user_id: str) -> Revocation:
    """Written by the freeze's own transaction (services/corrections.set_frozen): staff powers end with it."""
    return _item(user_id, FROZEN)


def frozen(user_id: str) -> None:
    _note(user_id, FROZEN)


def unfrozen(user_id: str) -> None:
    """After the account's unfreeze and its item's removal (services/corrections.set_frozen; a login racing
    with it finds the account unfrozen and writes nothing: keep_frozen's condition)."""
    _note(user_id, None)


def keep_frozen(user_id: str) -> None:
    """A frozen staff member logs in (services/auth.py): the freeze stays known as long as the new token lives,
    provided the account is still frozen when the item is written (an unfreeze meanwhile wins: nothing to keep)."""
    stored.put_while_frozen(_item(user_id, FROZEN))
