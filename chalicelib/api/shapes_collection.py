"""The JSON of collection points and operator corrections, from their use cases' results."""
from __future__ import annotations

from ..domain import market as rules
from ..domain.results_collection import CollectionCredit, MemberCodeIssued, PointsAdjusted
from .shapes import entry_json


def member_code_json(issued: MemberCodeIssued) -> dict:
    """200 of GET /v1/me/member-code."""
    return {"member_code": issued.code, "qr_payload": rules.MEMBER_QR_PREFIX + issued.code,
            "expires_at": issued.expires_at, "expires_in": issued.expires_in}


def credit_json(result: CollectionCredit) -> dict:
    """201 of POST /v1/operator/credit: the member's entry, and their nickname for the staff member."""
    return {"entry": entry_json(result.entry), "member": {"nickname": result.nickname}}


def adjustment_json(result: PointsAdjusted) -> dict:
    """What the console's `points adjust` prints beside the account and the request_id."""
    return {"entry": entry_json(result.entry), "points": result.points}
