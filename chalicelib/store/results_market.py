"""Idempotency records of the marketplace after the sale (store/results.py's formats): a user's cancel
("cancel/1"), and the (status, body) its record held before the use case existed, read back into the
same result."""
from __future__ import annotations

from typing import Any

from ..domain.market import Redemption
from ..domain.posting import LedgerLine
from ..domain.results_market import CancelResult

CANCEL = "cancel/1"


def encode(result: Any, compact: Any) -> tuple[str, dict] | None:
    """(format, data) for a result of this area, None for another's; `compact` drops None values."""
    if isinstance(result, CancelResult):
        kept = {name: value for name, value in vars(result.redemption).items() if name != "address"}
        return CANCEL, {"redemption": compact(kept), "points": result.points, "entry": compact(vars(result.entry))}
    return None


def decode(record_format: str, data: dict) -> Any:
    """The result, or None for a format not of this area."""
    if record_format == CANCEL:
        return CancelResult(Redemption(**data["redemption"]), data["points"], LedgerLine(**data["entry"]))
    return None


def cancel_from_body(body: dict, scope: str, redemption: Any) -> CancelResult:
    """200 {"redemption", "points", "entry"} of POST /v1/me/redemptions/{id}/cancel: a redemption's body
    (`redemption` reads it); the record's request_id "cancel:{id}" is not the redemption's."""
    shown = redemption(body, scope, None)
    return CancelResult(shown.redemption, shown.points, shown.entry)
