"""The daily tree accrual over the in-memory unit of work (tests/unit/fakes_trees.py): no Java, no endpoint.

Against DynamoDB Local (the `accrued_through` condition, racing runs, the sharded job): the accrual tests
of tests/integration/test_trees.py and tests/races/test_tree_races.py.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from chalicelib.domain import adoptions as rules
from chalicelib.domain.commands_trees import AccrueShard
from chalicelib.services import accrual
from tests.unit.fakes_trees import InMemoryTreesUnitOfWork, TreeAccount

D0 = date(2026, 3, 1)
A_MG = 7_000_000


@pytest.fixture
def uow() -> InMemoryTreesUnitOfWork:
    uow = InMemoryTreesUnitOfWork()
    uow.accounts.add(TreeAccount("u_1", points=0))
    return uow


def adopted(uow, number: str, day: date = D0, user_id: str = "u_1", shard: int = 5) -> rules.Adoption:
    adoption = rules.Adoption(number, user_id, "t-x", "水杉", "泸州", "小绿", 10, A_MG, "GS-tree-x", "1",
                              f"{day.isoformat()}T10:00:00.000+08:00", day.isoformat(), day.isoformat(),
                              accrual_shard=shard)
    uow.adoptions.items[number] = adoption
    return adoption


def accrue(uow, through: date, shard: int = 5, dry_run: bool = False):
    return accrual.accrue_slice(AccrueShard(shard, through, None, dry_run), uow.another, out_of_time=lambda: False)


def credited(uow) -> list[tuple[str, int]]:
    return sorted((line.ref, line.inputs["day_n"]) for line in uow.ledger if line.kind == "accrual")


def test_each_due_day_is_credited_once_as_its_own_entry_and_the_adoption_advances(uow):
    adopted(uow, "GS-2026-AAAAAAAA")
    result = accrue(uow, D0 + timedelta(days=3))
    assert credited(uow) == [("GS-2026-AAAAAAAA", n) for n in (1, 2, 3)]
    assert result.as_dict()["credited_days"] == 3 and result.cursor is None
    stored = uow.adoptions.items["GS-2026-AAAAAAAA"]
    assert (stored.accrued_through, stored.accrued_mg) == ((D0 + timedelta(days=3)).isoformat(), A_MG * 3 // 365)
    assert uow.accounts.items["u_1"].carbon_mg == A_MG * 3 // 365 and uow.accounts.items["u_1"].points == 0
    assert accrue(uow, D0 + timedelta(days=3)).as_dict()["credited_days"] == 0  # the same day again: nothing
    assert len(credited(uow)) == 3


def test_a_run_that_lost_the_race_reads_again_and_credits_nothing_twice(uow):
    adoption = adopted(uow, "GS-2026-AAAAAAAA")
    through = D0 + timedelta(days=2)

    def other_run_first() -> None:  # another worker credited day 1 between our read and our write
        uow.before_write = None
        uow.adoptions.items[adoption.adoption_id] = rules.after(adoption, rules.due(adoption, D0 + timedelta(days=1)),
                                                               "x")
    uow.before_write = other_run_first
    counts = accrual.accrue_user("u_1", [adoption], through, uow)
    assert counts["credited_days"] == 1 and credited(uow) == [("GS-2026-AAAAAAAA", 2)]
    assert uow.adoptions.items[adoption.adoption_id].accrued_through == through.isoformat()


def test_a_whole_year_sums_to_the_annual_uptake_and_leaves_the_accruing_shard(uow):
    adopted(uow, "GS-2026-AAAAAAAA")
    result = accrue(uow, D0 + timedelta(days=400))
    assert result.as_dict()["credited_days"] == 365 and result.as_dict()["completed"] == 1
    assert uow.accounts.items["u_1"].carbon_mg == A_MG and len(credited(uow)) == 365
    assert uow.adoptions.items["GS-2026-AAAAAAAA"].accrual_shard is None
    assert accrue(uow, D0 + timedelta(days=401)).as_dict()["adoptions"] == 0


def test_a_frozen_account_accrues_nothing_until_unfrozen_and_then_catches_up(uow):
    adopted(uow, "GS-2026-AAAAAAAA")
    uow.accounts.items["u_1"].frozen = True
    assert accrue(uow, D0 + timedelta(days=2)).as_dict()["frozen"] == 1 and uow.ledger == []
    uow.accounts.items["u_1"].frozen = False
    assert accrue(uow, D0 + timedelta(days=2)).as_dict()["credited_days"] == 2


def test_an_erased_account_accrues_nothing_more_and_leaves_the_shard(uow):
    adopted(uow, "GS-2026-AAAAAAAA")
    uow.accounts.items["u_1"] = replace(uow.accounts.items["u_1"], deleted_at="2026-03-02T00:00:00.000+08:00")
    assert accrue(uow, D0 + timedelta(days=2)).as_dict()["no_account"] == 1
    assert uow.ledger == [] and uow.adoptions.items["GS-2026-AAAAAAAA"].accrual_shard is None


def test_a_dry_run_counts_what_is_due_and_writes_nothing(uow):
    adopted(uow, "GS-2026-AAAAAAAA")
    counts = accrue(uow, D0 + timedelta(days=4), dry_run=True).as_dict()
    assert (counts["credited_days"], counts["credited_mg"]) == (4, A_MG * 4 // 365)
    assert uow.ledger == [] and uow.commits == 0


def test_a_slice_out_of_time_hands_over_its_cursor_and_the_next_slice_finishes_the_shard(uow, monkeypatch):
    monkeypatch.setattr(accrual, "PAGE_SIZE", 1)
    uow.accounts.add(TreeAccount("u_2"))
    adopted(uow, "GS-2026-AAAAAAAA")
    adopted(uow, "GS-2026-BBBBBBBB", user_id="u_2")
    adopted(uow, "GS-2026-CCCCCCCC", shard=6)  # another shard: another worker's
    through = D0 + timedelta(days=1)
    first = accrual.accrue_slice(AccrueShard(5, through), uow.another, out_of_time=lambda: True)
    assert first.cursor is not None and first.as_dict()["credited_days"] == 1
    rest = accrual.accrue_slice(AccrueShard(5, through, first.cursor), uow.another, out_of_time=lambda: True)
    assert rest.as_dict()["credited_days"] == 1
    assert credited(uow) == [("GS-2026-AAAAAAAA", 1), ("GS-2026-BBBBBBBB", 1)]


def test_users_of_one_page_are_credited_in_parallel_each_in_its_own_posting(uow):
    for n in range(5):
        uow.accounts.add(TreeAccount(f"u_p{n}"))
        adopted(uow, f"GS-2026-P000000{n}", user_id=f"u_p{n}")
    counts = accrue(uow, D0 + timedelta(days=2)).as_dict()
    assert (counts["adoptions"], counts["credited_days"], counts["failed"]) == (5, 10, 0)
    assert all(uow.accounts.items[f"u_p{n}"].carbon_mg == A_MG * 2 // 365 for n in range(5))
