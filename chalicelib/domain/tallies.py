"""A person's tally: their carbon on every board they count on (everyone's, and each of their orgs'), for the
current week, the current month and all time, in one item; and a board shard's leaders. Pure functions.

The fold (services/fold.py) keeps one tally per person (store: agg_totals "u#{user_id}", "live"). Its week and
month roll over by period key: an entry of a newer week archives the tally's week values (store: one item per
person and past period, "u#{user_id}", "w2026-W47", holding every board's value that period) and starts the
new week at zero; an entry of an older period (a partner event days late, a catch-up) is added to that period's
archive. Carbon is never taken away, so within a period a total only grows.

A board shard's leaders are the shard's `TOP` highest totals on a board in a period ({user_id: mg}), kept by
the fold of that shard beside the shard's part of the rank histogram. Because totals only grow, a person who
leaves a shard's leaders never belongs there again until they outgrow its last one, so the leaders are always
exactly the shard's top; the board's top is the top of all its shards' leaders (services/boards.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .ranking import TOP

WEEK, MONTH, ALL = 0, 1, 2  # places in a board's [week, month, all] values


def kind_of(period: str) -> int:
    """WEEK ("w2026-W48"), MONTH ("m2026-11") or ALL ("all")."""
    return ALL if period == "all" else (WEEK if period.startswith("w") else MONTH)


@dataclass
class Tally:
    """`boards`: {board: [week mg, month mg, all-time mg]} for the periods `week` and `month`."""

    week: str | None = None
    month: str | None = None
    boards: dict[str, list[int]] = field(default_factory=dict)

    def copy(self) -> Tally:
        return Tally(self.week, self.month, {board: list(values) for board, values in self.boards.items()})

    def current(self, kind: int) -> str | None:
        return {WEEK: self.week, MONTH: self.month, ALL: "all"}[kind]

    def value(self, board: str, period: str) -> int | None:
        """The person's total on `board` in `period` if this tally holds that period (None: it does not)."""
        kind = kind_of(period)
        if self.current(kind) != period or board not in self.boards:
            return None
        return self.boards[board][kind]

    def periods(self) -> list[str]:
        return [p for p in (self.week, self.month, "all") if p]


@dataclass
class Applied:
    """What adding a person's carbon did: the new tally, the archives to write ({period: {board: mg}}) and the
    moves of their totals [(board, period, before, after)] (for the histograms and the leaders)."""

    tally: Tally
    archives: dict[str, dict[str, int]]
    moves: list[tuple[str, str, int, int]]


def late_periods(tally: Tally, deltas: dict[tuple[str, str], int]) -> set[str]:
    """The periods of `deltas` that will be older than the tally's after they are applied: read their archives."""
    late = set()
    for kind, now in ((WEEK, tally.week), (MONTH, tally.month)):
        periods = {period for _, period in deltas if kind_of(period) == kind}
        newest = max(periods | ({now} if now else set()), default=None)
        late |= {period for period in periods if period != newest}
    return late


def apply(tally: Tally, deltas: dict[tuple[str, str], int], archived: dict[str, dict[str, int]]) -> Applied:
    """Adds {(board, period): mg} to a tally. `archived` holds the archives read of the periods that are late
    ({period: {board: mg}}, empty when none exists)."""
    new, archives, moves = tally.copy(), {}, []
    for kind in (WEEK, MONTH):
        periods = {period for _, period in deltas if kind_of(period) == kind}
        now = new.current(kind)
        newest = max(periods | ({now} if now else set()), default=None)
        if newest is None or newest == now:
            continue
        if now is not None:  # a new period: the old one's values go to its archive, the new one starts at 0
            archives[now] = {board: values[kind] for board, values in new.boards.items() if values[kind]}
            for values in new.boards.values():
                values[kind] = 0
        if kind == WEEK:
            new.week = newest
        else:
            new.month = newest
    for (board, period), delta in sorted(deltas.items()):
        if not delta:
            continue
        kind = kind_of(period)
        if new.current(kind) == period:
            values = new.boards.setdefault(board, [0, 0, 0])
            before = values[kind]
            values[kind] = before + delta
        else:
            archive = archives.setdefault(period, dict(archived.get(period, {})))
            before = archive.get(board, 0)
            archive[board] = before + delta
        moves.append((board, period, before, before + delta))
    return Applied(new, {period: kept for period, kept in archives.items() if kept}, moves)


def promote(leaders: dict[str, int], user_id: str, value: int, limit: int = TOP) -> dict[str, int] | None:
    """A shard's leaders after `user_id`'s total became `value` (None: unchanged). Ordered as boards rank:
    highest first, ties by id; the last one makes way for anyone ahead of it."""
    if value <= 0 or leaders.get(user_id) == value:
        return None
    if user_id in leaders or len(leaders) < limit:
        return {**leaders, user_id: value}
    last = max(leaders.items(), key=lambda row: (-row[1], row[0]))
    if (-value, user_id) >= (-last[1], last[0]):
        return None
    promoted = {**leaders, user_id: value}
    del promoted[last[0]]
    return promoted
