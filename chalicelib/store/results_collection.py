"""Idempotency records of collection points and operator corrections (store/results.py's formats):
an operator credit ("collection-credit/1") and a console `points adjust` ("adjustment/1"), and the
(status, body) their records held before the use cases existed, read back into the same results."""
from __future__ import annotations

from typing import Any

from ..domain.posting import LedgerLine
from ..domain.results_collection import CollectionCredit, PointsAdjusted

CREDIT, ADJUSTMENT = "collection-credit/1", "adjustment/1"


def encode(result: Any, compact: Any) -> tuple[str, dict] | None:
    """(format, data) for a result of this area, None for another's; `compact` drops None values."""
    if isinstance(result, CollectionCredit):
        return CREDIT, {"entry": compact(vars(result.entry)), "nickname": result.nickname}
    if isinstance(result, PointsAdjusted):
        return ADJUSTMENT, {"entry": compact(vars(result.entry)), "points": result.points}
    return None


def decode(record_format: str, data: dict) -> Any:
    """The result, or None for a format not of this area."""
    if record_format == CREDIT:
        return CollectionCredit(LedgerLine(**data["entry"]), data["nickname"])
    if record_format == ADJUSTMENT:
        return PointsAdjusted(LedgerLine(**data["entry"]), data["points"])
    return None


def credit_from_body(body: dict, entry: Any) -> CollectionCredit:
    """201 {"entry", "member": {"nickname"}} of POST /v1/operator/credit; `entry` reads the entry's JSON."""
    return CollectionCredit(entry(body["entry"]), body["member"]["nickname"])


def adjustment_from_body(body: dict, entry: Any) -> PointsAdjusted:
    """{"entry", "points"} remembered by `points adjust` (with the 201 the console never showed)."""
    return PointsAdjusted(entry(body["entry"]), body["points"])
