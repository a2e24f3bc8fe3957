"""What each piece of code that calls DynamoDB touches, declared as data beside it: the tables (and indexes) and
the DynamoDB actions. infra/aws/policy.py composes the declarations each Lambda function names (the API's in
bootstrap.py, each job's in jobs.py) into that function's IAM policy; tests/infra/test_roles_in_use.py runs
the flows and fails on a call the declarations do not cover.

- A repository class declares `ACCESS`, a tuple of what its own methods touch; a subclass declares only what
  it adds (the bases' are inherited: every class of the MRO counts).
- A module-level function is declared with `@access(...)` (it only sets the function's `ACCESS`).
- An entry is `on(Model, "GetItem", ...)`, `on(Model, "Query", index="by_user")` (the model's index
  attribute), or another declared piece the code uses (a unit of work names its repositories).
A transaction's items count as their own actions (`tx.put_new` PutItem, `tx.check` ConditionCheckItem):
TransactWriteItems needs no permission of its own. Nothing here is read at run time; importing costs nothing.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..domain.values import immutable

ACTIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                     "BatchWriteItem", "ConditionCheckItem", "DescribeTable"})


@dataclass(frozen=True, order=True)
class Touch:
    """One action on one table (by its model) or, for a Query, on one of its indexes (the model's attribute)."""

    model: str  # "chalicelib.store.models.LedgerEntry"
    action: str  # IAM's name without "dynamodb:"
    index: str = ""


@immutable
class Access:
    model: type
    actions: tuple[str, ...]
    index: str = ""


def on(model: type, *actions: str, index: str = "") -> Access:
    unknown = set(actions) - ACTIONS
    if unknown or not actions:
        raise ValueError(f"{model.__name__}: unknown DynamoDB actions {sorted(unknown) or actions}")
    if index and actions != ("Query",):
        raise ValueError(f"{model.__name__}.{index}: an index is only queried")
    return Access(model, tuple(actions), index)


def access(*entries: Any) -> Callable:
    """`@access(on(Account, "GetItem"))` over a module-level function that calls DynamoDB."""
    def declare(function: Callable) -> Callable:
        function.ACCESS = entries
        return function

    return declare


def resolve(name: str) -> Any:
    """"chalicelib.store.repositories_erasure:finish" -> the function (or class, or module without `:`)."""
    module, _, attribute = name.partition(":")
    found: Any = importlib.import_module(module)
    for part in filter(None, attribute.split(".")):
        found = getattr(found, part)
    return found


def _own(piece: Any) -> Iterable[Any]:
    if isinstance(piece, type):
        return [entry for klass in piece.__mro__ for entry in vars(klass).get("ACCESS", ())]
    if not hasattr(piece, "ACCESS"):
        raise TypeError(f"{getattr(piece, '__qualname__', piece)!r} declares no ACCESS (store/access.py)")
    return piece.ACCESS


def touches(*pieces: Any) -> Iterator[Touch]:
    """Every (table, action, index) the pieces declare, following the pieces they name; a string is resolved."""
    seen: set[int] = set()
    stack = list(pieces)
    while stack:
        piece = stack.pop()
        if isinstance(piece, str):
            piece = resolve(piece)
        if isinstance(piece, Access):
            for action in piece.actions:
                yield Touch(f"{piece.model.__module__}.{piece.model.__name__}", action, piece.index)
        elif isinstance(piece, (tuple, list)):
            stack.extend(piece)
        elif id(piece) not in seen:
            seen.add(id(piece))
            entries = list(_own(piece))
            if isinstance(piece, type) and not entries:
                raise TypeError(f"{piece.__qualname__} declares no ACCESS (store/access.py)")
            stack.extend(entries)
