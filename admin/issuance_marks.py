"""Which entries an issuance may take, read and written by key (never a scan): the platform of each entry's user
(its account's `platform`, absent = `default`) and the marker of each issued entry (store/issuance.IssuedEntry)."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from chalicelib.domain import clock
from chalicelib.domain.platforms import DEFAULT, platform_of
from chalicelib.store.issuance import IssuedEntry
from chalicelib.store.models import Account
from chalicelib.store.single_writes import written

BATCH = 100  # keys of one BatchGetItem
PLATFORMS_KEPT = 50_000  # users' platforms a scan's segment remembers (a user's entries come together in a scan)


def _chunks(items: list, size: int = BATCH) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def platforms_of(user_ids: Iterable[str]) -> dict[str, str]:
    """{user id: platform}; a user's platform never changes, so an eventually consistent read is exact. An
    account that cannot be found (none is ever removed) reads as `default`'s, as the user of an absent
    `platform` does."""
    wanted = sorted(set(user_ids))
    found = {uid: DEFAULT for uid in wanted}
    for chunk in _chunks(wanted):
        for account in Account.batch_get(chunk, attributes_to_get=["user_id", "platform"]):
            found[account.user_id] = platform_of(account)
    return found


def remembered(known: dict[str, str], user_ids: set[str],
               lookup: Callable[[Iterable[str]], dict[str, str]] = platforms_of) -> dict[str, str]:
    """`known` (a segment's memory of users' platforms) holding those of `user_ids` too: the missing ones read by
    `lookup`; past PLATFORMS_KEPT users the memory starts afresh with these. Report and issuance both use it."""
    missing = user_ids - known.keys()
    if missing:
        if len(known) > PLATFORMS_KEPT:
            known.clear()
            missing = user_ids
        known.update(lookup(missing))
    return known


def owners(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """{(user id, entry id): the issuance id that marked it}, for the entries already marked (a consistent read:
    a marker put a moment ago is seen)."""
    wanted = sorted(set(keys))
    found: dict[tuple[str, str], str] = {}
    for chunk in _chunks(wanted):
        for marker in IssuedEntry.batch_get([IssuedEntry.key_of(*key) for key in chunk], consistent_read=True):
            found[(marker.user_key.removeprefix("entry#"), marker.entry_id)] = marker.issuance
    return found


def mark(issuance: str, user_id: str, entry_id: str) -> str | None:
    """Marks the entry as issued by `issuance`: None when it is (now, or already by this same issuance, whose
    console died half-way), else the issuance id of the marker found, which issued it."""
    marker = IssuedEntry(*IssuedEntry.key_of(user_id, entry_id), issuance=issuance, marked_at=clock.iso(clock.now()))
    condition = IssuedEntry.user_key.does_not_exist() | (IssuedEntry.issuance == issuance)
    if written(lambda: marker.save(condition=condition)):
        return None
    return IssuedEntry.get(*IssuedEntry.key_of(user_id, entry_id), consistent_read=True).issuance
