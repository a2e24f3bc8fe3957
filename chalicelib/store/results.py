"""The use cases' results as idempotency records hold them, and back (domain/results.py).

A record written by a use case carries `format` ("checkin/1", "redemption/1") and the result as JSON.
A record without `format` was written before the results existed (48 hours of them are alive at deploy)
or by a service not yet on the unit of work: its `body` is the HTTP body it answered. The routes that
now return results read such a body back into their result (`LEGACY`), so a retry after the deploy
gets the same answer; the other services get it back as a `Response`.
"""
from __future__ import annotations

import json
from typing import Any

from ..domain import clock
from ..domain.market import Redemption
from ..domain.posting import LedgerLine
from ..domain.results import CheckinResult, RedemptionResult, Verification
from ..domain.values import immutable
from . import results_collection, results_market

# Left out of a record: the plain address (never stored), and what the record's key already says.
_NOT_KEPT = ("address", "user_id", "request_id")


@immutable
class Response:
    """The (status, body) of an old record whose route has no reader in LEGACY (written before the results)."""

    status: int
    body: dict


def encode(result: Any) -> dict[str, Any]:
    """The record's `status`, `body` and `format` for a result."""
    if isinstance(result, Response):
        return {"status": result.status, "body": _dump(result.body), "format": None}
    if isinstance(result, CheckinResult):
        data = {"entry": _compact(vars(result.entry)), "points": result.points, "carbon_mg": result.carbon_mg,
                "verification": vars(result.verification) if result.verification else None}
        return {"status": None, "body": _dump(data), "format": "checkin/1"}
    if isinstance(result, RedemptionResult):
        kept = {name: value for name, value in vars(result.redemption).items() if name not in _NOT_KEPT}
        data = {"redemption": _compact(kept), "points": result.points, "entry": _compact(vars(result.entry))}
        return {"status": None, "body": _dump(data), "format": "redemption/1"}
    from . import results_trees  # here: the check-in path never loads the saplings' modules (cold start)

    if isinstance(result, results_trees.AdoptionResult):
        return results_trees.encode(result)
    if more := results_collection.encode(result, _compact) or results_market.encode(result, _compact):
        return {"status": None, "body": _dump(more[1]), "format": more[0]}
    raise TypeError(f"no record format for {type(result).__name__}")


def decode(record_format: str | None, status: int | None, body: str, route: str, scope: str,
           request_id: str | None = None) -> Any:
    """The result a record remembers; `scope` and `request_id` are its key's (store/idempotency.py)."""
    data = json.loads(body)
    if record_format == "checkin/1":
        verification = data["verification"]
        return CheckinResult(LedgerLine(**data["entry"]), data["points"], data["carbon_mg"],
                             Verification(**verification) if verification else None)
    if record_format == "redemption/1":
        redemption = Redemption(**data["redemption"], user_id=scope, request_id=request_id)
        return RedemptionResult(redemption, data["points"], LedgerLine(**data["entry"]))
    if record_format == "adoption/1":
        from . import results_trees

        return results_trees.decode(data, scope, request_id)
    if record_format is not None and (more := results_collection.decode(record_format, data)
                                      or results_market.decode(record_format, data)) is not None:
        return more
    if record_format is not None:
        raise ValueError(f"unknown idempotency record format {record_format!r}")
    legacy = LEGACY.get(route)
    return legacy(data, scope, request_id) if legacy else Response(int(status), data)


def _dump(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _compact(values: dict) -> dict:
    """Without its None values (the dataclasses default them): a record of 1 KB or less costs half."""
    return {name: value for name, value in values.items() if value is not None}


def _milligrams(grams: float) -> int:
    return round(grams * 1000)


def _entry_from_body(entry: dict) -> LedgerLine:
    """The API's fields of the entry (the rest, inputs and day ..., the old body did not keep)."""
    methodology = entry.get("methodology") or {}
    return LedgerLine(entry["id"], entry["at"], entry["kind"], entry["points"], _milligrams(entry["carbon_g"]),
                      entry["balance_after"], entry["source"], entry.get("behavior"), entry.get("ref"),
                      methodology.get("id"), methodology.get("version"))


def _checkin_from_body(body: dict, scope: str, request_id: str | None) -> CheckinResult:
    verification = body.get("verification")
    return CheckinResult(_entry_from_body(body["entry"]), body["points"], _milligrams(body["carbon_g"]),
                         Verification(**verification) if verification else None)


def _redemption_from_body(body: dict, scope: str, request_id: str | None) -> RedemptionResult:
    shown = body["redemption"]
    redemption = Redemption(
        shown["id"], user_id=scope, goods_id=shown["goods_id"], goods_name=shown["goods_name"], kind=shown["kind"],
        merchant_id=shown["merchant"]["id"], code=shown["code"], status=shown["status"],
        points_spent=shown["points_spent"], created_at=shown["created_at"], expires_at=shown["expires_at"],
        expires_epoch=int(clock.parse_iso(shown["expires_at"]).timestamp()), cancellable=shown["cancellable"],
        address_masked=shown.get("address"), used_at=shown.get("used_at"), cancelled_at=shown.get("cancelled_at"),
        expired_at=shown.get("expired_at"), refunded=shown.get("refunded", False), request_id=request_id)
    return RedemptionResult(redemption, body["points"], _entry_from_body(body["entry"]))


def _adoption_from_body(body: dict, scope: str, request_id: str | None) -> Any:
    from . import results_trees

    return results_trees.from_body(body, scope, request_id, _entry_from_body(body["entry"]))


LEGACY = {"POST /v1/checkins": _checkin_from_body, "POST /v1/market/goods/{id}/redeem": _redemption_from_body,
          "POST /v1/trees/{id}/adopt": _adoption_from_body}
LEGACY.update({"POST /v1/operator/credit": lambda body, *_: results_collection.credit_from_body(body, _entry_from_body),
               "admin points adjust": lambda body, *_: results_collection.adjustment_from_body(body, _entry_from_body)})
LEGACY["POST /v1/me/redemptions/{id}/cancel"] = lambda body, scope, _: results_market.cancel_from_body(
    body, scope, _redemption_from_body)
