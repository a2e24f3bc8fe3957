"""Posting arithmetic: what a set of ledger entries does to an account, computed before anything is written.

Pure: `stage` takes the account as read (any object with the Account attributes it names) and the postings
a use case decided, and returns the ledger lines (entry ids, `balance_after`), the balance after, and the
values to SET on the account. The unit of work (store/unit_of_work.py) writes them in one transaction.

Review (domain/review.py) is decided here, for every earning path at once: on an account under review (or put
under review by this very posting's `flag`) a credit is written as a `held` entry and a spend is refused.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Protocol

from ..errors import AccountUnderReviewError, InsufficientPointsError
from . import clock, ids, platforms, transparency
from . import lots as lot_rules
from . import review as review_rules
from .caps import DayCount, kept_counts
from .methodology import Rule
from .values import immutable

KEEP_DAYS = clock.LATE_EVENT_DAYS + 2  # no counter is older than this: no late event can touch it
LEGACY_DAYS = KEEP_DAYS  # how long a counter written before counters said their own days is kept (as then)
EARNING_KINDS = ("earn", "accrual")
CREDIT_KINDS = (*EARNING_KINDS, review_rules.RELEASE)  # a release is the credit its held entry would have been
# an `adjust` of a behaviour (a partner's corrected reading, domain/readings.py) moves its month's carbon and points,
# not its count of events; an operator's `adjust` names no behaviour
SUMMARISED_KINDS = (*CREDIT_KINDS, "adjust")


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
    # a release or void: the (points, carbon_mg) its held entry (`ref`) held, taken off the account's held totals
    settles: tuple[int, int] | None = None
    methodology: tuple[str | None, str | None] | None = None  # a release's: its held entry's (without a Rule)
    hold: bool = False  # held whatever the account's status: its staff member is under review (domain/review.py)


@immutable
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
    platform: str | None = None  # the account's platform: not stored as such, it names the entry's `root_key`

    def values(self) -> dict[str, Any]:
        """The LedgerEntry's attribute values (store/items.py), with the `root_key` of the day and shard whose
        transparency root holds it (domain/transparency.py, the ledger's GSI `by_root`)."""
        values = {**vars(self), "user_kind": f"{self.user_id}#{self.kind}"}
        platform = values.pop("platform") or platforms.DEFAULT
        if self.day and self.at:
            values["root_key"] = transparency.root_key(platform, self.day, self.at, self.entry_id)
        return values

    def receipt(self) -> LedgerLine:
        """The entry as a result shows it (api.md LedgerEntry): without its inputs and bookkeeping, which
        stay in the ledger (an idempotency record that keeps results stays under 1 KB, half the cost)."""
        return replace(self, user_id=None, day=None, inputs=None, request_id=None, reason=None, platform=None)


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


@immutable
class Staged:
    """The lines to append, the account's values to SET (version bumped), and each month's earning totals."""

    lines: list[LedgerLine]
    account: dict[str, Any]
    summaries: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # "YYYY-MM#behavior": events, mg, points
    postings: list[Posting] = field(default_factory=list)  # as written: a held credit is a `held` posting
    remove: tuple[str, ...] = ()  # account attributes the write REMOVEs (a review ended)
    queue: str | None = None  # the review queue's item: "put" (under review) | "delete" (cleared) | None

    @property
    def points(self) -> int:
        return self.account["points"]

    @property
    def carbon_mg(self) -> int:
        return self.account["carbon_mg"]


def day_count(account: AccountView, day: date, behavior: str) -> DayCount:
    return DayCount.from_list((account.daily or {}).get(day.isoformat(), {}).get(behavior))


def stage(account: AccountView, postings: list[Posting], request_id: str | None = None,
          now: datetime | None = None, flag: review_rules.Flag | None = None, clear: bool = False) -> Staged:
    """Applies the postings in order; InsufficientPointsError if the balance would go below zero. On an account
    under review (or put under review by `flag`) credits are held and a spend is refused (ACCOUNT_UNDER_REVIEW);
    `clear` ends the review (after its last release or void) and closes the open appeal."""
    now = now or clock.now()
    at, today = clock.iso(now), clock.business_day(now)
    reviewed = review_rules.under_review(account) or flag is not None
    postings = [_held(posting) if reviewed or posting.hold else posting for posting in postings]
    balance, carbon = int(account.points), int(account.carbon_mg)
    earned, spent = int(account.points_earned), int(account.points_spent)
    held_points, held_carbon = review_rules.held_totals(account)
    daily = _kept_counters(account.daily, min([today, *(p.day for p in postings if p.day)]))
    lines = []
    entry_ids = sorted(ids.sortable_id(clock.epoch_ms(now)) for _ in postings)
    for posting, entry_id in zip(postings, entry_ids, strict=True):
        if reviewed and posting.kind in review_rules.SPENDS:
            raise AccountUnderReviewError()
        if posting.kind == review_rules.HELD:  # what would have been credited, counted apart
            held_points, held_carbon = held_points + posting.points, held_carbon + posting.carbon_mg
        else:
            balance += posting.points
            carbon += posting.carbon_mg
        if posting.settles:
            held_points, held_carbon = held_points - posting.settles[0], held_carbon - posting.settles[1]
        if balance < 0:
            raise InsufficientPointsError()
        if posting.points > 0 and posting.kind in (*CREDIT_KINDS, "adjust"):
            earned += posting.points
        elif posting.kind != review_rules.HELD:
            spent -= posting.points
        if posting.day_count is not None and posting.day and posting.behavior:
            counts = kept_counts(posting.rule, posting.day_count) if posting.rule else posting.day_count.to_list()
            if counts is not None:
                daily.setdefault(posting.day.isoformat(), {})[posting.behavior] = counts
        lines.append(_line(account, entry_id, posting, balance, at, today, request_id))
    changes = {"version": int(account.version) + 1, "points": balance, "carbon_mg": carbon, "points_earned": earned,
               "points_spent": spent, "daily": daily, "updated_at": at}
    credited = [posting for posting in postings if posting.kind != review_rules.HELD]
    lots = _lots_after(account, credited, today)  # points in by year, for expiry (domain/lots.py)
    if lots != account.lots:
        changes["lots"] = lots
    if (held_points, held_carbon) != review_rules.held_totals(account):
        changes.update(points_held=held_points, carbon_held_mg=held_carbon)
    remove, queue = _review_changes(account, changes, flag, clear, now)
    return Staged(lines, changes, _summaries(credited, today), postings, remove, queue)


def _held(posting: Posting) -> Posting:
    """A credit of an account under review, written as a `held` entry (nothing else changes)."""
    return replace(posting, kind=review_rules.HELD) if review_rules.holds(posting.kind, posting.points,
                                                                           posting.carbon_mg) else posting


def _review_changes(account: AccountView, changes: dict, flag: review_rules.Flag | None, clear: bool,
                    now: datetime) -> tuple[tuple[str, ...], str | None]:
    """What a flag sets (the reasons, `since` kept when already under review) or a clearing removes (the status,
    the open appeal, closed), and what the review queue's item does."""
    at = clock.iso(now)
    if flag is not None:
        changes["review_since"] = getattr(account, "review_since", None) or at
        changes["review_rules"] = review_rules.flagged_rules(account, flag, at)
        return (), "put"
    if not clear:
        return (), None
    appeal = getattr(account, "appeal", None)
    if getattr(account, "appeal_open", None) and appeal:
        changes["appeal"] = {**appeal, "status": "closed", "closed_at": at}
    changes["review_cleared_at"] = at  # the rules judge only what comes after (domain/risk.py)
    return ("review_since", "review_rules", "appeal_open"), "delete"


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
            totals[period] = (events + (posting.kind in CREDIT_KINDS), carbon + posting.carbon_mg,
                              points + posting.points)
    return totals


def _line(account: AccountView, entry_id: str, posting: Posting, balance: int, at: str, today: date,
          request_id: str | None) -> LedgerLine:
    rule = posting.rule
    return LedgerLine(
        entry_id=entry_id, at=at, kind=posting.kind, points=posting.points, carbon_mg=posting.carbon_mg,
        balance_after=balance, source=posting.source, behavior=posting.behavior, ref=posting.ref,
        methodology_id=rule.methodology_id if rule else (posting.methodology or (None, None))[0],
        methodology_version=rule.version if rule else (posting.methodology or (None, None))[1],
        user_id=account.user_id, day=(posting.day or today).isoformat(), inputs=posting.inputs,
        request_id=request_id, reason=posting.reason, counted_via=posting.counted_via,
        platform=platforms.platform_of(account))
