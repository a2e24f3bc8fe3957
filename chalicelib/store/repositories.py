"""The DynamoDB repositories of the posting path: each owns one aggregate's keys, items and conditions.

Reads are one call each; writes are staged into the unit of work's one transaction (store/tx.py) from
plain values (store/items.py: no PynamoDB model is built on the hot path, docs/performance.md).
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from ..domain import clock
from ..domain.market import Redemption as IssuedRedemption
from ..domain.posting import Staged
from ..errors import AccountDeletedError, NotFoundError
from ..sealing import seal
from . import items, results
from .access import on
from .failures import Unavailable, raise_unavailable
from .idempotency import IdempotencyKey
from .market import LimitCounter, Redemption, RedemptionCode, claim_key, code_key, expiry_bucket
from .models import Account, BehaviorMonth, IdempotencyRecord, LedgerEntry
from .stock import Stock
from .tx import Tx, connection

PERSON_DAY_KEPT = 2  # days a person's day counter is kept after its day (check-ins are always today's)


class Accounts:
    ACCESS = (on(Account, "GetItem", "UpdateItem"),)

    def get(self, user_id: str) -> Account:
        """The account, read consistently: one GetItem, made with botocore directly (docs/performance.md)."""
        try:
            found = connection().client.get_item(
                TableName=Account.Meta.table_name, Key={"user_id": {"S": user_id}}, ConsistentRead=True)
        except (BotoCoreError, ClientError) as exc:
            raise_unavailable(exc)
        if "Item" not in found:
            raise NotFoundError()
        account = Account.from_raw_data(found["Item"])
        if account.deleted_at:  # a deleted account earns, spends and changes nothing (services/erasure.py)
            raise AccountDeletedError()
        return account

    def stage_posting(self, tx: Tx, label: str, user_id: str, changes: dict, version: int,
                      person_carbon_mg: int = 0, remove: tuple[str, ...] = ()) -> None:
        """The new balance and counters, provided the account is still at `version` (a lost race otherwise); a
        person on several platforms also ADDs the carbon change to the person's carbon it keeps; `remove`: the
        attributes a write takes away (a review ended)."""
        tx.update_values(label, Account, items.key(Account, user_id), set_=changes,
                         add={"person_carbon_mg": person_carbon_mg} if person_carbon_mg else None,
                         expect={"version": version}, remove=remove)

    def stage_peer_carbon(self, tx: Tx, label: str, user_id: str, carbon_mg: int) -> None:
        """A carbon change of the person made on another platform, ADDed to the person's carbon this account of
        theirs keeps (no version: the account's own postings are not in its way)."""
        tx.update(label, Account(user_id), [Account.person_carbon_mg.add(carbon_mg)],
                  condition=Account.user_id.exists())


class Ledger:
    ACCESS = (on(BehaviorMonth, "UpdateItem"), on(LedgerEntry, "PutItem"))

    def stage(self, tx: Tx, user_id: str, staged: Staged) -> None:
        """The entries (each new by its id) and what the earning ones add to their month's summary."""
        for index, line in enumerate(staged.lines):
            tx.put_new(f"entry:{index}", LedgerEntry, line.values())
        for period, (events, carbon, points) in staged.summaries.items():
            tx.update_values(f"summary:{period}", BehaviorMonth, items.key(BehaviorMonth, user_id, period),
                             add={"events": events, "carbon_mg": carbon, "points": points})


class Idempotency:
    ACCESS = (on(IdempotencyRecord, "GetItem", "PutItem"),)

    def stage(self, tx: Tx, label: str, key: IdempotencyKey, result: object) -> None:
        """The record remembering `result`, refused (returning the old record) if one exists."""
        tx.put_new(label, IdempotencyRecord, key.record_values(**results.encode(result)), return_old=True)

    def replay(self, key: IdempotencyKey, raw_item: dict) -> object:
        """The remembered result; IdempotencyConflictError for another route or payload."""
        record = IdempotencyRecord.from_raw_data(raw_item)
        key.check(record)
        return results.decode(record.format, record.status, record.body, record.route, key.scope, key.request_id)

    def find(self, key: IdempotencyKey) -> object | None:
        """The remembered result, if the request already succeeded (one consistent GetItem)."""
        try:
            found = connection().client.get_item(TableName=IdempotencyRecord.Meta.table_name,
                                                 Key=items.key(IdempotencyRecord, key.key), ConsistentRead=True)
        except (BotoCoreError, ClientError) as exc:
            raise_unavailable(exc)
        return self.replay(key, found["Item"]) if "Item" in found else None


class StockLeft:
    ACCESS = (on(Stock, "BatchGetItem", "UpdateItem"),)

    def stage_take(self, tx: Tx, label: str, stock_key: str) -> None:
        """One fewer left, provided one is left."""
        tx.update(label, Stock(stock_key), actions=[Stock.left.add(-1)], condition=Stock.left > 0)

    def left(self, stock_keys: list[str]) -> dict[str, int]:
        """Units left of each stock item (a goods' shards), read consistently: one BatchGetItem (at most
        100 keys, domain/market.MAX_STOCK_SHARDS). A missing item has none left."""
        try:
            return {item.item: int(item.left) for item in Stock.batch_get(stock_keys, consistent_read=True)}
        except PynamoDBException as exc:
            raise Unavailable() from exc

    def shelf(self, stock_keys: list[str]) -> dict[str, int]:
        """Units left of each existing stock item, as the shelf shows them: one eventually consistent
        BatchGetItem (a page of goods: at most 100 keys)."""
        return {item.item: int(item.left) for item in Stock.batch_get(stock_keys)}


class Claims:
    ACCESS = (on(LimitCounter, "UpdateItem"),)

    def stage_claim(self, tx: Tx, label: str, user_id: str, goods_id: str, limit: int) -> None:
        """One more code of the goods held by the user, provided fewer than `limit` are."""
        tx.update(label, LimitCounter(claim_key(user_id, goods_id)), actions=[LimitCounter.count.add(1)],
                  condition=LimitCounter.count.does_not_exist() | (LimitCounter.count < limit))


class PersonDays:
    ACCESS = (on(LimitCounter, "UpdateItem"),)

    def stage_count(self, tx: Tx, label: str, person_id: str, day: str, behavior: str, limit: int) -> None:
        """One more self-reported event of the person on `day` (every platform together), provided fewer than
        `limit` were: counters "person-day#{person}#{day}#{behaviour}", purged by TTL two days after the day."""
        tx.update(label, LimitCounter(person_day_key(person_id, day, behavior)),
                  actions=[LimitCounter.count.add(1), LimitCounter.purge_at.set(person_day_purge(day))],
                  condition=LimitCounter.count.does_not_exist() | (LimitCounter.count < limit))


class StepDays:
    ACCESS = (on(LimitCounter, "BatchGetItem", "ConditionCheckItem", "UpdateItem"),)

    def holders(self, person_id: str, days: list[str]) -> dict[str, str]:
        """{day: the platform holding the person's step-day carbon} of those days a platform holds (consistent)."""
        found = LimitCounter.batch_get([step_day_key(person_id, day) for day in days], consistent_read=True)
        return {item.key.rsplit("#", 1)[1]: item.via for item in found if item.via}

    def stage_held(self, tx: Tx, label: str, person_id: str, day: str, platform: str, holder: str | None) -> None:
        """`holder` None: `platform` holds the step-day, provided no other platform does (kept two days past it);
        else the step-day is still `holder`'s."""
        key = LimitCounter(step_day_key(person_id, day))
        if holder is None:
            tx.update(label, key, [LimitCounter.via.set(platform), LimitCounter.purge_at.set(person_day_purge(day))],
                      condition=LimitCounter.via.does_not_exist() | (LimitCounter.via == platform))
        else:
            tx.check(label, LimitCounter, step_day_key(person_id, day), None, condition=LimitCounter.via == holder)


def step_day_key(person_id: str, day: str) -> str:
    return f"steps#{person_id}#{day}"


def person_day_key(person_id: str, day: str, behavior: str) -> str:
    return f"person-day#{person_id}#{day}#{behavior}"


def person_day_purge(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(), clock.SHANGHAI) + timedelta(days=PERSON_DAY_KEPT)


class Redemptions:
    ACCESS = (on(Redemption, "PutItem"), on(RedemptionCode, "PutItem"))

    def stage_new(self, tx: Tx, label: str, redemption: IssuedRedemption, joined_at: str | None = None) -> None:
        """The redemption and its code's pointer, both new: the code is unique across the platform's redemptions
        (its key is the redemption's platform's, store/market.code_key)."""
        values = {name: value for name, value in vars(redemption).items() if name != "address"}
        values["expiry_bucket"] = expiry_bucket()
        if redemption.address:
            values["address_sealed"] = seal(json.dumps(redemption.address, ensure_ascii=False),
                                            address_context(redemption.redemption_id))
        tx.put_new(f"{label}:redemption", Redemption, values)
        tx.put_new(f"{label}:code", RedemptionCode, {
            "code": code_key(redemption.platform, redemption.code), "redemption_id": redemption.redemption_id,
            "merchant_id": redemption.merchant_id,
            "goods_id": redemption.goods_id, "goods_name": redemption.goods_name,
            "points_spent": redemption.points_spent, "expires_epoch": redemption.expires_epoch,
            "user_id": redemption.user_id, "redeemed_at": redemption.created_at,
            **({"joined_at": joined_at} if joined_at else {})})


def address_context(redemption_id: str) -> str:
    """What a sealed address is bound to: copied onto another redemption, it does not open."""
    return f"redemption#{redemption_id}"
