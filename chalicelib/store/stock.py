"""stock — pk `item` ("goods#{id}", "tree#{id}"): how many of a catalog item are left.

Kept apart from the catalog so a sale writes one small item of its own (never the cached catalog
partition), taken with `left > 0` in the sale's transaction. `total` is what the catalog offers;
reloading the catalog with a new total moves `left` by the difference, conditioned on the total read.
A flash sale past ~1,000 writes a second on one item would split it into N sub-items
("goods#{id}#3") and pick one at random: see the README.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.models import Model

from .models import table_meta


class Stock(Model):
    Meta = table_meta("stock")
    item = UnicodeAttribute(hash_key=True)
    total = NumberAttribute(default=0)
    left = NumberAttribute(default=0)


def take_one(tx, key: str, label: str = "stock") -> None:
    """Adds "one fewer left, provided one is left" to a transaction."""
    tx.update(label, Stock(key), actions=[Stock.left.add(-1)], condition=Stock.left > 0)


def give_back_one(tx, key: str, label: str = "stock") -> None:
    tx.update(label, Stock(key), actions=[Stock.left.add(1)], condition=Stock.item.exists())


class StockError(Exception):
    """The catalog asks for less stock than has already been sold."""


def set_total(key: str, total: int) -> dict:
    """Makes the catalog's total the offered amount without losing what was sold (admin load)."""
    if total < 0:
        raise StockError(f"{key}: stock cannot be negative")
    for _ in range(5):
        try:
            current = Stock.get(key, consistent_read=True)
        except Stock.DoesNotExist:
            try:
                Stock(key, total=total, left=total).save(condition=Stock.item.does_not_exist())
                return {"item": key, "total": total, "left": total}
            except PutError:
                continue  # created meanwhile: read it again
        delta = total - int(current.total)
        if delta == 0:
            return {"item": key, "total": total, "left": int(current.left)}
        if int(current.left) + delta < 0:
            raise StockError(f"{key}: {int(current.total) - int(current.left)} already sold, cannot offer only {total}")
        try:
            current.update(actions=[Stock.total.set(total), Stock.left.add(delta)],
                           condition=(Stock.total == int(current.total)) & (Stock.left >= -delta))
            return {"item": key, "total": total, "left": int(current.left)}
        except UpdateError:
            continue  # a sale landed between the read and the write: read again
    raise StockError(f"stock {key} kept changing; try again")
