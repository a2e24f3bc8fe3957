"""The saplings' JSON (api.md Tree, Adoption), written once here from the use cases' results."""
from __future__ import annotations

from ..domain.accrual import YEAR_DAYS
from ..domain.adoptions import Adoption, days_accrued
from ..domain.results_trees import AdoptionResult, Offer
from .shapes import carbon_g, entry_json


def offer_json(offer: Offer) -> dict:
    tree = offer.tree
    return {"id": tree.id, "species": tree.species, "location": tree.location, "points_price": tree.points_price,
            "annual_uptake_g": carbon_g(tree.annual_uptake_mg), "available": offer.available,
            "methodology": tree.methodology()}


def adoption_result_json(result: AdoptionResult) -> dict:
    """201 of POST /v1/trees/{id}/adopt."""
    return {"adoption": adoption_json(result.adoption), "points": result.points, "entry": entry_json(result.entry)}


def adoption_json(adoption: Adoption) -> dict:
    """An adoption as the mini program shows it (a domain one or the stored model, which share these
    attributes); `certificate` is what it draws on the certificate."""
    days = days_accrued(adoption)
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
