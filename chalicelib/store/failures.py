"""DynamoDB's failures, translated once into a small typed family (nothing above store/ sees botocore).

- `ConditionFailed`: a transaction's conditions refused it; `failed` maps each refusing action's label to
  the item DynamoDB returned (or None), `conflict` says a concurrent transaction or throttling was in the way.
- `Unavailable`: DynamoDB could not be reached or kept refusing after botocore's retries: 503.
- A ValidationException is a request we built wrong: re-raised as it is, a bug to see (500, api/web.py).
"""
from __future__ import annotations

from typing import NoReturn

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import ServiceUnavailableError


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
