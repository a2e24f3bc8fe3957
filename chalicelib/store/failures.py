"""DynamoDB's failures, translated once into a small typed family (nothing above store/ sees botocore).

- `ConditionFailed`: a transaction's conditions refused it; `failed` maps each refusing action's label to
  the item DynamoDB returned (or None), `conflict` says a concurrent transaction or throttling was in the way.
- `Unavailable`: DynamoDB could not be reached or kept refusing after botocore's retries: 503.
- A ValidationException is a request we built wrong: re-raised as it is, a bug to see (500, api/web.py).
- `of_database(exc)`: what reached the edge untranslated, as `Unavailable` or `Malformed` (500): api/web.py
  answers with it and never names botocore or PynamoDB.
"""
from __future__ import annotations

from typing import NoReturn

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from ..errors import AppError, InternalError, ServiceUnavailableError


class ConditionFailed(Exception):
    def __init__(self, failed: dict[str, dict | None], conflict: bool = False) -> None:
        super().__init__(", ".join(failed) or "conflict")
        self.failed = failed
        self.conflict = conflict

    def refused(self, label: str) -> bool:
        return label in self.failed


class Unavailable(ServiceUnavailableError):
    """DynamoDB is unreachable or throttling past botocore's retries (api.md: SERVICE_UNAVAILABLE)."""


def error_code(exc: BaseException) -> str | None:
    return ((getattr(exc, "response", None) or {}).get("Error") or {}).get("Code")


def raise_unavailable(exc: BotoCoreError | ClientError) -> NoReturn:
    """Translates a failed botocore call: Unavailable, except a ValidationException (re-raised: our bug)."""
    if isinstance(exc, ClientError) and error_code(exc) == "ValidationException":
        raise exc
    raise Unavailable() from exc


class Malformed(InternalError):
    """DynamoDB refused a request as malformed (ValidationException, a key too long ...): a request we built
    wrong, so retrying cannot help. Our bug: 500, logged with its stack (api/web.py)."""


def of_database(exc: BaseException) -> AppError | None:
    """A DynamoDB failure that reached the edge untranslated, as the typed one the edge answers with:
    `Malformed` for a ValidationException (500), `Unavailable` for anything else from PynamoDB or botocore (a
    throttle or a dropped connection, anywhere: 503); None when `exc` is not DynamoDB's."""
    if not isinstance(exc, (PynamoDBException, BotoCoreError, ClientError)):
        return None
    cause = exc.cause if isinstance(exc, PynamoDBException) else exc
    return Malformed() if error_code(cause) == "ValidationException" else Unavailable()
