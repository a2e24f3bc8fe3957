"""The fold and the board rebuild over the in-memory aggregation tables (tests/unit/fakes_aggregation.py): no
Java, no endpoint. Against DynamoDB Local (the lease, the 64 shards' markers, races, call counts):
tests/integration/test_aggregation_jobs.py, test_leaderboards.py, test_orgs_at_scale.py, tests/races.
"""
from __future__ import annotations

import itertools

import pytest

from chalicelib.api.shapes_boards import leaderboard_json
from chalicelib.domain import clock
from chalicelib.domain.aggregation import Filed
from chalicelib.domain.ranking import counter_part, period_keys, shard_of
from chalicelib.services import aggregate, boards, fold
from chalicelib.services.boards import BoardBuilding, BoardReading
from chalicelib.services.tokens import Caller
from chalicelib.store.failures import ConditionFailed
from chalicelib.store.inbox import DynamoInbox, IdentityImage
from tests.unit.fakes_aggregation import InMemoryAggregates

ORG = {"o-green": {"id": "o-green", "name": "绿色学校"}}
JOINED = "2020-01-01T00:00:00.000+08:00"


@pytest.fixture(autouse=True)
def _no_cached_boards():
    boards.forget()
    yield
    boards.forget()


def neighbours() -> tuple[str, str, int]:
    """Two people of one fold shard."""
    first = "u_ann"
    second = next(f"u_bob{n}" for n in itertools.count() if shard_of(f"u_bob{n}") == shard_of(first))
    return first, second, shard_of(first)


def filed(tables: InMemoryAggregates, user: str, n: int, carbon_mg: int, points: int = 10) -> None:
    now = clock.now()
    tables.file(Filed(f"e#{user}#{n:03d}", "entry", user, clock.iso(now), clock.business_day(now).isoformat(),
                      "earn", "checkin", points, carbon_mg))


def test_a_fold_page_turns_inbox_items_into_totals_histograms_and_counters():
    tables = InMemoryAggregates()
    ann, bob, shard = neighbours()
    tables.orgs_of[ann] = [("o-green", JOINED)]
    now = clock.now()
    tables.file(Filed(f"r#{ann}", "register", ann, clock.iso(now), clock.business_day(now).isoformat()))
    filed(tables, ann, 1, 144_000)
    filed(tables, ann, 2, 56_000)
    filed(tables, bob, 1, 80_000, points=0)

    assert fold.fold_slice(shard, now, store=tables) == {"folded": 4}

    week, month, _ = period_keys(clock.business_day(now))
    part = f"{counter_part(shard):02d}"
    for period in (week, month, "all"):
        assert tables.total(f"u#{ann}", period) == 200_000 and tables.total(f"u#{bob}", period) == 80_000
        assert tables.total(f"m#o-green#{ann}", period) == 200_000  # counted for the org she belongs to
        assert tables.total(f"o#o-green#{part}", period) == 200_000
        assert tables.total(f"m#o-green#{bob}", period) is None
    (histogram, leaders), _ = tables.counters[("hist#users#all", f"s{shard:02d}")]
    assert sum(histogram.values()) == 2  # two people on the users board
    assert leaders == {ann: 200_000, bob: 80_000}  # the shard's leaders on the board, for its rebuild
    assert dict(tables.stats[part]) == {"registered": 1, "points_issued": 20, "carbon_mg": 280_000}
    assert tables.active[(clock.business_day(now).isoformat(), part)] == 2  # each person once, however many items
    assert tables.pending(shard, 200) == [] and tables.commits == 1
    assert {"users|all", f"users|{week}", "org-o-green|all", "orgs|all"} <= set(tables.marked(shard))
    assert fold.fold_slice(shard, now, store=tables) == {"folded": 0}  # every item applied once


def test_another_platforms_users_are_counted_on_its_own_counters_and_not_on_defaults():
    tables = InMemoryAggregates()
    ann, bob, shard = neighbours()
    tables.platform_of[bob] = "p2"
    now, day = clock.now(), clock.business_day(clock.now()).isoformat()
    for user in (ann, bob):
        tables.file(Filed(f"r#{user}", "register", user, clock.iso(now), day))
    filed(tables, ann, 1, 144_000, points=3)
    filed(tables, bob, 1, 56_000, points=2)

    assert fold.fold_slice(shard, now, store=tables) == {"folded": 4}
    part = f"{counter_part(shard):02d}"
    assert dict(tables.stats[part]) == {"registered": 1, "points_issued": 3, "carbon_mg": 144_000}
    assert dict(tables.platform_stats[("p2", part)]) == {"registered": 1, "points_issued": 2, "carbon_mg": 56_000}
    assert tables.active[(day, part)] == 1 and tables.platform_active[("p2", day, part)] == 1
    assert tables.commits == 1  # both platforms' counters in the one transaction


def test_a_union_item_files_the_person_once_and_each_of_its_users_once():
    inbox = ImagesAsTheyAre()
    at = "2026-11-23T09:00:00.000+08:00"
    one = {"key": "un#x", "person_id": "p_1", "users": '{"default":"u_a"}', "created_at": at}
    two = {**one, "users": '{"default":"u_a","p2":"u_b"}'}  # a join: one more user
    records = [{"eventName": name, "dynamodb": {"NewImage": {k: {"S": v} for k, v in image.items()}}}
               for name, image in (("INSERT", one), ("MODIFY", two), ("MODIFY", two))]
    assert aggregate.accept_identities(records, inbox) == 3
    assert sorted(inbox.inbox) == ["j#p_1#u_a", "j#p_1#u_b", "n#p_1"]


def test_a_refused_transaction_is_read_again_and_nothing_is_applied_twice(monkeypatch):
    tables = InMemoryAggregates()
    ann, _, shard = neighbours()
    filed(tables, ann, 1, 144_000)
    real, refusals = tables.commit, []

    def another_fold_first(write):  # another worker applied the item under a lease that ran out
        if not refusals:
            refusals.append(write)
            real(write)
            raise ConditionFailed({}, conflict=True)
        real(write)

    monkeypatch.setattr(tables, "commit", another_fold_first)
    monkeypatch.setattr(fold, "BACKOFF_SECONDS", 0.0)
    assert fold.fold_slice(shard, clock.now(), store=tables) == {"folded": 0}  # this worker applied nothing
    assert tables.total(f"u#{ann}", "all") == 144_000 and tables.commits == 1


def test_a_board_rebuild_ranks_the_folded_totals_and_clears_its_marks():
    tables = InMemoryAggregates()
    ann, bob, shard = neighbours()
    tables.orgs_of[ann] = [("o-green", JOINED)]
    filed(tables, ann, 1, 144_000)
    filed(tables, bob, 1, 432_000)
    fold.fold_slice(shard, clock.now(), store=tables)
    building = BoardBuilding(tables, orgs=lambda: ORG, names=lambda ids: {bob: "小绿"})
    reading = BoardReading(tables, orgs=lambda: ORG, member_orgs=lambda u: [o for o, _ in tables.orgs_of.get(u, ())])

    result = boards.materialize_dirty(clock.now(), building)

    assert result == {"rebuilt": 9}  # the users, org-o-green and orgs boards of the week, the month and all time
    built = tables.board("users", "all")
    assert built["items"] == [[1, bob, "小绿", 432_000], [2, ann, None, 144_000]] and built["count"] == 2
    assert tables.board("orgs", "all")["items"] == [[1, "o-green", "绿色学校", 144_000]]
    assert tables.org_rows(["o-green"], "all") == {"o-green": (144_000, 0)}
    assert all(not marks for marks in tables.markers.values())  # built, so cleared
    board = boards.leaderboard(Caller(ann, ("user",)), "users", "all", reading)
    body = leaderboard_json(board)
    assert body["me"] == {"rank": 2, "approximate": False, "carbon_g": 144.0}
    assert [row["carbon_g"] for row in body["items"]] == [432.0, 144.0]
    mine = leaderboard_json(boards.leaderboard(Caller(ann, ("user",)), "orgs", "all", reading))["me"]
    assert mine == {"rank": 1, "approximate": False, "carbon_g": 144.0, "id": "o-green", "name": "绿色学校"}


def test_each_platforms_users_rank_on_its_own_users_board_only():
    """A user of platform p2 and one of `default` in one fold shard: each on their platform's users board ("p2#users",
    its histogram part "hist#p2#users#...") and org board, read by a caller of that platform; nobody on both."""
    tables = InMemoryAggregates()
    ann, bob, shard = neighbours()
    tables.platform_of[bob] = "p2"
    tables.orgs_of[bob] = [("o-green", JOINED)]  # p2's org of the same id as default's
    filed(tables, ann, 1, 144_000)
    filed(tables, bob, 1, 432_000)
    fold.fold_slice(shard, clock.now(), store=tables)
    assert {"users|all", "p2#users|all", "p2#org-o-green|all", "p2#orgs|all"} <= set(tables.marked(shard))
    assert not {"org-o-green|all", "orgs|all"} & set(tables.marked(shard))
    assert set(tables.tallies[bob][0].boards) == {"p2#users", "p2#org-o-green"}
    assert ("hist#p2#users#all", f"s{shard:02d}") in tables.counters
    orgs = {"default": ORG, "p2": {"o-green": {"id": "o-green", "name": "p2 的绿色"}}}
    boards.materialize_dirty(clock.now(), BoardBuilding(tables, orgs=lambda p="default": orgs[p],
                                                        names=lambda ids: {}))
    assert [row[1] for row in tables.board("users", "all")["items"]] == [ann]
    assert [row[1] for row in tables.board("p2#users", "all")["items"]] == [bob]
    reading = BoardReading(tables, orgs=lambda p="default": orgs[p], member_orgs=lambda u: [o for o, _ in
                                                                                        tables.orgs_of.get(u, ())])
    on_p2 = leaderboard_json(boards.leaderboard(Caller(bob, ("user",), platform="p2"), "users", "all", reading))
    assert ([row["id"] for row in on_p2["items"]], on_p2["me"]["rank"], on_p2["board"]) == ([bob], 1, "users")
    mine = leaderboard_json(boards.leaderboard(Caller(bob, ("user",), platform="p2"), "orgs", "all", reading))["me"]
    assert (mine["id"], mine["name"], mine["carbon_g"]) == ("o-green", "p2 的绿色", 432.0)
    on_default = leaderboard_json(boards.leaderboard(Caller(ann, ("user",)), "users", "all", reading))
    assert [row["id"] for row in on_default["items"]] == [ann]


def test_a_marker_set_again_while_its_board_was_built_stays_for_the_next_run():
    tables = InMemoryAggregates()
    ann, _, shard = neighbours()
    filed(tables, ann, 1, 144_000)
    fold.fold_slice(shard, clock.now(), store=tables)
    sources = BoardBuilding(tables, orgs=dict, names=lambda ids: {})
    real_save = tables.save_board

    def folded_meanwhile(board, key, data, built_at):
        real_save(board, key, data, built_at)
        if (board, key) == ("users", "all"):
            tables.mark_dirty(shard, {("users", "all")})

    tables.save_board = folded_meanwhile
    boards.materialize_dirty(clock.now(), sources)
    assert tables.marked(shard) == ["users|all"]


class ImagesAsTheyAre(InMemoryAggregates):
    """The stream's images handed over already read (store/inbox.DynamoInbox reads DynamoDB's raw images)."""

    @staticmethod
    def identity(image: dict) -> IdentityImage:
        return IdentityImage(**image)

    @staticmethod
    def union(image: dict):
        return DynamoInbox.union(image)


def test_a_first_login_files_the_registration_and_the_login_day_once_on_any_platform():
    """Another platform's login is filed as `default`'s is: the fold counts it under its account's platform."""
    inbox = ImagesAsTheyAre()
    at = "2026-11-23T09:00:00.000+08:00"
    first = {"eventName": "INSERT", "dynamodb": {"NewImage": {"user_id": "u_new", "created_at": at,
                                                              "last_login_at": at}}}
    elsewhere = {"eventName": "INSERT", "dynamodb": {"NewImage": {"user_id": "u_p2", "created_at": at,
                                                                  "last_login_at": at, "platform": "p2"}}}
    assert aggregate.accept_identities([first, elsewhere], inbox) == 4
    assert sorted(inbox.inbox) == ["l#u_new#2026-11-23", "l#u_p2#2026-11-23", "r#u_new", "r#u_p2"]
    assert aggregate.accept_identities([first], inbox) == 0  # a record delivered again is filed once


def test_totals_of_the_legacy_layout_start_a_persons_tally_and_stay_on_the_board_until_outgrown():
    """Before the tallies each board and period had its own total in the `ranking` index (docs/operations.md,
    "Upgrading to tallies"): a person's first fold starts their tally from them, and the rebuild ranks a person
    who has not earned since from the legacy index, one who has with their tally's total."""
    from tests.unit.fakes_aggregation import Row

    tables = InMemoryAggregates()
    ann, bob, shard = neighbours()
    tables.orgs_of[ann] = [("o-green", JOINED)]
    week, month, _ = period_keys(clock.business_day(clock.now()))
    for period in (week, month, "all"):
        tables.totals[(f"u#{ann}", period)] = Row(500_000, 3, f"users#{period}#{shard:02d}")
        tables.totals[(f"m#o-green#{ann}", period)] = Row(300_000, 3, f"org-o-green#{period}#{shard % 4:02d}")
        tables.totals[(f"u#{bob}", period)] = Row(550_000, 3, f"users#{period}#{shard:02d}")
    filed(tables, ann, 1, 100_000)

    fold.fold_slice(shard, clock.now(), store=tables)
    boards.materialize_dirty(clock.now(), BoardBuilding(tables, orgs=lambda: ORG, names=lambda ids: {}))

    for period in (week, month, "all"):
        assert tables.total(f"u#{ann}", period) == 600_000 and tables.total(f"m#o-green#{ann}", period) == 400_000
        assert tables.board("users", period)["items"] == [[1, ann, None, 600_000], [2, bob, None, 550_000]]
        assert tables.board("org-o-green", period)["items"] == [[1, ann, None, 400_000]]
    assert tables.total(f"u#{bob}", "all") == 550_000  # read from the legacy layout: no tally yet
