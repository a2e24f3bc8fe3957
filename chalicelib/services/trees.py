"""Trees: the offer (GET /v1/trees), adoption (POST /v1/trees/{id}/adopt) and the caller's adoptions
with what their certificates show (GET /v1/me/trees).

Adopting is a purchase: one posting whose transaction takes the points (a `spend` entry), one unit of
the tree's stock (`left > 0`), puts the adoption under its certificate number (`attribute_not_exists`)
and remembers the request. Daily accrual is services/accrual.py.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from ..domain import clock
from ..domain.accrual import YEAR_DAYS, day_number
from ..domain.trees import Tree, certificate_number, tree_from_catalog
from ..errors import AccountFrozenError, AppError, ServiceUnavailableError, SoldOutError
from ..store import cursor as cursors
from ..store import stock
from ..store.idempotency import IdempotencyKey, parse_request_id
from ..store.models import Account
from ..store.trees import Adoption, shard_of
from . import catalog
from .ledger import parse_limit
from .posting import Plan, Posting, carbon_g, post
from .profile import default_nickname
from .tokens import Caller

ROUTE = "POST /v1/trees/{id}/adopt"
CERTIFICATE_ATTEMPTS = 5


class CertificateTakenError(AppError):
    """The random certificate number is already someone's (about once in a trillion): draw another."""


@dataclass(frozen=True)
class AdoptionKey(IdempotencyKey):
    """The request's idempotency key; its transaction token also names the certificate number, so a new
    number after a collision is a new transaction, never a mismatched retry of the old one."""

    certificate_no: str = ""

    def token(self, version: int) -> str:
        return hashlib.sha256(f"{self.key}|{version}|{self.certificate_no}".encode()).hexdigest()[:36]


def offers() -> dict:
    """GET /v1/trees: the catalog's trees and how many are left (one BatchGetItem of their stock)."""
    trees = sorted((tree_from_catalog(data) for data in catalog.trees().values()), key=lambda t: t.id)
    left = {item.item: int(item.left) for item in stock.Stock.batch_get([t.stock_key for t in trees])} if trees else {}
    items = [{
        "id": tree.id, "species": tree.species, "location": tree.location, "points_price": tree.points_price,
        "annual_uptake_g": carbon_g(tree.annual_uptake_mg), "available": max(0, left.get(tree.stock_key, 0)),
        "methodology": tree.methodology(),
    } for tree in trees]
    return {"items": items, "next_cursor": None}


def adopt(caller: Caller, tree_id: str, body: dict) -> tuple[int, dict]:
    request_id = parse_request_id(body.get("request_id"))
    tree = tree_from_catalog(catalog.tree(tree_id))
    now = clock.now()
    for _ in range(CERTIFICATE_ATTEMPTS):
        number = certificate_number(clock.business_day(now).year)
        idem = AdoptionKey(caller.user_id, request_id, ROUTE, {"tree_id": tree.id}, certificate_no=number)
        try:
            return post(caller.user_id, _adoption_plan(caller.user_id, tree, number, now, request_id), idem,
                        request_id)
        except CertificateTakenError:
            continue
    raise ServiceUnavailableError()


def _adoption_plan(user_id: str, tree: Tree, number: str, now: datetime, request_id: str):
    day = clock.business_day(now).isoformat()

    def plan(account: Account) -> Plan:
        if account.frozen:
            raise AccountFrozenError()
        adoption = Adoption(
            number, user_id=user_id, tree_id=tree.id, species=tree.species, location=tree.location,
            adopter_name=account.nickname or default_nickname(user_id), points_price=tree.points_price,
            annual_uptake_mg=tree.annual_uptake_mg, methodology_id=tree.methodology_id,
            methodology_version=tree.version, adopted_at=clock.iso(now), adopted_day=day, accrued_through=day,
            accrued_mg=0, accrual_shard=shard_of(user_id), request_id=request_id, updated_at=clock.iso(now),
        )
        posting = Posting("spend", -tree.points_price, 0, "tree", ref=number,
                          inputs={"tree_id": tree.id, "certificate_no": number})

        def extra(tx) -> None:
            stock.take_one(tx, tree.stock_key)
            tx.put("adoption", adoption, condition=Adoption.adoption_id.does_not_exist())

        return Plan([posting], extra=extra, refusals={"stock": SoldOutError(), "adoption": CertificateTakenError()},
                    respond=lambda entries, after: (201, {"adoption": adoption_json(adoption),
                                                          "points": int(after.points), "entry": entries[0]}))

    return plan


def mine(caller: Caller, query: dict) -> dict:
    """GET /v1/me/trees: the caller's adoptions, newest first (one Query of the by_user index)."""
    limit = parse_limit(query.get("limit"))
    context = f"trees|{caller.user_id}"
    start = cursors.decode(query.get("cursor"), context)
    results = Adoption.by_user.query(caller.user_id, scan_index_forward=False, limit=limit, last_evaluated_key=start)
    items = [adoption_json(adoption) for adoption in results]
    return {"items": items, "next_cursor": cursors.encode(results.last_evaluated_key, context)}


def adoption_json(adoption: Adoption) -> dict:
    """An adoption as the mini program shows it; `certificate` is what it draws on the certificate."""
    adopted = date.fromisoformat(adoption.adopted_day)
    days = min(YEAR_DAYS, max(0, day_number(adopted, date.fromisoformat(adoption.accrued_through))))
    accrued_g = carbon_g(int(adoption.accrued_mg))
    return {
        "id": adoption.adoption_id, "tree_id": adoption.tree_id, "certificate_no": adoption.adoption_id,
        "adopted_at": adoption.adopted_at, "accrued_g": accrued_g, "species": adoption.species,
        "location": adoption.location, "points_price": int(adoption.points_price),
        "annual_uptake_g": carbon_g(int(adoption.annual_uptake_mg)), "days_accrued": days, "days_total": YEAR_DAYS,
        "status": "completed" if days >= YEAR_DAYS else "accruing",
        "methodology": {"id": adoption.methodology_id, "version": adoption.methodology_version},
        "certificate": {"number": adoption.adoption_id, "species": adoption.species, "location": adoption.location,
                        "adopter_nickname": adoption.adopter_name, "date": adoption.adopted_day,
                        "accrued_g": accrued_g},
    }
