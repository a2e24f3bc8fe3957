"""The boards' and the public statistics' DynamoDB side (services/boards.py and services/stats.py decide): the
materialized boards, the org rows beside them, the ranking index, the rank histograms, the dirty-board markers
and the platform counters. Key layouts: store/aggregates.py. A failed call reaches the caller as
store/failures.py's `Unavailable` (503) where it is translated here, or at the edge (api/web.py).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from botocore.exceptions import BotoCoreError, ClientError

from ..domain.aggregation import person_board
from ..domain.orgs import orgs_board, row_owner
from ..domain.platforms import DEFAULT
from ..domain.ranking import PARTS, SHARDS
from ..domain.tallies import kind_of
from .access import on
from .aggregates import (
    Board,
    ShardedCounter,
    Total,
    active_name,
    dirty_partition,
    flag_partition,
    marker_partition,
    stats_name,
)
from .fold_store import tally_of
from .single_writes import written
from .tx import connection, raise_unavailable


def _item(owner: str, key: str) -> Total | None:
    try:
        return Total.get(owner, key)
    except Total.DoesNotExist:
        return None


def _value(owner: str, key: str) -> int | None:
    item = _item(owner, key)
    return None if item is None else int(item.value)


def _row(item: Total) -> tuple[int, int]:
    return int(item.value), int(item.members or 0)


def _board_data(item: Board) -> dict:
    """A materialized board as it is stored: {"items": [[rank, id, name, mg]...], "histogram", "count"} and
    when it was built."""
    return {**(item.data or {}), "built_at": item.built_at}


class DynamoBoardReads:
    """What a request reads of the boards: agg_boards and the org rows and totals of agg_totals (each Lambda
    function is allowed only what it calls: the building side is DynamoBoardBuilds). tests/unit/
    fakes_aggregation.py keeps both in memory."""

    ACCESS = (on(Board, "BatchGetItem", "GetItem"), on(Total, "BatchGetItem", "GetItem"))

    @staticmethod
    def board(board: str, key: str) -> dict:
        """The materialized board ({} when nothing has been counted on it yet): one GetItem."""
        try:
            return _board_data(Board.get(board, key))
        except Board.DoesNotExist:
            return {}

    @staticmethod
    def orgs_board_with_rows(key: str, org_ids: list[str], platform: str = DEFAULT
                             ) -> tuple[dict, dict[str, tuple[int, int]]]:
        """`platform`'s orgs board of `key` ("orgs", P's "P#orgs") and {org_id: (carbon_mg, members)} of `org_ids`
        that have a row ("org#{org}", P's "P#org#{org}"), read in one BatchGetItem across both tables."""
        owners = {row_owner(platform, o): o for o in org_ids}
        request = {Board.Meta.table_name: {"Keys": [{"board": {"S": orgs_board(platform)}, "period": {"S": key}}]}}
        if owners:
            request[Total.Meta.table_name] = {"Keys": [{"owner": {"S": owner}, "period": {"S": key}}
                                                       for owner in owners]}
        found: dict[str, list[dict]] = defaultdict(list)
        while request:
            try:
                answer = connection().client.batch_get_item(RequestItems=request)
            except (BotoCoreError, ClientError) as exc:
                raise_unavailable(exc)
            for table, raw in answer.get("Responses", {}).items():
                found[table] += raw
            request = answer.get("UnprocessedKeys") or {}
        data = {}
        for raw in found[Board.Meta.table_name]:
            data = _board_data(Board.from_raw_data(raw))
        rows = {owners[item.owner]: _row(item) for item in map(Total.from_raw_data, found[Total.Meta.table_name])}
        return data, rows

    @staticmethod
    def org_rows(org_ids: list[str], key: str, platform: str = DEFAULT) -> dict[str, tuple[int, int]]:
        """{org_id: (carbon_mg, members)} of those of `org_ids` (at most 100) of `platform` that have a row
        ("org#{org}", P's "P#org#{org}"): one BatchGetItem."""
        owners = {row_owner(platform, o): o for o in org_ids}
        return {owners[item.owner]: _row(item) for item in Total.batch_get([(owner, key) for owner in owners])}

    @staticmethod
    def total(owner: str, key: str) -> int | None:
        """A person's total on a board ("u#{user}": "users", "m#{org}#{user}": "org-{org}"; a platform P's
        "P#u#{user}": "P#users", "P#m#{org}#{user}": "P#org-{org}") in period `key`
        (None: nothing counted): one GetItem of their tally; one more for a period older than the tally's (its
        archive), or for a person the fold has not given a tally yet (the legacy per-board total)."""
        user, board = person_board(owner)
        try:
            tally = tally_of(Total.get(f"u#{user}", "live"))
        except Total.DoesNotExist:
            return _value(owner, key)
        value = tally.value(board, key)
        if value is None and key != "all" and key < (tally.current(kind_of(key)) or ""):
            archived = _item(f"u#{user}", key)
            value = None if archived is None or archived.boards is None else archived.boards.get(board)
        return None if value is None else int(value)



class DynamoBoardBuilds:
    """What the materialize-boards job reads and writes: its shards' leases, the markers and their flags, the ranking
    index, the histograms, the boards and the org rows."""

    ACCESS = (
        on(Board, "BatchGetItem", "BatchWriteItem", "DeleteItem", "PutItem", "Query"),  # DeleteItem: a flag (unflag)
        on(ShardedCounter, "BatchGetItem", "UpdateItem"),  # UpdateItem: the shards' leases (fold_store.Lease)
        on(Total, "BatchWriteItem"),
        on(Total, "Query", index="ranking"),
    )

    @staticmethod
    def rebuild_lease(shard: int, seconds: int):
        """The single-flight lease of rebuild shard `shard` ("lease#boards", "s03"; store/fold_store.Lease)."""
        from .fold_store import Lease  # here: the API's reads of this module need none of the fold's

        return Lease(shard, seconds, job="boards")

    @staticmethod
    def flags(rebuild: int) -> dict[int, str]:
        """{fold shard: token} of the flags of rebuild shard `rebuild`: the fold shards whose marker partitions
        hold markers (store/board_marks.py). One Query, consistent."""
        return {int(found.period[1:]): found.marked
                for found in Board.query(flag_partition(rebuild), consistent_read=True)}

    @staticmethod
    def marks(rebuild: int, shards: Iterable[int]) -> dict[tuple[str, str], list[tuple[int, str]]]:
        """{(board, period): [(fold shard, mark)]} of every board of rebuild shard `rebuild` that fold shards
        `shards` (their folds, joins, new names) changed since it was last built: one Query per fold shard's
        partition, consistent (read after the flags: store/board_marks.py), paged."""
        marks: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
        for shard in shards:
            for found in Board.query(marker_partition(rebuild, shard), consistent_read=True):
                board, key, mark = found.period.rsplit("|", 2)
                marks[(board, key)].append((shard, mark))
        return marks

    @staticmethod
    def unflag(rebuild: int, flags: dict[int, str]) -> None:
        """Deletes the flags read, each with a DeleteItem on its token being the one read: a flag put again since
        (markers written after the read) is refused and stays."""
        for shard, token in flags.items():
            stale = Board(flag_partition(rebuild), f"s{shard:02d}")
            written(lambda stale=stale, token=token: stale.delete(condition=Board.marked == token))

    @staticmethod
    def clear_marks(board: str, key: str, marks: list[tuple[int, str]]) -> None:
        """Deletes the markers read (BatchWriteItem, 25 a call): a fold that marked the board again since wrote a
        marker of another mark, which stays."""
        with Board.batch_write() as batch:
            for shard, mark in marks:
                batch.delete(Board(dirty_partition(board, key, shard), f"{board}|{key}|{mark}"))

    @staticmethod
    def built(boards: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
        """The boards as last built ({} for none yet), 100 a BatchGetItem."""
        return {(item.board, item.period): _board_data(item) for item in Board.batch_get(boards)}

    @staticmethod
    def save_board(board: str, key: str, data: dict, built_at: str) -> None:
        Board(board, key, data=data, built_at=built_at).save()

    @staticmethod
    def ranked(partition: str, limit: int | None = None) -> list[tuple[str, int]]:
        """[(owner, value)] of one ranking index partition ("orgparts#all#03"; or the legacy per-board totals'
        "users#all#07"), highest first."""
        return [(item.owner, int(item.value))
                for item in Total.ranking.query(partition, scan_index_forward=False, limit=limit)]

    @staticmethod
    def board_parts(board: str, key: str, shards: list[int] | None = None) -> dict[int, tuple[dict, dict]]:
        """{fold shard: ({bucket: people}, {user: mg})}: the parts of a board's rank histogram and leaders that
        exist, of `shards` (None: all SHARDS), in one BatchGetItem."""
        wanted = range(SHARDS) if shards is None else shards
        parts = ShardedCounter.batch_get([(f"hist#{board}#{key}", f"s{shard:02d}") for shard in wanted])
        return {int(part.part[1:]): (part.counts or {}, part.top or {}) for part in parts}

    @staticmethod
    def save_org_rows(rows: list[tuple[str, str, int, int | None, str]]) -> None:
        """Writes org rows (owner, period, value, members, ranking partition) with BatchWriteItem."""
        with Total.batch_write() as batch:
            for owner, period, value, members, board_shard in rows:
                batch.save(Total(owner, period, value=value, members=members, board_shard=board_shard))


class DynamoPlatformCounts:
    """The platform counters' PARTS parts in agg_counters (the fold ADDs to them)."""

    ACCESS = (on(ShardedCounter, "BatchGetItem"),)

    @staticmethod
    def read(days: list[date], platform: str = DEFAULT) -> tuple[dict[str, int], dict[str, int]]:
        """({"registered", "points_issued", "carbon_mg", "adoptions", "union_users", "unions"}, {day: distinct
        active users}) of one platform's users, summed over the parts, in one BatchGetItem (`default`: the keys
        of before platforms, "stats" and "active#{day}"; P: "P#stats" and "P#active#{day}")."""
        shards = [f"s{shard:02d}" for shard in range(PARTS)]
        named = {active_name(platform, d.isoformat()): d.isoformat() for d in days}
        keys = [(stats_name(platform), p) for p in shards] + [(name, p) for name in named for p in shards]
        totals = dict.fromkeys(("registered", "points_issued", "carbon_mg", "adoptions", "union_users", "unions"), 0)
        active = {d.isoformat(): 0 for d in days}
        for item in ShardedCounter.batch_get(keys):
            if item.name in named:
                active[named[item.name]] += int(item.value or 0)
            else:
                for name in totals:
                    totals[name] += int(getattr(item, name) or 0)
        return totals, active
