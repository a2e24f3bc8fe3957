"""Items staged from plain values (store/items.py) are exactly what the PynamoDB models would write, so the
posting engine's fast path and every model-based reader agree on every attribute's name and form."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.store import items
from chalicelib.store.models import Account, IdempotencyRecord, LedgerEntry

ENTRY = {"user_id": "u_1", "entry_id": "01M85MVW2PYWRXDH6F5XQK82JF", "user_kind": "u_1#earn",
         "at": "2026-11-24T10:06:26.902+08:00", "day": "2026-11-24", "kind": "earn", "points": 5,
         "carbon_mg": 144000, "balance_after": 105, "source": "checkin", "behavior": "bus_ride", "ref": None,
         "methodology_id": "LZ-bus-ride", "methodology_version": "2024.1",
         "inputs": {"quantity": "1", "line": "泸州 12 路"}, "request_id": "req_0001", "reason": None}


def test_a_staged_ledger_entry_is_the_item_the_model_would_save():
    assert items.item(LedgerEntry, ENTRY) == LedgerEntry(**ENTRY).serialize()


def test_a_staged_idempotency_record_keeps_its_expiry_as_epoch_seconds_like_the_model():
    values = {"key": "u_1#req_0001", "route": "POST /v1/checkins", "fingerprint": "f" * 64, "status": 201,
              "body": '{"points":5}', "created_at": "2026-11-24T10:06:26.902+08:00",
              "expires_at": datetime(2026, 11, 26, 2, 6, 26, tzinfo=UTC)}
    staged = items.item(IdempotencyRecord, values)
    assert staged == IdempotencyRecord(**values).serialize()
    assert staged["expires_at"] == {"N": "1795658786"}


def test_an_item_missing_a_required_attribute_is_refused_before_anything_is_sent():
    with pytest.raises(ValueError, match="balance_after"):
        items.item(LedgerEntry, {**ENTRY, "balance_after": None})


def test_keys_and_single_values_take_the_models_attribute_types():
    assert items.key(LedgerEntry, "u_1", "01M8") == {"user_id": {"S": "u_1"}, "entry_id": {"S": "01M8"}}
    assert items.key(Account, "u_1") == {"user_id": {"S": "u_1"}}
    assert items.value(Account, "daily", {"2026-11-24": {"walk": [1, 5, 1000, 2000]}}) == {
        "S": "20261124 walk=1,5,1000,2000"}  # the short form of store/day_counters.py (issue 19 item 6)
    assert items.value(Account, "frozen", False) == {"BOOL": False}
