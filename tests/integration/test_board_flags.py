"""The flags of the dirty-board markers (store/board_marks.py): a writer flags the marker partitions it wrote into,
a rebuild run reads its flags and only the flagged partitions, deletes each flag on the token it read (so a writer
that flagged again meanwhile keeps its flag), and the run of minute 0 reads every partition (the sweep)."""
from __future__ import annotations

import uuid

from chalicelib.domain import clock
from chalicelib.domain.ranking import rebuild_shard, shard_of
from chalicelib.services import board_rebuild, fold
from chalicelib.store import board_marks
from chalicelib.store.aggregates import marker
from chalicelib.store.repositories_boards import DynamoBoardBuilds, DynamoBoardReads
from tests.integration.test_aggregation_jobs import _filed
from tests.support.aggregates import drain, marked
from tests.support.api import DynamoDBCalls

USERS = rebuild_shard("users", "all")


def at(minute: int):
    """A run scheduled at `minute` past this hour (0: the sweep's run)."""
    return clock.now().replace(minute=minute)


def people_counted() -> int:
    """The people on the users board of all time as last built (0: never built)."""
    return DynamoBoardReads.board("users", "all").get("count", 0)


def test_a_fold_flags_what_it_marked_and_the_next_run_builds_it_and_deletes_the_flag(client):
    shard = shard_of(_filed(client, checkins=1)["id"])
    assert fold.fold_slice(shard, clock.now())["folded"] >= 1
    assert shard in DynamoBoardBuilds.flags(USERS)
    before = people_counted()
    assert board_rebuild.rebuild_slice(USERS, at(5))["rebuilt"] >= 1
    assert people_counted() == before + 1 and "users|all" not in marked(shard)
    assert DynamoBoardBuilds.flags(USERS) == {}


def test_a_marker_without_a_flag_is_left_by_an_ordinary_run_and_built_by_the_run_of_minute_0(client, monkeypatch):
    shard = shard_of(_filed(client, checkins=1)["id"])

    def markers_only(shard: int, marked_boards: set) -> None:  # what the writers wrote before the flags
        mark = uuid.uuid4().hex
        for board, period in marked_boards:
            marker(shard, board, period, mark).save()

    monkeypatch.setattr(board_marks, "mark", markers_only)
    assert fold.fold_slice(shard, clock.now())["folded"] >= 1
    monkeypatch.undo()
    assert "users|all" in marked(shard) and shard not in DynamoBoardBuilds.flags(USERS)
    before = people_counted()
    assert board_rebuild.rebuild_slice(USERS, at(5)) == {"rebuilt": 0}
    assert "users|all" in marked(shard) and people_counted() == before
    assert board_rebuild.rebuild_slice(USERS, at(0))["rebuilt"] >= 1
    assert "users|all" not in marked(shard) and people_counted() == before + 1


def test_a_writer_that_flags_again_during_a_run_keeps_its_flag_and_the_next_run_builds_its_board(client, monkeypatch):
    shard = shard_of(_filed(client, checkins=1)["id"])
    assert fold.fold_slice(shard, clock.now())["folded"] >= 1
    read = DynamoBoardBuilds.marks

    def then_marked_again(rebuild: int, shards) -> dict:
        found = read(rebuild, shards)
        board_marks.mark(shard, {("users", "all")})  # a writer, after the run read the flag and the markers
        return found

    monkeypatch.setattr(DynamoBoardBuilds, "marks", staticmethod(then_marked_again))
    assert board_rebuild.rebuild_slice(USERS, at(5))["rebuilt"] >= 1
    monkeypatch.undo()
    assert "users|all" in marked(shard)  # the writer's marker, not read by the run
    assert shard in DynamoBoardBuilds.flags(USERS)  # and its flag: the delete on the token read was refused
    assert board_rebuild.rebuild_slice(USERS, at(5)) == {"rebuilt": 1}
    assert "users|all" not in marked(shard) and DynamoBoardBuilds.flags(USERS) == {}


def test_a_run_reads_its_flags_and_only_the_flagged_marker_partition(client):
    drain()  # nothing else flagged
    board = f"org-o-flags-{uuid.uuid4().hex[:10]}"
    own = rebuild_shard(board, "all")
    board_marks.mark(7, {(board, "all")})
    with DynamoDBCalls() as calls:
        assert board_rebuild.rebuild_slice(own, at(5)) == {"rebuilt": 1}
    assert calls.operations[:3] == ["UpdateItem", "Query", "Query"]  # the lease, the flags, fold shard 7's markers
    assert calls.operations.count("Query") == 2 + 4  # and the org board's own: its 4 legacy ranking partitions
    assert calls.operations[-2:] == ["DeleteItem", "UpdateItem"]  # the flag, on its token; the lease freed
    assert len(calls) < 16 and marked(7) == [] and DynamoBoardBuilds.flags(own) == {}
