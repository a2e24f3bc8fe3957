"""The aggregation's tables in memory, for fast tests of the fold and board use cases only.

`InMemoryAggregates` is the fold's store (store/fold_store.DynamoFoldStore), the stream handlers' inbox
(store/inbox.DynamoInbox) and the boards' repository (store/repositories_boards.DynamoBoards) at once, over
the same dicts, with the same promises: an item is filed once, a fold transaction writes everything or
nothing and is refused when an inbox item is no longer pending or a rewritten item's `rev` moved, a marker is
cleared only if not marked again, a writer flags the partitions it marked after its markers (a fresh token each
time), and a flag is deleted only on the token read. Whether DynamoDB keeps those promises (conditions, leases,
races, call counts) is tested against DynamoDB Local: tests/integration/test_aggregation_jobs.py, tests/races.
"""
from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

from chalicelib.domain.aggregation import ARCHIVE, COUNTER, LIVE, Filed, FoldWrite, person_board
from chalicelib.domain.orgs import key_platform, orgs_board, row_owner
from chalicelib.domain.platforms import scoped
from chalicelib.domain.ranking import SHARDS, rebuild_shard, shard_of
from chalicelib.domain.tallies import Tally
from chalicelib.store.failures import ConditionFailed


@dataclass
class Row:
    """An agg_totals item: value, rev, its ranking partition, members (org rows)."""

    value: int = 0
    rev: int = 0
    board_shard: str | None = None
    members: int | None = None


class FakeLease:
    def __init__(self, held: set[str], shard: int, job: str = "fold") -> None:
        self.held, self.key = held, f"{job}:s{shard:02d}"

    def take(self) -> bool:
        if self.key in self.held:
            return False
        self.held.add(self.key)
        return True

    def renew(self) -> bool:
        return self.key in self.held

    def release(self) -> None:
        self.held.discard(self.key)


class InMemoryAggregates:
    def __init__(self) -> None:
        self.inbox: dict[str, Filed] = {}
        self.pending_in: dict[str, str] = {}  # inbox key -> "s07" while not folded
        self.orgs_of: dict[str, list[tuple[str, str]]] = {}  # user -> [(org_id, joined_at)]
        self.platform_of: dict[str, str] = {}  # user -> platform (absent: `default`)
        self.totals: dict[tuple[str, str], Row] = {}  # org parts and rows; legacy per-board totals
        self.tallies: dict[str, tuple[Tally, int]] = {}  # user -> (tally, rev)
        self.archives: dict[tuple[str, str], dict[str, int]] = {}  # (user, period) -> {board: mg}
        self.counters: dict[tuple[str, str], tuple[object, int]] = {}  # hist#/days# -> (value, rev)
        self.stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # part -> field -> n (default)
        self.active: dict[tuple[str, str], int] = defaultdict(int)  # (day, part) -> users (default)
        self.platform_stats: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.platform_active: dict[tuple[str, str, str], int] = defaultdict(int)  # (platform, day, part) -> users
        self.boards: dict[tuple[str, str], dict] = {}
        self.markers: dict[int, set[str]] = defaultdict(set)  # fold shard -> {"board|period|mark"}
        self.flagged: dict[tuple[int, int], str] = {}  # (rebuild shard, fold shard) -> token
        self.held: set[str] = set()
        self.parts_read: list[int] = []  # histogram parts each board build asked for
        self.commits = 0
        self._marks = itertools.count()

    # ---- the inbox (store/inbox.py) ------------------------------------------------------------------
    def file(self, item: Filed) -> bool:
        if item.key in self.inbox:
            return False
        self.inbox[item.key] = item
        self.pending_in[item.key] = f"s{shard_of(item.user_id):02d}"
        return True

    # ---- the fold (store/fold_store.py) --------------------------------------------------------------
    def lease(self, shard: int, seconds: int) -> FakeLease:
        return FakeLease(self.held, shard)

    def pending(self, shard: int, limit: int) -> list[Filed]:
        keys = sorted(k for k, s in self.pending_in.items() if s == f"s{shard:02d}")[:limit]
        return [self.inbox[k] for k in keys]

    def still_pending(self, keys: list[str]) -> list[Filed]:
        return [self.inbox[k] for k in keys if k in self.pending_in]

    def people(self, users: set[str]) -> dict[str, tuple[str | None, list[tuple[str, str]]]]:
        return {user: (self.platform_of.get(user), self.orgs_of.get(user, [])) for user in users}

    def read(self, users: set, counters: set) -> dict[tuple, tuple[object, int]]:
        found: dict[tuple, tuple[object, int]] = {}
        for user in users:
            if user in self.tallies:
                tally, rev = self.tallies[user]
                found[(LIVE, user)] = (tally.copy(), rev)
        for key in counters:
            if key in self.counters:
                found[(COUNTER, *key)] = self.counters[key]
        return found

    def read_periods(self, wanted: dict[str, set[str]], orgs: dict[str, list[str]]) -> dict[tuple[str, str], dict]:
        found: dict[tuple[str, str], dict] = {}
        for user, periods in wanted.items():
            for period in periods:
                if (user, period) in self.archives:
                    found[(user, period)] = dict(self.archives[(user, period)])
                    continue
                owners = {"users": f"u#{user}", **{f"org-{o}": f"m#{o}#{user}" for o in orgs.get(user, [])}}
                legacy = {board: self.totals[(owner, period)].value for board, owner in owners.items()
                          if (owner, period) in self.totals}
                if legacy:
                    found[(user, period)] = legacy
        return found

    def commit(self, write: FoldWrite) -> None:
        refused = {f"inbox:{k}": None for k in write.inbox if k not in self.pending_in}
        for r in write.rewrites:
            if r.kind == ARCHIVE:
                continue
            current = self.tallies.get(r.name) if r.kind == LIVE else self.counters.get((r.name, r.part))
            rev = None if current is None else current[1]
            if (rev != r.rev) if r.exists else (rev is not None):
                refused[f"{r.kind}:{r.name}:{r.part}"] = None
        if refused:
            raise ConditionFailed(refused)
        for key in write.inbox:
            del self.pending_in[key]
        for r in write.rewrites:
            if r.kind == LIVE:
                self.tallies[r.name] = (r.value.copy(), r.rev + 1)
            elif r.kind == ARCHIVE:
                self.archives[(r.name, r.part)] = dict(r.value)
            else:
                self.counters[(r.name, r.part)] = (r.value, r.rev + 1)
        for (owner, period), delta in write.parts.items():
            row = self.totals.setdefault((owner, period), Row())
            index = scoped(key_platform(owner, 3), f"orgparts#{period}#{write.part}")
            row.value, row.board_shard = row.value + delta, index
        self._add_counters(write)
        self.commits += 1

    def _add_counters(self, write: FoldWrite) -> None:
        """`default`'s counters in `stats` and `active` (as before platforms), another platform's beside them."""
        for (platform, name), delta in write.stats.items():
            if platform == "default":
                self.stats[write.part][name] += delta
            else:
                self.platform_stats[(platform, write.part)][name] += delta
        for (platform, day), users in write.active.items():
            if platform == "default":
                self.active[(day, write.part)] += users
            else:
                self.platform_active[(platform, day, write.part)] += users

    def mark_dirty(self, shard: int, boards: set[tuple[str, str]]) -> None:
        mark = str(next(self._marks))
        for board, period in boards:
            self.markers[shard].add(f"{board}|{period}|{mark}")
        for rebuild in {rebuild_shard(board, period) for board, period in boards}:
            self.flagged[(rebuild, shard)] = f"t{next(self._marks)}"

    def marked(self, shard: int) -> list[str]:
        """The boards fold shard `shard` marked ("board|period"), sorted."""
        return sorted(m.rsplit("|", 1)[0] for m in self.markers[shard])

    # ---- the boards (store/repositories_boards.py) ---------------------------------------------------
    def board(self, board: str, key: str) -> dict:
        return dict(self.boards.get((board, key), {}))

    def orgs_board_with_rows(self, key: str, org_ids: list[str], platform: str = "default"
                             ) -> tuple[dict, dict[str, tuple[int, int]]]:
        return self.board(orgs_board(platform), key), self.org_rows(org_ids, key, platform)

    def org_rows(self, org_ids: list[str], key: str, platform: str = "default") -> dict[str, tuple[int, int]]:
        rows = {o: self.totals.get((row_owner(platform, o), key)) for o in org_ids}
        return {o: (row.value, row.members or 0) for o, row in rows.items() if row}

    def total(self, owner: str, key: str) -> int | None:
        """A person's total on a board in a period, as store/repositories_boards.DynamoBoardReads.total reads it;
        any other owner's (an org part "o#{org}#{part}") as stored."""
        parts = owner.split("#")
        person = parts[0] in ("u", "m") or (len(parts) > 2 and parts[1] in ("u", "m"))  # P's: "P#u#...", "P#m#..."
        user, board = person_board(owner) if person else (None, None)
        if user not in self.tallies:
            row = self.totals.get((owner, key))
            return None if row is None else row.value
        value = self.tallies[user][0].value(board, key)
        if value is None and (user, key) in self.archives:
            value = self.archives[(user, key)].get(board)
        return value

    def rebuild_lease(self, shard: int, seconds: int) -> FakeLease:
        return FakeLease(self.held, shard, "boards")

    def flags(self, rebuild: int) -> dict[int, str]:
        return {shard: token for (r, shard), token in sorted(self.flagged.items()) if r == rebuild}

    def marks(self, rebuild: int, shards) -> dict[tuple[str, str], list[tuple[int, str]]]:
        marks: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
        for shard in shards:
            for name in sorted(self.markers[shard]):
                board, key, mark = name.rsplit("|", 2)
                if rebuild_shard(board, key) == rebuild:
                    marks[(board, key)].append((shard, mark))
        return marks

    def clear_marks(self, board: str, key: str, marks: list[tuple[int, str]]) -> None:
        for shard, mark in marks:
            self.markers[shard].discard(f"{board}|{key}|{mark}")

    def unflag(self, rebuild: int, flags: dict[int, str]) -> None:
        for shard, token in flags.items():
            if self.flagged.get((rebuild, shard)) == token:
                del self.flagged[(rebuild, shard)]

    def built(self, boards: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
        return {b: dict(self.boards[b]) for b in boards if b in self.boards}

    def save_board(self, board: str, key: str, data: dict, built_at: str) -> None:
        self.boards[(board, key)] = {**data, "built_at": built_at}

    def ranked(self, partition: str, limit: int | None = None) -> list[tuple[str, int]]:
        rows = sorted(((owner, row.value) for (owner, _), row in self.totals.items() if row.board_shard == partition),
                      key=lambda row: -row[1])
        return rows[:limit] if limit else rows

    def board_parts(self, board: str, key: str, shards: list[int] | None = None) -> dict[int, tuple[dict, dict]]:
        self.parts_read.append(len(range(SHARDS) if shards is None else shards))
        wanted = range(SHARDS) if shards is None else shards
        parts = {shard: self.counters.get((f"hist#{board}#{key}", f"s{shard:02d}")) for shard in wanted}
        return {shard: part[0] for shard, part in parts.items() if part}

    def save_org_rows(self, rows: list[tuple[str, str, int, int | None, str]]) -> None:
        for owner, period, value, members, board_shard in rows:
            self.totals[(owner, period)] = Row(value, 0, board_shard, members)
