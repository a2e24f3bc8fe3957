"""Leaderboard arithmetic: periods, shards, ranks with ties, and the rank histogram. Pure functions.

Periods follow api.md: the ISO week from Monday and the calendar month of the Asia/Shanghai business
day, and "all". A period key names one concrete period ("w2026-W48", "m2026-11", "all"), so last
week's board is a different board from this week's and nothing has to be reset when a week starts.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date

from .ids import stable_shard
from .platforms import DEFAULT
from .values import immutable

PERIODS = ("week", "month", "all")
SHARDS = 64  # fold shards: a user's totals, board index partition and histogram part live in shard_of(user)
# Parts of the counters a request reads in one BatchGetItem (the public stats, an org's totals and member
# count): shard s adds to part s % PARTS, so GET /v1/stats and GET /v1/orgs/{id} stay one call of at most
# 100 keys. Each part has SHARDS // PARTS writers, all with ADD (no read-modify-write).
PARTS = 16
ORG_BOARD_SHARDS = 4  # an org's members write far less than the whole platform: its board needs fewer
TOP = 100  # entries of a materialized board
# Shards of the boards' rebuild (the materialize-boards job): a board of a period is rebuilt by the worker of
# rebuild_shard(board, period), one worker a shard at a time (a lease), several boards of it at once.
REBUILD_SHARDS = 16
BUCKETS_PER_DOUBLING = 8  # histogram resolution: a bucket spans about 9 % of a total


def shard_of(user_id: str) -> int:
    """A stable shard in [0, SHARDS) for a user (not Python's salted hash())."""
    return stable_shard(user_id, SHARDS)


def counter_part(shard: int) -> int:
    """The part of the shared counters (stats, active users, org totals and members) shard `shard` adds to."""
    return shard % PARTS


def board_shards(board: str) -> int:
    """Legacy ranking index partitions of a board of `default` (store/aggregates.Total): SHARDS for "users", fewer
    for one org's members. A platform P's boards have none: the legacy layout predates platforms."""
    return SHARDS if board == "users" else ORG_BOARD_SHARDS


def board_platform(board: str) -> str:
    """The platform whose board `board` is: `default`'s are "users", "orgs", "org-{id}"; a platform P's the same
    prefixed "P#" ("P#users", "P#orgs", "P#org-{id}")."""
    head, hashed, _ = board.partition("#")
    return head if hashed else DEFAULT


def rebuild_shard(board: str, period: str) -> int:
    """The rebuild shard of a board of a period (its markers' partitions, its worker)."""
    return stable_shard(f"{board}|{period}", REBUILD_SHARDS)


def board_partition(board: str, period: str, user_shard: int) -> str:
    """The ranking index partition of a user's total on a board ("users#w2026-W48#07")."""
    return f"{board}#{period}#{user_shard % board_shards(board):02d}"


def period_keys(day: date) -> tuple[str, str, str]:
    """The week, month and all-time period keys a reduction made on `day` counts in."""
    year, week, _ = day.isocalendar()
    return f"w{year}-W{week:02d}", f"m{day.year}-{day.month:02d}", "all"


def period_key(period: str, today: date) -> str:
    """The key of the current `period` ("week", "month" or "all") on business day `today`."""
    week, month, everything = period_keys(today)
    return {"week": week, "month": month, "all": everything}[period]


@immutable
class Ranked:
    rank: int
    id: str
    value: int


def rank(rows: Iterable[tuple[str, int]], limit: int = TOP) -> list[Ranked]:
    """The top `limit` of (id, value) rows, highest value first; equal values share a rank (1, 2, 2, 4).

    Ties are listed by id so that a board reads the same every time it is built.
    """
    ordered = sorted(rows, key=lambda row: (-row[1], row[0]))[:limit]
    ranked: list[Ranked] = []
    for position, (row_id, value) in enumerate(ordered, start=1):
        same = ranked and ranked[-1].value == value
        ranked.append(Ranked(ranked[-1].rank if same else position, row_id, value))
    return ranked


def bucket(value: int) -> int | None:
    """The histogram bucket of a positive total; totals of zero or less are not on a board."""
    if value <= 0:
        return None
    return math.floor(math.log2(value) * BUCKETS_PER_DOUBLING)


def histogram_move(before: int, after: int) -> dict[int, int]:
    """What a total going from `before` to `after` changes in the histogram (bucket -> delta)."""
    moves: dict[int, int] = {}
    old, new = bucket(before), bucket(after)
    if old == new:
        return moves
    if old is not None:
        moves[old] = moves.get(old, 0) - 1
    if new is not None:
        moves[new] = moves.get(new, 0) + 1
    return moves


def merge_histograms(parts: Iterable[Mapping[str, int]]) -> dict[int, int]:
    """Sums the shards of a histogram (stored with string bucket keys)."""
    total: dict[int, int] = {}
    for part in parts:
        for key, count in part.items():
            total[int(key)] = total.get(int(key), 0) + int(count)
    return {key: count for key, count in total.items() if count}


def caller_rank(my_id: str, value: int, top: list[Ranked], histogram: Mapping[int, int],
                limit: int = TOP) -> tuple[int, bool]:
    """The caller's (rank, approximate): `rank` is caller_rank_range's `rank_from`."""
    rank_from, _, approximate = caller_rank_range(my_id, value, top, histogram, limit)
    return rank_from, approximate


def caller_rank_range(my_id: str, value: int, top: list[Ranked], histogram: Mapping[int, int],
                      limit: int = TOP) -> tuple[int, int, bool]:
    """The caller's competition rank (1 + how many have a higher total) as (rank_from, rank_to, approximate).

    Exact (rank_from == rank_to) when the top list decides it: the board holds fewer than `limit` entries
    (the list is the whole board), or the caller's total reaches the list's last one (everyone above is
    listed). Otherwise bounded by the histogram: everyone in higher buckets is above the caller, and of the
    others in the caller's own bucket anywhere from none to all may be. rank_from is the best bound, and the
    exact rank whenever the caller's bucket-mates all have the caller's total (common: rewards are fixed and
    capped, so many people tie); a total of zero is exact too (everyone counted on the board is above).
    """
    higher = sum(1 for row in top if row.value > value and row.id != my_id)
    if len(top) < limit or (top and value >= top[-1].value):
        return higher + 1, higher + 1, False
    mine = bucket(value)
    if mine is None:
        above = sum(histogram.values())
        return above + 1, above + 1, True
    above = sum(count for key, count in histogram.items() if key > mine)
    others = max(histogram.get(mine, 0) - 1, 0)  # the caller is counted in their own bucket
    rank_from = max(above + 1, len(top) + 1)  # not listed, so below everyone listed
    return rank_from, max(rank_from, above + others + 1), True
