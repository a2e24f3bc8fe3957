"""Errors DynamoDB Local never produces (transaction conflicts, throttling), injected per call.

A botocore `before-call` handler answers chosen calls with an error, as Stubber would, and lets every
other call reach DynamoDB Local for real, so a test sees both the fault and the true end state.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.api import hooked


class _HTTP400:
    status_code = 400
    headers: dict = {}


def error(code: str, message: str = "injected", reasons: list[str] | None = None) -> dict:
    parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}
    if reasons is not None:
        parsed["CancellationReasons"] = [{"Code": reason, "Message": reason} for reason in reasons]
    return parsed


@contextmanager
def failing(operation: str, responses: list[dict]) -> Iterator[list[int]]:
    """The next len(responses) calls of `operation` answer these errors; yields how many were answered."""
    pending, answered = list(responses), [0]

    def handler(model, **_):
        if model.name == operation and pending:
            answered[0] += 1
            return (_HTTP400(), pending.pop(0))
        return None

    with hooked(f"before-call.dynamodb.{operation}", handler, first=True):
        yield answered


@contextmanager
def dropping(operation: str, error: Exception) -> Iterator[list[int]]:
    """Every call of `operation` fails in transit with `error` (botocore's ConnectionClosedError,
    ReadTimeoutError ...), as when the connection drops: botocore retries, then gives up."""
    dropped = [0]

    def handler(**_):
        dropped[0] += 1
        raise error

    with hooked(f"before-send.dynamodb.{operation}", handler, first=True):
        yield dropped
