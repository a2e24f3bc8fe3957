"""The catalog's "goods" section (operations.md): what the marketplace sells, and its stock.

Each entry is checked by the same rules the request paths use (chalicelib/domain/market.py) and must
name a merchant that is stored or listed in the same file. The definition goes to the catalog partition
"goods"; the offered stock to store/stock.py ("goods#{id}", and "goods#{id}#{n}" for each further of its
`stock_shards`), moved by the difference so codes already issued stay counted, and refused when it would be
less than what was already taken. `stock_shards` may grow (what is left is spread over the new shards), never
shrink: a refund gives its unit back to the shard it came from.

A platform entry's `goods` (admin/platforms_load.py) are checked the same way against that platform's merchants
and go to its partition "P#goods", their stock to "P#goods#{id}" (domain/platforms.scoped).
"""
from __future__ import annotations

from chalicelib.domain.market import GoodsError, goods_from_catalog
from chalicelib.domain.platforms import DEFAULT, scoped
from chalicelib.store.models import CatalogItem

from .console import CommandError, parsed_once


def plan_goods(entries: list, platform: str = DEFAULT, listed_merchants: list | None = None):
    """Plans the goods section of `platform` (the top level's: `default`'s; a platform entry's, whose merchants
    are `listed_merchants`): stock first, then the definition, so nothing is on sale without stock."""
    from .catalog_load import LOADING, Planned, existing, planned_stock  # catalog_load lists this planner

    if not isinstance(entries, list):
        raise CommandError("goods must be a list")
    if listed_merchants is None:
        listed_merchants = (LOADING.get() or {}).get("merchants", [])
    listed = {m.get("id") for m in listed_merchants if isinstance(m, dict)}
    merchants = set(existing(scoped(platform, "merchant"))) | listed
    writes, report = [], {"changed": [], "unchanged": [], "stock_changed": []}
    kind = scoped(platform, "goods")
    current = existing(kind)
    for _, goods in parsed_once(entries, goods_from_catalog, GoodsError, "goods", platform):
        if goods.merchant_id not in merchants:
            raise CommandError(f"goods {goods.id}: unknown merchant {goods.merchant_id!r}")
        shards_before = current[goods.id].get("stock_shards", 1) if goods.id in current else 1
        if goods.stock_shards < shards_before:
            raise CommandError(f"goods {goods.id}: stock_shards cannot go down from {shards_before} to "
                               f"{goods.stock_shards} (codes sold from a shard give their unit back to it)")
        stock_write = planned_stock(goods.stock_key, goods.stock, f"goods {goods.id}", shards=goods.stock_shards)
        if stock_write:
            report["stock_changed"].append(goods.id)
            writes.append(stock_write)
        data = goods.to_catalog()
        if current.get(goods.id) == data:
            report["unchanged"].append(goods.id)
        else:
            report["changed"].append(goods.id)
            writes.append(CatalogItem(kind, goods.id, data=data))
    return Planned(writes, [], report)
