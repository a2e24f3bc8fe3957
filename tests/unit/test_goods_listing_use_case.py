"""services/goods.listing (GET /v1/market/goods) over an in-memory shelf (tests/unit/fakes_goods.py): no Java,
no DynamoDB endpoint. Against DynamoDB Local: tests/integration/test_market.py and test_market_flash_sale.py."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from chalicelib.domain.commands import RedeemGoods
from chalicelib.domain.market import stock_key
from chalicelib.services import goods, stock_memory
from chalicelib.services.redeem import redeem_goods
from chalicelib.services.stock_memory import SHELF_SECONDS
from tests.support.clock import monotonic_at
from tests.unit.fakes import FakeAccount, InMemoryPostingUnitOfWork
from tests.unit.fakes_goods import FakeShelf

ON_SALE = ["g-bookshop-voucher-20", "g-cafe-americano", "g-cafe-latte-half", "g-cafe-own-cup", "g-canvas-bag",
           "g-upcycling-workshop"]  # admin/demo_catalog.json, by id


@pytest.fixture
def uow(monkeypatch) -> InMemoryPostingUnitOfWork:
    monotonic_at(monkeypatch, stock_memory, 100.0)
    uow = InMemoryPostingUnitOfWork()
    uow.accounts.add(FakeAccount("u_1", points=1000))
    return uow


@pytest.fixture
def shelf(uow) -> FakeShelf:
    return FakeShelf(uow)


def test_the_shelf_shows_every_goods_on_sale_by_id_with_its_stock_and_merchant(shelf):
    page = goods.listing(20, None, None, None, shelf)
    assert [item.goods.id for item in page.items] == ON_SALE and page.next_cursor is None
    coffee = next(item for item in page.items if item.goods.id == "g-cafe-americano")
    assert (coffee.left, coffee.merchant.id, coffee.merchant.name) == (200, "m-cafe", "江阳咖啡")


def test_withdrawn_and_malformed_goods_are_not_on_the_shelf(shelf):
    shelf.rows["g-cafe-own-cup"]["active"] = False
    shelf.rows["g-canvas-bag"]["points_price"] = -5  # the loader refuses it; one bad row must not hide the rest
    ids = [item.goods.id for item in goods.listing(20, None, None, None, shelf).items]
    assert ids == [g for g in ON_SALE if g not in ("g-cafe-own-cup", "g-canvas-bag")]


def test_a_category_or_a_kind_filters_the_shelf(shelf):
    assert [i.goods.id for i in goods.listing(20, "drinks", None, None, shelf).items] == [
        "g-cafe-americano", "g-cafe-latte-half", "g-cafe-own-cup"]
    assert [i.goods.id for i in goods.listing(20, None, "physical", None, shelf).items] == ["g-canvas-bag"]
    assert goods.listing(20, "nothing-here", None, None, shelf).items == []


def test_pages_follow_each_other_without_repeating_or_skipping_a_goods(shelf, monkeypatch):
    codec = SimpleNamespace(encode=lambda key, context: json.dumps([context, key]) if key else None,
                            decode=lambda cursor, context: json.loads(cursor)[1] if cursor else None)
    monkeypatch.setattr(goods, "cursors", codec)  # the signed codec needs the secret: store/cursor.py's own tests
    seen, cursor = [], None
    while True:
        page = goods.listing(4, None, None, cursor, shelf)
        seen += [item.goods.id for item in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == ON_SALE


def test_a_flash_sale_shows_its_shards_summed_and_an_overdrawn_shard_as_none_left(shelf):
    shelf.split("g-cafe-americano", [3, 0, -1, 4])
    (coffee,) = [i for i in goods.listing(20, "drinks", None, None, shelf).items if i.goods.id == "g-cafe-americano"]
    assert coffee.left == 7


def test_the_shelf_is_read_once_per_window_and_this_containers_sale_shows_at_once(uow, shelf, monkeypatch):
    def left() -> int:
        return {i.goods.id: i.left for i in goods.listing(20, None, None, None, shelf).items}["g-cafe-americano"]

    assert left() == 200 and shelf.reads == 1
    redeem_goods(RedeemGoods("u_1", "req_0001", "g-cafe-americano", None), uow)
    assert uow.stock[stock_key("g-cafe-americano")] == 199
    assert left() == 199 and shelf.reads == 1  # remembered, moved by the sale itself
    uow.stock[stock_key("g-cafe-americano")] = 150  # other containers sell meanwhile
    monotonic_at(monkeypatch, stock_memory, 100.0 + SHELF_SECONDS)
    assert left() == 150 and shelf.reads == 2


def test_sold_out_goods_stay_on_the_shelf_with_none_left(shelf):
    shelf.stock[stock_key("g-upcycling-workshop")] = 0
    items = {i.goods.id: i.left for i in goods.listing(20, None, None, None, shelf).items}
    assert items["g-upcycling-workshop"] == 0
