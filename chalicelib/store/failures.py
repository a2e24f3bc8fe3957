"""DynamoDB's failures, translated once into a small typed family (nothing above store/ sees botocore).

- `ConditionFailed`: a transaction's conditions refused it; `failed` maps each refusing action's label to
  the item DynamoDB returned (or None), `conflict` says a concurrent transaction was in the way. A lost race:
  read again and retry after `conflict_pause`.
- `Throttled`: DynamoDB throttled the write past botocore's own retries. Not a race: at most one more try
  after the longer `throttled_pause`, then it is the 503 it is (a subclass of `Unavailable`).
- `Unavailable`: DynamoDB could not be reached or kept refusing after botocore's retries: 503.
- `WriteRejected`: a transaction cancelled for a reason no retry changes (a ValidationError reason: a request
  we built wrong; ItemCollectionSizeLimitExceeded; a reason we do not know): our bug to see, a 500, never retried.
- A ValidationException is a request we built wrong: re-raised as it is, a bug to see (500, api/web.py).
- `of_database(exc)`: what reached the edge untranslated, as `Unavailable` or `Malformed` (500): api/web.py
  answers with it and never names botocore or PynamoDB.
"""
from __future__ import annotations

import random
from typing import NoReturn

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from ..errors import AppError, InternalError, ServiceUnavailableError

# A transaction's cancellation reasons, by what they mean (DynamoDB's TransactWriteItems reference).
REFUSED = "ConditionalCheckFailed"
NO_REASON = {"None", "NONE", None}  # an action that was not the cause
CONFLICT_REASONS = {"TransactionConflict"}
THROTTLED_REASONS = {"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
# Whole-call errors of TransactWriteItems.
CONFLICT_CALLS = {"TransactionConflictException", "TransactionInProgressException",
                  "IdempotentParameterMismatchException"}
THROTTLED_CALLS = {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
                   "InternalServerError"}

CONFLICT_PAUSE = (0.02, 0.2)  # seconds: the first pause's ceiling, the cap; doubled each attempt, half jittered
THROTTLED_PAUSE = (0.3, 0.8)  # seconds: after botocore's own back-off, one longer pause before the last try
THROTTLED_ATTEMPTS = 2  # tries of a throttled transaction (each is 1 + DB_RETRIES calls by botocore)


class ConditionFailed(Exception):
    def __init__(self, failed: dict[str, dict | None], conflict: bool = False) -> None:
        super().__init__(", ".join(failed) or "conflict")
        self.failed = failed
        self.conflict = conflict

    def refused(self, label: str) -> bool:
        return label in self.failed


class Unavailable(ServiceUnavailableError):
    """DynamoDB is unreachable or throttling past botocore's retries (api.md: SERVICE_UNAVAILABLE)."""


class Throttled(Unavailable):
    """The write was throttled (by the table, an item's partition or the account) past botocore's retries."""


class WriteRejected(Exception):
    """A transaction cancelled for a reason that no retry changes: a 500 (api/web.py), logged with its reasons."""


def error_code(exc: BaseException) -> str | None:
    return ((getattr(exc, "response", None) or {}).get("Error") or {}).get("Code")


def raise_unavailable(exc: BotoCoreError | ClientError) -> NoReturn:
    """Translates a failed botocore call: Unavailable, except a ValidationException (re-raised: our bug)."""
    if isinstance(exc, ClientError) and error_code(exc) == "ValidationException":
        raise exc
    raise Unavailable() from exc


def cancelled(labels: list[str], reasons: list[dict]) -> Exception:
    """What a TransactionCanceledException means, from its reasons (in the order of the actions): the refused
    labels (ConditionFailed) if any condition refused; else Throttled, a conflict (ConditionFailed with
    `conflict`), or WriteRejected for any other reason."""
    failed: dict[str, dict | None] = {}
    codes = set()
    for label, reason in zip(labels, reasons, strict=False):
        code = (reason or {}).get("Code")
        if code == REFUSED:
            failed[label] = reason.get("Item")
        elif code not in NO_REASON:
            codes.add(code)
    unknown = codes - CONFLICT_REASONS - THROTTLED_REASONS
    if unknown:
        return WriteRejected(f"transaction cancelled: {', '.join(sorted(unknown))}")
    if failed:
        return ConditionFailed(failed, conflict=bool(codes & CONFLICT_REASONS))
    if codes & THROTTLED_REASONS:
        return Throttled()
    return ConditionFailed({}, conflict=bool(codes))


def call_failed(code: str | None) -> Exception | None:
    """A whole TransactWriteItems call refused: a conflict, Throttled, or None (not one of ours to classify)."""
    if code in CONFLICT_CALLS:
        return ConditionFailed({}, conflict=True)
    if code in THROTTLED_CALLS:
        return Throttled()
    return None


def conflict_pause(attempt: int) -> float:
    """Seconds to wait before retry number `attempt + 1` after a lost race: doubling, capped, half jittered
    (racers drift apart instead of meeting again)."""
    ceiling = min(CONFLICT_PAUSE[1], CONFLICT_PAUSE[0] * 2 ** attempt)
    return random.uniform(ceiling / 2, ceiling)


def throttled_pause() -> float:
    return random.uniform(*THROTTLED_PAUSE)


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
