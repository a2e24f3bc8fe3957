"""The JSON the API answers with, written once here from the use cases' results (domain/results.py)."""
from __future__ import annotations

from datetime import datetime

from ..domain import clock
from ..domain import market as rules
from ..domain.market import Redemption
from ..domain.posting import LedgerLine
from ..domain.results import CheckinResult, RedemptionResult


def carbon_g(mg: int) -> float:
    """Milligrams as the API's grams with at most 3 decimals (202458 -> 202.458)."""
    return mg / 1000


def entry_json(line: LedgerLine) -> dict:
    """A ledger entry (api.md LedgerEntry)."""
    methodology_id = line.methodology_id
    body = {
        "id": line.entry_id, "at": line.at, "kind": line.kind, "points": int(line.points),
        "carbon_g": carbon_g(int(line.carbon_mg)), "behavior": line.behavior, "source": line.source, "ref": line.ref,
        "methodology": {"id": methodology_id, "version": line.methodology_version} if methodology_id else None,
        "balance_after": int(line.balance_after),
        "counted_via": line.counted_via or None,  # the platform holding this reduction's carbon, if not this one
    }
    return body


def checkin_json(result: CheckinResult) -> dict:
    """201 of POST /v1/checkins; `verification` only for a check-in with an odometer reading."""
    body = {"entry": entry_json(result.entry), "points": result.points, "carbon_g": carbon_g(result.carbon_mg)}
    if result.verification:
        body["verification"] = vars(result.verification)
    return body


def redemption_result_json(result: RedemptionResult, merchant: dict) -> dict:
    """201 of POST /v1/market/goods/{id}/redeem; `merchant` as api/shapes_goods.merchant_json shows it."""
    return {"redemption": redemption_json(result.redemption, merchant), "points": result.points,
            "entry": entry_json(result.entry)}


def redemption_json(redemption: Redemption, merchant: dict, now: datetime | None = None) -> dict:
    """A redemption (api.md Redemption): a domain one or the stored model, which share these attributes."""
    status = rules.effective_status(redemption, now or clock.now())
    return {
        "id": redemption.redemption_id, "goods_id": redemption.goods_id, "goods_name": redemption.goods_name,
        "kind": redemption.kind, "merchant": merchant,
        "code": redemption.code, "qr_payload": rules.REDEMPTION_QR_PREFIX + redemption.code, "status": status,
        "points_spent": int(redemption.points_spent), "created_at": redemption.created_at,
        "expires_at": redemption.expires_at, "used_at": redemption.used_at,
        "cancelled_at": redemption.cancelled_at, "expired_at": redemption.expired_at,
        "refunded": bool(redemption.refunded), "cancellable": bool(redemption.cancellable) and status == "issued",
        "address": redemption.address_masked,
    }
