"""In-memory repositories and posting unit of work, for fast tests of the use cases only.

They keep the same promises as store/dynamo_uow.py (one write per commit, all or nothing, a version
conflict or a refused guard writes nothing, the idempotency record returns the first result through the
real codec of store/results.py), so a use case is specified here in milliseconds. Whether DynamoDB keeps
those promises (conditions, transactions, races) is tested against DynamoDB Local, never here.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace

from chalicelib.domain.guards import ClaimUnderLimit, PersonUnderDailyLimit, RedemptionIssued, StockAvailable
from chalicelib.domain.market import Goods, goods_from_catalog
from chalicelib.domain.methodology import Rule, rule_from_catalog
from chalicelib.domain.platforms import platform_rule
from chalicelib.domain.review import StaffCreditListed, StaffCreditsSettled, StaffStanding
from chalicelib.domain.risk import RiskSettings
from chalicelib.errors import AccountDeletedError, NotFoundError, UnknownBehaviorError
from chalicelib.services.stock_memory import StockMemory
from chalicelib.store import results
from chalicelib.store.failures import ConditionFailed
from chalicelib.store.idempotency import IdempotencyKey
from chalicelib.store.unit_of_work import IDEMPOTENCY, PostingUnitOfWork

DEMO_CATALOG = json.loads((Path(__file__).resolve().parents[2] / "admin" / "demo_catalog.json").read_text("utf-8"))


@dataclass
class FakeAccount:
    """The Account attributes the use cases and the posting arithmetic read (store/models.py)."""

    user_id: str
    points: int = 0
    version: int = 0
    carbon_mg: int = 0
    points_earned: int = 0
    points_spent: int = 0
    daily: dict = field(default_factory=dict)
    lots: dict | None = None
    frozen: bool = False
    odometer: dict | None = None
    deleted_at: str | None = None
    joined_at: str = "2026-01-05T09:00:00.000+08:00"
    updated_at: str | None = None
    review_since: str | None = None  # review (domain/review.py)
    review_rules: list | None = None
    points_held: int | None = None
    carbon_held_mg: int | None = None
    appeal: dict | None = None
    appeal_open: str | None = None
    review_cleared_at: str | None = None
    checkin_times: list | None = None
    photo_refusals: list | None = None


class FakeCatalog:
    def __init__(self) -> None:
        self.rules: dict[str, Rule] = {b["code"]: rule_from_catalog(b) for b in DEMO_CATALOG["behaviors"]}
        self.shelf: dict[str, Goods] = {g["id"]: goods_from_catalog(g) for g in DEMO_CATALOG["goods"]}
        self.sold_out = StockMemory()  # a container's memory of its own (services/stock_memory.py)

    @staticmethod
    def risk_settings():

        return RiskSettings()  # the contract's defaults

    def behavior(self, code: object, platform: str = "default") -> Rule:
        if code not in self.rules:
            raise UnknownBehaviorError(behavior=code)
        if platform != "default":
            choices = {b["code"]: b for p in DEMO_CATALOG.get("platforms", []) if p["id"] == platform
                       for b in p.get("behaviors", [])}
            if code not in choices:
                raise UnknownBehaviorError(behavior=code)
            return platform_rule(self.rules[code], choices[code])
        return self.rules[code]


    def goods_on_sale(self, goods_id: str, platform: str = "default") -> Goods:
        if goods_id not in self.shelf or platform != "default":  # the demo catalog's shelf is `default`'s
            raise NotFoundError(goods_id=goods_id)
        return self.shelf[goods_id]


class InMemoryAccounts:
    def __init__(self) -> None:
        self.items: dict[str, FakeAccount] = {}
        self.reads = 0

    def add(self, account: FakeAccount) -> FakeAccount:
        self.items[account.user_id] = account
        return account

    def get(self, user_id: str) -> FakeAccount:
        self.reads += 1
        account = self.items.get(user_id)
        if account is None:
            raise NotFoundError()
        if account.deleted_at:
            raise AccountDeletedError()
        return replace(account, daily={day: dict(counts) for day, counts in account.daily.items()})


class InMemoryIdempotency:
    def __init__(self) -> None:
        self.records: dict[str, dict] = {}

    def replay(self, key: IdempotencyKey, record: dict) -> object:
        key.check(SimpleNamespace(**record))
        return results.decode(record["format"], record["status"], record["body"], record["route"], key.scope,
                              key.request_id)

    def find(self, key: IdempotencyKey) -> object | None:
        record = self.records.get(key.key)
        return self.replay(key, record) if record else None


class InMemoryStock(dict):
    """Units left by stock key (a goods' shards: "goods#{id}", "goods#{id}#{n}"), and the read the use case makes."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.reads = 0

    def left(self, stock_keys: list[str]) -> dict[str, int]:
        self.reads += 1
        return {key: self[key] for key in stock_keys if key in self}


class InMemoryPostingUnitOfWork(PostingUnitOfWork):
    """`before_write`: called before each commit's checks, to let a test land a concurrent change."""

    def __init__(self) -> None:
        self.catalog = FakeCatalog()
        self.accounts = InMemoryAccounts()
        self.idempotency = InMemoryIdempotency()
        self.ledger: list = []
        self.stock = InMemoryStock({key: g.stock for g in self.catalog.shelf.values() for key in [g.stock_key]})
        self.claims: dict[str, int] = {}
        self.person_days: dict[str, int] = {}  # "{person}#{day}#{behaviour}" -> events (store/repositories.PersonDays)
        self.redemptions: dict[str, object] = {}
        self.codes: set[str] = set()
        self.commits = 0
        self.before_write: Callable[[], None] | None = None

    def _write(self, result: object) -> None:
        if self.before_write:
            self.before_write()
        record = self.key.record_values(**results.encode(result)) if self.key else None
        failed = {label: None for label, guard in self.labelled_guards() if not self._holds(guard)}
        if record and record["key"] in self.idempotency.records:
            failed[IDEMPOTENCY] = self.idempotency.records[record["key"]]
        if self.accounts.items[self.user_id].version != self.account.version:
            failed["account"] = None
        if failed:
            raise ConditionFailed(failed)
        self._apply(record)

    def _holds(self, guard: object) -> bool:
        if isinstance(guard, StockAvailable):
            return self.stock.get(guard.stock_key, 0) > 0
        if isinstance(guard, ClaimUnderLimit):
            return self.claims.get(f"{guard.user_id}#{guard.goods_id}", 0) < guard.limit
        if isinstance(guard, PersonUnderDailyLimit):
            return self.person_days.get(_person_day(guard), 0) < guard.limit
        if isinstance(guard, RedemptionIssued):
            return (guard.redemption.redemption_id not in self.redemptions
                    and guard.redemption.code not in self.codes)
        if isinstance(guard, StaffStanding):
            staff = self.accounts.items.get(guard.staff_id)
            return bool(staff and staff.review_since) == guard.under_review
        if isinstance(guard, (StaffCreditListed, StaffCreditsSettled)):
            return True  # the review queue's listing: not kept in memory
        raise TypeError(f"no in-memory condition for {type(guard).__name__}")

    def _apply(self, record: dict | None) -> None:
        self.commits += 1
        stored = self.accounts.items[self.user_id]
        self.accounts.items[self.user_id] = replace(stored, **self.staged.account,
                                                    **dict.fromkeys(self.staged.remove))
        self.ledger.extend(self.staged.lines)
        if record:
            self.idempotency.records[record["key"]] = record
        for guard in self.guards:
            if isinstance(guard, StockAvailable):
                self.stock[guard.stock_key] -= 1
            elif isinstance(guard, ClaimUnderLimit):
                claim = f"{guard.user_id}#{guard.goods_id}"
                self.claims[claim] = self.claims.get(claim, 0) + 1
            elif isinstance(guard, PersonUnderDailyLimit):
                self.person_days[_person_day(guard)] = self.person_days.get(_person_day(guard), 0) + 1
            elif isinstance(guard, RedemptionIssued):
                self.redemptions[guard.redemption.redemption_id] = guard.redemption
                self.codes.add(guard.redemption.code)


def _person_day(guard: PersonUnderDailyLimit) -> str:
    return f"{guard.person_id}#{guard.day}#{guard.behavior}"
