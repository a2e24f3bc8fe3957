"""The console's use cases (services/corrections.py) and the refusals every posting shares (domain/refusals.py),
over in-memory fakes: no Java, no DynamoDB endpoint. Against DynamoDB Local: tests/integration/
test_admin_console.py, test_account_revocation.py, test_staff_revocation.py."""
from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from chalicelib.api.shapes_collection import adjustment_json
from chalicelib.domain.caps import DayCount
from chalicelib.domain.commands_collection import AdjustPoints, SetFrozen
from chalicelib.domain.refusals import award_within_caps, refuse_frozen
from chalicelib.errors import AccountFrozenError, DailyLimitReachedError, InsufficientPointsError
from chalicelib.services import corrections, revocations
from chalicelib.services.corrections import ADJUST_ROUTE, adjust_points, set_frozen
from chalicelib.store.failures import ConditionFailed
from chalicelib.store.idempotency import IdempotencyKey
from tests.unit.fakes import FakeAccount, FakeCatalog, InMemoryPostingUnitOfWork


@pytest.fixture
def uow() -> InMemoryPostingUnitOfWork:
    uow = InMemoryPostingUnitOfWork()
    uow.accounts.add(FakeAccount("u_1", points=10))
    return uow


def test_an_adjustment_is_an_entry_with_the_reason_applied_once(uow):
    command = AdjustPoints("u_1", "adm_once_1234", 50, "apology for outage")
    first = adjust_points(command, uow)
    assert (first.entry.kind, first.entry.source, first.entry.points, first.points) == ("adjust", "admin", 50, 60)
    assert adjust_points(command, uow) == first
    assert uow.ledger[0].reason == "apology for outage" and uow.accounts.items["u_1"].points == 60
    assert uow.commits == 1


def test_an_adjustment_never_takes_the_balance_below_zero(uow):
    with pytest.raises(InsufficientPointsError):
        adjust_points(AdjustPoints("u_1", "adm_minus_1234", -11, "too much"), uow)
    assert uow.ledger == []


def test_an_adjustment_remembered_before_the_use_cases_replays_the_same_answer(uow):
    shown = {"entry": {"id": "01KAVQ3J2G0000000000000000", "at": "2026-01-05T09:00:00.000+08:00", "kind": "adjust",
                       "points": 7, "carbon_g": 0.0, "behavior": None, "source": "admin", "ref": "adm_once_1234",
                       "methodology": None, "balance_after": 17, "counted_via": None}, "points": 17}
    key = IdempotencyKey("admin", "adm_once_1234", ADJUST_ROUTE, {"user": "u_1", "delta": 7, "reason": "bonus"})
    uow.idempotency.records[key.key] = key.values(201, shown) | {"format": None}
    assert adjustment_json(adjust_points(AdjustPoints("u_1", "adm_once_1234", 7, "bonus"), uow)) == shown
    assert uow.ledger == []


class FakeStanding:
    def __init__(self, deleted_meanwhile: bool = False) -> None:
        self.account = SimpleNamespace(user_id="u_1", frozen=False, deleted_at=None)
        self.revocation, self.deleted_meanwhile = None, deleted_meanwhile

    def get(self, user_id):
        return self.account

    def set_frozen(self, user_id, frozen, reason, at, revocation):
        if self.deleted_meanwhile:
            raise ConditionFailed({"account": None})
        self.account.frozen, self.revocation = frozen, revocation or self.revocation

    def drop_freeze(self, shard, user_id):
        self.revocation = None


def test_a_freeze_writes_the_revocation_staff_routes_read_and_an_unfreeze_removes_it(monkeypatch):
    monkeypatch.setattr(revocations, "_cache", {"revoked": (float("inf"), {})})
    monkeypatch.setattr(revocations, "frozen_item", lambda user_id: SimpleNamespace(user_id=user_id, kind="frozen"))
    standing = FakeStanding()
    set_frozen(SetFrozen("u_1", True, "fraud"), standing)
    assert standing.account.frozen and standing.revocation.kind == "frozen" and revocations.revoked() == {
        "u_1": "frozen"}
    set_frozen(SetFrozen("u_1", False), standing)
    assert not standing.account.frozen and standing.revocation is None and revocations.revoked() == {}


def test_a_deleted_account_stays_frozen():
    standing = FakeStanding(deleted_meanwhile=True)
    with pytest.raises(corrections.StaysFrozenError):
        set_frozen(SetFrozen("u_1", False), standing)
    standing.account.deleted_at = "2026-01-05T09:00:00.000+08:00"
    with pytest.raises(corrections.StaysFrozenError):
        set_frozen(SetFrozen("u_1", False), standing)


def test_the_shared_refusals_frozen_and_past_a_cap():
    refuse_frozen(FakeAccount("u_1"))
    with pytest.raises(AccountFrozenError):
        refuse_frozen(FakeAccount("u_1", frozen=True))
    rule = FakeCatalog().behavior("clean_plate")
    award_within_caps(rule, DayCount(), Decimal(1))
    with pytest.raises(DailyLimitReachedError) as refused:
        award_within_caps(rule, DayCount(events=rule.daily_limit), Decimal(1))
    assert refused.value.details == {"cap": "daily_limit", "behavior": "clean_plate"}
