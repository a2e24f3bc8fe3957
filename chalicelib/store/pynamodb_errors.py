"""PynamoDB 6.1's `cause_response_code` and `cause_response_message` assume the cause has a `response`
dict; botocore's ConnectionClosedError and ReadTimeoutError carry `response = None`, so every
`exc.cause_response_code` raised AttributeError (a 500) when DynamoDB's connection dropped or timed out
after botocore's own retries. Patched once here, for every model and transaction: a failure without a
DynamoDB response has no code, and the callers' "anything else" branch answers 503 SERVICE_UNAVAILABLE.
Found by tests/reliability/test_database_faults.py; drop this when PynamoDB handles it.
"""
from __future__ import annotations

from pynamodb.exceptions import PynamoDBException


def _error_field(exc: PynamoDBException, name: str) -> str | None:
    response = getattr(exc.cause, "response", None)
    return ((response or {}).get("Error") or {}).get(name) if isinstance(response, dict) else None


PynamoDBException.cause_response_code = property(lambda exc: _error_field(exc, "Code"))
PynamoDBException.cause_response_message = property(lambda exc: _error_field(exc, "Message"))
