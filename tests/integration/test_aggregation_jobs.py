"""The aggregation jobs under overlap and failure: one fold worker per shard at a time (a lease), the boards a
run changed marked once in the shard's own marker partition, and a board that fails to build not stopping
the others (issue 19 items 1, 2, 3)."""
from __future__ import annotations

import uuid

import pytest

from chalicelib.domain import clock
from chalicelib.domain.ranking import period_key, shard_of
from chalicelib.services import boards, fold
from chalicelib.store.aggregates import Board, InboxItem, dirty_partition
from tests.support.aggregates import checkin, drain, person_total
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
    marked = {marker.period for marker in Board.query(dirty_partition(shard))}
    week = period_key("week", clock.business_day(clock.now()))
    assert f"users|{week}" in marked and "users|all" in marked
    assert not list(Board.query("dirty"))  # nothing in the old partition every shard wrote
    drain()
    assert not list(Board.query(dirty_partition(shard)))  # built, so cleared


def test_a_board_that_fails_to_build_does_not_stop_the_others(client, monkeypatch):
    person = _filed(client, checkins=1)
    shard = shard_of(person["id"])
    assert fold.fold_slice(shard, clock.now())["folded"] >= 1
    Board(dirty_partition(shard), "orgs|all", marked="x").save()  # sorts before every users board

    def broken(key, sources=None):  # the orgs board's builder, failing the way a bad build would
        raise RuntimeError("this board cannot be built")

    people_before = Board.get("users", "all").data["count"]
    monkeypatch.setattr(boards, "_build_orgs", broken)
    result = boards.materialize_dirty(clock.now())
    assert result["failed"] == 1 and result["rebuilt"] >= 3
    assert Board.get("users", "all").data["count"] == people_before + 1  # the users board was built all the same
    status, body = call(client, "GET", "/v1/leaderboards/users?period=all", token=person["token"])
    assert status == 200 and body["me"]["carbon_g"] == 144.0
    assert [m.period for m in Board.query(dirty_partition(shard))] == ["orgs|all"]  # kept for the next run
    monkeypatch.undo()
    assert boards.materialize_dirty(clock.now()).get("failed") is None
    assert not list(Board.query(dirty_partition(shard)))


@pytest.fixture(autouse=True)
def _fresh_boards():
    boards.forget()
    yield
    boards.forget()
