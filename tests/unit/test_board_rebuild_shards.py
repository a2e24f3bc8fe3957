"""The boards' rebuild sharded by board (services/board_rebuild.py) over the in-memory aggregation tables: a board
is rebuilt by its own shard's run, one worker a shard, a failing board alone, and a person board reads only the
histogram parts that can exist. Against DynamoDB Local: tests/integration/test_aggregation_jobs.py."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import clock
from chalicelib.domain.ranking import REBUILD_SHARDS, SHARDS, rebuild_shard
from chalicelib.services import board_rebuild, boards, fold
from chalicelib.services.boards import BoardBuilding
from tests.unit.fakes_aggregation import InMemoryAggregates
from tests.unit.test_fold_and_boards_use_cases import JOINED, ORG, filed, neighbours


@pytest.fixture(autouse=True)
def _no_cached_boards():
    boards.forget()
    yield
    boards.forget()


def folded(tables: InMemoryAggregates) -> tuple[str, int, BoardBuilding]:
    """Ann (a member of o-green) with one check-in folded: her shard marked her 9 boards."""
    ann, _, shard = neighbours()
    tables.orgs_of[ann] = [("o-green", JOINED)]
    filed(tables, ann, 1, 144_000)
    fold.fold_slice(shard, clock.now(), store=tables)
    return ann, shard, BoardBuilding(tables, orgs=lambda: ORG, names=lambda ids: {})



def _users_board_fails(monkeypatch) -> None:
    """The everyone's board cannot be built (until `monkeypatch.undo()`); every other board builds as ever."""
    real = boards._build_people

    def broken(board, key, sources, parts=None):
        if board == "users":
            raise RuntimeError("this board cannot be built")
        return real(board, key, sources, parts)

    monkeypatch.setattr(boards, "_build_people", broken)

def test_a_marked_board_is_rebuilt_by_its_own_shards_run_and_by_no_other():
    tables = InMemoryAggregates()
    _, shard, building = folded(tables)
    own = rebuild_shard("users", "all")
    others = [s for s in range(REBUILD_SHARDS) if s != own]
    for other in others:
        board_rebuild.rebuild_slice(other, clock.now(), sources=building)
    assert ("users", "all") not in tables.boards and "users|all" in tables.marked(shard)
    assert board_rebuild.rebuild_slice(own, clock.now(), sources=building)["rebuilt"] >= 1
    assert tables.board("users", "all")["count"] == 1 and "users|all" not in tables.marked(shard)


def test_a_second_worker_on_a_held_shard_leaves_at_once_and_builds_nothing():
    tables = InMemoryAggregates()
    _, shard, building = folded(tables)
    own = rebuild_shard("users", "all")
    holder = tables.rebuild_lease(own, 120)
    assert holder.take()
    assert board_rebuild.rebuild_slice(own, clock.now(), sources=building) == {"rebuilt": 0, "busy": 1}
    assert ("users", "all") not in tables.boards and "users|all" in tables.marked(shard)
    assert tables.lease(own, 120).take()  # the fold's lease of the same number is another lease
    holder.release()
    assert board_rebuild.rebuild_slice(own, clock.now(), sources=building)["rebuilt"] >= 1


def test_a_failing_board_keeps_its_markers_and_the_others_are_built(monkeypatch):
    tables = InMemoryAggregates()
    _, shard, building = folded(tables)
    _users_board_fails(monkeypatch)
    assert boards.materialize_dirty(clock.now(), building) == {"rebuilt": 6, "failed": 3}
    assert sorted(tables.marked(shard)) == sorted(f"users|{k}" for k in {k for _, k in tables.boards})
    assert tables.board("org-o-green", "all")["count"] == 1  # built all the same
    monkeypatch.undo()
    assert boards.materialize_dirty(clock.now(), building) == {"rebuilt": 3}
    assert tables.marked(shard) == []


def test_a_person_board_reads_the_parts_it_had_and_the_marked_ones_and_all_of_them_hourly(monkeypatch):
    tables = InMemoryAggregates()
    ann, shard, building = folded(tables)
    boards.materialize_dirty(clock.now(), building)
    assert tables.board("users", "all")["parts"] == [shard]
    tables.parts_read.clear()
    tables.mark_dirty(3 if shard != 3 else 4, {("users", "all")})  # another shard changed it
    boards.materialize_dirty(clock.now(), building)
    assert tables.parts_read == [2]  # its own part and the marked shard's: not all 64
    later = clock.now() + board_rebuild.PARTS_RECHECK + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    tables.parts_read.clear()
    tables.mark_dirty(shard, {("users", "all")})
    boards.materialize_dirty(later, building)
    assert tables.parts_read == [SHARDS]  # an hour on: every part, in case a marker was lost
    assert tables.board("users", "all")["count"] == 1 and tables.board("users", "all")["parts_at"] == clock.iso(later)


def test_a_run_cut_short_keeps_the_flags_it_read_and_a_whole_run_deletes_them():
    tables = InMemoryAggregates()
    building = BoardBuilding(tables, orgs=lambda: ORG, names=lambda ids: {})
    own, at = rebuild_shard("users", "all"), clock.now().replace(minute=5)
    many = {(f"org-o{n}", "all") for n in range(2000) if rebuild_shard(f"org-o{n}", "all") == own}
    assert len(many) > board_rebuild.ROUND
    tables.mark_dirty(5, many)
    assert board_rebuild.rebuild_slice(own, at, lambda: True, building) == {"rebuilt": board_rebuild.ROUND}
    assert list(tables.flags(own)) == [5]  # out of time: the next run reads the partition again
    assert board_rebuild.rebuild_slice(own, at, sources=building) == {"rebuilt": len(many) - board_rebuild.ROUND}
    assert tables.flags(own) == {} and tables.marked(5) == []


def test_a_board_that_fails_keeps_its_partitions_flag_and_the_next_ordinary_run_builds_it(monkeypatch):
    tables = InMemoryAggregates()
    building = BoardBuilding(tables, orgs=lambda: ORG, names=lambda ids: {})
    own, at = rebuild_shard("users", "all"), clock.now().replace(minute=5)
    other = next(f"org-o{n}" for n in range(2000) if rebuild_shard(f"org-o{n}", "all") == own)
    tables.mark_dirty(5, {("users", "all")})
    tables.mark_dirty(6, {(other, "all")})
    _users_board_fails(monkeypatch)
    assert board_rebuild.rebuild_slice(own, at, sources=building) == {"rebuilt": 1, "failed": 1}
    assert list(tables.flags(own)) == [5]  # fold shard 6's partition was built whole: unflagged
    monkeypatch.undo()
    assert board_rebuild.rebuild_slice(own, at, sources=building) == {"rebuilt": 1}
    assert tables.flags(own) == {} and tables.marked(5) == []
