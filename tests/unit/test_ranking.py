"""Leaderboard arithmetic (api.md): ISO weeks from Monday, calendar months, ties share a rank, the caller's rank."""
from __future__ import annotations

from datetime import date

from chalicelib.domain.orgs import counts_for_org, invite_digest, invite_matches
from chalicelib.domain.ranking import (
    SHARDS,
    Ranked,
    board_partition,
    bucket,
    caller_rank,
    caller_rank_range,
    histogram_move,
    merge_histograms,
    period_key,
    period_keys,
    rank,
    shard_of,
)


def test_a_week_runs_monday_to_sunday_and_belongs_to_its_iso_year():
    assert period_keys(date(2026, 11, 23)) == ("w2026-W48", "m2026-11", "all")  # a Monday
    assert period_key("week", date(2026, 11, 29)) == "w2026-W48"  # the Sunday after: same week
    assert period_key("week", date(2026, 11, 30)) == "w2026-W49"
    assert period_key("week", date(2027, 1, 1)) == "w2026-W53"  # a Friday in ISO week 53 of 2026
    assert period_key("week", date(2024, 12, 30)) == "w2025-W01"  # a Monday in ISO 2025


def test_a_month_is_the_calendar_month_and_all_is_one_period():
    assert period_key("month", date(2026, 11, 30)) == "m2026-11"
    assert period_key("month", date(2026, 12, 1)) == "m2026-12"
    assert period_key("all", date(2020, 1, 1)) == period_key("all", date(2030, 6, 1)) == "all"


def test_equal_carbon_shares_a_rank_and_the_next_rank_skips():
    ranked = rank([("a", 500), ("b", 300), ("c", 300), ("d", 100), ("e", 300)])
    assert [(r.rank, r.id) for r in ranked] == [(1, "a"), (2, "b"), (2, "c"), (2, "e"), (5, "d")]


def test_the_top_list_stops_at_its_limit():
    ranked = rank([(f"u{n:03d}", n) for n in range(250)], limit=100)
    assert len(ranked) == 100 and ranked[0] == Ranked(1, "u249", 249) and ranked[-1].value == 150


def test_callers_rank_is_exact_inside_the_top_and_ties_count_once():
    top = rank([("a", 500), ("b", 300), ("c", 300), ("d", 100)], limit=4)
    assert caller_rank("c", 300, top, {}, limit=4) == (2, False)
    assert caller_rank("d", 100, top, {}, limit=4) == (4, False)
    # a newcomer tied with the last listed total is placed exactly: everyone above is listed
    assert caller_rank("z", 100, top, {}, limit=4) == (4, False)


def test_a_board_shorter_than_the_top_is_the_whole_board_so_every_rank_is_exact():
    top = rank([("a", 500), ("b", 300)])
    assert caller_rank("x", 400, top, {}) == (2, False)
    assert caller_rank("x", 0, top, {}) == (3, False)


def test_below_the_top_the_rank_is_estimated_from_the_histogram_and_flagged():
    rows = [(f"u{n:03d}", 1000 * (n + 1)) for n in range(300)]
    top = rank(rows, limit=100)
    histogram = merge_histograms([{str(bucket(v)): 1} for _, v in rows])
    position, approximate = caller_rank("u049", 50_000, top, histogram, limit=100)
    assert approximate and 101 <= position and abs(position - 251) <= 15  # true rank 251
    assert caller_rank("new", 0, top, histogram, limit=100) == (301, True)


def test_histogram_moves_a_total_between_buckets_and_ignores_zero():
    assert histogram_move(0, 1000) == {bucket(1000): 1}
    assert histogram_move(1000, 1001) == {}
    assert histogram_move(1000, 4000) == {bucket(1000): -1, bucket(4000): 1}
    assert bucket(0) is None and bucket(-5) is None
    assert merge_histograms([{"3": 2, "4": 1}, {"3": -2, "5": 1}]) == {4: 1, 5: 1}


def test_shards_are_stable_and_spread():
    assert shard_of("u_ABC") == shard_of("u_ABC")
    assert len({shard_of(f"u_{n}") for n in range(500)}) == SHARDS
    assert board_partition("users", "w2026-W48", 7) == "users#w2026-W48#07"
    assert board_partition("org-o-1", "all", 7) == "org-o-1#all#03"  # an org's board has fewer partitions


def test_invite_codes_compare_by_digest_forgiving_case_and_spaces():
    digest = invite_digest("LZ1Z-2026")
    assert invite_matches(" lz1z-2026 ", digest) and not invite_matches("LZ1Z-2025", digest)
    assert "LZ1Z" not in digest


def test_an_org_counts_reductions_made_after_the_member_joined():
    joined = "2026-11-23T10:00:00+08:00"
    assert counts_for_org("2026-11-23T10:00:00.001+08:00", "2026-11-23", joined)
    assert not counts_for_org("2026-11-23T09:59:59.999+08:00", "2026-11-23", joined)
    # recorded after the join but made days before (a late ride): not the org's
    assert not counts_for_org("2026-11-24T08:00:00+08:00", "2026-11-20", joined)
    assert counts_for_org("2026-11-23T03:00:00+00:00", "2026-11-23", joined)  # 11:00 in Shanghai


def test_below_the_top_a_person_tied_with_many_gets_their_competition_rank_and_its_range():
    # issue 19 item 10: fixed, capped rewards make ties common; 100 people above, then 10,000 tied at 50 g
    rows = [(f"a{n:03d}", 1_000_000 + n) for n in range(100)] + [(f"t{n:05d}", 50_000) for n in range(10_000)]
    top = rank(rows, limit=100)
    histogram = merge_histograms([{str(bucket(v)): 1} for _, v in rows])
    assert caller_rank_range("t09999", 50_000, top, histogram) == (101, 10_100, True)
    assert caller_rank("t09999", 50_000, top, histogram) == (101, True)  # their competition rank, not ~5,100
    # a bucket shared with different totals: the true rank lies in the range
    rows += [("m1", 48_000), ("m2", 49_000)]
    histogram = merge_histograms([{str(bucket(v)): 1} for _, v in rows])
    rank_from, rank_to, approximate = caller_rank_range("m1", 48_000, top, histogram)
    assert approximate and rank_from == 101 and rank_to == 10_102 and rank_from <= 10_102 <= rank_to
