"""The review queue, the held entries of an account and its appeal, in DynamoDB (domain/review.py).

- The queue: one small item per account under review in the moderation table (store/privacy.ModerationItem),
  partition "risk#{n}" (domain/review.queue_of: 8 partitions, so no key everybody writes), sort key the user id,
  `queued_at` the review's `since`. Put by the transaction that puts the account under review (a rule's posting,
  the console's `risk flag`), deleted by the one that clears it (the last release or void): never out of step.
  `risk list` reads the 8 partitions (8 Queries), never the accounts table.
- An account's open held entries: one consistent Query of the user's own ledger partition from shortly before
  the review began (entry ids sort by time), never a scan; the release and void entries in that range say which
  held entries are settled already.
- An appeal: one UpdateItem of the account, conditioned on the account being under review with no open appeal.
- A staff member's held credits (held on the members' accounts): one item each in partition "risk-staff#{staff}",
  sort key "{member}#{entry id}", put by the credit's transaction (which also checks the staff member's
  standing: a ConditionCheck of their account) and deleted by the one that settles it; read by one Query.
"""
from __future__ import annotations

from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError

from ..domain import clock, ids
from ..domain import review as review_rules
from ..errors import AppealOpenError, NotFoundError, NotUnderReviewError
from .access import access, on
from .failures import raise_unavailable
from .models import Account, LedgerEntry
from .privacy import ModerationItem
from .tx import Tx, connection

SKEW = timedelta(hours=1)  # held entries are read from this long before `since` (clocks of other containers)
PUT, DELETE = "put", "delete"


@access(on(ModerationItem, "PutItem", "DeleteItem"))
def stage(tx: Tx, op: str, user_id: str, since: str | None) -> None:
    """The account's queue item, put (under review since `since`) or deleted (cleared), in the posting's own
    transaction (store/dynamo_uow.py)."""
    item = ModerationItem(review_rules.queue_of(user_id), user_id, queued_at=since or clock.iso(clock.now()))
    if op == PUT:
        tx.put("review-queue", item)
    else:
        tx.delete("review-queue", item)


@access(on(Account, "ConditionCheckItem"), on(ModerationItem, "PutItem", "DeleteItem"))
def stage_staff(tx: Tx, label: str, guard: review_rules.Guard) -> None:
    """A collection-point credit's staff guards (domain/review.py) as transaction actions."""
    if isinstance(guard, review_rules.StaffStanding):
        since = Account.review_since
        tx.check(label, Account, guard.staff_id, None, since.exists() if guard.under_review else since.does_not_exist())
    elif isinstance(guard, review_rules.StaffCreditListed):
        tx.put(label, ModerationItem(review_rules.staff_queue(guard.staff_id), f"{guard.member_id}#{guard.entry_id}",
                                     queued_at=clock.iso(clock.now())))
    else:
        for index, entry_id in enumerate(guard.entry_ids):
            tx.delete(f"{label}:{index}", ModerationItem(review_rules.staff_queue(guard.staff_id),
                                                        f"{guard.member_id}#{entry_id}"))


@access(on(ModerationItem, "Query"))
def staff_held(staff_id: str) -> dict[str, list[str]]:
    """{member: [held entry ids]} of the credits held because `staff_id` is under review (one Query)."""
    found: dict[str, list[str]] = {}
    for item in ModerationItem.query(review_rules.staff_queue(staff_id), consistent_read=True):
        member, _, entry_id = item.user_id.partition("#")
        found.setdefault(member, []).append(entry_id)
    return found


@access(on(LedgerEntry, "Query"))
def unsettled_of(user_id: str, entry_ids: list[str]) -> list[LedgerEntry]:
    """Which of these held entries of the user no release or void settles yet (one consistent Query of the
    user's partition from the oldest of them)."""
    wanted, held, settled = set(entry_ids), [], set()
    for entry in LedgerEntry.query(user_id, LedgerEntry.entry_id >= min(entry_ids), consistent_read=True):
        if entry.kind == review_rules.HELD and entry.entry_id in wanted:
            held.append(entry)
        elif entry.kind in (review_rules.RELEASE, review_rules.VOID) and entry.ref:
            settled.add(entry.ref)
    return [entry for entry in held if entry.entry_id not in settled]


@access(on(ModerationItem, "Query"))
def listed() -> list[tuple[str, str]]:
    """(user id, since) of every account in the queue, oldest first: one Query per partition."""
    found = [(item.user_id, item.queued_at) for queue in review_rules.queues() for item in ModerationItem.query(queue)]
    return sorted(found, key=lambda pair: (pair[1], pair[0]))


@access(on(LedgerEntry, "Query"))
def unsettled(user_id: str, since: str) -> list[LedgerEntry]:
    """The account's held entries no release or void settles yet, oldest first (one consistent Query of the
    user's own partition, from shortly before `since`)."""
    start = ids.sortable_id(clock.epoch_ms(clock.parse_iso(since) - SKEW))[:10]
    held, settled = [], set()
    for entry in LedgerEntry.query(user_id, LedgerEntry.entry_id >= start, consistent_read=True):
        if entry.kind == review_rules.HELD:
            held.append(entry)
        elif entry.kind in (review_rules.RELEASE, review_rules.VOID) and entry.ref:
            settled.add(entry.ref)
    return [entry for entry in held if entry.entry_id not in settled]


class Appeals:
    ACCESS = (on(Account, "GetItem", "UpdateItem"),)

    def get(self, user_id: str) -> Account:
        try:
            return Account.get(user_id, consistent_read=True)
        except Account.DoesNotExist:
            raise NotFoundError() from None

    def open(self, user_id: str, appeal: dict) -> None:
        """The appeal on the account, provided it is under review (NOT_UNDER_REVIEW) with no open appeal
        (APPEAL_OPEN): one conditioned UpdateItem (a refusal reads the account once to say which)."""
        try:
            connection().client.update_item(
                TableName=Account.Meta.table_name, Key={"user_id": {"S": user_id}},
                UpdateExpression="SET #a = :a, #o = :o",
                ConditionExpression="attribute_exists(#s) AND attribute_not_exists(#o) AND attribute_not_exists(#d)",
                ExpressionAttributeNames={"#a": "appeal", "#o": "appeal_open", "#s": "review_since",
                                          "#d": "deleted_at"},
                ExpressionAttributeValues={":a": {"S": Account.appeal.serialize(appeal)}, ":o": {"S": appeal["id"]}})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise_unavailable(exc)
            account = self.get(user_id)  # refused: which condition says what the caller is told
            if account.appeal_open and account.review_since:
                raise AppealOpenError() from None
            raise NotUnderReviewError() from None
        except BotoCoreError as exc:
            raise_unavailable(exc)
