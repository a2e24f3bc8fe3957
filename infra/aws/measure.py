"""What each API operation asks of DynamoDB, measured by running it: calls, items, sizes, capacity units.

A `Recorder` hooks the botocore clients of every model (and the transaction connection) and keeps each
call's parameters and answer; `cost()` turns them into AWS on-demand request units by AWS's own rules
(item size rounded up to 1 KB per write and 4 KB per read, strongly consistent reads 1 unit, eventually
consistent 0.5, transactional writes 2x, one more write per GSI the item is projected into). Sizes use
DynamoDB's item-size formula on the real items. DynamoDB Local's own capacity figures are not used (its
transactions report half of AWS's). The journey (`journey()`) is what docs/capacity.md is computed from,
and what tests/infra checks the IAM policy and the hot-spot analysis against.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem"}


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


# --- the tables as the recorder needs them ------------------------------------------------------------
@dataclass(frozen=True)
class TableKeys:
    hash_key: str
    range_key: str | None
    indexes: dict[str, tuple[str, str]]  # index name -> (hash attribute, projection type)
    expires: bool = False  # a TTL attribute: items go away (idempotency records, replay guards)


def table_keys() -> dict[str, TableKeys]:
    """Full table name -> its keys, from ALL_MODELS."""
    from .models import table_specs

    found = {}
    for spec in table_specs():
        schema = spec.schema
        key = {k["KeyType"]: k["AttributeName"] for k in schema["key_schema"]}
        indexes = {i["index_name"]: ({k["KeyType"]: k["AttributeName"] for k in i["key_schema"]}["HASH"],
                                     i["projection"]["ProjectionType"])
                   for i in schema["global_secondary_indexes"]}
        found[spec.model.Meta.table_name] = TableKeys(key["HASH"], key.get("RANGE"), indexes, bool(spec.ttl_attribute))
    return found


# --- recording -------------------------------------------------------------------------------------
@dataclass
class Call:
    operation: str
    params: dict
    response: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return "Error" in self.response


def clients() -> list:
    """The botocore clients the app uses: one per model connection, and the transactions' connection."""
    from chalicelib.store.tables import ALL_MODELS
    from chalicelib.store.tx import connection

    found = [model._get_connection().connection.client for model in ALL_MODELS] + [connection().client]
    return list({id(c): c for c in found}.values())


class Recorder:
    """Records every DynamoDB call made in its `with` block (this process, all threads)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._clients = clients()

    def _before(self, params, model, **_) -> None:
        self.calls.append(Call(model.name, copy.deepcopy(params)))

    def _after(self, parsed, model, **_) -> None:
        for call in reversed(self.calls):
            if call.operation == model.name and not call.response:
                call.response = parsed
                return

    def __enter__(self) -> Recorder:
        for client in self._clients:
            client.meta.events.register("before-parameter-build.dynamodb", self._before)
            client.meta.events.register("after-call.dynamodb", self._after)
        return self

    def __exit__(self, *exc) -> None:
        for client in self._clients:
            client.meta.events.unregister("before-parameter-build.dynamodb", self._before)
            client.meta.events.unregister("after-call.dynamodb", self._after)

    def take(self) -> list[Call]:
        calls, self.calls = self.calls, []
        return calls


# --- what a call touches -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Touch:
    """One item (or index) a call reads or writes, as IAM and the capacity model see it."""

    action: str  # IAM action: GetItem, PutItem, Query, ConditionCheckItem ...
    table: str
    index: str | None = None
    key: tuple = ()  # ((attribute, value), ...) of the written item; the partition for a Query
    item: dict | None = None  # the item written (Put) or read
    raw_key: dict | None = None  # the item's key as DynamoDB takes it
    consistent: bool = False
    transactional: bool = False
    write: bool = False


def _key_of(item: dict, keys: TableKeys) -> tuple:
    names = [keys.hash_key] + ([keys.range_key] if keys.range_key else [])
    return tuple((n, _plain(item.get(n))) for n in names)


def _raw_key(item: dict | None, keys: TableKeys | None) -> dict | None:
    if not item or not keys:
        return None
    names = [keys.hash_key] + ([keys.range_key] if keys.range_key else [])
    return {n: item[n] for n in names if n in item}


def _plain(value: dict | None):
    if not value:
        return None
    (kind, raw), = value.items()
    return Decimal(raw) if kind == "N" else raw


_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def touches(call: Call, schema: dict[str, TableKeys]) -> Iterator[Touch]:
    p, op = call.params, call.operation
    if op in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
        keys = schema.get(p["TableName"])
        item = p.get("Item") if op == "PutItem" else call.response.get("Item")
        key = _key_of(p.get("Item") or p.get("Key"), keys) if keys else ()
        yield Touch(op, p["TableName"], key=key, item=item, consistent=bool(p.get("ConsistentRead")),
                    write=op in WRITE_OPS, raw_key=_raw_key(p.get("Item") or p.get("Key"), keys))
    elif op in ("Query", "Scan"):
        values = p.get("ExpressionAttributeValues", {})
        partition = tuple(sorted((k, _plain(v)) for k, v in values.items()))[:1]
        yield Touch(op, p["TableName"], p.get("IndexName"), key=partition, consistent=bool(p.get("ConsistentRead")),
                    item={"_items": {"L": [{"M": i} for i in call.response.get("Items", [])]}})
    elif op == "BatchGetItem":
        for table, request in p["RequestItems"].items():
            for item in call.response.get("Responses", {}).get(table, []) or [None]:
                yield Touch("BatchGetItem", table, item=item, consistent=bool(request.get("ConsistentRead")))
    elif op == "BatchWriteItem":
        for table, requests in p["RequestItems"].items():
            for request in requests:
                item = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key")
                keys = schema.get(table)
                yield Touch("BatchWriteItem", table, key=_key_of(item, keys) if keys else (),
                            item=request.get("PutRequest", {}).get("Item"), write=True, raw_key=_raw_key(item, keys))
    elif op == "TransactWriteItems":
        for entry in p["TransactItems"]:
            (kind, body), = entry.items()
            keys = schema.get(body["TableName"])
            item = body.get("Item") or body.get("Key")
            yield Touch(_TRANSACT[kind], body["TableName"], key=_key_of(item, keys) if keys else (),
                        item=body.get("Item"), transactional=True, write=kind != "ConditionCheck",
                        raw_key=_raw_key(item, keys))


def written_partitions(call: Call, schema: dict[str, TableKeys]) -> set[tuple[str, str]]:
    """Every partition a call writes: (table, hash key value), and (table/index, value) for each GSI the
    written item lands in (known for puts; an update that sets a GSI key shows in its UpdateExpression values)."""
    found = set()
    for touch in touches(call, schema):
        if not touch.write or not touch.key:
            continue
        found.add((touch.table, str(touch.key[0][1])))
        keys = schema.get(touch.table)
        for index, (hash_attr, _) in (keys.indexes.items() if keys else ()):
            value = (touch.item or {}).get(hash_attr)
            if value:
                found.add((f"{touch.table}/{index}", str(_plain(value))))
    return found


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


def cost(calls: list[Call], schema: dict[str, TableKeys], item_after: Callable[[Touch], dict | None]) -> Cost:
    """On-demand request units of the calls; `item_after(touch)` is a written item as it is after the write."""
    total = Cost(calls=len(calls))
    for call in calls:
        total.operations[call.operation] = total.operations.get(call.operation, 0) + 1
        for touch in touches(call, schema):
            if touch.action in ("GetItem", "BatchGetItem", "Query", "Scan"):
                units = max(1, math.ceil(item_size(touch.item) / 4096)) * (1 if touch.consistent else 0.5)
                total.read_units += units
                continue
            item = touch.item if touch.item is not None else item_after(touch)
            size = item_size(item)
            total.write_units += max(1, math.ceil(size / 1024)) * (2 if touch.transactional else 1)
            if not touch.write:
                continue
            total.items_written += 1
            keys = schema.get(touch.table)
            stored = size + 100  # DynamoDB stores 100 bytes of overhead per item
            for hash_attr, projection in (keys.indexes.values() if keys else ()):
                if item and hash_attr in item:  # the index holds a copy, written with the item
                    projected = size if projection != "KEYS_ONLY" else 100
                    total.write_units += max(1, math.ceil(projected / 1024))
                    stored += projected + 100
            if touch.action not in ("PutItem", "BatchWriteItem") or touch.item is None:
                continue  # an update or delete of an existing item does not grow the table
            if keys and keys.expires:
                total.expiring_bytes += stored
            else:
                total.new_bytes += stored
    return total


def reader(client) -> Callable[[Touch], dict | None]:
    """`item_after` for `cost`: reads the item back (consistently), outside any recording."""
    def read(touch: Touch) -> dict | None:
        if not touch.raw_key:
            return None
        return client.get_item(TableName=touch.table, Key=touch.raw_key, ConsistentRead=True).get("Item")

    return read
