"""The fold's DynamoDB side (services/fold.py decides, this reads and writes): a shard's pending inbox page,
the totals and counters it rewrites, one transaction per `FoldWrite`, the shard's dirty-board markers and their
flags (store/board_marks.py) and the shard's single-flight lease. Every key layout is store/aggregates.py's.
"""
from __future__ import annotations

import time
import uuid
from collections import defaultdict
from datetime import timedelta

from pynamodb.exceptions import UpdateError

from ..domain import clock
from ..domain.aggregation import ARCHIVE, COUNTER, LIVE, Filed, FoldWrite, Rewrite, person_board
from ..domain.orgs import key_platform
from ..domain.platforms import scoped
from ..domain.tallies import Tally
from . import board_marks
from .access import on
from .aggregates import InboxItem, ShardedCounter, Total, active_name, stats_name
from .models import Account
from .tx import Tx

KEEP_FOLDED = timedelta(days=3)  # a folded inbox item is kept (streams keep records 24 h), then expires
_CONDITION_FAILED = "ConditionalCheckFailedException"


def filed(item: InboxItem) -> Filed:
    return Filed(item.key, item.what, item.user_id, item.at, item.day, item.kind, item.source, int(item.points),
                 int(item.carbon_mg))


class Lease:
    """The single-flight lease of one shard of a job: an item in `agg_counters` ("lease#fold", "s07"; the boards'
    rebuild: "lease#boards") taken, renewed and freed with conditional updates (free when absent, expired, or
    already ours)."""

    ACCESS = (on(ShardedCounter, "UpdateItem"),)

    def __init__(self, shard: int, seconds: int, job: str = "fold") -> None:
        self.key, self.owner, self.seconds = (f"lease#{job}", f"s{shard:02d}"), uuid.uuid4().hex, seconds

    def take(self) -> bool:
        free = (ShardedCounter.name.does_not_exist() | (ShardedCounter.lease_until < int(time.time()))
                | (ShardedCounter.owner == self.owner))
        return self._set(int(time.time()) + self.seconds, free)

    def renew(self) -> bool:
        return self._set(int(time.time()) + self.seconds, ShardedCounter.owner == self.owner)

    def release(self) -> None:
        self._set(0, ShardedCounter.owner == self.owner)

    def _set(self, until: int, condition) -> bool:
        try:
            ShardedCounter(*self.key).update(
                actions=[ShardedCounter.owner.set(self.owner), ShardedCounter.lease_until.set(until)],
                condition=condition)
        except UpdateError as exc:
            if exc.cause_response_code == _CONDITION_FAILED:
                return False
            raise
        return True


class DynamoFoldStore:
    """The fold's repository over DynamoDB (tests/unit/fakes_aggregation.py keeps the same promises in memory).
    A refused transaction raises store/failures.ConditionFailed and writes nothing."""

    ACCESS = (
        on(Account, "BatchGetItem"),
        board_marks.mark,
        on(InboxItem, "BatchGetItem", "UpdateItem"),
        on(InboxItem, "Query", index="by_shard"),
        on(ShardedCounter, "BatchGetItem", "UpdateItem"),
        on(Total, "BatchGetItem", "PutItem", "UpdateItem"),  # PutItem: a tally's archive of a past period
        Lease,
    )

    @staticmethod
    def lease(shard: int, seconds: int) -> Lease:
        return Lease(shard, seconds)

    @staticmethod
    def pending(shard: int, limit: int) -> list[Filed]:
        """A page of the shard's inbox items not folded yet (the sparse `pending` index: one Query)."""
        return [filed(item) for item in InboxItem.by_shard.query(f"s{shard:02d}", limit=limit)]

    @staticmethod
    def still_pending(keys: list[str]) -> list[Filed]:
        """Those of `keys` still pending, read consistently (an index read can lag a moment behind a fold)."""
        return [filed(item) for item in InboxItem.batch_get(keys, consistent_read=True) if item.pending]

    @staticmethod
    def people(users: set[str]) -> dict[str, tuple[str | None, list[tuple[str, str]]]]:
        """Each user's platform (None: `default`) and orgs with when they joined, from their accounts (one
        BatchGetItem per 100)."""
        found = Account.batch_get(users, consistent_read=True, attributes_to_get=["user_id", "orgs", "platform"])
        return {a.user_id: (a.platform, [(o["id"], o["joined_at"]) for o in (a.orgs or [])]) for a in found}

    @staticmethod
    def read(users: set[str], counters: set[tuple[str, str]]) -> dict[tuple, tuple[object, int]]:
        """{(LIVE, user): (Tally, rev)} and {(COUNTER, name, part): (value, rev)} of those that exist, read
        consistently: a person's tally, a histogram part's ({bucket: people}, {user: mg} leaders), a person's
        active days."""
        found: dict[tuple, tuple[object, int]] = {}
        for item in Total.batch_get([(f"u#{user}", "live") for user in users], consistent_read=True):
            found[(LIVE, item.owner[2:])] = (tally_of(item), int(item.rev))
        for item in ShardedCounter.batch_get(counters, consistent_read=True):
            value = (item.counts or {}, item.top or {}) if item.name.startswith("hist#") else item.days
            found[(COUNTER, item.name, item.part)] = (value, int(item.rev))
        return found

    @staticmethod
    def read_periods(wanted: dict[str, set[str]], orgs: dict[str, list[str]]) -> dict[tuple[str, str], dict]:
        """{(user, period): {board: mg}} of people's past periods (a tally's archives) and, where none is
        archived, of the legacy layout's per-board totals of those periods (their orgs' among them): one
        BatchGetItem per 100 keys, consistent. Only read for late entries and a person's first tally."""
        keys = set()
        for user, periods in wanted.items():
            owners = [f"u#{user}"] + [f"m#{org_id}#{user}" for org_id in orgs.get(user, [])]
            keys |= {(owner, period) for owner in owners for period in periods}
        archived: dict[tuple[str, str], dict] = {}
        legacy: dict[tuple[str, str], dict] = defaultdict(dict)
        for item in Total.batch_get(keys, consistent_read=True):
            user, board = person_board(item.owner)  # a legacy owner: `default`'s
            if item.boards is not None:
                archived[(user, item.period)] = {b: int(v) for b, v in item.boards.items()}
            elif item.value:
                legacy[(user, item.period)][board] = int(item.value)
        return {**legacy, **archived}

    @staticmethod
    def commit(write: FoldWrite) -> None:
        """One TransactWriteItems: the inbox items' `pending` removed (on its being there), the rewrites on their
        `rev`, and the ADDs to the shared parts."""
        tx, expires = Tx(), clock.now() + KEEP_FOLDED
        for key in write.inbox:
            tx.update(f"inbox:{key}", InboxItem(key), [InboxItem.pending.remove(), InboxItem.expires_at.set(expires)],
                      InboxItem.pending.exists())
        for rewrite in write.rewrites:
            _stage_rewrite(tx, rewrite)
        for (owner, period), delta in write.parts.items():  # "o#{org}#{part}", P's "P#o#..." in P's partition
            index = scoped(key_platform(owner, 3), f"orgparts#{period}#{write.part}")
            tx.update(f"part:{owner}:{period}", Total(owner, period),
                      [Total.value.add(delta), Total.board_shard.set(index)])
        stats: dict[str, list] = defaultdict(list)
        for (platform, name), delta in write.stats.items():
            if delta:
                stats[platform].append(getattr(ShardedCounter, name).add(delta))
        for platform, actions in stats.items():  # a platform's counters of a part live on one item: one action
            tx.update(f"stats:{platform}", ShardedCounter(stats_name(platform), f"s{write.part}"), actions)
        for (platform, day), users in write.active.items():
            tx.update(f"active:{platform}:{day}", ShardedCounter(active_name(platform, day), f"s{write.part}"),
                      [ShardedCounter.value.add(users)])
        tx.commit()

    @staticmethod
    def mark_dirty(shard: int, boards: set[tuple[str, str]]) -> None:
        """One marker per changed (board, period), in the shard's partition of the board's rebuild shard, with one
        mark for the run, then those partitions' flags (store/board_marks.mark)."""
        board_marks.mark(shard, boards)


def tally_of(item: Total) -> Tally:
    """A person's tally as stored ("u#{user}", "live")."""
    boards = item.boards or {}
    return Tally(item.week, item.month, {board: [int(v) for v in values] for board, values in boards.items()})


def _stage_rewrite(tx: Tx, rewrite: Rewrite) -> None:
    name, part, rev = rewrite.name, rewrite.part, rewrite.rev
    if rewrite.kind == LIVE:
        tally = rewrite.value
        actions = [Total.week.set(tally.week), Total.month.set(tally.month), Total.boards.set(tally.boards),
                   Total.rev.set(rev + 1)]
        condition = (Total.rev == rev) if rewrite.exists else Total.owner.does_not_exist()
        tx.update(f"tally:{name}", Total(f"u#{name}", "live"), actions, condition)
        return
    if rewrite.kind == ARCHIVE:  # only with the tally's rewrite on its rev, in the same transaction
        boards = rewrite.value
        users = sum(value for board, value in boards.items() if board.rpartition("#")[2] == "users")  # its platform's
        tx.put(f"archive:{name}:{part}", Total(f"u#{name}", part, value=users, boards=boards))
        return
    condition = (ShardedCounter.rev == rev) if rewrite.exists else ShardedCounter.name.does_not_exist()
    if name.startswith("hist#"):
        counts, top = rewrite.value
        actions = [ShardedCounter.counts.set(counts), ShardedCounter.top.set(top)]
    else:
        actions = [ShardedCounter.days.set(rewrite.value)]
    tx.update(f"counter:{name}:{part}", ShardedCounter(name, part), actions + [ShardedCounter.rev.set(rev + 1)],
              condition)
