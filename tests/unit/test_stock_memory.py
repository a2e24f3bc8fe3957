"""A container's memory of sold-out stock shards and of the shelf's figure (services/stock_memory.py)."""
from __future__ import annotations

from chalicelib.services import stock_memory
from chalicelib.services.stock_memory import SHELF_SECONDS, SOLD_OUT_SECONDS, StockMemory
from tests.support.clock import monotonic_at


def test_a_goods_is_sold_out_while_every_shard_was_found_empty_within_the_window(monkeypatch):
    memory = StockMemory()
    monotonic_at(monkeypatch, stock_memory, 100.0)
    memory.found_empty("g", [0, 1])
    assert not memory.sold_out("g", 3) and memory.sold_out("g", 2)
    monotonic_at(monkeypatch, stock_memory, 100.0 + SOLD_OUT_SECONDS - 0.01)
    assert memory.sold_out("g", 2)
    monotonic_at(monkeypatch, stock_memory, 100.0 + SOLD_OUT_SECONDS)
    assert not memory.sold_out("g", 2) and memory.empty_shards("g") == set()


def test_a_unit_given_back_makes_its_shard_sellable_at_once_and_moves_the_shelf(monkeypatch):
    memory = StockMemory()
    monotonic_at(monkeypatch, stock_memory, 100.0)
    memory.remember_shelf({"g": 0})
    memory.found_empty("g", [0, 1])
    memory.remember_shelf({"g": 0})
    memory.returned("g", 1)
    assert memory.empty_shards("g") == {0} and memory.shelf_left(["g"]) == {"g": 1}
    memory.returned("g", None)  # a goods of one shard: shard 0
    assert memory.empty_shards("g") == set() and memory.shelf_left(["g"]) == {"g": 2}
    memory.sold("g")
    assert memory.shelf_left(["g"]) == {"g": 1}
    monotonic_at(monkeypatch, stock_memory, 100.0 + SHELF_SECONDS)
    assert memory.shelf_left(["g"]) == {}
