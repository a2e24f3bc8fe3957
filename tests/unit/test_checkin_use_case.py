"""award_checkin over the in-memory unit of work (tests/unit/fakes.py): no Java, no DynamoDB endpoint.

The same promises against DynamoDB Local: tests/integration/test_checkins.py, tests/races/test_checkin_races.py.
"""
from __future__ import annotations

import json

import pytest

from chalicelib.domain.commands import AwardCheckin
from chalicelib.domain.results import CheckinResult
from chalicelib.errors import AccountFrozenError, DailyLimitReachedError, IdempotencyConflictError
from chalicelib.services.checkins import ROUTE, award_checkin
from chalicelib.store import results
from chalicelib.store.idempotency import IdempotencyKey
from tests.unit.fakes import FakeAccount, InMemoryPostingUnitOfWork


@pytest.fixture
def uow() -> InMemoryPostingUnitOfWork:
    uow = InMemoryPostingUnitOfWork()
    uow.accounts.add(FakeAccount("u_1", points=10))
    return uow


def checkin(uow, request_id="req_0001", behavior="no_cutlery", **more) -> CheckinResult:
    """A check-in of a self-reported behaviour without evidence (the demo catalog's clean_plate and garbage_sorting
    take a photo: tests/integration/test_evidence.py)."""
    return award_checkin(AwardCheckin("u_1", request_id, behavior, **more), uow)


def test_a_checkin_adds_one_entry_and_its_points_and_carbon_to_the_balance(uow):
    result = checkin(uow)
    rule = uow.catalog.behavior("no_cutlery")
    assert (result.entry.kind, result.entry.points, result.entry.behavior) == ("earn", rule.points, "no_cutlery")
    assert result.points == result.entry.balance_after == 10 + rule.points
    assert result.carbon_mg == rule.carbon_mg > 0
    account = uow.accounts.items["u_1"]
    assert (account.points, account.carbon_mg, account.version) == (result.points, result.carbon_mg, 1)
    assert [line.receipt() for line in uow.ledger] == [result.entry]
    assert uow.ledger[0].inputs == {"quantity": "1"} and uow.accounts.reads == 1 and uow.commits == 1


def test_second_checkin_with_same_request_id_awards_once_and_returns_the_first_result(uow):
    first = checkin(uow)
    again = checkin(uow)
    assert again == first
    assert uow.accounts.items["u_1"].points == first.points and len(uow.ledger) == 1


def test_a_retry_after_the_first_try_used_the_last_checkin_of_the_day_returns_the_first_result(uow):
    assert uow.catalog.behavior("no_cutlery").daily_limit == 3
    results_ = [checkin(uow, request_id=f"req_000{n}") for n in (1, 2, 3)]
    with pytest.raises(DailyLimitReachedError):
        checkin(uow, request_id="req_0004")
    assert checkin(uow, request_id="req_0003") == results_[2]
    assert len(uow.ledger) == 3


def test_the_same_request_id_for_another_behaviour_is_a_conflict_and_writes_nothing(uow):
    checkin(uow)
    with pytest.raises(IdempotencyConflictError):
        checkin(uow, behavior="green_parking", quantity=1, evidence={"odometer_km": 1000})
    assert len(uow.ledger) == 1


def test_a_frozen_account_earns_nothing(uow):
    uow.accounts.items["u_1"].frozen = True
    with pytest.raises(AccountFrozenError):
        checkin(uow)
    assert uow.ledger == [] and uow.accounts.items["u_1"].version == 0


def test_a_posting_that_lost_the_race_reads_again_and_counts_the_winner(uow):
    def a_concurrent_award_lands():
        uow.before_write = None
        stored = uow.accounts.items["u_1"]
        stored.points, stored.version = stored.points + 100, stored.version + 1

    uow.before_write = a_concurrent_award_lands
    result = checkin(uow)
    assert result.points == 110 + uow.catalog.behavior("no_cutlery").points
    assert uow.accounts.reads == 2 and uow.commits == 1


def test_a_green_parking_reading_that_moved_is_a_worthless_checkin_that_says_why(uow):
    uow.accounts.items["u_1"].odometer = {"odometer_km": "1000", "day": "2020-01-01"}
    result = checkin(uow, behavior="green_parking", quantity=1, evidence={"odometer_km": 1012.5})
    assert (result.entry.points, result.entry.carbon_mg) == (0, 0)
    assert (result.verification.verified, result.verification.reason) == (False, "moved")
    assert uow.accounts.items["u_1"].odometer["odometer_km"] == "1012.5"
    assert checkin(uow, behavior="green_parking", quantity=1, evidence={"odometer_km": 1012.5}) == result


def test_a_checkin_remembered_by_the_code_before_the_use_cases_replays_the_same_result(uow):
    """Records live 48 hours: one written before the deploy holds the HTTP body, and must still replay."""
    body = {"entry": {"id": "01KAVQ3J2G0000000000000000", "at": "2026-11-24T10:06:26.902+08:00", "kind": "earn",
                      "points": 5, "carbon_g": 202.458, "behavior": "no_cutlery", "source": "checkin", "ref": None,
                      "methodology": {"id": "LZ-clean-plate", "version": "2024.1"}, "balance_after": 15,
                      "counted_via": None},
            "points": 15, "carbon_g": 1202.458}
    key = IdempotencyKey("u_1", "req_0001", ROUTE, {"behavior": "no_cutlery", "quantity": "1", "evidence": {}})
    uow.idempotency.records[key.key] = key.values(201, body) | {"format": None}
    result = checkin(uow)
    assert (result.entry.entry_id, result.entry.carbon_mg, result.points, result.carbon_mg) == (
        "01KAVQ3J2G0000000000000000", 202458, 15, 1202458)
    assert result.entry.methodology_id == "LZ-clean-plate" and uow.ledger == []


def test_a_result_survives_its_record_unchanged():
    uow = InMemoryPostingUnitOfWork()
    uow.accounts.add(FakeAccount("u_1"))
    result = award_checkin(AwardCheckin("u_1", "req_0001", "green_parking", 1, {"odometer_km": "7"}), uow)
    record = results.encode(result)
    assert json.loads(record["body"])["verification"]["verified"] is True
    assert results.decode(record["format"], None, record["body"], ROUTE, "u_1") == result
