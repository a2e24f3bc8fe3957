"""The materialize-boards job, sharded by board: every minute one worker per rebuild shard rebuilds the boards of
its shard that the fold (a join, a new name) marked, several at a time.

A board of a period belongs to rebuild shard `ranking.rebuild_shard(board, period)` (REBUILD_SHARDS of them), and
its markers to that shard's partitions, one per fold shard, each flagged by its writers after their markers
(store/aggregates.py, store/board_marks.py). A worker takes the shard's lease ("lease#boards", as the fold's shards
have theirs: a conditional update), reads the shard's flags (one Query) and the markers of the flagged partitions
(one Query each), then builds WORKERS boards at once, renewing the lease between rounds; a worker that finds the
shard held (an overlapping run) leaves at once. Each board is built on its own: one that fails is logged and keeps
its markers for the next run, the others are built all the same. A built board's markers are deleted, exactly
those read: a fold that marked it again meanwhile wrote a marker of a new mark, which stays. Once every board is
built, the flags read are deleted, each on its token (a writer that flagged again meanwhile keeps its flag), but
not those of a partition holding a board that failed; a run cut short (out of time, the lease lost) keeps them all.
Once an hour, the run of minute 0 reads every marker partition of its shard, flagged or not (the sweep): a marker
whose flag was never written (before the flags existed, or its writer died between the two writes) is built then.

A person board (everyone's, an org's members') reads only the parts of its rank histogram that exist: the board
remembers which fold shards had a part when it was built (`parts`), and a marker names the fold shard that
changed it, so a rebuild reads those and the marked ones (one BatchGetItem of the boards a round first reads
what they remembered); every PARTS_RECHECK it reads all SHARDS parts again (`parts_at`), so a part whose marker
was lost (a worker killed between its commit and its marking) is counted within that time.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from ..domain import clock
from ..domain.orgs import platform_of_orgs_board
from ..domain.ranking import REBUILD_SHARDS, SHARDS

log = logging.getLogger(__name__)
WORKERS = 8  # boards of one shard built at once (threads: a build waits on DynamoDB, not on the CPU)
ROUND = 4 * WORKERS  # boards between two renewals of the lease (and two looks at the clock)
LEASE_SECONDS = 120  # a run takes seconds; a worker that died frees its shard after this
PARTS_RECHECK = timedelta(hours=1)


def rebuild_all(at: datetime, sources=None) -> dict:
    """Every shard, one after the other, in this process (`python -m admin run-jobs`, the console, the tests)."""
    totals: Counter = Counter()
    for shard in range(REBUILD_SHARDS):
        totals.update(rebuild_slice(shard, at, lambda: False, sources))
    return {name: n for name, n in totals.items() if n or name == "rebuilt"}


def rebuild_slice(shard: int, at: datetime, out_of_time: Callable[[], bool] = lambda: False, sources=None) -> dict:
    """One rebuild shard's part of a run (chalicelib/jobs.py) scheduled `at`: its marked boards, until done or out
    of time (the next run carries on); at minute 0, those of every marker partition (the sweep). A shard another
    worker holds: {"rebuilt": 0, "busy": 1}, nothing read."""
    from . import boards

    src = boards._building(sources)
    lease = src.store.rebuild_lease(shard, LEASE_SECONDS)
    if not lease.take():
        return {"rebuilt": 0, "busy": 1}
    try:
        counts = _rebuild(shard, at.minute == 0, src, lease, out_of_time)
    finally:
        lease.release()
    boards.forget()
    return {name: n for name, n in counts.items() if n or name == "rebuilt"}


def _rebuild(shard: int, sweep: bool, src, lease, out_of_time: Callable[[], bool]) -> Counter:
    """The boards marked in the flagged partitions (in a sweep: in all SHARDS), a round at a time, then the flags
    of the partitions whose boards were all built deleted; a run cut short deletes none."""
    flags = src.store.flags(shard)
    marked = sorted(src.store.marks(shard, range(SHARDS) if sweep else sorted(flags)).items())
    counts: Counter = Counter(rebuilt=0)
    failed: set[int] = set()  # fold shards whose partitions keep a marker of a board that failed
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for start in range(0, len(marked), ROUND):
            round_ = marked[start:start + ROUND]
            outcomes = _round(round_, src, pool)
            counts.update(outcomes)
            failed |= {fold_shard for (_, marks), outcome in zip(round_, outcomes, strict=True)
                       if outcome != "rebuilt" for fold_shard, _ in marks}
            if start + ROUND < len(marked) and (out_of_time() or not lease.renew()):
                return counts  # out of time or the lease lost: the next run builds what is still marked
    src.store.unflag(shard, {s: token for s, token in flags.items() if s not in failed})
    return counts


def _round(marked: list, src, pool: ThreadPoolExecutor) -> list[str]:
    """Builds a round of boards at once, what the person boards remembered first (one BatchGetItem): each one's
    outcome, "rebuilt" or "failed"."""
    people = [board_key for board_key, _ in marked if platform_of_orgs_board(board_key[0]) is None]
    try:
        before = src.store.built(people) if people else {}
    except Exception:  # noqa: BLE001 - without what they remembered, the boards read every part
        log.exception("the boards of a round could not be read; their histograms are read whole")
        before = {}
    now = clock.now()
    jobs = [(board, key, marks, _parts_to_read(before.get((board, key), {}), marks, now))
            for (board, key), marks in marked]
    return list(pool.map(lambda job: _one(*job, src), jobs))


def _parts_to_read(before: dict, marks: list[tuple[int, str]], now: datetime) -> tuple[list[int], str] | None:
    """(the histogram parts to read, when all were last read) of a person board; None: read all of them."""
    parts, parts_at = before.get("parts"), before.get("parts_at")
    if parts is None or not parts_at or now - clock.parse_iso(parts_at) >= PARTS_RECHECK:
        return None
    return sorted(set(parts) | {shard for shard, _ in marks}), parts_at


def _one(board: str, key: str, marks: list[tuple[int, str]], parts, src) -> str:
    """Builds one board and deletes the markers read; a failure is logged and leaves them for the next run."""
    from . import boards

    try:
        boards.build(board, key, src, parts)
        src.store.clear_marks(board, key, marks)
    except Exception:  # noqa: BLE001 - one board's failure must not stop the others
        log.exception("board %s %s could not be built; kept marked for the next run", board, key)
        return "failed"
    return "rebuilt"
