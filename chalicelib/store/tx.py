"""One conditioned DynamoDB transaction, with its failed conditions reported by name.

PynamoDB sends a transaction's actions grouped (condition checks, deletes, puts, updates), and
cancellation reasons come back in that order; `Tx` labels each action so a caller learns *which*
invariant refused the write (the idempotency key, the account's version, the stock ...).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from ..errors import ServiceUnavailableError
from ..settings import get_settings
from .models import DB_CONNECT_TIMEOUT, DB_READ_TIMEOUT, DB_RETRIES

MAX_ACTIONS = 100  # DynamoDB's limit per transaction
# Cancellation reasons, and whole-call errors, that say "not now" rather than "no": worth another try.
_RETRYABLE = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
_RETRYABLE_CALL = {"TransactionConflictException", "TransactionInProgressException", "ThrottlingException",
                   "ProvisionedThroughputExceededException", "RequestLimitExceeded", "InternalServerError",
                   "IdempotentParameterMismatchException"}
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


class TxCancelledError(Exception):
    """Some condition failed: `failed` maps each refusing label to the item it saw (or None)."""

    def __init__(self, failed: dict[str, dict | None], conflict: bool) -> None:
        super().__init__(", ".join(failed) or "conflict")
        self.failed = failed
        self.conflict = conflict  # a concurrent transaction or throttling: try again


@dataclass
class Tx:
    """Collects labelled actions, then commits them as one TransactWriteItems call."""

    token: str | None = None
    _labels: dict[str, list[str]] = field(default_factory=lambda: {"check": [], "delete": [], "put": [], "update": []})
    _actions: list[tuple[str, tuple, dict]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self._actions)

    def put(self, label: str, model: Any, condition: Any = None, return_old: bool = False) -> None:
        kwargs = {"condition": condition, "return_values": "ALL_OLD" if return_old else None}
        self._add("put", label, "save", (model,), kwargs)

    def update(self, label: str, model: Any, actions: list, condition: Any = None) -> None:
        kwargs = {"condition": condition, "add_version_condition": False}
        self._add("update", label, "update", (model, actions), kwargs)

    def check(self, label: str, model_cls: type, hash_key: Any, range_key: Any, condition: Any) -> None:
        self._add("check", label, "condition_check", (model_cls, hash_key, range_key), {"condition": condition})

    def _add(self, group: str, label: str, method: str, args: tuple, kwargs: dict) -> None:
        if len(self._actions) >= MAX_ACTIONS:
            raise ValueError("a transaction holds at most 100 actions")
        self._labels[group].append(label)
        self._actions.append((method, args, kwargs))

    def commit(self) -> None:
        """Writes everything or nothing; TxCancelledError names the conditions that refused."""
        try:
            with TransactWrite(connection=connection(), client_request_token=self.token) as transaction:
                for method, args, kwargs in self._actions:
                    getattr(transaction, method)(*args, **kwargs)
        except TransactWriteError as exc:
            if exc.cause_response_code != "TransactionCanceledException":
                if exc.cause_response_code in _RETRYABLE_CALL:
                    raise TxCancelledError({}, conflict=True) from exc
                raise ServiceUnavailableError() from exc
            raise self._cancelled(exc) from exc

    def _cancelled(self, exc: TransactWriteError) -> TxCancelledError:
        order = [*self._labels["check"], *self._labels["delete"], *self._labels["put"], *self._labels["update"]]
        failed: dict[str, dict | None] = {}
        conflict = False
        for label, reason in zip(order, exc.cancellation_reasons, strict=False):
            if reason is None or reason.code in (None, "None"):
                continue
            if reason.code == "ConditionalCheckFailed":
                failed[label] = reason.raw_item
            elif reason.code in _RETRYABLE:
                conflict = True
        return TxCancelledError(failed, conflict)
