"""Stream handlers: new ledger entries and logins, filed once each into the aggregation inbox.

AWS calls these from DynamoDB Streams (`app.py`, when LEDGER_STREAM_ARN / IDENTITY_STREAM_ARN are
set); `python -m admin run-jobs` feeds them the records of DynamoDB Local's streams. Streams deliver
at least once, so every record becomes an inbox item keyed by what it is (the entry, the user's login
day, the user's first login) and filed once (store/inbox.py: put with attribute_not_exists): a record
delivered again is dropped, and the fold (services/fold.py) applies each inbox item exactly once, in a
transaction that also clears the item's `pending` mark. The check-in path itself writes nothing for boards
or stats.
"""
from __future__ import annotations

from ..domain import clock
from ..domain.aggregation import Filed, matters
from ..domain.persons import UNION_PREFIX


def _default_inbox():
    from ..bootstrap import inbox  # here: importing the handler's module builds nothing

    return inbox()


def accept_ledger(records: list[dict], inbox=None) -> int:
    """Files the ledger entries inserted in a batch of stream records; returns how many were new."""
    inbox = inbox or _default_inbox()
    accepted = 0
    for record in records:
        image = record.get("dynamodb", {}).get("NewImage")
        if record.get("eventName") != "INSERT" or not image:
            continue  # entries are immutable: only their creation matters
        entry = inbox.entry(image)
        if not matters(entry.kind, entry.source, entry.points, entry.carbon_mg):
            continue
        accepted += inbox.file(Filed(
            f"e#{entry.user_id}#{entry.entry_id}", "entry", entry.user_id, entry.at, entry.day, entry.kind,
            entry.source, entry.points, entry.carbon_mg))
    return accepted


def accept_identities(records: list[dict], inbox=None) -> int:
    """Files first logins (identity created) and the day of every login (identity updated), of every platform;
    and of each person's union item, the item once and each of its users once (the persons count)."""
    inbox = inbox or _default_inbox()
    accepted = 0
    for record in records:
        image = record.get("dynamodb", {}).get("NewImage")
        if record.get("eventName") not in ("INSERT", "MODIFY") or not image:
            continue
        if (image.get("key") or {}).get("S", "").startswith(UNION_PREFIX):  # a person's union item: no login
            accepted += _file_union(inbox, image)
            continue
        identity = inbox.identity(image)  # any platform's: the fold files it under its account's platform
        if record["eventName"] == "INSERT":
            day = clock.business_day(clock.parse_iso(identity.created_at)).isoformat()
            accepted += inbox.file(Filed(f"r#{identity.user_id}", "register", identity.user_id,
                                         identity.created_at, day))
        if identity.last_login_at:
            day = clock.business_day(clock.parse_iso(identity.last_login_at)).isoformat()
            accepted += inbox.file(Filed(f"l#{identity.user_id}#{day}", "login", identity.user_id,
                                         identity.last_login_at, day))
    return accepted


def _file_union(inbox, image: dict) -> int:
    """A union item of two users or more as "n#{person}" (once, under one of its users) and each user it names as
    "j#{person}#{user}" (once each): an image names all the users so far, so a record delivered again, or one
    of a later join, files only what is new. The fold counts them per platform (domain/aggregation.plan_items).
    A union item of one user adds one union and one union user, nothing to the persons: it is not filed (a
    person on one platform, nearly everyone, costs the aggregation nothing more)."""
    if "users" not in image:
        return 0  # names no user yet
    union = inbox.union(image)
    if len(union.users) < 2:
        return 0
    day = clock.business_day(clock.parse_iso(union.created_at)).isoformat()
    accepted = inbox.file(Filed(f"n#{union.person_id}", "person", min(union.users), union.created_at, day))
    for user in sorted(union.users):
        accepted += inbox.file(Filed(f"j#{union.person_id}#{user}", "member", user, union.created_at, day))
    return accepted
