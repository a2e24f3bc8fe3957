"""Points leaving an account by rule, over the in-memory unit of work (tests/unit/fakes.py): one account's
yearly expiry (services/points_expiry.expire_points) and the forfeit of a deleted account's balance
(services/erasure.forfeit_balance). No Java, no DynamoDB endpoint.

The same against DynamoDB Local, with the job, the races and the console: tests/integration/
test_points_expiry.py and test_account_deletion.py."""
from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from chalicelib.domain.commands_expiry import ExpirePoints, ForfeitBalance
from chalicelib.domain.results_expiry import PointsExpired, PointsForfeited
from chalicelib.services.erasure import forfeit_balance
from chalicelib.services.points_expiry import expire_points
from tests.unit.fakes import FakeAccount, InMemoryPostingUnitOfWork


@dataclass
class ExpiringAccount(FakeAccount):
    expired_through: int | None = None  # the last lot year expired (store/models.Account)


@pytest.fixture
def uow() -> InMemoryPostingUnitOfWork:
    uow = InMemoryPostingUnitOfWork()
    uow.accounts.add(ExpiringAccount("u_1", points=125, lots={"2024": 75, "2025": 50}))
    return uow


def test_what_is_held_from_the_due_year_and_before_expires_by_one_entry(uow):
    result = expire_points(ExpirePoints("u_1", 2024), uow)
    assert (result.points, result.balance) == (75, 50)
    assert (result.entry.kind, result.entry.points, result.entry.balance_after, result.entry.source,
            result.entry.ref) == ("expire", -75, 50, "admin", "points-expiry#2024")
    stored = uow.accounts.items["u_1"]
    assert (stored.points, stored.expired_through) == (50, 2024)
    assert uow.ledger[0].inputs == {"lots_through": 2024} and uow.commits == 1


def test_a_year_expires_once_however_often_it_runs(uow):
    first = expire_points(ExpirePoints("u_1", 2024), uow)
    again = expire_points(ExpirePoints("u_1", 2024), uow)
    assert (first.points, again) == (75, PointsExpired(0, None, 50))
    assert len(uow.ledger) == 1 and uow.commits == 1


def test_a_run_that_loses_the_race_to_another_reads_again_and_expires_nothing(uow):
    def other_run_lands_first():
        uow.before_write = None
        stored = uow.accounts.items["u_1"]
        uow.accounts.items["u_1"] = replace(stored, points=50, version=stored.version + 1, expired_through=2024)

    uow.before_write = other_run_lands_first
    assert expire_points(ExpirePoints("u_1", 2024), uow) == PointsExpired(0, None, 50)
    assert uow.ledger == [] and uow.accounts.reads == 2


def test_points_of_a_year_already_spent_leave_nothing_to_expire(uow):
    uow.accounts.add(ExpiringAccount("u_2", points=40, lots={"2024": 0, "2025": 40}))
    assert expire_points(ExpirePoints("u_2", 2024), uow) == PointsExpired(0, None, 40)
    assert uow.ledger == [] and uow.accounts.items["u_2"].expired_through is None


def test_a_deleted_account_forfeits_its_whole_balance_once(uow):
    result = forfeit_balance(ForfeitBalance("u_1"), uow)
    assert result.points == 125
    assert (result.entry.kind, result.entry.points, result.entry.balance_after, result.entry.ref) == (
        "expire", -125, 0, "account-deletion")
    assert forfeit_balance(ForfeitBalance("u_1"), uow) == PointsForfeited(0, None)
    assert uow.accounts.items["u_1"].points == 0 and len(uow.ledger) == 1 and uow.commits == 1
