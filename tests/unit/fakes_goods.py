"""The shelf in memory (bootstrap.ServedShelf's promises), for fast tests of services/goods.listing: the demo
catalog's goods and merchants, and the stock of an in-memory unit of work (tests/unit/fakes.py), so a
redemption made there shows on the shelf. DynamoDB's side: tests/integration/test_market.py."""
from __future__ import annotations

from chalicelib.domain.market import stock_key
from tests.unit.fakes import DEMO_CATALOG, InMemoryPostingUnitOfWork


class FakeShelf:
    platform = "default"

    def __init__(self, uow: InMemoryPostingUnitOfWork) -> None:
        self.rows = {g["id"]: dict(g) for g in DEMO_CATALOG["goods"]}
        self.merchant_rows = {m["id"]: dict(m) for m in DEMO_CATALOG["merchants"]}
        self.stock = uow.stock
        self.memory = uow.catalog.sold_out  # one container: the redemptions' memory is the shelf's
        self.reads = 0

    def goods(self) -> dict[str, dict]:
        return self.rows

    def merchants(self) -> dict[str, dict]:
        return self.merchant_rows

    def stock_left(self, stock_keys: list[str]) -> dict[str, int]:
        self.reads += 1
        return {key: self.stock[key] for key in stock_keys if key in self.stock}

    def split(self, goods_id: str, shards: list[int]) -> None:
        """The goods becomes a flash sale of len(shards) stock items holding these units."""
        self.rows[goods_id]["stock_shards"] = len(shards)
        for shard, units in enumerate(shards):
            self.stock[stock_key(goods_id, shard)] = units
