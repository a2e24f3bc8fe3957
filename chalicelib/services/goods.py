"""The marketplace's shelf: GET /v1/market/goods, and the goods a redemption sells.

Goods definitions come from the catalog partition "goods", cached per container; a page of the
listing reads only its own stock items (every shard of each goods, summed), with one BatchGetItem, and the
container keeps those figures SHELF_SECONDS (services/stock_memory.py): a shelf refreshed by a crowd costs
one read per container and window. No scan, and no write to anything shared.

Each platform has its shelf: `default`'s catalog partitions `goods` and `merchant`, another platform P's `P#goods`
and `P#merchant`, with P's stock items ("P#goods#{id}").

    route (api/market.py) -> listing -> the shelf: the catalog's goods and merchants, the stock left
    (bootstrap.ServedShelf over store/repositories.StockLeft; tests/unit/fakes_goods.FakeShelf)
"""
from __future__ import annotations

from typing import Any

from ..domain.market import Goods, GoodsError, goods_from_catalog
from ..domain.platforms import DEFAULT
from ..domain.results_shelf import Merchant, ShelfPage, Shelved
from ..errors import InvalidCursorError, NotFoundError
from ..store import cursor as cursors
from . import catalog


def active_goods(rows: dict[str, dict], platform: str = DEFAULT) -> list[Goods]:
    """Every goods item on sale among the catalog's `rows` (of `platform`), in a stable order (by id)."""
    shelf = []
    for data in rows.values():
        try:
            goods = goods_from_catalog(data, platform)
        except GoodsError:
            continue  # the loader refuses such entries; one bad item must not hide the shelf
        if goods.active:
            shelf.append(goods)
    return sorted(shelf, key=lambda g: g.id)


def on_sale(goods_id: str, platform: str = DEFAULT) -> Goods:
    """The goods of `platform` a user of it may redeem; NOT_FOUND for an unknown or withdrawn id, and for another
    platform's."""
    data = catalog.goods(platform).get(goods_id)
    try:
        goods = goods_from_catalog(data, platform) if data else None
    except GoodsError:
        goods = None
    if goods is None or not goods.active:
        raise NotFoundError(goods_id=goods_id)
    return goods


def merchant(merchant_id: str, shelf: Any = None, platform: str = DEFAULT) -> Merchant:
    """The merchant of a goods item or a redemption, from the platform's catalog (cached per container)."""
    merchants = shelf.merchants() if shelf is not None else catalog.merchants(platform)
    return Merchant(merchant_id, (merchants.get(merchant_id) or {}).get("name"))


def listing(limit: int, category: str | None, kind: str | None, cursor: str | None, shelf: Any) -> ShelfPage:
    """A page of goods on sale, optionally of one `category` (or `kind`, one of domain/market.KINDS, checked by
    the route), with the stock left now. `shelf`: bootstrap.shelf(platform), the caller's platform's goods."""
    context = f"goods|{category or ''}|{kind or ''}"
    start = cursors.decode(cursor, context)
    after = start.get("after") if start else None
    if start is not None and not isinstance(after, str):
        raise InvalidCursorError()
    on_sale = [g for g in active_goods(shelf.goods(), shelf.platform) if (category is None or g.category == category)
               and (kind is None or g.kind == kind) and (after is None or g.id > after)]
    page = on_sale[:limit]
    left = stock_left(page, shelf)
    items = [Shelved(g, left.get(g.id, 0), merchant(g.merchant_id, shelf)) for g in page]
    more = len(on_sale) > limit
    return ShelfPage(items, cursors.encode({"after": page[-1].id}, context) if more else None)


def stock_left(page: list[Goods], shelf: Any) -> dict[str, int]:
    """Units left by goods id: what the container read less than SHELF_SECONDS ago, the rest in one read."""
    memory = shelf.memory
    left = memory.shelf_left(g.scoped_id for g in page)
    missing = [g for g in page if g.scoped_id not in left]
    if missing:
        shard_of = {key: g.scoped_id for g in missing for key in g.stock_keys}
        read = dict.fromkeys((g.scoped_id for g in missing), 0)
        for key, units in shelf.stock_left(list(shard_of)).items():
            read[shard_of[key]] += max(units, 0)
        memory.remember_shelf(read)
        left.update(read)
    return {g.id: left[g.scoped_id] for g in page}
