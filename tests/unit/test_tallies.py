"""A person's tally (one item: every board, this week, this month, all time) and a board shard's leaders."""
from __future__ import annotations

from chalicelib.domain.tallies import Tally, apply, late_periods, promote


def test_carbon_adds_to_every_board_and_period_of_the_tally():
    tally = Tally("w2026-W48", "m2026-11", {"users": [100, 300, 900]})
    done = apply(tally, {("users", "w2026-W48"): 50, ("users", "m2026-11"): 50, ("users", "all"): 50,
                         ("org-o1", "w2026-W48"): 50, ("org-o1", "all"): 50}, {})
    assert done.tally.boards == {"users": [150, 350, 950], "org-o1": [50, 0, 50]}
    assert done.archives == {}
    assert ("users", "w2026-W48", 100, 150) in done.moves and ("org-o1", "all", 0, 50) in done.moves
    assert tally.boards["users"] == [100, 300, 900]  # the tally read is left as it was


def test_a_new_week_archives_the_last_one_and_starts_at_zero():
    tally = Tally("w2026-W48", "m2026-11", {"users": [100, 300, 900], "org-o1": [40, 40, 40]})
    done = apply(tally, {("users", "w2026-W49"): 10, ("users", "m2026-11"): 10, ("users", "all"): 10}, {})
    assert (done.tally.week, done.tally.month) == ("w2026-W49", "m2026-11")
    assert done.tally.boards == {"users": [10, 310, 910], "org-o1": [0, 40, 40]}
    assert done.archives == {"w2026-W48": {"users": 100, "org-o1": 40}}
    assert ("users", "w2026-W49", 0, 10) in done.moves


def test_a_late_entry_adds_to_its_periods_archive():
    tally = Tally("w2026-W49", "m2026-12", {"users": [10, 10, 910]})
    deltas = {("users", "w2026-W48"): 5, ("users", "m2026-11"): 5, ("users", "all"): 5}
    assert late_periods(tally, deltas) == {"w2026-W48", "m2026-11"}
    done = apply(tally, deltas, {"w2026-W48": {"users": 100}})
    assert done.tally.boards == {"users": [10, 10, 915]}
    assert done.archives == {"w2026-W48": {"users": 105}, "m2026-11": {"users": 5}}
    assert ("users", "w2026-W48", 100, 105) in done.moves


def test_a_shards_leaders_keep_its_highest_totals_ties_by_id():
    leaders = {"a": 30, "b": 20, "c": 10}
    assert promote(leaders, "d", 5, limit=3) is None  # below the last one
    assert promote(leaders, "d", 15, limit=3) == {"a": 30, "b": 20, "d": 15}  # the last one makes way
    assert promote(leaders, "c", 40, limit=3) == {"a": 30, "b": 20, "c": 40}  # a leader moves up
    assert promote({"a": 30, "z": 10}, "b", 10, limit=2) == {"a": 30, "b": 10}  # a tie: the smaller id first
    assert promote({"a": 30, "b": 10}, "z", 10, limit=2) is None
    assert promote({}, "a", 0) is None  # a total of zero is on no board
