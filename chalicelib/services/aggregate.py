"""Stream handlers: new ledger entries and logins, filed once each into the aggregation inbox.

AWS calls these from DynamoDB Streams (`app.py`, when LEDGER_STREAM_ARN / IDENTITY_STREAM_ARN are
set); `python -m admin run-jobs` feeds them the records of DynamoDB Local's streams. Streams deliver
at least once, so every record becomes an inbox item keyed by what it is (the entry, the user's login
day, the user's first login) and put with attribute_not_exists: a record delivered again is dropped
here, and the fold (services/fold.py) applies each inbox item exactly once, in a transaction that also
clears the item's `pending` mark. The check-in path itself writes nothing for boards or stats.
"""
from __future__ import annotations

from pynamodb.exceptions import PutError

from ..domain import clock
from ..domain.ranking import shard_of
from ..store.aggregates import InboxItem
from ..store.models import Identity, LedgerEntry

# Entries of these (kind, source) are a person acting that day (api.md: checked in, synced, redeemed, adopted).
ACTIVITY = {("earn", "checkin"), ("earn", "werun"), ("earn", "operator"), ("spend", "market"), ("spend", "tree")}


def accept_ledger(records: list[dict]) -> int:
    """Files the ledger entries inserted in a batch of stream records; returns how many were new."""
    accepted = 0
    for record in records:
        image = record.get("dynamodb", {}).get("NewImage")
        if record.get("eventName") != "INSERT" or not image:
            continue  # entries are immutable: only their creation matters
        entry = LedgerEntry.from_raw_data(image)
        if not matters(entry.kind, entry.source, int(entry.points), int(entry.carbon_mg)):
            continue
        accepted += _file(InboxItem(
            f"e#{entry.user_id}#{entry.entry_id}", what="entry", user_id=entry.user_id, at=entry.at, day=entry.day,
            kind=entry.kind, source=entry.source, points=int(entry.points), carbon_mg=int(entry.carbon_mg)))
    return accepted


def accept_identities(records: list[dict]) -> int:
    """Files first logins (identity created) and the day of every login (identity updated)."""
    accepted = 0
    for record in records:
        image = record.get("dynamodb", {}).get("NewImage")
        if record.get("eventName") not in ("INSERT", "MODIFY") or not image:
            continue
        identity = Identity.from_raw_data(image)
        if identity.platform:  # another platform's user: not in `default`'s stats (docs/platforms.md, "Plan")
            continue
        if record["eventName"] == "INSERT":
            day = clock.business_day(clock.parse_iso(identity.created_at)).isoformat()
            accepted += _file(InboxItem(f"r#{identity.user_id}", what="register", user_id=identity.user_id,
                                        at=identity.created_at, day=day))
        if identity.last_login_at:
            day = clock.business_day(clock.parse_iso(identity.last_login_at)).isoformat()
            accepted += _file(InboxItem(f"l#{identity.user_id}#{day}", what="login", user_id=identity.user_id,
                                        at=identity.last_login_at, day=day))
    return accepted


def matters(kind: str, source: str, points: int, carbon_mg: int) -> bool:
    """Whether an entry changes a board, a counter or the day's actives (refunds and expiries do not)."""
    return carbon_mg != 0 or issued_points(kind, points) > 0 or (kind, source) in ACTIVITY


def issued_points(kind: str, points: int) -> int:
    """api.md: points issued are `earn` and `adjust` above zero; refunds are not issued again."""
    return points if kind in ("earn", "adjust") and points > 0 else 0


def _file(item: InboxItem) -> int:
    item.pending = f"s{shard_of(item.user_id):02d}"  # never expires while pending: the fold sets the TTL
    try:
        item.save(condition=InboxItem.key.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return 0  # delivered before: already filed (and maybe folded)
        raise
    return 1
