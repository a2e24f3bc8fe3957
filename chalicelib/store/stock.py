"""stock — pk `item` ("goods#{id}", "tree#{id}"): how many of a catalog item are left.

Kept apart from the catalog so a sale writes one small item of its own (never the cached catalog
partition), taken with `left > 0` in the sale's transaction. `total` is what the catalog offers;
reloading the catalog with a new total moves `left` by the difference, conditioned on the total read.

A goods with `stock_shards` N > 1 (a flash sale) has N sub-items: shard 0 is the item every goods has
("goods#{id}"), shard n is "goods#{id}#{n}"; each has its own `total` and `left`, and the goods' total is
their sum. One item takes about 1,000 write units a second, 500 transactional sales: N shards take N times
that. A sale takes its unit from one shard (services/redeem.py) and the redemption records which, so a
refund gives it back there; `set_total` spreads what is left evenly over the shards, in one transaction.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from .access import access, on
from .failures import ConditionFailed
from .models import table_meta


class Stock(Model):
    Meta = table_meta("stock")
    item = UnicodeAttribute(hash_key=True)
    total = NumberAttribute(default=0)
    left = NumberAttribute(default=0)


@access(on(Stock, "UpdateItem"))
def take_one(tx, key: str, label: str = "stock") -> None:
    """Adds "one fewer left, provided one is left" to a transaction."""
    tx.update(label, Stock(key), actions=[Stock.left.add(-1)], condition=Stock.left > 0)


@access(on(Stock, "UpdateItem"))
def give_back_one(tx, key: str, label: str = "stock") -> None:
    tx.update(label, Stock(key), actions=[Stock.left.add(1)], condition=Stock.item.exists())


class StockError(Exception):
    """The catalog asks for less stock than has already been sold."""


def shard_keys(key: str, shards: int = 1) -> list[str]:
    """The stock items of a catalog item split into `shards` (domain/market.stock_key's scheme)."""
    return [key] + [f"{key}#{shard}" for shard in range(1, shards)]


@access(on(Stock, "BatchGetItem"))
def read_shards(key: str, shards: int = 1) -> dict[str, Stock]:
    """The existing stock items among the shards, read consistently (one BatchGetItem)."""
    return {item.item: item for item in Stock.batch_get(shard_keys(key, shards), consistent_read=True)}


def taken(items: dict[str, Stock]) -> int:
    """Units sold (or adopted) and not given back, over the shards read."""
    return sum(int(item.total) - int(item.left) for item in items.values())


@access(on(Stock, "GetItem", "PutItem", "UpdateItem"), read_shards)
def set_total(key: str, total: int, shards: int = 1) -> dict:
    """Makes the catalog's total the offered amount without losing what was sold (admin load): one
    transaction over the `shards` items, each keeping what it sold, what is left spread evenly over them.
    Each update is conditioned on the total it read (another load) and on what is left (a sale since)."""
    from .tx import Tx  # here: the admin console's import of this module stays light

    if total < 0:
        raise StockError(f"{key}: stock cannot be negative")
    keys = shard_keys(key, shards)
    for _ in range(5):
        current = read_shards(key, shards)
        sold = taken(current)
        if total < sold:
            raise StockError(f"{key}: {sold} already sold, cannot offer only {total}")
        if len(current) == len(keys) and sum(int(item.total) for item in current.values()) == total:
            return {"item": key, "total": total, "left": total - sold}
        spare, tx = total - sold, Tx()
        for shard, item_key in enumerate(keys):
            left = spare // len(keys) + (1 if shard < spare % len(keys) else 0)
            item = current.get(item_key)
            if item is None:
                tx.put(f"shard:{shard}", Stock(item_key, total=left, left=left), condition=Stock.item.does_not_exist())
                continue
            delta = left - int(item.left)  # the new total is what the shard sold plus its share of what is left
            tx.update(f"shard:{shard}", Stock(item_key), actions=[Stock.total.set(int(item.total) + delta),
                                                                   Stock.left.add(delta)],
                      condition=(Stock.total == int(item.total)) & (Stock.left >= -delta))
        try:
            tx.commit()
            return {"item": key, "total": total, "left": spare}
        except ConditionFailed:
            continue  # a sale or another load landed between the read and the write: read again
    raise StockError(f"stock {key} kept changing; try again")
