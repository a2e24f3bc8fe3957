"""The fold: applies the aggregation inbox to totals, rank histograms and the public counters.

Runs as a job (every minute in AWS, `python -m admin run-jobs` locally), one shard at a time, and one
worker per shard at a time: a worker first takes the shard's lease (`agg_counters` "lease#fold", "s07": a
conditional update naming it the owner until `lease_until`, as the shared partner token's refresh lease
does), renews it after every page and frees it at the end; a second worker on a held shard (an
overlapping run) leaves at once. A shard's inbox items are its users' entries and logins, and the items
the fold reads and rewrites for them (their period totals, their org-member totals, shard s of the rank
histograms) are written by that shard's fold alone. The shared counters a request reads in one call (org
totals and the platform counters, PARTS parts) are only added to. So the fold reads what it will change,
computes the new values, and writes them together with the inbox items' `pending` removal in one
transaction of up to 100 actions, conditioned on each read-and-rewritten item's `rev`: every inbox item is
applied exactly once, even if a lease ran out under a slow worker. A refused transaction is retried after
a jittered, growing pause. The boards a run changed are marked once, at the end of the run, in the
shard's own marker partition (services/boards.py reads them).
"""
from __future__ import annotations

import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta

from pynamodb.exceptions import UpdateError

from ..domain import clock
from ..domain.orgs import counts_for_org
from ..domain.ranking import board_partition, counter_part, histogram_move, period_keys
from ..store.aggregates import Board, Counter, InboxItem, Total, dirty_partition
from ..store.models import Account
from ..store.tx import MAX_ACTIONS, Tx, TxCancelledError
from . import stats
from .aggregate import ACTIVITY, issued_points

PAGE = 200  # inbox items read per round
UNIT = 10  # a person's items applied together at most: with 5 orgs and 5 periods, 10 + 90 actions fit
ATTEMPTS = 5
BACKOFF_SECONDS, BACKOFF_CAP = 0.05, 2.0  # after a refused transaction: random(0, min(cap, base * 2^n))
LEASE_SECONDS = 120  # renewed after every page (a page takes seconds); a worker that died frees it after this
ACTIVE_DAYS_KEPT = 3  # a person's active days remembered: today and the two before
KEEP_FOLDED = timedelta(days=3)  # a folded inbox item is kept (streams keep records 24 h), then expires


def fold_slice(shard: int, at: datetime, out_of_time: Callable[[], bool] = lambda: False) -> dict:
    """One shard's part of the fold job (chalicelib/jobs.py): page after page until its inbox is empty
    or the time is up (the next run carries on). An idle shard costs one Query; a shard another worker
    holds costs one more call (`busy`: this worker left it alone)."""
    today, folded, dirty = clock.business_day(at), 0, set()
    items = [] if out_of_time() else _pending(shard)
    if not items:
        return {"folded": 0}
    lease = Lease(shard)
    if not lease.take():
        return {"folded": 0, "busy": 1}
    try:
        while items:
            applied, done = _fold_page(shard, items, today, dirty)
            folded += applied
            if not done or out_of_time() or not lease.renew():
                break  # refused again and again, out of time, or the lease lost: the next run takes over
            items = _pending(shard)
    finally:
        mark_dirty(shard, dirty)  # once per run, whatever happened after the commits
        lease.release()
    if folded:
        stats.forget()  # this container's cached stats are out of date now
    return {"folded": folded}


def _pending(shard: int) -> list[InboxItem]:
    return list(InboxItem.by_shard.query(f"s{shard:02d}", limit=PAGE))


class Lease:
    """The single-flight lease of one fold shard: an item in `agg_counters` taken, renewed and freed with
    conditional updates (free when absent, expired, or already ours)."""

    def __init__(self, shard: int, seconds: int = LEASE_SECONDS) -> None:
        self.key, self.owner, self.seconds = ("lease#fold", f"s{shard:02d}"), uuid.uuid4().hex, seconds

    def take(self) -> bool:
        free = (Counter.name.does_not_exist() | (Counter.lease_until < int(time.time()))
                | (Counter.owner == self.owner))
        return self._set(int(time.time()) + self.seconds, free)

    def renew(self) -> bool:
        return self._set(int(time.time()) + self.seconds, Counter.owner == self.owner)

    def release(self) -> None:
        self._set(0, Counter.owner == self.owner)

    def _set(self, until: int, condition) -> bool:
        try:
            Counter(*self.key).update(actions=[Counter.owner.set(self.owner), Counter.lease_until.set(until)],
                                      condition=condition)
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _fold_page(shard: int, items: list[InboxItem], today: date, dirty: set[tuple[str, str]]) -> tuple[int, bool]:
    """Applies a page: (items this worker applied, whether none of the page is pending any more). After a
    refused transaction, waits a jittered, growing pause, re-reads what is still pending and tries again.
    (An index read can lag a moment behind a fold: the consistent re-read drops what is already done.)"""
    keys, applied = [item.key for item in items], 0
    for attempt in range(ATTEMPTS):
        fold = Fold(shard, today, dirty)
        try:
            fold.apply(items)
            return applied + fold.applied, True
        except TxCancelledError:
            applied += fold.applied  # the transactions before the refused one are committed
            time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_SECONDS * 2 ** attempt)))
            items = [item for item in InboxItem.batch_get(keys, consistent_read=True) if item.pending]
            if not items:
                return applied, True  # the rest was applied by another fold (a lease that ran out)
    return applied, False


def mark_dirty(shard: int, boards: set[tuple[str, str]]) -> None:
    """Tells the materializer which boards changed: one marker per board in the shard's own partition."""
    if not boards:
        return
    marked = uuid.uuid4().hex
    with Board.batch_write() as batch:
        for board, period in boards:
            batch.save(Board(dirty_partition(shard), f"{board}|{period}", marked=marked))


class Fold:
    """One page of one shard: read the state it touches, then write it in as few transactions as fit."""

    def __init__(self, shard: int, today: date, dirty: set[tuple[str, str]] | None = None) -> None:
        self.shard, self.today, self.tag = shard, today, f"{shard:02d}"
        self.part = f"{counter_part(shard):02d}"  # of the shared counters: org totals, stats, active users
        self.state: dict[tuple, list] = {}  # (model, hash, range) -> [value, rev, exists]: as committed
        self.work: dict[tuple, object] = {}  # the same keys -> value with this page's changes so far
        self.dirty: set[tuple[str, str]] = set() if dirty is None else dirty  # boards changed: marked by the run
        self.applied = 0  # inbox items committed by this fold
        self._staged_dirty: set[tuple[str, str]] = set()
        self.tx = _Pending()

    def apply(self, items: list[InboxItem]) -> None:
        orgs = _memberships({item.user_id for item in items})
        planned = [part for unit in _units(items) for part in self._fitting(unit, orgs.get(unit[0].user_id, []))]
        self._read({key for _, plan in planned for key in plan.keys()})
        for unit, plan in planned:
            if self.tx.actions and self.tx.actions + self._new_actions(unit, plan) > MAX_ACTIONS:
                self._commit()
            self._stage(unit, plan)
        self._commit()

    def _fitting(self, unit: list[InboxItem], memberships: list[tuple[str, str]]) -> list[tuple[list, dict]]:
        """A person's items with their plans, halved until each group fits one transaction on its own (a
        catch-up of many days touches a week and a month total per day, more than 10 items can carry)."""
        plan = self._plan(unit, memberships)
        if len(unit) == 1 or len(unit) + len(self._touches(plan)) <= MAX_ACTIONS:
            return [(unit, plan)]
        half = len(unit) // 2
        return self._fitting(unit[:half], memberships) + self._fitting(unit[half:], memberships)

    def _plan(self, unit: list[InboxItem], memberships: list[tuple[str, str]]) -> dict[tuple, int]:
        """What a person's items add: {(kind, name, part): delta} for totals, org parts, counters, active days."""
        plan: dict[tuple, int] = defaultdict(int)
        user = unit[0].user_id
        for item in unit:
            if item.what == "register":
                plan[("stat", "registered", "")] += 1
            if item.what in ("login", "register") or (item.kind, item.source) in ACTIVITY:
                plan[("day", f"days#{user}", clock.business_day(clock.parse_iso(item.at)).isoformat())] += 1
            if item.what != "entry":
                continue
            plan[("stat", "points_issued", "")] += issued_points(item.kind, int(item.points))
            plan[("stat", "adoptions", "")] += (item.kind, item.source) == ("spend", "tree")
            carbon = int(item.carbon_mg)
            if not carbon:
                continue
            plan[("stat", "carbon_mg", "")] += carbon
            for period in period_keys(date.fromisoformat(item.day)):
                plan[("total", f"u#{user}", period)] += carbon
                for org_id, joined_at in memberships:
                    if counts_for_org(item.at, item.day, joined_at):
                        plan[("total", f"m#{org_id}#{user}", period)] += carbon
                        plan[("part", f"o#{org_id}#{self.part}", period)] += carbon
        return plan

    def _read(self, plan_keys: set[tuple]) -> None:
        totals = {(name, part) for kind, name, part in plan_keys if kind == "total"}
        counters = {(f"hist#{_board(name)}#{part}", f"s{self.tag}") for kind, name, part in plan_keys
                    if kind == "total"}
        counters |= {(name, "active") for kind, name, _ in plan_keys if kind == "day"}
        for item in Total.batch_get(totals, consistent_read=True):
            self.state[(Total, item.owner, item.period)] = [int(item.value), int(item.rev), True]
        for item in Counter.batch_get(counters, consistent_read=True):
            value = item.counts if item.name.startswith("hist#") else item.days
            self.state[(Counter, item.name, item.part)] = [value, int(item.rev), True]
        for key in {(Total, *k) for k in totals} | {(Counter, *k) for k in counters}:
            empty = 0 if key[0] is Total else ({} if key[1].startswith("hist#") else [])
            self.state.setdefault(key, [empty, 0, False])
            self.work[key] = self.state[key][0]

    def _new_actions(self, unit: list[InboxItem], plan: dict[tuple, int]) -> int:
        """At least as many actions as staging `unit` adds: its inbox items and the items it may write that
        no pending action writes yet (counted against what is pending, not what earlier units planned: a
        unit that planned a zero change wrote nothing, and the next unit's change is a new action)."""
        pending = self.tx.keys
        return len(unit) + sum(1 for key in self._touches(plan) if key not in pending)

    def _touches(self, plan: dict[tuple, int]) -> set[tuple]:
        touched = set()
        for (kind, name, part), delta in plan.items():
            if kind in ("total", "part", "stat") and not delta:
                continue  # _stage writes nothing for a zero change
            if kind == "total":
                touched |= {(Total, name, part), (Counter, f"hist#{_board(name)}#{part}", f"s{self.tag}")}
            elif kind == "part":
                touched.add(("part", name, part))
            elif kind == "stat":
                touched.add(("stat",))
            else:
                touched |= {(Counter, name, "active"), ("active", part)}
        return touched

    def _stage(self, unit: list[InboxItem], plan: dict[tuple, int]) -> None:
        self.tx.inbox += [item.key for item in unit]
        for (kind, name, part), delta in plan.items():
            if kind == "total" and delta:
                self._move_total(name, part, delta)
            elif kind == "part" and delta:
                self.tx.parts[(name, part)] += delta
                self._staged_dirty.add(("orgs", part))
            elif kind == "stat" and delta:
                self.tx.stats[name] += delta
            elif kind == "day":
                self._mark_active(name, part)

    def _move_total(self, owner: str, period: str, delta: int) -> None:
        key, board = (Total, owner, period), _board(owner)
        before = int(self.work[key])
        self.work[key] = before + delta
        self.tx.rewrites.add(key)
        self._staged_dirty.add((board, period))
        moves = histogram_move(before, before + delta)
        if not moves:
            return
        hist = (Counter, f"hist#{board}#{period}", f"s{self.tag}")
        counts = dict(self.work[hist])
        for bucket, change in moves.items():
            counts[str(bucket)] = counts.get(str(bucket), 0) + change
        self.work[hist] = {b: n for b, n in counts.items() if n}
        self.tx.rewrites.add(hist)

    def _mark_active(self, days_name: str, day: str) -> None:
        key = (Counter, days_name, "active")
        oldest = (self.today - timedelta(days=ACTIVE_DAYS_KEPT - 1)).isoformat()
        days = [d for d in self.work[key] if d >= oldest]
        if day >= oldest and day not in days:
            days.append(day)
            self.tx.active[day] += 1
        if sorted(days) != self.work[key]:
            self.work[key] = sorted(days)
            self.tx.rewrites.add(key)

    def _commit(self) -> None:
        if not self.tx.actions:
            return
        tx, expires = Tx(), clock.now() + KEEP_FOLDED
        for key in self.tx.inbox:
            tx.update(f"inbox:{key}", InboxItem(key), [InboxItem.pending.remove(), InboxItem.expires_at.set(expires)],
                      InboxItem.pending.exists())
        for key in self.tx.rewrites:
            self._stage_rewrite(tx, key)
        for (owner, period), delta in self.tx.parts.items():
            tx.update(f"part:{owner}:{period}", Total(owner, period),
                      [Total.value.add(delta), Total.board_shard.set(f"orgparts#{period}#{self.part}")])
        stats = [getattr(Counter, field).add(delta) for field, delta in self.tx.stats.items() if delta]
        if stats:  # a shard's platform counters live on one item: one action for all of them
            tx.update("stats", Counter("stats", f"s{self.part}"), stats)
        for day, users in self.tx.active.items():
            tx.update(f"active:{day}", Counter(f"active#{day}", f"s{self.part}"), [Counter.value.add(users)])
        tx.commit()
        for key in self.tx.rewrites:
            self.state[key] = [self.work[key], self.state[key][1] + 1, True]
        self.applied += len(self.tx.inbox)
        self.tx = _Pending()
        self.dirty |= self._staged_dirty  # committed: the run marks these boards when it ends
        self._staged_dirty = set()

    def _stage_rewrite(self, tx: Tx, key: tuple) -> None:
        model, name, part = key
        _, rev, exists = self.state[key]
        if model is Total:
            board = board_partition(_board(name), part, self.shard)
            actions = [Total.value.set(self.work[key]), Total.board_shard.set(board), Total.rev.set(rev + 1)]
            condition = (Total.rev == rev) if exists else Total.owner.does_not_exist()
            tx.update(f"total:{name}:{part}", Total(name, part), actions, condition)
            return
        attribute = Counter.counts if name.startswith("hist#") else Counter.days
        condition = (Counter.rev == rev) if exists else Counter.name.does_not_exist()
        tx.update(f"counter:{name}:{part}", Counter(name, part),
                  [attribute.set(self.work[key]), Counter.rev.set(rev + 1)], condition)


class _Pending:
    """The actions of the transaction being built."""

    def __init__(self) -> None:
        self.inbox: list[str] = []
        self.rewrites: set[tuple] = set()
        self.parts: dict[tuple[str, str], int] = defaultdict(int)
        self.stats: dict[str, int] = defaultdict(int)
        self.active: dict[str, int] = defaultdict(int)

    @property
    def keys(self) -> set[tuple]:
        """What the pending actions write, in the terms of Fold._touches."""
        return (set(self.rewrites) | {("part", *key) for key in self.parts} | {("active", day) for day in self.active}
                | ({("stat",)} if self.stats else set()))

    @property
    def actions(self) -> int:
        return len(self.inbox) + len(self.rewrites) + len(self.parts) + len(self.active) + (1 if self.stats else 0)


def _board(owner: str) -> str:
    """The board a total ranks on: "u#{user}" on "users", "m#{org}#{user}" on "org-{org}"."""
    return "users" if owner.startswith("u#") else f"org-{owner.split('#')[1]}"


def _units(items: list[InboxItem]) -> list[list[InboxItem]]:
    """Items grouped by person, in time order, at most UNIT to a group."""
    by_user: dict[str, list[InboxItem]] = defaultdict(list)
    for item in sorted(items, key=lambda i: (i.user_id, i.at, i.key)):
        by_user[item.user_id].append(item)
    return [group[i:i + UNIT] for group in by_user.values() for i in range(0, len(group), UNIT)]


def _memberships(users: set[str]) -> dict[str, list[tuple[str, str]]]:
    """Each person's orgs and when they joined, from their accounts (one BatchGetItem per 100)."""
    found = Account.batch_get(users, consistent_read=True, attributes_to_get=["user_id", "orgs"])
    return {a.user_id: [(o["id"], o["joined_at"]) for o in (a.orgs or [])] for a in found}
