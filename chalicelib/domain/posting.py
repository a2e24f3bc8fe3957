"""Posting arithmetic: what a set of ledger entries does to an account, computed before anything is written.

Pure: `stage` takes the account as read (any object with the Account attributes it names) and the postings
a use case decided, and returns the ledger lines (entry ids, `balance_after`), the balance after, and the
values to SET on the account. The unit of work (store/unit_of_work.py) writes them in one transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Protocol

from ..errors import InsufficientPointsError
from . import clock, ids
from . import lots as lot_rules
from .caps import DayCount, kept_counts
from .methodology import Rule

KEEP_DAYS = clock.LATE_EVENT_DAYS + 2  # no counter is older than this: no late event can touch it
LEGACY_DAYS = KEEP_DAYS  # how long a counter written before counters said their own days is kept (as then)
EARNING_KINDS = ("earn", "accrual")
# an `adjust` of a behaviour (a partner's corrected reading, domain/readings.py) moves its month's carbon and points,
# not its count of events; an operator's `adjust` names no behaviour
SUMMARISED_KINDS = (*EARNING_KINDS, "adjust")


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
    counted_via: str | None = None  # the platform holding this reduction's carbon (then carbon_mg is 0)


@dataclass(frozen=True)
class LedgerLine:
    """A ledger entry as written (store/models.py LedgerEntry): immutable, unique by (user_id, entry_id)."""

    entry_id: str
    at: str
    kind: str
    points: int
    carbon_mg: int
    balance_after: int
    source: str
    behavior: str | None = None
    ref: str | None = None
    methodology_id: str | None = None
    methodology_version: str | None = None
    user_id: str | None = None
    day: str | None = None
    inputs: dict | None = None
    request_id: str | None = None
    reason: str | None = None
    counted_via: str | None = None  # another platform holds this reduction's carbon (docs/platforms.md)

    def values(self) -> dict[str, Any]:
        """The LedgerEntry's attribute values (store/items.py)."""
        return {**vars(self), "user_kind": f"{self.user_id}#{self.kind}"}

    def receipt(self) -> LedgerLine:
        """The entry as a result shows it (api.md LedgerEntry): without its inputs and bookkeeping, which
        stay in the ledger (an idempotency record that keeps results stays under 1 KB, half the cost)."""
        return replace(self, user_id=None, day=None, inputs=None, request_id=None, reason=None)


class AccountView(Protocol):
    user_id: str
    version: int
    points: int
    carbon_mg: int
    points_earned: int
    points_spent: int
    daily: dict | None
    lots: dict | None
    updated_at: str | None
    joined_at: str


@dataclass(frozen=True)
class Staged:
    """The lines to append, the account's values to SET (version bumped), and each month's earning totals."""

    lines: list[LedgerLine]
    account: dict[str, Any]
    summaries: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # "YYYY-MM#behavior": events, mg, points

    @property
    def points(self) -> int:
        return self.account["points"]

    @property
    def carbon_mg(self) -> int:
        return self.account["carbon_mg"]


def day_count(account: AccountView, day: date, behavior: str) -> DayCount:
    return DayCount.from_list((account.daily or {}).get(day.isoformat(), {}).get(behavior))


def stage(account: AccountView, postings: list[Posting], request_id: str | None = None,
          now: datetime | None = None) -> Staged:
    """Applies the postings in order; InsufficientPointsError if the balance would go below zero."""
    now = now or clock.now()
    at, today = clock.iso(now), clock.business_day(now)
    balance, carbon = int(account.points), int(account.carbon_mg)
    earned, spent = int(account.points_earned), int(account.points_spent)
    daily = _kept_counters(account.daily, min([today, *(p.day for p in postings if p.day)]))
    lines = []
    entry_ids = sorted(ids.sortable_id(clock.epoch_ms(now)) for _ in postings)
    for posting, entry_id in zip(postings, entry_ids, strict=True):
        balance += posting.points
        carbon += posting.carbon_mg
        if balance < 0:
            raise InsufficientPointsError()
        if posting.points > 0 and posting.kind in (*EARNING_KINDS, "adjust"):
            earned += posting.points
        else:
            spent -= posting.points
        if posting.day_count is not None and posting.day and posting.behavior:
            counts = kept_counts(posting.rule, posting.day_count) if posting.rule else posting.day_count.to_list()
            if counts is not None:
                daily.setdefault(posting.day.isoformat(), {})[posting.behavior] = counts
        lines.append(_line(account.user_id, entry_id, posting, balance, at, today, request_id))
    changes = {"version": int(account.version) + 1, "points": balance, "carbon_mg": carbon, "points_earned": earned,
               "points_spent": spent, "daily": daily, "updated_at": at}
    lots = _lots_after(account, postings, today)  # points in by year, for expiry (domain/lots.py)
    if lots != account.lots:
        changes["lots"] = lots
    return Staged(lines, changes, _summaries(postings, today))


def _kept_counters(daily: dict | None, oldest: date) -> dict:
    """The day counters still needed on `oldest` (today, or an earlier day a posting counts for): each is
    kept the days its behaviour says (its fifth number, domain/caps.kept_counts), never past KEEP_DAYS."""
    kept: dict[str, dict] = {}
    for day, counters in (daily or {}).items():
        age = (oldest - date.fromisoformat(day)).days
        for behavior, counts in counters.items():
            if age <= min(counts[4] if len(counts) > 4 else 0, KEEP_DAYS):
                kept.setdefault(day, {})[behavior] = list(counts)
    return kept


def _lots_after(account: AccountView, postings: list[Posting], today: date) -> dict[str, int]:
    lots = account.lots
    if lots is None:  # kept since points expiry exists; an older balance counts from its last change
        changed = clock.business_day(clock.parse_iso(account.updated_at or account.joined_at)).year
        lots = lot_rules.legacy_lots(int(account.points), changed)
    return lot_rules.credit(lots, today.year, [posting.points for posting in postings])


def _summaries(postings: list[Posting], today: date) -> dict[str, tuple[int, int, int]]:
    """What the earning postings (and corrections of a behaviour) add to the person's per-month, per-behaviour
    totals."""
    totals: dict[str, tuple[int, int, int]] = {}
    for posting in postings:
        if posting.behavior and posting.kind in SUMMARISED_KINDS:
            period = f"{(posting.day or today).isoformat()[:7]}#{posting.behavior}"
            events, carbon, points = totals.get(period, (0, 0, 0))
            totals[period] = (events + (posting.kind in EARNING_KINDS), carbon + posting.carbon_mg,
                              points + posting.points)
    return totals


def _line(user_id: str, entry_id: str, posting: Posting, balance: int, at: str, today: date,
          request_id: str | None) -> LedgerLine:
    rule = posting.rule
    return LedgerLine(
        entry_id=entry_id, at=at, kind=posting.kind, points=posting.points, carbon_mg=posting.carbon_mg,
        balance_after=balance, source=posting.source, behavior=posting.behavior, ref=posting.ref,
        methodology_id=rule.methodology_id if rule else None, methodology_version=rule.version if rule else None,
        user_id=user_id, day=(posting.day or today).isoformat(), inputs=posting.inputs, request_id=request_id,
        reason=posting.reason, counted_via=posting.counted_via)
