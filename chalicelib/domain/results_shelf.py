"""What reading the marketplace's shelf returns (GET /v1/market/goods): goods on sale with the units left and
their merchant; api/shapes_goods.py writes the JSON."""
from __future__ import annotations

from dataclasses import dataclass

from .market import Goods


@dataclass(frozen=True)
class Merchant:
    id: str
    name: str | None  # as the catalog names it; None when the catalog no longer lists the id


@dataclass(frozen=True)
class Shelved:
    goods: Goods
    left: int  # units left now (every stock shard summed), at most SHELF_SECONDS old
    merchant: Merchant


@dataclass(frozen=True)
class ShelfPage:
    items: list[Shelved]  # by goods id
    next_cursor: str | None  # opaque (store/cursor.py), bound to the filters
