"""Capacity units by AWS's own rules, from the calls bench/measure.py records: DynamoDB's item-size formula and
`cost()`, which turns recorded calls into on-demand request units (the rules are listed in bench/measure.py's
docstring). bench/journey.py, steady.py and capacity.py use it; tests/infra checks the rules themselves.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .measure import Call, Index, TableKeys, Touch, frozen, plain_value, private_client, touches


# --- DynamoDB's item size (docs: "Item sizes and formats") -----------------------------------------
def value_size(value: dict) -> int:
    (kind, raw), = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        digits = raw.lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(raw) if isinstance(raw, (bytes, bytearray)) else math.ceil(len(raw) * 3 / 4)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: v}) for v in raw)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in raw.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict | None) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


# --- capacity -----------------------------------------------------------------------------------------
@dataclass
class Cost:
    calls: int = 0
    read_units: float = 0.0
    write_units: float = 0.0
    items_written: int = 0
    new_bytes: int = 0  # items created for good (ledger entries, their index copies): storage grows by this
    expiring_bytes: int = 0  # items created with a TTL (idempotency records): storage holds their window
    operations: dict[str, int] = field(default_factory=dict)
    # (table or table/index, partition key value) -> item writes landing in that partition
    key_writes: Counter = field(default_factory=Counter)
    # (table, partition key value) of each item written -> its write units, its index writes included
    key_units: Counter = field(default_factory=Counter)

    def add(self, other: Cost, share: float = 1.0) -> Cost:
        """This cost plus `share` of another's (a share of a job's run, say)."""
        total = Cost(self.calls + other.calls * share, self.read_units + other.read_units * share,
                     self.write_units + other.write_units * share, self.items_written + other.items_written * share,
                     self.new_bytes + other.new_bytes * share, self.expiring_bytes + other.expiring_bytes * share,
                     dict(self.operations), Counter(self.key_writes), Counter(self.key_units))
        for op, n in other.operations.items():
            total.operations[op] = total.operations.get(op, 0) + n * share
        for key, n in other.key_writes.items():
            total.key_writes[key] += n * share
        for key, n in other.key_units.items():
            total.key_units[key] += n * share
        return total


def _units(size: int, per: int) -> int:
    return max(1, math.ceil(size / per))


def _index_entry(item: dict | None, keys: TableKeys, index: Index) -> dict | None:
    """What the index holds of an item: None when the item lacks the index's key (a sparse index)."""
    if not item or index.hash_key not in item or (index.range_key and index.range_key not in item):
        return None
    if index.projection == "ALL":
        return item
    names = {keys.hash_key, keys.range_key, index.hash_key, index.range_key, *index.included} - {None}
    return {name: value for name, value in item.items() if name in names}


def _index_writes(before: dict | None, after: dict | None, keys: TableKeys,
                  table: str) -> Iterator[tuple[str, str, int]]:
    """(index partition, key value, write units) of each index write a change of one item makes."""
    for name, index in keys.indexes.items():
        old, new = _index_entry(before, keys, index), _index_entry(after, keys, index)
        where = f"{table}/{name}"
        if old == new:
            continue
        moved = old is not None and new is not None and (
            old[index.hash_key] != new[index.hash_key]
            or (index.range_key and old[index.range_key] != new[index.range_key]))
        if old is not None and (new is None or moved):
            yield where, str(plain_value(old[index.hash_key])), _units(item_size(old), 1024)  # the old entry deleted
        if new is not None:
            yield where, str(plain_value(new[index.hash_key])), _units(item_size(new), 1024)  # put, or rewritten


def cost(calls: list[Call], schema: dict[str, TableKeys], item_after: Callable[[Touch], dict | None]) -> Cost:
    """On-demand request units of the calls; `item_after(touch)` is a written item as it is after the write
    (the recorder knows each item before it)."""
    total = Cost(calls=len(calls))
    for call in calls:
        total.operations[call.operation] = total.operations.get(call.operation, 0) + 1
        if call.operation == "BatchGetItem":
            total.read_units += _batch_read_units(call)
            continue
        for touch in touches(call, schema):
            if touch.action in ("GetItem", "Query", "Scan"):
                total.read_units += _units(item_size(touch.item), 4096) * (1 if touch.consistent else 0.5)
                continue
            _write_cost(total, call, touch, schema, item_after)
    return total


def _batch_read_units(call: Call) -> float:
    units = 0.0
    for table, request in call.params["RequestItems"].items():
        found = call.response.get("Responses", {}).get(table, [])
        each = 1 if request.get("ConsistentRead") else 0.5
        units += sum(_units(item_size(item), 4096) * each for item in found)
        units += max(0, len(request.get("Keys", [])) - len(found)) * each  # an absent key: the minimum
    return units


TRANSIENT = {"agg_boards": "dirty#"}  # partitions whose items the next run deletes: new ones, never growth


def _transient(owner: tuple[str, str]) -> bool:
    """A board marker: a fold run writes one of a new mark, the board's rebuild deletes it within the minute."""
    table, partition = owner
    return any(table.endswith(name) and partition.startswith(prefix) for name, prefix in TRANSIENT.items())


def _write_cost(total: Cost, call: Call, touch: Touch, schema: dict[str, TableKeys], item_after) -> None:
    keys = schema.get(touch.table)
    before = call.before.get((touch.table, frozen(touch.raw_key))) if touch.raw_key else None
    if not touch.write or call.failed:
        after = before  # a condition check, or a refused write: nothing changes
    elif touch.action in ("DeleteItem",) or (touch.action == "BatchWriteItem" and touch.item is None):
        after = None
    else:
        after = touch.item if touch.item is not None else item_after(touch)
    size = max(item_size(before), item_size(after))
    units = _units(size, 1024) * (2 if touch.transactional else 1)
    owner = (touch.table, str(touch.key[0][1]) if touch.key else "?")
    total.write_units += units
    total.key_units[owner] += units
    if not touch.write:
        return
    total.items_written += 1
    total.key_writes[owner] += 1
    if keys:
        for where, partition, index_units in _index_writes(before, after, keys, touch.table):
            total.write_units += index_units
            total.key_units[owner] += index_units
            total.key_writes[(where, partition)] += 1
    if before is None and after is not None and not _transient(owner):  # a new item: the table grows
        stored = item_size(after) + 100 + sum(
            item_size(entry) + 100 for index in (keys.indexes.values() if keys else ())
            if (entry := _index_entry(after, keys, index)) is not None)
        if keys and keys.expires:
            total.expiring_bytes += stored
        else:
            total.new_bytes += stored


def reader(client=None) -> Callable[[Touch], dict | None]:
    """`item_after` for `cost`: reads the item back (consistently) with a client the recorder does not hook."""
    client = client or private_client()

    def read(touch: Touch) -> dict | None:
        if not touch.raw_key:
            return None
        return client.get_item(TableName=touch.table, Key=touch.raw_key, ConsistentRead=True).get("Item")

    return read
