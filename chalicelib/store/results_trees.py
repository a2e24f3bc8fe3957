"""An adoption's result as its idempotency record holds it ("adoption/1"), and back (store/results.py).

A record written before the use case (no `format`) holds the 201 body it answered; it is read back
into the same result, so a retry after the deploy gets the same answer.
"""
from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from ..domain.adoptions import Adoption
from ..domain.posting import LedgerLine
from ..domain.results_trees import AdoptionResult

FORMAT = "adoption/1"
ROUTE = "POST /v1/trees/{id}/adopt"
_NOT_KEPT = ("user_id", "request_id")  # what the record's key already says
# Left out when a new adoption's other values say them (a record of 1 KB or less costs half).
_IMPLIED = {"accrued_through": lambda a: a["adopted_day"], "updated_at": lambda a: a["adopted_at"],
            "accrued_mg": lambda a: 0}


def encode(result: AdoptionResult) -> dict:
    values = vars(result.adoption)
    adoption = {name: value for name, value in values.items()
                if name not in _NOT_KEPT and not (name in _IMPLIED and _IMPLIED[name](values) == value)}
    entry = {name: value for name, value in vars(result.entry).items() if value is not None}
    data = {"adoption": adoption, "points": result.points, "entry": entry}
    return {"status": None, "body": json.dumps(data, ensure_ascii=False, separators=(",", ":")), "format": FORMAT}


def decode(data: dict, scope: str, request_id: str | None) -> AdoptionResult:
    kept = data["adoption"]
    implied = {name: value(kept) for name, value in _IMPLIED.items() if name not in kept}
    adoption = Adoption(**kept, **implied, user_id=scope, request_id=request_id)
    return AdoptionResult(adoption, data["points"], LedgerLine(**data["entry"]))


def from_body(body: dict, scope: str, request_id: str | None, entry: LedgerLine) -> AdoptionResult:
    """The result an old record's 201 body shows (api/shapes_trees.adoption_json wrote it)."""
    shown, certificate = body["adoption"], body["adoption"]["certificate"]
    adopted_day = certificate["date"]
    through = date.fromisoformat(adopted_day) + timedelta(days=int(shown["days_accrued"]))
    adoption = Adoption(
        shown["id"], user_id=scope, tree_id=shown["tree_id"], species=shown["species"], location=shown["location"],
        adopter_name=certificate["adopter_nickname"], points_price=shown["points_price"],
        annual_uptake_mg=_milligrams(shown["annual_uptake_g"]), methodology_id=shown["methodology"]["id"],
        methodology_version=shown["methodology"]["version"], adopted_at=shown["adopted_at"], adopted_day=adopted_day,
        accrued_through=through.isoformat(), accrued_mg=_milligrams(shown["accrued_g"]), request_id=request_id)
    return AdoptionResult(adoption, body["points"], entry)


def _milligrams(grams: float) -> int:
    return int(Decimal(str(grams)) * 1000)
