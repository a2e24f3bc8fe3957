"""The aggregation jobs under overlap and failure: one fold worker per shard at a time (a lease), the boards a
run changed marked once in the shard's own marker partitions, the boards rebuilt by their rebuild shard's worker,
one at a time (a lease too), and a board that fails to build not stopping the others (issue 19 items 1, 2, 3)."""
from __future__ import annotations

import uuid

import pytest

from chalicelib.domain import clock
from chalicelib.domain.ranking import period_key, rebuild_shard, shard_of
from chalicelib.services import board_rebuild, boards, fold
from chalicelib.store import fold_store
from chalicelib.store.aggregates import Board, InboxItem, marker
from tests.support.aggregates import checkin, drain, marked, person_total
from tests.support.api import DynamoDBCalls, call, login
from tests.support.racer import race


def _filed(client, checkins: int = 3) -> dict:
    """A fresh person whose check-ins are filed in the inbox and not folded yet."""
    from admin import streams

    drain()
    person = login(client, "o-" + uuid.uuid4().hex[:16])
    for _ in range(checkins):
        checkin(client, person)
    streams.drain()
    return person


def _pending(person: dict) -> int:
    shard = f"s{shard_of(person['id']):02d}"
    return sum(1 for item in InboxItem.by_shard.query(shard) if item.user_id == person["id"])


def fold_shard(shard: int) -> int:
    return fold.fold_slice(shard, clock.now())["folded"]


def test_a_second_fold_worker_on_a_held_shard_leaves_at_once_and_commits_nothing(client):
    person = _filed(client)
    shard = shard_of(person["id"])
    holder = fold.Lease(shard)
    assert holder.take()
    with DynamoDBCalls() as calls:
        assert fold.fold_slice(shard, clock.now()) == {"folded": 0, "busy": 1}
    assert calls.operations == ["Query", "UpdateItem"]  # the pending page, the refused lease: nothing else
    assert _pending(person) == 3 + 2  # three check-ins, the first login and the day of the login
    holder.release()
    assert fold.fold_slice(shard, clock.now())["folded"] >= 3
    assert _pending(person) == 0 and person_total(f"u#{person['id']}", "all") == 432000


def test_a_lease_whose_worker_died_is_taken_over_when_it_expires(client):
    person = _filed(client, checkins=1)
    shard = shard_of(person["id"])
    assert fold.Lease(shard, seconds=-1).take()  # a worker that took the shard and died long ago
    assert fold.fold_slice(shard, clock.now())["folded"] >= 1
    assert _pending(person) == 0


def test_two_fold_workers_racing_on_one_shard_never_both_commit(client):
    person = _filed(client)
    shard = shard_of(person["id"])
    outcomes = race(fold_shard, [(shard,)] * 2)
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    folded = sorted(result for _, result in outcomes)
    assert folded[0] == 0 and folded[1] >= 3  # one worker committed everything, the other nothing
    assert person_total(f"u#{person['id']}", "all") == 432000


def test_a_run_marks_its_boards_once_in_its_shards_partition_however_many_commits(client, monkeypatch):
    person = _filed(client)  # five inbox items: three check-ins, the first login and the login day
    shard = shard_of(person["id"])
    monkeypatch.setattr(fold, "PAGE", 2)  # three pages, three commits
    monkeypatch.setattr(fold, "UNIT", 1)
    writes = []
    real = Board.batch_write
    monkeypatch.setattr(Board, "batch_write", classmethod(lambda cls, *a, **k: writes.append(1) or real(*a, **k)))
    with DynamoDBCalls() as calls:
        assert fold.fold_slice(shard, clock.now())["folded"] == 5
    assert calls.operations.count("TransactWriteItems") >= 3 and len(writes) == 1
    boards_marked = set(marked(shard))
    week = period_key("week", clock.business_day(clock.now()))
    assert f"users|{week}" in boards_marked and "users|all" in boards_marked
    assert not list(Board.query("dirty"))  # nothing in the old partition every shard wrote
    drain()
    assert marked(shard) == []  # built, so cleared


def test_a_board_that_fails_to_build_does_not_stop_the_others(client, monkeypatch):
    person = _filed(client, checkins=1)
    shard = shard_of(person["id"])
    assert fold.fold_slice(shard, clock.now())["folded"] >= 1
    # a board the same rebuild worker builds with the users board of all time, failing the way a bad build would
    broken = next(f"org-o-broken{n}" for n in range(10_000)
                  if rebuild_shard(f"org-o-broken{n}", "all") == rebuild_shard("users", "all"))
    marker(shard, broken, "all", "x").save()
    real = boards._build_people

    def failing(board, key, sources, parts=None):
        if board == broken:
            raise RuntimeError("this board cannot be built")
        return real(board, key, sources, parts)

    people_before = Board.get("users", "all").data["count"]
    monkeypatch.setattr(boards, "_build_people", failing)
    result = boards.materialize_dirty(clock.now())
    assert result["failed"] == 1 and result["rebuilt"] >= 3
    assert Board.get("users", "all").data["count"] == people_before + 1  # the users board was built all the same
    status, body = call(client, "GET", "/v1/leaderboards/users?period=all", token=person["token"])
    assert status == 200 and body["me"]["carbon_g"] == 144.0
    assert marked(shard) == [f"{broken}|all"]  # kept for the next run
    monkeypatch.undo()
    assert boards.materialize_dirty(clock.now()).get("failed") is None
    assert marked(shard) == []


def rebuild_shard_of_users_all() -> dict:
    return board_rebuild.rebuild_slice(rebuild_shard("users", "all"), clock.now())


def test_a_board_marked_dirty_is_rebuilt_by_its_own_shards_run_and_a_held_shard_is_left_alone(client):
    person = _filed(client, checkins=1)
    shard, own = shard_of(person["id"]), rebuild_shard("users", "all")
    assert fold.fold_slice(shard, clock.now())["folded"] >= 1
    people_before = Board.get("users", "all").data["count"]
    holder = fold_store.Lease(own, 120, job="boards")  # another worker of the same rebuild shard
    assert holder.take()
    with DynamoDBCalls() as calls:
        assert rebuild_shard_of_users_all() == {"rebuilt": 0, "busy": 1}
    assert calls.operations == ["UpdateItem"]  # the refused lease: no marker read, no board built
    assert "users|all" in marked(shard) and Board.get("users", "all").data["count"] == people_before
    holder.release()
    assert rebuild_shard_of_users_all()["rebuilt"] >= 1
    assert "users|all" not in marked(shard) and Board.get("users", "all").data["count"] == people_before + 1


def test_two_rebuild_workers_racing_on_one_shard_never_both_rebuild(client):
    person = _filed(client, checkins=1)
    assert fold.fold_slice(shard_of(person["id"]), clock.now())["folded"] >= 1
    outcomes = race(rebuild_shard_of_users_all, [()] * 2)
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    rebuilt = sorted(result["rebuilt"] for _, result in outcomes)
    assert rebuilt[0] == 0 and rebuilt[1] >= 1  # one worker built the shard's boards, the other none
    assert "users|all" not in marked(shard_of(person["id"]))


@pytest.fixture(autouse=True)
def _fresh_boards():
    boards.forget()
    yield
    boards.forget()
