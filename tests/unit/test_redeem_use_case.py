"""redeem_goods over the in-memory unit of work (tests/unit/fakes.py): no Java, no DynamoDB endpoint.

The same promises against DynamoDB Local: tests/integration/test_market.py, tests/races/test_market_races.py.
"""
from __future__ import annotations

import pytest

from chalicelib.domain import market as rules
from chalicelib.domain.commands import RedeemGoods
from chalicelib.domain.results import RedemptionResult
from chalicelib.errors import InsufficientPointsError, OutOfStockError, PerUserLimitReachedError
from chalicelib.services.redeem import ROUTE, redeem_goods
from chalicelib.store import results
from chalicelib.store.idempotency import IdempotencyKey
from tests.unit.fakes import FakeAccount, InMemoryPostingUnitOfWork

COFFEE = "g-cafe-americano"  # 120 points, at most 2 per user (admin/demo_catalog.json)


@pytest.fixture
def uow() -> InMemoryPostingUnitOfWork:
    uow = InMemoryPostingUnitOfWork()
    uow.accounts.add(FakeAccount("u_1", points=1000))
    return uow


def redeem(uow, request_id="req_0001", goods_id=COFFEE) -> RedemptionResult:
    return redeem_goods(RedeemGoods("u_1", request_id, goods_id), uow)


def test_a_redemption_spends_the_price_takes_one_unit_and_issues_a_code(uow):
    stock = uow.stock["goods#" + COFFEE]
    result = redeem(uow)
    assert (result.entry.kind, result.entry.points, result.points) == ("spend", -120, 880)
    assert result.redemption.status == "issued" and result.entry.ref == result.redemption.redemption_id
    assert uow.stock["goods#" + COFFEE] == stock - 1 and uow.codes == {result.redemption.code}
    assert uow.accounts.items["u_1"].points == 880 and uow.commits == 1


def test_a_retried_redemption_returns_the_first_code_and_spends_once(uow):
    first = redeem(uow)
    assert redeem(uow) == first
    assert uow.accounts.items["u_1"].points == 880 and len(uow.redemptions) == 1


def test_the_last_unit_goes_to_one_redemption_and_the_next_is_out_of_stock(uow):
    uow.stock["goods#" + COFFEE] = 1
    redeem(uow)
    with pytest.raises(OutOfStockError):
        redeem(uow, request_id="req_0002")
    assert uow.accounts.items["u_1"].points == 880 and len(uow.ledger) == 1


def test_the_per_user_limit_refuses_a_third_code(uow):
    redeem(uow, request_id="req_0001")
    redeem(uow, request_id="req_0002")
    with pytest.raises(PerUserLimitReachedError):
        redeem(uow, request_id="req_0003")
    assert uow.accounts.items["u_1"].points == 760 and len(uow.redemptions) == 2


def test_too_few_points_write_nothing(uow):
    uow.accounts.items["u_1"].points = 119
    with pytest.raises(InsufficientPointsError):
        redeem(uow)
    assert uow.ledger == [] and uow.commits == 0


def test_a_code_that_collides_is_issued_again_fresh(uow, monkeypatch):
    uow.codes.add("TAKEN00000000000")
    codes = iter(["TAKEN00000000000", "FRESH00000000000"])
    monkeypatch.setattr(rules, "redemption_code", lambda: next(codes))
    assert redeem(uow).redemption.code == "FRESH00000000000"
    assert uow.accounts.items["u_1"].points == 880 and uow.accounts.reads == 2


def test_a_redemption_remembered_by_the_code_before_the_use_cases_replays_the_same_result(uow):
    """Records live 48 hours: one written before the deploy holds the HTTP body, and must still replay."""
    shown = {"id": "01KAVQ3J2G0000000000000000", "goods_id": COFFEE, "goods_name": "美式咖啡兑换券", "kind": "coupon",
             "merchant": {"id": "m-cafe", "name": "绿芽咖啡"}, "code": "ABCD2345EFGH6789", "qr_payload": "GS:R:ABCD",
             "status": "issued", "points_spent": 120, "created_at": "2026-11-24T10:06:26.902+08:00",
             "expires_at": "2026-12-24T00:00:00+08:00", "used_at": None, "cancelled_at": None, "expired_at": None,
             "refunded": False, "cancellable": True, "address": None}
    entry = {"id": "01KAVQ3J2H0000000000000000", "at": "2026-11-24T10:06:26.902+08:00", "kind": "spend",
             "points": -120, "carbon_g": 0.0, "behavior": None, "source": "market", "ref": shown["id"],
             "methodology": None, "balance_after": 880}
    key = IdempotencyKey("u_1", "req_0001", ROUTE, {"goods_id": COFFEE, "address": None})
    uow.idempotency.records[key.key] = key.values(201, {"redemption": shown, "points": 880, "entry": entry}) | {
        "format": None}
    result = redeem(uow)
    assert (result.redemption.redemption_id, result.redemption.code, result.points) == (shown["id"], shown["code"], 880)
    assert result.redemption.expires_epoch == 1798041600 and result.entry.ref == shown["id"]
    assert uow.ledger == [] and uow.accounts.items["u_1"].points == 1000


def test_a_remembered_redemption_stays_under_one_kilobyte_so_its_write_costs_two_units(uow):
    """A transaction's write costs 2 WRU per KB: the record keeping the result must not cross 1 KB."""
    user_id, request_id = "u_" + "X" * 24, "r" * 64  # ids as long as real ones can be
    uow.accounts.add(FakeAccount(user_id, points=1000))
    result = redeem_goods(RedeemGoods(user_id, request_id, COFFEE), uow)
    key = IdempotencyKey(user_id, request_id, ROUTE, {"goods_id": COFFEE, "address": None})
    record = key.record_values(**results.encode(result))
    assert sum(len(name) + len(str(value).encode()) for name, value in record.items()) < 1000
