"""What each operation asks of DynamoDB, measured by running it: calls, items, sizes, capacity units.

A `Recorder` hooks the botocore clients of every model (and the transaction connection), keeps each call's
parameters and answer, and reads every item a write is about to change as it was before (with a client of
its own, so those reads are not recorded). `cost()` (bench/units.py) turns the calls into AWS on-demand request units by
AWS's own rules:
- a write costs 1 unit per KB of the larger of the item before and after, rounded up; 2 in a transaction
  (a ConditionCheck as a transactional write of the checked item);
- each global secondary index: nothing when the write changes nothing the index holds; 1 write per KB of the
  projected item when it appears, disappears or changes; 2 (a delete and a put) when its index key changes;
- reads: 1 unit per 4 KB strongly consistent, 0.5 eventually consistent; a Query adds up its items, then
  rounds; a BatchGetItem rounds each key asked for alone, and a key that is absent still costs the minimum.
Sizes use DynamoDB's item-size formula on the real items. DynamoDB Local's own capacity figures are not
used (its transactions report half of AWS's). bench/journey.py runs the operations, bench/capacity.py
makes docs/capacity.md from them, and tests/infra checks the IAM policy and the hot keys against them.
"""
from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem"}


# --- the tables as the recorder needs them ------------------------------------------------------------
@dataclass(frozen=True)
class TableKeys:
    hash_key: str
    range_key: str | None
    indexes: dict[str, Index]  # index name -> its keys and projection
    expires: bool = False  # a TTL attribute: items go away (idempotency records, replay guards)


@dataclass(frozen=True)
class Index:
    hash_key: str
    range_key: str | None
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    included: tuple[str, ...] = ()


def table_keys() -> dict[str, TableKeys]:
    """Full table name -> its keys, from ALL_MODELS (under the TABLE_PREFIX of this process)."""
    from chalicelib.store.models import TABLE_PREFIX

    return _table_keys(TABLE_PREFIX)


@functools.cache
def _table_keys(prefix: str) -> dict[str, TableKeys]:
    from infra.aws.models import table_specs

    found = {}
    for spec in table_specs():
        schema = spec.schema
        key = {k["KeyType"]: k["AttributeName"] for k in schema["key_schema"]}
        indexes = {}
        for index in schema["global_secondary_indexes"]:
            keys = {k["KeyType"]: k["AttributeName"] for k in index["key_schema"]}
            projection = index["projection"]
            indexes[index["index_name"]] = Index(keys["HASH"], keys.get("RANGE"), projection["ProjectionType"],
                                                 tuple(projection.get("NonKeyAttributes", ())))
        found[spec.model.Meta.table_name] = TableKeys(key["HASH"], key.get("RANGE"), indexes, bool(spec.ttl_attribute))
    return found


# --- recording -------------------------------------------------------------------------------------
@dataclass
class Call:
    operation: str
    params: dict
    response: dict = field(default_factory=dict)
    before: dict = field(default_factory=dict)  # (table, key) -> the item before the call (None: absent)

    @property
    def failed(self) -> bool:
        return "Error" in self.response


def clients() -> list:
    """The botocore clients the app uses: one per model connection, and the transactions' connection."""
    from chalicelib.store.tables import ALL_MODELS
    from chalicelib.store.tx import connection

    found = [model._get_connection().connection.client for model in ALL_MODELS] + [connection().client]
    return list({id(c): c for c in found}.values())


def private_client():
    """A DynamoDB client of the measurement's own, on the app's endpoint: what it reads is never recorded."""
    from chalicelib.settings import get_settings

    settings = get_settings()
    return _client(settings.aws_region, settings.dynamodb_endpoint)


@functools.cache
def _client(region: str | None, endpoint: str | None):
    import boto3

    return boto3.client("dynamodb", region_name=region, endpoint_url=endpoint)


def frozen(key: dict) -> tuple:
    return tuple(sorted((name, str(plain_value(value))) for name, value in key.items()))


class Recorder:
    """Records every DynamoDB call made in its `with` block (this process, all threads), with the items each
    write is about to change as they were before it (read with a client of its own)."""

    def __init__(self, schema: dict[str, TableKeys] | None = None) -> None:
        self.calls: list[Call] = []
        self._clients = clients()
        self._schema = schema
        self._own = None

    def _before(self, params, model, **_) -> None:
        call = Call(model.name, copy.deepcopy(params))
        if model.name in WRITES:
            call.before = self._read_before(call)
        self.calls.append(call)

    def _read_before(self, call: Call) -> dict:
        if self._schema is None:
            self._schema = table_keys()
        if self._own is None:
            self._own = private_client()
        found = {}
        for touch in touches(call, self._schema):
            if touch.write or touch.action == "ConditionCheckItem":
                if touch.raw_key and (touch.table, frozen(touch.raw_key)) not in found:
                    item = self._own.get_item(TableName=touch.table, Key=touch.raw_key, ConsistentRead=True)
                    found[(touch.table, frozen(touch.raw_key))] = item.get("Item")
        return found

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


WRITES = WRITE_OPS | {"BatchWriteItem", "TransactWriteItems"}


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
    return tuple((n, plain_value(item.get(n))) for n in names)


def _raw_key(item: dict | None, keys: TableKeys | None) -> dict | None:
    if not item or not keys:
        return None
    names = [keys.hash_key] + ([keys.range_key] if keys.range_key else [])
    return {n: item[n] for n in names if n in item}


def plain_value(value: dict | None):
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
        partition = tuple(sorted((k, plain_value(v)) for k, v in values.items()))[:1]
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
        for index_name, index in (keys.indexes.items() if keys else ()):
            value = (touch.item or {}).get(index.hash_key)
            if value:
                found.add((f"{touch.table}/{index_name}", str(plain_value(value))))
    return found
