"""PynamoDB 6.1's `cause_response_code` and `cause_response_message` assume the cause has a `response`
dict; botocore's ConnectionClosedError and ReadTimeoutError carry `response = None`, so every
`exc.cause_response_code` raised AttributeError (a 500) when DynamoDB's connection dropped or timed out
after botocore's own retries. Patched once here, for every model and transaction: a failure without a
DynamoDB response has no code, and the callers' "anything else" branch answers 503 SERVICE_UNAVAILABLE.
Found by tests/reliability/test_database_faults.py; drop this when PynamoDB handles it (PynamoDB is pinned in
requirements.txt; tests/unit/test_pynamodb_patches.py fails when the patch stops applying or stops being needed).
"""
from __future__ import annotations

from pynamodb.exceptions import PynamoDBException


def _error_field(exc: PynamoDBException, name: str) -> str | None:
    response = getattr(exc.cause, "response", None)
    return ((response or {}).get("Error") or {}).get(name) if isinstance(response, dict) else None


def _code(exc: PynamoDBException) -> str | None:
    return _error_field(exc, "Code")


def _message(exc: PynamoDBException) -> str | None:
    return _error_field(exc, "Message")


PYNAMODB_CODE = PynamoDBException.__dict__["cause_response_code"]  # PynamoDB's own, kept for the test
PynamoDBException.cause_response_code = property(_code)
PynamoDBException.cause_response_message = property(_message)
