"""How scheduled work is cut and resumed: slices, hand-overs, the moment a schedule meant, worker names."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from chalicelib.domain import clock
from chalicelib.scheduling import (
    Slice,
    SliceResult,
    fan_out,
    run_slice_in_lambda,
    run_to_completion,
    scheduled_moment,
    worker_function,
)

AT = datetime(2026, 11, 24, 0, 0, tzinfo=clock.SHANGHAI)


def test_the_1600_utc_schedule_is_the_start_of_the_shanghai_day():
    assert clock.business_day(scheduled_moment("2026-11-23T16:00:00Z")) == date(2026, 11, 24)


def test_a_missing_or_broken_event_time_means_now():
    assert abs((scheduled_moment(None) - clock.now()).total_seconds()) < 5
    assert abs((scheduled_moment("yesterday-ish") - clock.now()).total_seconds()) < 5


def test_a_slice_survives_the_trip_through_a_lambda_event():
    piece = Slice("accrue-trees", AT, 7, {"adoption_id": {"S": "GS-2026-7K3M9QX2"}})
    assert Slice.from_event(piece.to_event()) == piece


@pytest.mark.parametrize("event", [None, {}, {"job": "x", "shard": 1},
                                   {"job": "x", "at": "2026-11-24T00:00:00+08:00", "shard": "1"},
                                   {"job": "x", "at": "2026-11-24T00:00:00+08:00", "shard": 1, "cursor": "k"}])
def test_anything_else_is_refused_as_a_slice(event):
    with pytest.raises(ValueError):
        Slice.from_event(event)


def test_the_worker_of_a_jobs_function_is_its_stage_sibling():
    assert worker_function("greensprout-prod-accrue-trees", "accrue-trees") == "greensprout-prod-jobs_worker"
    assert worker_function("greensprout-dev-fold-aggregates", "fold-aggregates") == "greensprout-dev-jobs_worker"


def _pages(pages_per_shard: dict[int, int], seen: list):
    """A fake job: shard s has pages_per_shard[s] pages; each call does one page and gives the next cursor."""
    def run_slice(piece: Slice, out_of_time) -> SliceResult:
        done = (piece.cursor or {}).get("page", 0)
        while True:
            seen.append((piece.shard, done))
            done += 1
            if done >= pages_per_shard[piece.shard]:
                return SliceResult({"pages": 1}, None)
            if out_of_time():
                return SliceResult({"pages": 1}, {"page": done})
    return run_slice


def test_locally_every_shard_runs_to_its_end():
    seen: list = []
    totals = run_to_completion("job", _pages({0: 3, 1: 1, 2: 2}, seen), 3, AT)
    assert sorted(seen) == [(0, 0), (0, 1), (0, 2), (1, 0), (2, 0), (2, 1)]
    assert totals == {"pages": 3}


def test_a_worker_short_of_time_hands_the_rest_of_its_shard_to_a_fresh_invocation():
    seen, handed = [], []
    run_slice = _pages({0: 3}, seen)
    result = run_slice_in_lambda(run_slice, Slice("job", AT, 0), lambda: 1_000, handed.append)
    assert result["continued"] and handed == [Slice("job", AT, 0, {"page": 1}).to_event()]
    while handed:
        run_slice_in_lambda(run_slice, Slice.from_event(handed.pop()), lambda: 1_000, handed.append)
    assert seen == [(0, 0), (0, 1), (0, 2)]  # every page once, none twice


def test_a_worker_with_time_does_its_whole_shard_in_one_invocation():
    seen, handed = [], []
    result = run_slice_in_lambda(_pages({0: 5}, seen), Slice("job", AT, 0), lambda: 800_000, handed.append)
    assert not result["continued"] and handed == [] and len(seen) == 5


def test_the_dispatcher_invokes_one_worker_per_shard():
    sent: list = []
    assert fan_out("accrue-trees", 64, AT, sent.append)["dispatched"] == 64
    assert sorted(event["shard"] for event in sent) == list(range(64))
    assert {event["cursor"] for event in sent} == {None}
