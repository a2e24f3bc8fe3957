"""GET /v1/me/export: everything held about the caller, as one JSON document (PIPL's right of access and
portability; the mini program offers it as a download).

Not one DynamoDB call like the other reads: a bounded set of key-addressed reads, each on the caller's own
keys, never a scan: the account and the WeChat identity (GetItem each), the consents (one Query), the
ledger (a Query paged to its end, 1 MB a page), the monthly summaries, the redemptions and the adoptions
(one Query of each `by_user` index, paged). A ledger of 10,000 entries is about 3 MB of JSON and ten pages;
the answer must stay under Lambda's 6 MB response limit (about 18,000 entries), beyond which the export
would be written to a file by a job instead (docs/privacy.md).

Kept out: secrets (the sealed session key and unionid, sealed addresses), and anything that is not the
caller's. Delivery addresses appear masked as the user saw them; a phone number appears only as the
partner's reference, never in the clear (it is never stored).
"""
from __future__ import annotations

from ..api.shapes import entry_json, redemption_json  # transitional: the export moves to api/ whole
from ..api.shapes_trees import adoption_json
from ..domain import clock
from ..store.market import Redemption
from ..store.models import BehaviorMonth, Identity, LedgerEntry
from ..store.repositories_ledger import line
from ..store.trees import Adoption
from . import catalog, goods, partners, profile
from .posting import carbon_g
from .tokens import Caller

FORMAT = "greensprout-export/1"


def export(caller: Caller) -> dict:
    account = profile.account(caller.user_id)  # a deleted account's token is refused here (401)
    now = clock.now()
    identity = _identity(account.identity_key)
    me = profile.profile_json(account, caller)
    me.update({
        "avatar_url": account.avatar_url, "joined_at": account.joined_at, "updated_at": account.updated_at,
        "frozen_reason": account.frozen_reason if account.frozen else None,
        "minor": bool(account.minor_orgs), "points_lots": {year: int(n) for year, n in (account.lots or {}).items()},
        "expired_through": int(account.expired_through) if account.expired_through is not None else None,
        "odometer": _odometer(account.odometer),
        "wechat": {"openid": (account.identity_key or "").removeprefix("wx#") or None,
                   "unionid_kept": bool(identity and identity.unionid_sealed),
                   "first_login_at": identity.created_at if identity else None,
                   "last_login_at": identity.last_login_at if identity else None},
    })
    return {
        "format": FORMAT, "exported_at": clock.iso(now), "profile": me,
        "consents": partners.export(caller.user_id),
        "ledger": [entry_json(line(entry)) | _detail(entry) for entry in LedgerEntry.query(caller.user_id,
                                                                                     scan_index_forward=False)],
        "summaries": [{"month": row.period.partition("#")[0], "behavior": row.period.partition("#")[2],
                       "events": int(row.events), "carbon_g": carbon_g(int(row.carbon_mg)), "points": int(row.points)}
                      for row in BehaviorMonth.query(caller.user_id)],
        "redemptions": [redemption_json(r, goods.merchant_json(r.merchant_id), now)
                        for r in Redemption.by_user.query(caller.user_id, scan_index_forward=False)],
        "adoptions": [adoption_json(a) for a in Adoption.by_user.query(caller.user_id, scan_index_forward=False)],
        "orgs": [{"id": o["id"], "name": o["name"], "joined_at": o.get("joined_at")} for o in account.orgs or []],
    }


def _identity(key: str | None) -> Identity | None:
    if not key:
        return None
    try:
        return Identity.get(key)
    except Identity.DoesNotExist:
        return None


def _odometer(stored: dict | None) -> dict | None:
    """The latest odometer reading of a green parking check-in, the next one's starting point."""
    return {"odometer_km": float(stored["odometer_km"]), "day": stored["day"]} if stored else None


def _detail(entry: LedgerEntry) -> dict:
    """What the ledger keeps beyond the API's entry shape: the business day, the inputs the carbon was
    computed from (a ride's line and time, an odometer reading), and an operator's reason. A collection
    point's credit says where it was credited (`credited_at`), never who: the staff member's id in its
    inputs is kept for operators only (services/collection.py)."""
    inputs = entry.inputs
    detail = {"day": entry.day, "inputs": inputs, "reason": entry.reason}
    if entry.source == "operator" and inputs:
        detail["inputs"] = {name: value for name, value in inputs.items() if name != "staff_user_id"}
        merchant_id = inputs.get("merchant_id") or entry.ref
        detail["credited_at"] = {"merchant_id": merchant_id,
                                 "name": (catalog.merchants().get(merchant_id) or {}).get("name")}
    return detail
