"""redeem_goods over the in-memory unit of work (tests/unit/fakes.py): no Java, no DynamoDB endpoint.

The same promises against DynamoDB Local: tests/integration/test_market.py, tests/races/test_market_races.py.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain import market as rules
from chalicelib.domain.commands import RedeemGoods
from chalicelib.domain.results import RedemptionResult
from chalicelib.errors import (
    AccountFrozenError,
    InsufficientPointsError,
    NotFoundError,
    OutOfStockError,
    PerUserLimitReachedError,
)
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
             "methodology": None, "balance_after": 880, "counted_via": None}
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


# --- a goods whose stock is split into shards (issue 19, item 4) ----------------------------------------------

FLASH = "g-flash"


def flash_goods(uow, left_by_shard: list[int]) -> rules.Goods:
    """A goods of 4 stock shards holding `left_by_shard` units, added to the fake catalog."""
    goods = rules.goods_from_catalog({"id": FLASH, "name": "秒杀", "kind": "coupon", "merchant_id": "m-cafe",
                                      "points_price": 10, "stock": sum(left_by_shard), "valid_days": 30,
                                      "stock_shards": len(left_by_shard)})
    uow.catalog.shelf[FLASH] = goods
    uow.stock.update({rules.stock_key(FLASH, shard): left for shard, left in enumerate(left_by_shard)})
    return goods


def request_starting_at(goods: rules.Goods, shard: int, user_id: str = "u_1") -> str:
    return next(rid for n in range(1000) if rules.shard_order(goods, user_id, rid := f"req_flash_{n:04d}")[0] == shard)


def test_shard_order_is_fixed_by_the_request_and_spreads_people_over_every_shard():
    goods = rules.goods_from_catalog({"id": FLASH, "name": "秒杀", "kind": "coupon", "merchant_id": "m-cafe",
                                      "points_price": 10, "stock": 80, "valid_days": 30, "stock_shards": 8})
    order = rules.shard_order(goods, "u_1", "req_0001")
    assert order == rules.shard_order(goods, "u_1", "req_0001") and sorted(order) == list(range(8))
    starts = [rules.shard_order(goods, f"u_{n}", "req_0001")[0] for n in range(800)]
    assert all(60 <= starts.count(shard) <= 140 for shard in range(8)), starts
    assert rules.shard_order(rules.goods_from_catalog({**goods.to_catalog(), "stock_shards": 1}), "u_1", "r") == [0]
    assert rules.stock_key(FLASH, 0) == rules.stock_key(FLASH, None) == "goods#g-flash"
    assert rules.stock_key(FLASH, 3) == "goods#g-flash#3"


def test_an_empty_shard_makes_the_same_read_of_the_account_take_the_unit_from_another(uow):
    goods = flash_goods(uow, [0, 0, 1, 0])
    result = redeem(uow, request_id=request_starting_at(goods, 0), goods_id=FLASH)
    assert result.redemption.stock_shard == 2 and uow.stock[rules.stock_key(FLASH, 2)] == 0
    assert (uow.accounts.reads, uow.stock.reads, uow.commits) == (1, 1, 1)


def test_a_goods_found_sold_out_is_refused_without_reading_the_account_and_a_success_still_replays(uow):
    goods = flash_goods(uow, [1, 0, 0, 0])
    won = redeem(uow, request_id="req_won1", goods_id=FLASH)
    with pytest.raises(OutOfStockError):
        redeem(uow, request_id=request_starting_at(goods, 1), goods_id=FLASH)  # reads all shards: all empty
    assert uow.catalog.sold_out.sold_out(FLASH, 4)
    reads = uow.accounts.reads, uow.stock.reads
    with pytest.raises(OutOfStockError):
        redeem(uow, request_id="req_late", goods_id=FLASH)
    assert redeem(uow, request_id="req_won1", goods_id=FLASH) == won
    assert (uow.accounts.reads, uow.stock.reads) == reads and uow.commits == 1


def test_a_goods_with_one_shard_takes_from_its_one_stock_item_and_records_no_shard(uow):
    result = redeem(uow)
    assert result.redemption.stock_shard is None and rules.stock_key(COFFEE) in uow.stock


def test_a_frozen_account_cannot_redeem_and_nothing_is_taken(uow):
    uow.accounts.items["u_1"].frozen = True
    with pytest.raises(AccountFrozenError):
        redeem(uow)
    assert uow.accounts.items["u_1"].points == 1000 and uow.stock["goods#" + COFFEE] == 200
    assert uow.commits == 0 and uow.redemptions == {}


def test_goods_not_on_the_shelf_are_not_found(uow):
    with pytest.raises(NotFoundError):
        redeem(uow, goods_id="g-nowhere")
    assert uow.commits == 0 and uow.accounts.reads == 0


def test_a_redemption_racing_a_spend_elsewhere_reads_again_and_refuses_what_the_balance_no_longer_covers(uow):
    def spent_elsewhere():
        uow.before_write = None
        stored = uow.accounts.items["u_1"]
        uow.accounts.items["u_1"] = replace(stored, points=100, version=stored.version + 1)

    uow.before_write = spent_elsewhere
    with pytest.raises(InsufficientPointsError):
        redeem(uow)
    assert uow.accounts.reads == 2 and uow.commits == 0 and uow.stock["goods#" + COFFEE] == 200
