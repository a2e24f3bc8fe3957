"""The writes of the dirty-board markers and their flags, shared by the three writers: the fold (a run's changed
boards), a new public name (the boards showing it) and an org join (the orgs board).

A marker lives in the partition of its (rebuild shard, fold shard), "dirty#03#07", so the writes of markers stay
spread; each rebuild shard keeps one flag per fold shard whose partition holds markers, "dirty#03"/"s07", its
`marked` a fresh token each put (store/aggregates.Board). A writer writes its markers first, then, in another call,
the flag of each rebuild shard it wrote into. The rebuild worker of a shard (services/board_rebuild.py) reads its
flags (one Query), then the flagged partitions (one consistent Query each), builds their boards, deletes their
markers, and deletes each flag on its `marked` being the token it read. So no marker is missed:

- a marker written before the token the rebuild read: the marker's write came before that flag's, the flag's
  before the rebuild read it, and that read before the partition's consistent Query, which finds the marker;
- a marker written after it: its writer put a newer token after it, so the flag's delete is refused, the flag
  stays and the next run reads that partition again.

A marker without a flag (written before the flags existed, or by a writer that died between its two writes) is
found by the hourly sweep: the run of minute 0 reads all SHARDS partitions of its rebuild shard.
"""
from __future__ import annotations

import uuid

from ..domain.ranking import rebuild_shard
from .access import access, on
from .aggregates import Board, flag, marker


@access(on(Board, "BatchWriteItem", "PutItem"))
def mark(shard: int, boards: set[tuple[str, str]]) -> None:
    """One marker per (board, period), all of one new mark, in fold shard `shard`'s partitions (BatchWriteItem,
    25 a call), then, once all are written, the flag of each of those partitions (a PutItem each)."""
    marked = uuid.uuid4().hex
    with Board.batch_write() as batch:
        for board, period in sorted(boards):
            batch.save(marker(shard, board, period, marked))
    for rebuild in sorted({rebuild_shard(board, period) for board, period in boards}):
        flag(rebuild, shard).save()


@access(on(Board, "PutItem"))
def mark_one(shard: int, board: str, period: str) -> None:
    """One marker of a new mark in fold shard `shard`'s partition, then its flag: two PutItems."""
    marker(shard, board, period, uuid.uuid4().hex).save()
    flag(rebuild_shard(board, period), shard).save()
