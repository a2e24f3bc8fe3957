"""What the nudge jobs read and write (services/nudges.py; the layout is store/nudges.py's).

A send is a claim, WeChat's call, then its outcome:
- `claim`: ONE TransactWriteItems, before WeChat is called: the marker `sent#{topic}#{subject}` becomes
  `sending` (attribute_not_exists, or from `retry` with the attempts read and its time come), one allowance is
  taken (`count > 0`), the day's claim is put (attribute_not_exists; not for receipts), and the account is
  checked (exists, not frozen, not deleted). Whichever condition refuses says why nothing is sent.
- `settle_*`: what WeChat answered, written after: `sent` (UpdateItem); `refused` for 43101 (the allowance stays
  taken, the day's claim is given back); `retry` or `failed` for the rest (the allowance and the day's claim given
  back, in one transaction with the marker).
A crash between WeChat's answer and the outcome leaves the marker `sending`: never sent again (docs/nudges.md).
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from pynamodb.exceptions import PynamoDBException, UpdateError

from ..domain import clock
from ..domain.platforms import DEFAULT
from .access import access, on
from .failures import ConditionFailed, Unavailable
from .market import Redemption
from .models import Account
from .nudges import (
    PURGE_DAYS,
    RECEIPT,
    STAT_SHARDS,
    Nudge,
    allow_key,
    day_key,
    holder_of,
    retry_bucket,
    sent_key,
)
from .tx import Tx

MARKER, ALLOWANCE, DAY, ACCOUNT = "marker", "allowance", "day", "account"
STAT_NAMES = ("sent", "refused", "failed", "deferred")


def _purge(now: datetime, days: int = PURGE_DAYS) -> datetime:
    return now + timedelta(days=days)


@access(on(Nudge, "BatchGetItem"))
def read_state(topic: str, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, Nudge | None]]:
    """{(user, subject): (allowances left of `topic`, the subject's marker or None)}: one BatchGetItem (PynamoDB
    pages it by 100 keys), eventually consistent: enough to choose, the claim decides."""
    pairs = set(pairs)
    keys = {(user, allow_key(topic)) for user, _ in pairs}
    keys |= {(user, sent_key(topic, subject)) for user, subject in pairs}
    allowances: dict[str, int] = {}
    markers: dict[tuple[str, str], Nudge] = {}
    try:
        for item in Nudge.batch_get(sorted(keys)):
            if item.sk == allow_key(topic):
                allowances[item.pk] = int(item.count or 0)
            else:
                markers[(item.pk, item.subject or "")] = item
    except PynamoDBException as exc:
        raise Unavailable() from exc
    return {(user, subject): (allowances.get(user, 0), markers.get((user, subject))) for user, subject in pairs}


@access(on(Nudge, "PutItem", "UpdateItem"), on(Account, "ConditionCheckItem"))
def claim(user_id: str, topic: str, subject: str, day: str | None, now: datetime, platform: str,
          retry_of: Nudge | None = None) -> str | None:
    """Takes one allowance and marks (user, topic, subject) `sending`; None when claimed, else the first refusing
    condition's label: marker (sent, being sent or settled already), allowance (none left), day (a message was
    accepted today), account (frozen, deleted, missing) or "conflict" (a concurrent transaction: a later run)."""
    epoch = int(now.timestamp())
    tx = Tx()
    marker = Nudge(user_id, sent_key(topic, subject))
    actions = [Nudge.state.set("sending"), Nudge.topic.set(topic), Nudge.subject.set(subject),
               Nudge.day.set(clock.business_day(now).isoformat()), Nudge.purge_at.set(_purge(now)),
               Nudge.retry_bucket.remove(), Nudge.next_epoch.remove()]
    if platform != DEFAULT:
        actions.append(Nudge.platform.set(platform))
    if retry_of is None:
        actions += [Nudge.attempts.set(1), Nudge.first_epoch.set(epoch)]
        condition = Nudge.pk.does_not_exist()
    else:
        attempts = int(retry_of.attempts or 0)
        actions.append(Nudge.attempts.set(attempts + 1))
        condition = (Nudge.state == "retry") & (Nudge.attempts == attempts) & (Nudge.next_epoch <= epoch)
    tx.update(MARKER, marker, actions=actions, condition=condition)
    tx.update(ALLOWANCE, Nudge(user_id, allow_key(topic)), actions=[Nudge.count.add(-1)], condition=Nudge.count > 0)
    if day is not None:
        tx.put(DAY, Nudge(user_id, day_key(day), topic=topic, subject=subject, purge_at=_purge(now, 3)),
               condition=Nudge.pk.does_not_exist())
    tx.check(ACCOUNT, Account, user_id, None, Account.user_id.exists() & (Account.frozen != True)  # noqa: E712
             & Account.deleted_at.does_not_exist())
    try:
        tx.commit()
    except ConditionFailed as refused:
        for label in (MARKER, ACCOUNT, ALLOWANCE, DAY):
            if refused.refused(label):
                return label
        return "conflict"
    return None


@access(on(Nudge, "UpdateItem"))
def skip(user_id: str, topic: str, subject: str, now: datetime, retry_of: Nudge | None = None) -> None:
    """The subject fell due while the account was frozen (or deleted): marked `skipped`, never sent."""
    condition = Nudge.pk.does_not_exist() if retry_of is None else Nudge.state == "retry"
    try:
        Nudge(user_id, sent_key(topic, subject)).update(actions=[
            Nudge.state.set("skipped"), Nudge.topic.set(topic), Nudge.subject.set(subject),
            Nudge.purge_at.set(_purge(now)), Nudge.retry_bucket.remove(), Nudge.next_epoch.remove(),
            Nudge.message.remove()], condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise Unavailable() from exc


@access(on(Nudge, "UpdateItem"))
def settle_sent(user_id: str, topic: str, subject: str, now: datetime) -> None:
    try:
        Nudge(user_id, sent_key(topic, subject)).update(actions=[
            Nudge.state.set("sent"), Nudge.at.set(clock.iso(now)), Nudge.errcode.set(0), Nudge.message.remove()])
    except PynamoDBException as exc:
        raise Unavailable() from exc


@access(on(Nudge, "UpdateItem", "DeleteItem"))
def settle_unsent(user_id: str, topic: str, subject: str, day: str | None, now: datetime, state: str,
                  errcode: int, give_back: bool, message: dict | None = None, next_epoch: int | None = None) -> None:
    """`refused` (43101: the allowance stays taken), `retry` (with the message and when) or `failed`; the day's
    claim (if any) and, with `give_back`, the allowance returned, in one transaction with the marker."""
    tx = Tx()
    actions = [Nudge.state.set(state), Nudge.errcode.set(errcode)]
    if state == "retry":
        actions += [Nudge.message.set(message), Nudge.next_epoch.set(next_epoch),
                    Nudge.retry_bucket.set(retry_bucket(user_id))]
    else:
        actions.append(Nudge.message.remove())
    tx.update(MARKER, Nudge(user_id, sent_key(topic, subject)), actions=actions, condition=Nudge.state == "sending")
    if give_back:
        tx.update(ALLOWANCE, Nudge(user_id, allow_key(topic)), actions=[Nudge.count.add(1)])
    if day is not None:
        tx.delete(DAY, Nudge(user_id, day_key(day)), condition=(Nudge.topic == topic) & (Nudge.subject == subject))
    try:
        tx.commit()
    except ConditionFailed:
        return  # the marker left `sending` meanwhile or the claim of the day is another's: nothing to give back


@access(on(Nudge, "Query", index="retries"))
def retries_due(shard: int, epoch: int) -> list[Nudge]:
    try:
        return list(Nudge.retries.query(f"retry#{shard}", Nudge.next_epoch <= epoch))
    except PynamoDBException as exc:
        raise Unavailable() from exc


@access(on(Nudge, "Query", index="holders"))
def holders(topic: str, shard: int, key: dict | None, limit: int) -> tuple[list[str], dict | None]:
    """The users of `shard` who ever accepted `topic` (keys only), a page from `key`."""
    try:
        page = Nudge.holders.query(holder_of(topic, shard), limit=limit, last_evaluated_key=key)
        return [item.pk for item in page], page.last_evaluated_key
    except PynamoDBException as exc:
        raise Unavailable() from exc


@access(on(Nudge, "Query", "DeleteItem"))
def receipts(shard: int, limit: int) -> list[Nudge]:
    try:
        return list(Nudge.query(f"{RECEIPT}{shard}", limit=limit, consistent_read=True))
    except PynamoDBException as exc:
        raise Unavailable() from exc


@access(on(Nudge, "DeleteItem"))
def receipt_done(item: Nudge) -> None:
    try:
        item.delete()
    except PynamoDBException as exc:
        raise Unavailable() from exc


@access(on(Redemption, "BatchGetItem"))
def redemptions(redemption_ids: list[str]) -> dict[str, Redemption]:
    try:
        return {item.redemption_id: item for item in Redemption.batch_get(redemption_ids)}
    except PynamoDBException as exc:
        raise Unavailable() from exc


@access(on(Account, "BatchGetItem"))
def accounts(user_ids: list[str]) -> dict[str, Account]:
    try:
        return {item.user_id: item for item in Account.batch_get(list(set(user_ids)))}
    except PynamoDBException as exc:
        raise Unavailable() from exc


@access(on(Nudge, "UpdateItem"))
def count(day: str, topic: str, outcome: str, n: int = 1) -> None:
    """ADDs `n` to the day's counter `outcome` of `topic`, on one of STAT_SHARDS items."""
    if n <= 0:
        return
    try:
        Nudge(f"stats#{day}", f"{topic}#{secrets.randbelow(STAT_SHARDS)}").update(
            actions=[getattr(Nudge, f"n_{outcome}").add(n)])
    except PynamoDBException as exc:
        raise Unavailable() from exc


@access(on(Nudge, "Query"))
def stats(day: str) -> dict[str, dict[str, int]]:
    """{topic: {sent, refused, failed, deferred}} of a business day."""
    found: dict[str, dict[str, int]] = {}
    try:
        for item in Nudge.query(f"stats#{day}"):
            topic = item.sk.rsplit("#", 1)[0]
            counts = found.setdefault(topic, dict.fromkeys(STAT_NAMES, 0))
            for name in STAT_NAMES:
                counts[name] += int(getattr(item, f"n_{name}") or 0)
    except PynamoDBException as exc:
        raise Unavailable() from exc
    return found


def warm_clients() -> None:
    """PynamoDB builds its botocore clients lazily without a lock: built before threads share them."""
    from .tx import connection

    _ = Nudge._get_connection().connection.client, Account._get_connection().connection.client
    _ = connection().client
