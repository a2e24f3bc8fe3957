"""One conditioned PutItem, UpdateItem or DeleteItem, its outcome told without PynamoDB's exceptions:
True written, False refused by its condition; any other failure is `Unavailable` (503), except a
ValidationException, re-raised as it is (a request we built wrong: our bug, 500 at api/web.py)."""
from __future__ import annotations

from collections.abc import Callable

from pynamodb.exceptions import PynamoDBException

from .failures import Unavailable

CONDITION_FAILED = "ConditionalCheckFailedException"


def written(write: Callable[[], object]) -> bool:
    try:
        write()
    except PynamoDBException as exc:
        if exc.cause_response_code == CONDITION_FAILED:
            return False
        if exc.cause_response_code == "ValidationException":
            raise
        raise Unavailable() from exc
    return True
