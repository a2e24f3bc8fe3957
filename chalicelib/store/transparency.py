"""transparency_roots — pk `scope`, sk `key`: the daily roots of the public transparency record (docs/transparency.md).

- a day's root record: `scope` = the platform ("default", "company-demo"), `key` = the day "YYYY-MM-DD": the
  routes' range is one Query of the platform's partition, the chain's head the last item of it;
- a shard's root: `scope` = "{platform}#{day}", `key` = "{shard:03d}": the shard's root, counts and leaves file.
Both are written once (`attribute_not_exists`), never updated or deleted (the job's IAM policy grants PutItem,
GetItem and Query only, infra/aws/policy.py): a second computation finds the first and keeps it.

Also what the roots job reads elsewhere: one shard of a day's ledger entries through the sparse GSI `by_root`
(store/models.py), and the pseudonyms of their accounts (BatchGetItem; an account without one gets it once:
`SET pseudonym = if_not_exists(...)` on a live account).
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.models import Model

from ..domain import transparency
from .access import access, on
from .models import Account, LedgerEntry, table_meta


class RootRecord(Model):
    Meta = table_meta("transparency_roots")
    scope = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    v = NumberAttribute(default=transparency.VERSION)
    root = UnicodeAttribute()
    entries = NumberAttribute()
    carbon_mg = NumberAttribute()
    totals = JSONAttribute()
    # a shard's
    leaves = UnicodeAttribute(null=True)  # the leaves file's object key (None: an empty shard has no file)
    # a day's
    shards = NumberAttribute(null=True)
    shard_roots = JSONAttribute(null=True)
    prev = UnicodeAttribute(null=True)
    chain = UnicodeAttribute(null=True)


DAY_FIELDS = ("v", "shards", "shard_roots", "root", "entries", "carbon_mg", "totals", "prev", "chain")
SHARD_FIELDS = ("v", "root", "entries", "carbon_mg", "totals", "leaves")


def _shard_scope(platform: str, day: str) -> str:
    return f"{platform}#{day}"


def _day_dict(item: RootRecord) -> dict:
    return {"platform": item.scope, "day": item.key, **{name: _plain(getattr(item, name)) for name in DAY_FIELDS}}


def _plain(value: object) -> object:
    return int(value) if isinstance(value, float) else value


@access(on(LedgerEntry, "Query", index="by_root"))
def shard_entries(platform: str, day: str, shard: int) -> list[LedgerEntry]:
    """One shard of one platform's day: a paged Query of the GSI (its projected attributes and the keys)."""
    key = f"{platform}#{day}#{shard:03d}"
    return list(LedgerEntry.by_root.query(key))


@access(on(Account, "BatchGetItem"), on(Account, "UpdateItem"))
def pseudonyms(user_ids: set[str]) -> dict[str, str | None]:
    """Each account's pseudonym (given now to a live account without one); None for a deleted or missing one."""
    found: dict[str, str | None] = dict.fromkeys(user_ids)
    missing = []
    for account in Account.batch_get(sorted(user_ids), consistent_read=True,
                                      attributes_to_get=["user_id", "pseudonym", "deleted_at"]):
        if account.deleted_at:
            continue
        if account.pseudonym:
            found[account.user_id] = account.pseudonym
        else:
            missing.append(account.user_id)
    for user_id in missing:
        found[user_id] = _assign(user_id)
    return found


def _assign(user_id: str) -> str | None:
    """SET pseudonym = if_not_exists(pseudonym, new) on a live account: two jobs at once get the same one."""
    account = Account(user_id)
    try:
        account.update(actions=[Account.pseudonym.set(Account.pseudonym | transparency.new_pseudonym())],
                       condition=Account.user_id.exists() & Account.deleted_at.does_not_exist())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    return account.pseudonym


@access(on(RootRecord, "PutItem"), on(RootRecord, "GetItem"))
def put_shard(platform: str, day: str, shard: int, values: dict) -> dict:
    """The shard's root, written once; the stored one (the first computation's) whatever this one computed."""
    item = RootRecord(_shard_scope(platform, day), f"{shard:03d}", **{k: values[k] for k in SHARD_FIELDS})
    return _put_once(item, SHARD_FIELDS)


@access(on(RootRecord, "PutItem"), on(RootRecord, "GetItem"))
def put_day(record: dict) -> dict:
    item = RootRecord(record["platform"], record["day"], **{k: record[k] for k in DAY_FIELDS})
    return _day_dict(_put_once_item(item))


def _put_once(item: RootRecord, fields: tuple[str, ...]) -> dict:
    stored = _put_once_item(item)
    return {name: _plain(getattr(stored, name)) for name in fields}


def _put_once_item(item: RootRecord) -> RootRecord:
    try:
        item.save(condition=RootRecord.scope.does_not_exist())
        return item
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    return RootRecord.get(item.scope, item.key, consistent_read=True)


@access(on(RootRecord, "Query"))
def shard_roots(platform: str, day: str) -> dict[int, dict]:
    """The shards of a day written so far: one consistent Query of the day's shard partition."""
    return {int(item.key): {name: _plain(getattr(item, name)) for name in SHARD_FIELDS}
            for item in RootRecord.query(_shard_scope(platform, day), consistent_read=True)}


@access(on(RootRecord, "GetItem"))
def day_root(platform: str, day: str) -> dict | None:
    try:
        return _day_dict(RootRecord.get(platform, day, consistent_read=True))
    except RootRecord.DoesNotExist:
        return None


@access(on(RootRecord, "Query"))
def last_rooted(platform: str) -> dict | None:
    """The platform's chain head: the last item of its partition (days sort as text)."""
    for item in RootRecord.query(platform, scan_index_forward=False, limit=1, consistent_read=True):
        return _day_dict(item)
    return None


@access(on(RootRecord, "Query"))
def day_roots(platform: str, first: str, last: str) -> list[dict]:
    """The platform's root records from `first` to `last` (at most 31 days): one Query."""
    return [_day_dict(item) for item in RootRecord.query(platform, RootRecord.key.between(first, last))]


@access(on(LedgerEntry, "GetItem"))
def entry(user_id: str, entry_id: str) -> LedgerEntry | None:
    """One of the user's entries (another user's is simply not under this key)."""
    try:
        return LedgerEntry.get(user_id, entry_id)  # all of it: the proof builds its leaf again
    except LedgerEntry.DoesNotExist:
        return None


@access(on(Account, "GetItem"))
def pseudonym_of(user_id: str) -> str | None:
    """The live account's pseudonym (one GetItem of that attribute); None before the job gave it one."""
    try:
        return Account.get(user_id, attributes_to_get=["user_id", "pseudonym"]).pseudonym
    except Account.DoesNotExist:
        return None


@access(on(RootRecord, "GetItem"))
def shard_root(platform: str, day: str, shard: int) -> dict | None:
    try:
        item = RootRecord.get(_shard_scope(platform, day), f"{shard:03d}", consistent_read=True)
    except RootRecord.DoesNotExist:
        return None
    return {name: _plain(getattr(item, name)) for name in SHARD_FIELDS}
