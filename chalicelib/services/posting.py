"""Posting: the one way points or carbon ever change.

`post` reads the account once (consistently), lets a use case plan its ledger entries from what it
read, and writes the entries, the new balance, the day's counters and the idempotency record in
one transaction conditioned on the account's version. A lost race re-reads and plans again, a
bounded number of times; a retried request finds its first response.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from botocore.exceptions import BotoCoreError, ClientError

from .. import observability
from ..domain import clock, ids
from ..domain import lots as lot_rules
from ..domain.caps import DayCount
from ..domain.methodology import Rule
from ..errors import AccountDeletedError, AppError, InsufficientPointsError, NotFoundError, ServiceUnavailableError
from ..store import items
from ..store.idempotency import IdempotencyKey
from ..store.models import Account, BehaviorMonth, IdempotencyRecord, LedgerEntry
from ..store.tx import Tx, TxCancelledError, raise_unavailable

MAX_ATTEMPTS = 12
KEEP_DAYS = clock.LATE_EVENT_DAYS + 2  # counters old enough that no late event can touch them are dropped
EARNING_KINDS = ("earn", "accrual")


@dataclass
class Posting:
    """One ledger entry to write: a signed amount of points and carbon, with where it came from."""

    kind: str
    points: int
    carbon_mg: int
    source: str
    behavior: str | None = None
    rule: Rule | None = None
    inputs: dict | None = None
    ref: str | None = None
    reason: str | None = None
    day: date | None = None
    day_count: DayCount | None = None  # the behaviour's counters for `day` after this posting


@dataclass
class Plan:
    """What a use case wants written, how to answer, and which extra conditions mean what."""

    postings: list[Posting]
    respond: Callable[[list[dict], Account], tuple[int, dict]]
    extra: Callable[[Tx], None] | None = None
    refusals: dict[str, AppError] = field(default_factory=dict)
    account_sets: dict = field(default_factory=dict)  # more values SET on the account (points expiry's year)


def day_count(account: Account, day: date, behavior: str) -> DayCount:
    return DayCount.from_list((account.daily or {}).get(day.isoformat(), {}).get(behavior))


def carbon_g(mg: int) -> float:
    """Milligrams as the API's grams with at most 3 decimals (202458 -> 202.458)."""
    return mg / 1000


def entry_json(entry: LedgerEntry) -> dict:
    return values_json(entry.attribute_values)


def values_json(values: dict) -> dict:
    """The API's JSON of a ledger entry, from its attribute values (a model's, or as posting stages them)."""
    methodology_id = values.get("methodology_id")
    return {
        "id": values["entry_id"], "at": values["at"], "kind": values["kind"], "points": int(values["points"]),
        "carbon_g": carbon_g(int(values["carbon_mg"])), "behavior": values.get("behavior"),
        "source": values["source"], "ref": values.get("ref"),
        "methodology": {"id": methodology_id, "version": values.get("methodology_version")} if methodology_id else None,
        "balance_after": int(values["balance_after"]),
    }


def load_account(user_id: str) -> Account:
    """The account, read consistently: one GetItem, made with botocore directly (docs/performance.md)."""
    try:
        found = Account._get_connection().connection.client.get_item(
            TableName=Account.Meta.table_name, Key={"user_id": {"S": user_id}}, ConsistentRead=True)
    except (BotoCoreError, ClientError) as exc:
        raise_unavailable(exc)
    if "Item" not in found:
        raise NotFoundError()
    account = Account.from_raw_data(found["Item"])
    if account.deleted_at:  # a deleted account earns, spends and changes nothing (services/erasure.py)
        raise AccountDeletedError()
    return account


def post(user_id: str, planner: Callable[[Account], Plan], idem: IdempotencyKey | None = None,
         request_id: str | None = None, account: Account | None = None) -> tuple[int, dict]:
    """Plans and writes atomically; returns (status, body) of the first success for this request.

    `account`, when given, is a consistent read the caller already made (a batch read for a webhook),
    used for the first attempt instead of reading again.
    """
    for attempt in range(MAX_ATTEMPTS):
        if account is None or attempt > 0:
            account = load_account(user_id)
        tx = Tx(token=idem.token(int(account.version)) if idem else None)
        try:
            plan = planner(account)
            status, body = _stage(tx, account, plan, idem, request_id)
        except AppError:
            remembered = idem.find() if idem else None
            if remembered:
                return remembered
            raise
        try:
            tx.commit()
            observability.record_postings(plan.postings)  # awards, redemptions, refunds: EMF metrics
            return status, body
        except TxCancelledError as cancelled:
            if idem and "idempotency" in cancelled.failed:
                raw = cancelled.failed["idempotency"]
                return idem.replay_raw(raw) if raw else (idem.find() or _retry_later())
            for label, error in plan.refusals.items():
                if label in cancelled.failed:
                    raise error from None
        time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))
    return _retry_later()


def _retry_later() -> tuple[int, dict]:
    raise ServiceUnavailableError()


def _stage(tx: Tx, account: Account, plan: Plan, idem: IdempotencyKey | None,
           request_id: str | None) -> tuple[int, dict]:
    now = clock.now()
    at, today = clock.iso(now), clock.business_day(now)
    balance, carbon = int(account.points), int(account.carbon_mg)
    earned, spent = int(account.points_earned), int(account.points_spent)
    daily = {day: dict(counts) for day, counts in (account.daily or {}).items()
             if date.fromisoformat(day) >= today - timedelta(days=KEEP_DAYS)}
    entries = []
    entry_ids = sorted(ids.sortable_id(clock.epoch_ms(now)) for _ in plan.postings)
    for posting, entry_id in zip(plan.postings, entry_ids, strict=True):
        balance += posting.points
        carbon += posting.carbon_mg
        if balance < 0:
            raise InsufficientPointsError()
        if posting.points > 0 and posting.kind in (*EARNING_KINDS, "adjust"):
            earned += posting.points
        else:
            spent -= posting.points
        if posting.day_count is not None and posting.day and posting.behavior:
            daily.setdefault(posting.day.isoformat(), {})[posting.behavior] = posting.day_count.to_list()
        entries.append(_entry(account.user_id, entry_id, posting, balance, at, today, request_id))
    version = int(account.version)
    after = Account(account.user_id, version=version + 1, points=balance, carbon_mg=carbon,
                    points_earned=earned, points_spent=spent)
    status, body = plan.respond([values_json(e) for e in entries], after)
    if idem:
        tx.put_new("idempotency", IdempotencyRecord, idem.values(status, body), return_old=True)
    changes = {"version": version + 1, "points": balance, "carbon_mg": carbon, "points_earned": earned,
               "points_spent": spent, "daily": daily, "updated_at": at}
    lots = _lots_after(account, plan.postings, today)  # points in by year, for expiry (domain/lots.py)
    if lots != account.lots:
        changes["lots"] = lots
    tx.update_values("account", Account, items.key(Account, account.user_id), set_=changes | plan.account_sets,
                     expect={"version": version})
    for index, entry in enumerate(entries):
        tx.put_new(f"entry:{index}", LedgerEntry, entry)
    _stage_summaries(tx, account.user_id, plan.postings, today)
    if plan.extra:
        plan.extra(tx)
    return status, body


def _lots_after(account: Account, postings: list[Posting], today: date) -> dict[str, int]:
    lots = account.lots
    if lots is None:  # kept since points expiry exists; an older balance counts from its last change
        changed = clock.business_day(clock.parse_iso(account.updated_at or account.joined_at)).year
        lots = lot_rules.legacy_lots(int(account.points), changed)
    return lot_rules.credit(lots, today.year, [posting.points for posting in postings])


def _stage_summaries(tx: Tx, user_id: str, postings: list[Posting], today: date) -> None:
    """Adds what the earning postings bring to the person's per-month, per-behaviour totals."""
    totals: dict[str, list[int]] = {}
    for posting in postings:
        if posting.behavior and posting.kind in EARNING_KINDS:
            period = f"{(posting.day or today).isoformat()[:7]}#{posting.behavior}"
            total = totals.setdefault(period, [0, 0, 0])
            total[0], total[1], total[2] = total[0] + 1, total[1] + posting.carbon_mg, total[2] + posting.points
    for period, (events, carbon, points) in totals.items():
        tx.update_values(f"summary:{period}", BehaviorMonth, items.key(BehaviorMonth, user_id, period),
                         add={"events": events, "carbon_mg": carbon, "points": points})


def _entry(user_id: str, entry_id: str, posting: Posting, balance: int, at: str, today: date,
           request_id: str | None) -> dict:
    """A LedgerEntry's attribute values (store/models.py), staged without building the model."""
    rule = posting.rule
    return {
        "user_id": user_id, "entry_id": entry_id, "user_kind": f"{user_id}#{posting.kind}", "at": at,
        "day": (posting.day or today).isoformat(), "kind": posting.kind, "points": posting.points,
        "carbon_mg": posting.carbon_mg, "balance_after": balance, "source": posting.source,
        "behavior": posting.behavior, "ref": posting.ref,
        "methodology_id": rule.methodology_id if rule else None, "methodology_version": rule.version if rule else None,
        "inputs": posting.inputs, "request_id": request_id, "reason": posting.reason,
    }
