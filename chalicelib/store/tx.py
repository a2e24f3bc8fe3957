"""One conditioned DynamoDB transaction, with its failed conditions reported by name.

`Tx` labels each action, so a caller learns *which* invariant refused the write (the idempotency key,
the account's version, the stock ...): DynamoDB's cancellation reasons come back in the order of the
actions, which is the order they were added. Actions come from PynamoDB models and conditions (`put`,
`update`, `check`) or, on the hot path, from plain values typed by the model (`put_new`, `update_values`,
store/items.py); either way the request goes to botocore as one TransactWriteItems call.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.connection import Connection
from pynamodb.models import Model

from ..domain.guards import Guard, GuardFailed
from ..settings import get_settings
from . import items
from .failures import ConditionFailed, call_failed, cancelled, error_code, raise_unavailable
from .models import DB_CONNECT_TIMEOUT, DB_READ_TIMEOUT, DB_RETRIES

MAX_ACTIONS = 100  # DynamoDB's limit per transaction
_connection: Connection | None = None


def connection() -> Connection:
    """The connection transactions use, built once per container."""
    global _connection
    if _connection is None:
        settings = get_settings()
        _connection = Connection(region=settings.aws_region, host=settings.dynamodb_endpoint,
                                 connect_timeout_seconds=DB_CONNECT_TIMEOUT, read_timeout_seconds=DB_READ_TIMEOUT,
                                 max_retry_attempts=DB_RETRIES)
    return _connection


TxCancelledError = ConditionFailed  # transitional name, kept for the services not yet on the unit of work


@dataclass
class Tx:
    """Collects labelled actions, then commits them as one TransactWriteItems call."""

    _labels: list[str] = field(default_factory=list)
    _items: list[dict] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self._items)

    def put(self, label: str, model: Model, condition: Any = None, return_old: bool = False) -> None:
        self._add(label, "Put", model.get_save_kwargs_from_instance(
            condition=condition, return_values_on_condition_failure="ALL_OLD" if return_old else None))

    def update(self, label: str, model: Model, actions: list, condition: Any = None, return_old: bool = False) -> None:
        self._add(label, "Update", model.get_update_kwargs_from_instance(
            actions=actions, condition=condition, add_version_condition=False,
            return_values_on_condition_failure="ALL_OLD" if return_old else None))

    def delete(self, label: str, model: Model, condition: Any = None) -> None:
        self._add(label, "Delete", model.get_delete_kwargs_from_instance(condition=condition,
                                                                         add_version_condition=False))

    def check(self, label: str, model_cls: type[Model], hash_key: Any, range_key: Any, condition: Any) -> None:
        self._add(label, "ConditionCheck", model_cls.get_operation_kwargs_from_class(
            hash_key, range_key=range_key, condition=condition))

    def put_new(self, label: str, model_cls: type[Model], values: dict[str, Any], return_old: bool = False) -> None:
        """A new item from plain values, refused under `label` if an item with its key exists."""
        action = {"TableName": model_cls.Meta.table_name, "Item": items.item(model_cls, values),
                  "ConditionExpression": "attribute_not_exists(#k)",
                  "ExpressionAttributeNames": {"#k": items.attr_name(model_cls, model_cls._hash_keyname)}}
        if return_old:
            action["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        self._add(label, "Put", action)

    def update_values(self, label: str, model_cls: type[Model], key: dict[str, dict],
                      set_: dict[str, Any] | None = None, add: dict[str, int] | None = None,
                      expect: dict[str, Any] | None = None, remove: tuple[str, ...] = ()) -> None:
        """SET and ADD plain values on the item at `key` (items.key), and REMOVE the attributes named in `remove`.
        With `expect`, the item must exist and hold those values, or the update is refused under `label`."""
        names, values, clauses = {}, {}, []
        for verb, changes in (("SET", set_), ("ADD", add)):
            parts = []
            for name, plain in (changes or {}).items():
                slot = str(len(names))
                names["#" + slot] = items.attr_name(model_cls, name)
                values[":" + slot] = items.value(model_cls, name, plain)
                parts.append(f"#{slot} = :{slot}" if verb == "SET" else f"#{slot} :{slot}")
            if parts:
                clauses.append(f"{verb} {', '.join(parts)}")
        if remove:
            start = len(names)
            names.update({f"#{start + index}": items.attr_name(model_cls, name) for index, name in enumerate(remove)})
            clauses.append("REMOVE " + ", ".join(f"#{start + index}" for index in range(len(remove))))
        action = {"TableName": model_cls.Meta.table_name, "Key": key, "UpdateExpression": " ".join(clauses),
                  "ExpressionAttributeNames": names}
        if expect:
            names["#k"] = items.attr_name(model_cls, model_cls._hash_keyname)
            conditions = ["attribute_exists(#k)"]
            for name, plain in expect.items():
                slot = str(len(names))
                names["#" + slot] = items.attr_name(model_cls, name)
                values[":" + slot] = items.value(model_cls, name, plain)
                conditions.append(f"#{slot} = :{slot}")
            action["ConditionExpression"] = " AND ".join(conditions)
        if values:
            action["ExpressionAttributeValues"] = values
        self._add(label, "Update", action)

    def raw(self, kind: str, label: str, action: dict) -> None:
        """An action written out in DynamoDB's own shape (a store module's expression the helpers above cannot
        say: store/risk_memory.py)."""
        self._add(label, kind, action)

    def _add(self, label: str, kind: str, action: dict) -> None:
        if len(self._items) >= MAX_ACTIONS:
            raise ValueError("a transaction holds at most 100 actions")
        self._labels.append(label)
        self._items.append({kind: action})

    def commit(self) -> None:
        """Writes everything or nothing. ConditionFailed names the conditions that refused (or says a concurrent
        transaction was in the way); Throttled, Unavailable or WriteRejected otherwise (store/failures.py)."""
        request: dict[str, Any] = {"TransactItems": self._items}
        request["ClientRequestToken"] = transaction_token()
        try:
            connection().client.transact_write_items(**request)
        except ClientError as exc:
            code = error_code(exc)
            if code == "TransactionCanceledException":
                raise cancelled(self._labels, exc.response.get("CancellationReasons") or []) from exc
            failed = call_failed(code)
            if failed is not None:
                raise failed from exc
            raise_unavailable(exc)
        except BotoCoreError as exc:
            raise_unavailable(exc)


def transaction_token() -> str:
    """A ClientRequestToken of its own for each transaction this code builds. botocore resends the same
    request (and so the same token) when it retries a call, which DynamoDB then applies once; a new attempt
    (after a lost race, another stock shard, a new certificate number, or the client's retry of a request
    whose first attempt failed) is a new request with new contents, and reusing a token with other contents
    within ten minutes is refused by DynamoDB (IdempotentParameterMismatch). A retried request finds its
    first result through the idempotency record's condition, never through the token."""
    return secrets.token_hex(18)


def commit_guards(guards: list[Guard], stage: Callable[[Tx, str, Guard], None]) -> bool:
    """Guards without a posting (a scan, a join) as one TransactWriteItems, each staged by `stage(tx, label,
    guard)`: True when written, False after a lost race (a concurrent transaction, a guard that does not refuse:
    try again), GuardFailed naming the refusing guard that failed."""
    tx = Tx()
    labelled = [(f"guard:{index}", guard) for index, guard in enumerate(guards)]
    for label, guard in labelled:
        stage(tx, label, guard)
    try:
        tx.commit()
    except ConditionFailed as refused:
        for label, guard in labelled:
            if guard.refuses and refused.refused(label):
                raise GuardFailed(guard) from None
        return False
    return True
