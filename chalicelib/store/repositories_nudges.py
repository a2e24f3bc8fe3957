"""The subscriptions' reads and writes (POST/GET /v1/me/subscriptions): a user's nudge items, and the allowances
with the request's idempotency record in one conditioned transaction (store/nudges.py has the layout).
"""
from __future__ import annotations

import json
from typing import Any

from pynamodb.exceptions import PynamoDBException

from ..domain import clock
from ..domain import nudges as rules
from ..domain.platforms import DEFAULT
from ..errors import IdempotencyConflictError
from .access import access, on
from .failures import ConditionFailed, Unavailable
from .idempotency import IdempotencyKey
from .models import IdempotencyRecord
from .nudges import ALLOW, SENT, Nudge, Replayed, allow_key, holder_of, shard_of
from .tx import Tx

IDEMPOTENCY = "idempotency"


class Subscriptions:
    ACCESS = (on(Nudge, "Query", "UpdateItem"), on(IdempotencyRecord, "PutItem"))

    def items(self, user_id: str, consistent: bool = False) -> list[Nudge]:
        """Every nudge item of the user (allowances, markers, day claims): bounded by the markers' TTL."""
        try:
            return list(Nudge.query(user_id, consistent_read=consistent))
        except PynamoDBException as exc:
            raise Unavailable() from exc

    def allowances(self, user_id: str, consistent: bool = False) -> dict[str, int]:
        try:
            found = Nudge.query(user_id, Nudge.sk.startswith(ALLOW), consistent_read=consistent)
            return {item.sk[len(ALLOW):]: int(item.count or 0) for item in found}
        except PynamoDBException as exc:
            raise Unavailable() from exc

    def add(self, user_id: str, platform: str, read: dict[str, int], topics: list[str], key: IdempotencyKey,
            answer: Any) -> None:
        """One allowance more for each of `topics` (at most MAX_ALLOWANCES kept), each conditioned on the count
        `read` had, and the idempotency record remembering `answer(status, body)`'s response, in one transaction.
        Replayed with the first answer when the request_id already succeeded; ConditionFailed on a lost race."""
        tx = Tx()
        status, body = answer
        tx.put_new(IDEMPOTENCY, IdempotencyRecord, key.values(status, body), return_old=True)
        for topic in topics:
            before = read.get(topic)
            if before is not None and before >= rules.MAX_ALLOWANCES:
                continue
            condition = Nudge.pk.does_not_exist() if before is None else Nudge.count == before
            actions = [Nudge.count.set((before or 0) + 1), Nudge.holder.set(holder_of(topic, shard_of(user_id)))]
            if platform != DEFAULT:
                actions.append(Nudge.platform.set(platform))
            tx.update(topic, Nudge(user_id, allow_key(topic)), actions=actions, condition=condition)
        try:
            tx.commit()
        except ConditionFailed as failed:
            old = failed.failed.get(IDEMPOTENCY)
            if failed.refused(IDEMPOTENCY) and old:
                record = IdempotencyRecord.from_raw_data(old)
                if record.route != key.route or record.fingerprint != key.fingerprint:
                    raise IdempotencyConflictError(request_id=key.request_id) from None
                raise Replayed(int(record.status or 200), json.loads(record.body)) from None
            raise


def sent_of(items: list[Nudge]) -> list[dict]:
    """The messages WeChat accepted, newest first: {"topic", "at", "ref"}."""
    sent = [item for item in items if item.sk.startswith(SENT) and item.state == "sent" and item.at]
    sent.sort(key=lambda item: clock.parse_iso(item.at), reverse=True)
    return [{"topic": item.topic, "at": item.at, "ref": item.subject} for item in sent[:rules.SENT_SHOWN]]


@access(on(Nudge, "Query", "BatchWriteItem"))
def erase(user_id: str) -> int:
    """A deletion forgets the user's allowances, markers and day claims (services/erasure.py): how many."""
    try:
        found = list(Nudge.query(user_id, consistent_read=True))
        with Nudge.batch_write() as batch:
            for item in found:
                batch.delete(item)
    except PynamoDBException as exc:
        raise Unavailable() from exc
    return len(found)
