"""What a refused transaction means (issue 19 item 7): a lost race is retried after a growing, jittered
pause; throttling is not a race (one more try after a longer pause, then 503); a reason no retry changes
(a request we built wrong, a full item collection, a reason we do not know) is a 500, never retried."""
from __future__ import annotations

import pytest

from chalicelib.store import failures
from chalicelib.store.failures import (
    ConditionFailed,
    Throttled,
    Unavailable,
    WriteRejected,
    call_failed,
    cancelled,
    conflict_pause,
)

LABELS = ["idempotency", "account", "entry:0", "summary:2026-12#walk"]


def reasons(*codes: str) -> list[dict]:
    return [{"Code": code} for code in codes]


def test_a_refused_condition_names_its_label_and_a_concurrent_transaction_is_a_conflict():
    refused = cancelled(LABELS, reasons("None", "ConditionalCheckFailed", "None", "None"))
    assert isinstance(refused, ConditionFailed) and refused.failed == {"account": None} and not refused.conflict
    race = cancelled(LABELS, reasons("None", "None", "TransactionConflict", "None"))
    assert isinstance(race, ConditionFailed) and race.failed == {} and race.conflict
    assert isinstance(call_failed("TransactionConflictException"), ConditionFailed)
    assert call_failed("TransactionInProgressException").conflict


@pytest.mark.parametrize("code", ["ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"])
def test_a_throttled_action_is_not_a_race_but_a_503(code):
    throttled = cancelled(LABELS, reasons("None", code, "None", "None"))
    assert isinstance(throttled, Throttled) and isinstance(throttled, Unavailable)
    assert not isinstance(throttled, ConditionFailed)


@pytest.mark.parametrize("code", ["ThrottlingException", "ProvisionedThroughputExceededException",
                                  "RequestLimitExceeded", "InternalServerError"])
def test_a_throttled_call_is_a_503_too(code):
    assert isinstance(call_failed(code), Throttled)


@pytest.mark.parametrize("code", ["ValidationError", "ItemCollectionSizeLimitExceeded", "SomethingNew"])
def test_a_reason_no_retry_changes_is_our_500_even_beside_a_refused_condition(code):
    for codes in (("None", code, "None", "None"), ("ConditionalCheckFailed", code, "None", "None")):
        rejected = cancelled(LABELS, reasons(*codes))
        assert isinstance(rejected, WriteRejected) and code in str(rejected)
        assert not isinstance(rejected, (ConditionFailed, Unavailable))


def test_other_call_errors_are_not_classified_here():
    assert call_failed("ValidationException") is None and call_failed("ResourceNotFoundException") is None


def test_the_pause_after_a_lost_race_doubles_up_to_its_cap_and_is_jittered():
    first, cap = failures.CONFLICT_PAUSE
    for attempt in range(12):
        ceiling = min(cap, first * 2 ** attempt)
        pauses = {conflict_pause(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= p <= ceiling for p in pauses) and len(pauses) > 1
    assert failures.THROTTLED_PAUSE[0] > first  # throttling waits longer than a race
