"""What reading the marketplace's shelf returns (GET /v1/market/goods): goods on sale with the units left and
their merchant; api/shapes_goods.py writes the JSON."""
from __future__ import annotations

from .market import Goods
from .values import immutable


@immutable
class Merchant:
    id: str
    name: str | None  # as the catalog names it; None when the catalog no longer lists the id


@immutable
class Shelved:
    goods: Goods
    left: int  # units left now (every stock shard summed), at most SHELF_SECONDS old
    merchant: Merchant


@immutable
class ShelfPage:
    items: list[Shelved]  # by goods id
    next_cursor: str | None  # opaque (store/cursor.py), bound to the filters
