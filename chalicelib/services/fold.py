"""The fold: applies the aggregation inbox to totals, rank histograms and the public counters.

Runs as a job (every minute in AWS, `python -m admin run-jobs` locally), one shard at a time, and one
worker per shard at a time: a worker first takes the shard's lease (`agg_counters` "lease#fold", "s07": a
conditional update naming it the owner until `lease_until`, as the shared partner token's refresh lease
does), renews it before every further page and frees it at the end; a second worker on a held shard (an
overlapping run) leaves at once. A shard's inbox items are its users' entries and logins, and the items
the fold reads and rewrites for them (their tallies: one item a person holding every board's week, month and
all-time totals, domain/tallies.py, on their platform's boards only: "users" and "org-{id}" for `default`,
"P#users" and "P#org-{id}" for a platform P, the platform read from the user's account; the tallies' archives
of past periods; shard s of the rank histograms and of the boards' leaders) are written by that shard's fold
alone. The shared counters a request reads in one call (org totals and the platform counters, PARTS parts) are
only added to. So the fold reads what it will change,
computes the new values, and writes them together with the inbox items' `pending` removal in one
transaction of up to 100 actions, conditioned on each read-and-rewritten item's `rev`: every inbox item is
applied exactly once, even if a lease ran out under a slow worker. A refused transaction is retried after
a jittered, growing pause. The boards a run changed are marked once, at the end of the run, in the
shard's own marker partitions, then those partitions are flagged (store/board_marks.py; services/board_rebuild.py
reads them).

The use case decides here (and in domain/aggregation.py); its store (`bootstrap.fold_store()`,
store/fold_store.py, or tests/unit/fakes_aggregation.py's in memory) reads and writes.
"""
from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta

from ..domain import clock, tallies
from ..domain.aggregation import ARCHIVE, COUNTER, LIVE, Filed, FoldWrite, Rewrite, board_of, plan_items
from ..domain.orgs import orgs_board
from ..domain.platforms import DEFAULT
from ..domain.ranking import counter_part, histogram_move, period_keys
from ..domain.tallies import Tally, late_periods
from ..store.failures import ConditionFailed
from ..store.tx import MAX_ACTIONS  # DynamoDB's limit per transaction
from . import stats

PAGE = 200  # inbox items read per round
UNIT = 10  # a person's items applied together at most: with 5 orgs and 5 periods, 10 + 90 actions fit
ATTEMPTS = 5
BACKOFF_SECONDS, BACKOFF_CAP = 0.05, 2.0  # after a refused transaction: random(0, min(cap, base * 2^n))
LEASE_SECONDS = 120  # renewed before every further page (a page takes seconds); a worker that died frees it after this
ACTIVE_DAYS_KEPT = 3  # a person's active days remembered: today and the two before


def _default_store():
    from ..bootstrap import fold_store  # here: importing the job's module builds nothing

    return fold_store()


def Lease(shard: int, seconds: int = LEASE_SECONDS, store=None):  # named as the lease it builds
    """The single-flight lease of fold shard `shard` (store/fold_store.Lease): take(), renew(), release()."""
    return (store or _default_store()).lease(shard, seconds)


def fold_slice(shard: int, at: datetime, out_of_time: Callable[[], bool] = lambda: False, store=None) -> dict:
    """One shard's part of the fold job (chalicelib/jobs.py): page after page until its inbox is empty
    or the time is up (the next run carries on). An idle shard costs one Query; a shard another worker
    holds costs one more call (`busy`: this worker left it alone)."""
    store = store or _default_store()
    today, folded, dirty = clock.business_day(at), 0, set()
    items = [] if out_of_time() else store.pending(shard, PAGE)
    if not items:
        return {"folded": 0}
    lease = store.lease(shard, LEASE_SECONDS)
    if not lease.take():
        return {"folded": 0, "busy": 1}
    try:
        while items:
            applied, done = _fold_page(store, shard, items, today, dirty)
            folded += applied
            if not done or out_of_time():
                break  # refused again and again, or out of time: the next run takes over
            items = store.pending(shard, PAGE)
            if items and not lease.renew():
                break  # the lease lost (renewed only before another page: a run of one page writes it twice)
    finally:
        if dirty:
            store.mark_dirty(shard, dirty)  # once per run, whatever happened after the commits
        lease.release()
    if folded:
        stats.forget()  # this container's cached stats are out of date now
    return {"folded": folded}


def _fold_page(store, shard: int, items: list[Filed], today: date, dirty: set[tuple[str, str]]) -> tuple[int, bool]:
    """Applies a page: (items this worker applied, whether none of the page is pending any more). After a
    refused transaction, waits a jittered, growing pause, re-reads what is still pending and tries again.
    (An index read can lag a moment behind a fold: the consistent re-read drops what is already done.)"""
    keys, applied = [item.key for item in items], 0
    for attempt in range(ATTEMPTS):
        fold = Fold(shard, today, dirty, store)
        try:
            fold.apply(items)
            return applied + fold.applied, True
        except ConditionFailed:
            applied += fold.applied  # the transactions before the refused one are committed
            time.sleep(random.uniform(0, min(BACKOFF_CAP, BACKOFF_SECONDS * 2 ** attempt)))
            items = store.still_pending(keys)
            if not items:
                return applied, True  # the rest was applied by another fold (a lease that ran out)
    return applied, False


class Fold:
    """One page of one shard: read the state it touches, then write it in as few transactions as fit."""

    def __init__(self, shard: int, today: date, dirty: set[tuple[str, str]] | None = None, store=None) -> None:
        self.shard, self.today, self.tag = shard, today, f"{shard:02d}"
        self.part = f"{counter_part(shard):02d}"  # of the shared counters: org totals, stats, active users
        self.store = store or _default_store()
        self.state: dict[tuple, list] = {}  # (kind, name, part) -> [value, rev, exists]: as committed
        self.work: dict[tuple, object] = {}  # the same keys -> value with this page's changes so far
        self.dirty: set[tuple[str, str]] = set() if dirty is None else dirty  # boards changed: marked by the run
        self.applied = 0  # inbox items committed by this fold
        self.orgs: dict[str, list[tuple[str, str]]] = {}
        self.platforms: dict[str, str] = {}  # user -> platform, from their accounts (absent: `default`)
        self._staged_dirty: set[tuple[str, str]] = set()
        self.tx = _Pending()

    def apply(self, items: list[Filed]) -> None:
        people = self.store.people({item.user_id for item in items})
        self.orgs = {user: orgs for user, (_, orgs) in people.items()}
        self.platforms = {user: platform for user, (platform, _) in people.items()}
        planned = [part for unit in _units(items) for part in self._fitting(unit, self.orgs.get(unit[0].user_id, []))]
        self._read(planned)
        for unit, plan in planned:
            if self.tx.actions and self.tx.actions + self._new_actions(unit, plan) > MAX_ACTIONS:
                self._commit()
            self._stage(unit, plan)
        self._commit()

    def _fitting(self, unit: list[Filed], memberships: list[tuple[str, str]]) -> list[tuple[list, dict]]:
        """A person's items with their plans, halved until each group fits one transaction on its own (a
        catch-up of many days touches a week and a month archive per day, more than 10 items can carry)."""
        plan = self._plan(unit, memberships)
        if len(unit) == 1 or len(unit) + len(self._touches(plan, self._platform(unit))) <= MAX_ACTIONS:
            return [(unit, plan)]
        half = len(unit) // 2
        return self._fitting(unit[:half], memberships) + self._fitting(unit[half:], memberships)

    def _plan(self, unit: list[Filed], memberships: list[tuple[str, str]]) -> dict[tuple, int]:
        """What a person's items add: {(kind, name, part): delta} for totals, org parts, counters, active days."""
        return plan_items(unit, memberships, self.part, self._platform(unit))

    def _platform(self, unit: list[Filed]) -> str:
        """The platform of a unit's user (its account's; a user whose account was not found: `default`)."""
        return self.platforms.get(unit[0].user_id) or DEFAULT

    def _read(self, planned: list[tuple[list, dict]]) -> None:
        """Reads what the page rewrites: the people's tallies and the shard's histogram parts and active days;
        then, in one more read only when needed, the archives of late periods and, for a person without a
        tally yet, their totals of today's periods in the legacy layout (store/aggregates.Total)."""
        deltas = _deltas_by_user(planned)
        counters = {(f"hist#{board}#{period}", f"s{self.tag}") for by in deltas.values() for board, period in by}
        counters |= {(name, "active") for _, plan in planned for kind, name, _ in plan if kind == "day"}
        found = self.store.read(set(deltas), counters)
        for key in {(COUNTER, *k) for k in counters}:
            value, rev = found.get(key, (None, None))
            empty = ({}, {}) if key[1].startswith("hist#") else []
            self._know(key, value, rev, empty)
        seeds = {user: set(period_keys(self.today)) for user in deltas if (LIVE, user) not in found}
        for user in seeds:
            week, month, _ = period_keys(self.today)
            found[(LIVE, user)] = (Tally(week, month), None)
        late = {user: late_periods(found[(LIVE, user)][0], by) for user, by in deltas.items()}
        wanted = {user: seeds.get(user, set()) | late[user] for user in deltas}
        periods = self.store.read_periods({u: p for u, p in wanted.items() if p}, self._org_ids(deltas))
        for user, (tally, rev) in ((u, found[(LIVE, u)]) for u in deltas):
            if user in seeds:
                tally = _seeded(tally, {period: periods.get((user, period), {}) for period in seeds[user]})
            self._know((LIVE, user), tally, rev, None)
            for period in late[user]:
                self._know((ARCHIVE, user, period), periods.get((user, period), {}), 0, None)

    def _org_ids(self, users) -> dict[str, list[str]]:
        """The orgs whose legacy per-board totals a first tally reads: `default`'s members' only (the legacy
        layout predates platforms: a user of P has none)."""
        return {user: [org_id for org_id, _ in self.orgs.get(user, [])] for user in users
                if (self.platforms.get(user) or DEFAULT) == DEFAULT}

    def _know(self, key: tuple, value, rev, empty) -> None:
        self.state[key] = [empty, 0, False] if rev is None and empty is not None else [value, rev or 0, rev is not None]
        self.work[key] = self.state[key][0]

    def _new_actions(self, unit: list[Filed], plan: dict[tuple, int]) -> int:
        """At least as many actions as staging `unit` adds: its inbox items and the items it may write that
        no pending action writes yet (counted against what is pending, not what earlier units planned: a
        unit that planned a zero change wrote nothing, and the next unit's change is a new action)."""
        pending = self.tx.keys
        return len(unit) + sum(1 for key in self._touches(plan, self._platform(unit)) if key not in pending)

    def _touches(self, plan: dict[tuple, int], platform: str) -> set[tuple]:
        """The items staging `plan` may write (an upper bound: any period but the newest of its kind may be an
        archive, and a tally rolling over archives one week and one month more)."""
        touched = set()
        for (kind, name, part), delta in plan.items():
            if kind in ("total", "part", "stat") and not delta:
                continue  # _stage writes nothing for a zero change
            if kind == "total":
                user = name.rsplit("#", 1)[-1]
                touched |= {(LIVE, user), (COUNTER, f"hist#{board_of(name)}#{part}", f"s{self.tag}")}
                if part != "all":
                    touched |= {(ARCHIVE, user, part), ("rollover", user, part[0])}
            elif kind == "part":
                touched.add(("part", name, part))
            elif kind == "stat":
                touched.add(("stat", part))
            else:
                touched |= {(COUNTER, name, "active"), ("active", platform, part)}
        return touched

    def _stage(self, unit: list[Filed], plan: dict[tuple, int]) -> None:
        self.tx.inbox += [item.key for item in unit]
        totals: dict[tuple[str, str], int] = {}
        for (kind, name, part), delta in plan.items():
            if kind == "total" and delta:
                totals[(board_of(name), part)] = delta
            elif kind == "part" and delta:
                self.tx.parts[(name, part)] += delta
                self._staged_dirty.add((orgs_board(self._platform(unit)), part))
            elif kind == "stat" and delta:
                self.tx.stats[(part, name)] += delta
            elif kind == "day":
                self._mark_active(name, part, self._platform(unit))
        if totals:
            self._add_to_tally(unit[0].user_id, totals)

    def _add_to_tally(self, user: str, totals: dict[tuple[str, str], int]) -> None:
        """A person's carbon added to their tally (rolled over, or to archives of late periods), and each of
        their totals' moves to the shard's histogram parts and leaders."""
        archived = {key[2]: self.work[key] for key in self.work if key[:2] == (ARCHIVE, user)}
        done = tallies.apply(self.work[(LIVE, user)], totals, archived)
        self.work[(LIVE, user)] = done.tally
        self.tx.rewrites.add((LIVE, user))
        for period, boards in done.archives.items():
            key = (ARCHIVE, user, period)
            self.state.setdefault(key, [{}, 0, False])
            self.work[key] = boards
            self.tx.rewrites.add(key)
        for board, period, before, after in done.moves:
            self._staged_dirty.add((board, period))
            self._move_total(user, board, period, before, after)

    def _move_total(self, user: str, board: str, period: str, before: int, after: int) -> None:
        hist = (COUNTER, f"hist#{board}#{period}", f"s{self.tag}")
        counts, leaders = self.work[hist]
        moves = histogram_move(before, after)
        if moves:
            counts = dict(counts)
            for bucket, change in moves.items():
                counts[str(bucket)] = counts.get(str(bucket), 0) + change
            counts = {b: n for b, n in counts.items() if n}
        promoted = tallies.promote(leaders, user, after)
        if moves or promoted is not None:
            self.work[hist] = (counts, leaders if promoted is None else promoted)
            self.tx.rewrites.add(hist)

    def _mark_active(self, days_name: str, day: str, platform: str) -> None:
        key = (COUNTER, days_name, "active")
        oldest = (self.today - timedelta(days=ACTIVE_DAYS_KEPT - 1)).isoformat()
        days = [d for d in self.work[key] if d >= oldest]
        if day >= oldest and day not in days:
            days.append(day)
            self.tx.active[(platform, day)] += 1
        if sorted(days) != self.work[key]:
            self.work[key] = sorted(days)
            self.tx.rewrites.add(key)

    def _commit(self) -> None:
        if not self.tx.actions:
            return
        self.store.commit(FoldWrite(self.part, list(self.tx.inbox), [self._rewrite(key) for key in self.tx.rewrites],
                                    dict(self.tx.parts), dict(self.tx.stats), dict(self.tx.active)))
        for key in self.tx.rewrites:
            self.state[key] = [self.work[key], self.state[key][1] + 1, True]
        self.applied += len(self.tx.inbox)
        self.tx = _Pending()
        self.dirty |= self._staged_dirty  # committed: the run marks these boards when it ends
        self._staged_dirty = set()

    def _rewrite(self, key: tuple) -> Rewrite:
        _, rev, exists = self.state[key]
        if key[0] == LIVE:
            return Rewrite(LIVE, key[1], "live", self.work[key], rev, exists)
        return Rewrite(*key, self.work[key], rev, exists)


def _deltas_by_user(planned: list[tuple[list, dict]]) -> dict[str, dict[tuple[str, str], int]]:
    """{user: {(board, period): mg}} of the page's plans (the totals they change)."""
    found: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for unit, plan in planned:
        for (kind, name, period), delta in plan.items():
            if kind == "total" and delta:
                found[unit[0].user_id][(board_of(name), period)] += delta
    return found


def _seeded(tally: Tally, legacy: dict[str, dict[str, int]]) -> Tally:
    """A first tally holding what the legacy layout counted in its periods ({period: {board: mg}})."""
    seeded = tally.copy()
    for period, boards in legacy.items():
        for board, value in boards.items():
            seeded.boards.setdefault(board, [0, 0, 0])[tallies.kind_of(period)] = value
    return seeded


class _Pending:
    """The actions of the transaction being built."""

    def __init__(self) -> None:
        self.inbox: list[str] = []
        self.rewrites: set[tuple] = set()
        self.parts: dict[tuple[str, str], int] = defaultdict(int)
        self.stats: dict[tuple[str, str], int] = defaultdict(int)  # (platform, field) -> delta
        self.active: dict[tuple[str, str], int] = defaultdict(int)  # (platform, day) -> new active users

    @property
    def keys(self) -> set[tuple]:
        """What the pending actions write, in the terms of Fold._touches."""
        return (set(self.rewrites) | {("part", *key) for key in self.parts} | {("active", *key) for key in self.active}
                | {("stat", platform) for platform, _ in self.stats})

    @property
    def actions(self) -> int:
        """A platform's counters live on one item a part: one action per platform the stats change."""
        return (len(self.inbox) + len(self.rewrites) + len(self.parts) + len(self.active)
                + len({platform for platform, _ in self.stats}))


def _units(items: list[Filed]) -> list[list[Filed]]:
    """Items grouped by person, in time order, at most UNIT to a group."""
    by_user: dict[str, list[Filed]] = defaultdict(list)
    for item in sorted(items, key=lambda i: (i.user_id, i.at, i.key)):
        by_user[item.user_id].append(item)
    return [group[i:i + UNIT] for group in by_user.values() for i in range(0, len(group), UNIT)]
