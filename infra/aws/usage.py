"""Which DynamoDB actions the deployed code calls, found in its source (app.py and chalicelib/).

Chalice cannot see PynamoDB calls (autogen_policy is off), so the IAM policies are built from what this scan
finds: infra/aws/reach.py takes each call it recognises, resolves the table it touches and the functions
that reach it, and infra/aws/policy.py grants each function its own. A feature that starts deleting items
or batch-reading gets the permission when the policy files are regenerated, and CI fails until they are
(tests/infra). `python -m infra.aws.usage` lists every finding.

What is recognised (PynamoDB 6 and the project's `Tx` wrapper):
- a model class or one of its indexes: `Account.get` GetItem, `.query`/`.count` Query, `.scan` Scan,
  `.batch_get` BatchGetItem, `.batch_write` BatchWriteItem, `.exists`/`.describe_table` DescribeTable;
- an instance: `.save(...)` PutItem, `.update(actions=...)` UpdateItem, `.delete()` DeleteItem, `.refresh()` GetItem;
- a transaction (`tx`, `transaction`, ...): `.put`/`.put_new`/`.save` PutItem, `.update`/`.update_values`
  UpdateItem, `.delete` DeleteItem,
  `.check`/`.condition_check` ConditionCheckItem (TransactWriteItems needs no permission of its own);
- a low-level client or connection: `get_item`, `put_item`, `batch_get_item`, `transact_get_items` ...
"""
from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOYED = ("app.py", "chalicelib")

CLASS_METHODS = {"get": "GetItem", "query": "Query", "count": "Query", "scan": "Scan", "batch_get": "BatchGetItem",
                 "batch_write": "BatchWriteItem", "exists": "DescribeTable", "describe_table": "DescribeTable",
                 "create_table": "CreateTable", "delete_table": "DeleteTable"}
TRANSACTION_METHODS = {"put": "PutItem", "save": "PutItem", "update": "UpdateItem", "delete": "DeleteItem",
                       "put_new": "PutItem", "update_values": "UpdateItem",
                       "check": "ConditionCheckItem", "condition_check": "ConditionCheckItem", "get": "GetItem"}
CLIENT_METHODS = {"get_item": "GetItem", "put_item": "PutItem", "update_item": "UpdateItem",
                  "delete_item": "DeleteItem", "query": "Query", "scan": "Scan", "batch_get_item": "BatchGetItem",
                  "batch_write_item": "BatchWriteItem", "transact_get_items": "GetItem",
                  "describe_table": "DescribeTable"}
_TRANSACTION_NAMES = ("tx", "transaction", "txn", "transact")


@dataclass(frozen=True, order=True)
class Use:
    action: str  # the IAM action without "dynamodb:"
    where: str  # "chalicelib/services/posting.py:78"
    call: str  # "Account.get"


def _receiver_name(node: ast.expr) -> str:
    """`tx` for tx.put, `Account` for Account.get, `LedgerEntry.by_kind` for an index, `client` for x.client."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_receiver_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _receiver_name(node.func) + "()"
    return "?"


def _is_transaction(receiver: str) -> bool:
    last = receiver.split(".")[-1].lower()
    return last in _TRANSACTION_NAMES or last.endswith("_tx")


def _is_model_or_index(receiver: str, models: dict[str, set[str]]) -> bool:
    """`Account` or `LedgerEntry.by_kind`; not `Account.user_id`, an attribute (`.exists()` is a condition)."""
    head, _, rest = receiver.partition(".")
    return head in models and (not rest or rest in models[head])


def _action(call: ast.Call, receiver: str, method: str, models: dict[str, set[str]]) -> str | None:
    if _is_model_or_index(receiver, models) and method in CLASS_METHODS:
        return CLASS_METHODS[method]
    if _is_transaction(receiver) and method in TRANSACTION_METHODS:
        return TRANSACTION_METHODS[method]
    if (receiver.endswith("client") or receiver.endswith("connection()")) and method in CLIENT_METHODS:
        return CLIENT_METHODS[method]
    keywords = {k.arg for k in call.keywords}
    if method == "save" and receiver not in ("self", "?"):
        return "PutItem"
    if method == "update" and "actions" in keywords:
        return "UpdateItem"
    if method == "delete" and not call.args and (not keywords or keywords <= {"condition", "add_version_condition"}):
        return "DeleteItem"
    if method == "refresh" and not call.args and keywords <= {"consistent_read"}:
        return "GetItem"
    return None


def scan_source(path: Path, models: dict[str, set[str]]) -> list[Use]:
    """The DynamoDB calls in one file; `models` maps each model class name to its index attribute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = _receiver_name(node.func.value)
            action = _action(node, receiver, node.func.attr, models)
            if action:
                uses.append(Use(action, f"{where}:{node.lineno}", f"{receiver}.{node.func.attr}"))
    return uses


def deployed_sources(root: Path = ROOT) -> list[Path]:
    files = []
    for name in DEPLOYED:
        path = root / name
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def model_indexes() -> dict[str, set[str]]:
    from pynamodb.indexes import Index

    from .models import load_models

    return {model.__name__: {name for name in dir(model) if isinstance(getattr(model, name, None), Index)}
            for model in load_models()}


def dynamodb_uses(models: dict[str, set[str]] | None = None) -> list[Use]:
    """Every DynamoDB call site in the deployed code, sorted by action."""
    models = model_indexes() if models is None else models
    return sorted(use for path in deployed_sources() for use in scan_source(path, models))


def used_actions(uses: list[Use] | None = None) -> list[str]:
    return sorted({use.action for use in (dynamodb_uses() if uses is None else uses)})


def lambda_invocations() -> list[Use]:
    """Calls like `client.invoke(FunctionName=...)`: a function that invokes another (a job's fan-out)."""
    uses = []
    for path in deployed_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "invoke" \
                    and any(k.arg == "FunctionName" for k in node.keywords):
                uses.append(Use("InvokeFunction", f"{path.relative_to(ROOT).as_posix()}:{node.lineno}",
                                f"{_receiver_name(node.func.value)}.invoke"))
    return sorted(uses)


def main() -> int:
    for use in dynamodb_uses():
        print(f"dynamodb:{use.action:<20} {use.call:<40} {use.where}")
    for use in lambda_invocations():
        print(f"lambda:{use.action:<22} {use.call:<40} {use.where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
