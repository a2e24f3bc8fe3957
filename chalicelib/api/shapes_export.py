"""The export document (GET /v1/me/export, format "greensprout-export/1") from services/export.py's HeldData."""
from __future__ import annotations

from typing import Any

from ..domain import clock
from ..domain.platforms import openid_in, platform_of
from ..domain.posting import LedgerLine
from ..domain.results_export import HeldData
from ..services.profile import profile_of
from .platform import platform_json
from .shapes import carbon_g, entry_json, redemption_json
from .shapes_consent import consents_export_json
from .shapes_profile import profile_json
from .shapes_trees import adoption_json

FORMAT = "greensprout-export/1"


def export_json(held: HeldData, caller: Any) -> dict:
    account = held.account
    return {
        "format": FORMAT, "exported_at": clock.iso(held.at), "profile": _profile(held, caller),
        "consents": consents_export_json(held.consents),
        "ledger": [entry_json(line) | _detail(line, held.merchant_names) for line in held.ledger],
        "summaries": [{"month": row.month, "behavior": row.behavior, "events": row.events,
                       "carbon_g": carbon_g(row.carbon_mg), "points": row.points} for row in held.months],
        "redemptions": [redemption_json(r, _merchant(r.merchant_id, held.merchant_names), held.at)
                        for r in held.redemptions],
        "adoptions": [adoption_json(a) for a in held.adoptions],
        "orgs": [{"id": o["id"], "name": o["name"], "joined_at": o.get("joined_at")} for o in account.orgs or []],
    }


def _profile(held: HeldData, caller: Any) -> dict:
    account, login = held.account, held.login
    me = profile_json(profile_of(account, caller))
    me.update({
        "avatar_url": account.avatar_url, "joined_at": account.joined_at, "updated_at": account.updated_at,
        "frozen_reason": account.frozen_reason if account.frozen else None,
        "minor": bool(account.minor_orgs), "points_lots": {year: int(n) for year, n in (account.lots or {}).items()},
        "expired_through": int(account.expired_through) if account.expired_through is not None else None,
        "odometer": _odometer(account.odometer),
        "appeal": account.appeal,  # the latest appeal of a review, with its text (docs/risk.md)
        "platform": platform_json(platform_of(account)),
        "wechat": {"openid": openid_in(account.identity_key, platform_of(account)),
                   "unionid_kept": bool(login and login.unionid_kept),
                   "first_login_at": login.first_login_at if login else None,
                   "last_login_at": login.last_login_at if login else None},
    })
    return me


def _merchant(merchant_id: str, names: dict) -> dict:
    """As api/shapes_goods.merchant_json shows a merchant."""
    return {"id": merchant_id, "name": names.get(merchant_id)}


def _odometer(stored: dict | None) -> dict | None:
    """The latest odometer reading of a green parking check-in, the next one's starting point."""
    return {"odometer_km": float(stored["odometer_km"]), "day": stored["day"]} if stored else None


def _detail(line: LedgerLine, names: dict) -> dict:
    """What the ledger keeps beyond the API's entry shape: the business day, the inputs the carbon was
    computed from (a ride's line and time, an odometer reading), and an operator's reason. A collection
    point's credit says where it was credited (`credited_at`), never who: the staff member's id in its
    inputs is kept for operators only (services/collection.py)."""
    inputs = line.inputs
    detail = {"day": line.day, "inputs": inputs, "reason": line.reason}
    if line.source == "operator" and inputs:
        detail["inputs"] = {name: value for name, value in inputs.items() if name != "staff_user_id"}
        merchant_id = inputs.get("merchant_id") or line.ref
        detail["credited_at"] = {"merchant_id": merchant_id, "name": names.get(merchant_id)}
    return detail
