"""An adopted tree: what its certificate shows, and how far its year of accrual has come.

Pure: making an adoption from a tree offer, its progress, the accrual days due to it and its state after
them (domain/accrual.py has the arithmetic); no I/O, no clock (callers pass the moment).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from . import clock
from .accrual import YEAR_DAYS, AccrualDay, day_number, due_days, total_after
from .methodology import Rule
from .platforms import DEFAULT
from .trees import Tree
from .values import immutable

BEHAVIOR = "tree_uptake"  # the summaries' behaviour code of tree accrual ("认养树木固碳")


@immutable
class Adoption:
    """One adoption under its certificate number (`adoption_id`). It copies from the offer what its
    certificate shows and its accrual needs, so a later catalog change never alters a promised year.
    `accrued_through`: the last day credited (the adoption day until day 1 is); `accrual_shard`: None once
    the year is complete (or the account erased)."""

    adoption_id: str
    user_id: str
    tree_id: str
    species: str
    location: str
    adopter_name: str
    points_price: int
    annual_uptake_mg: int
    methodology_id: str
    methodology_version: str
    adopted_at: str
    adopted_day: str
    accrued_through: str
    accrued_mg: int = 0
    accrual_shard: int | None = None
    request_id: str | None = None
    updated_at: str | None = None
    platform: str | None = None  # the adopter's platform, the tree's; None for `default`'s (as before platforms)


def adopt(tree: Tree, number: str, user_id: str, adopter_name: str, now: datetime, shard: int,
          request_id: str | None) -> Adoption:
    """A new adoption of `tree` made at `now`: nothing accrued yet, in its accrual `shard`."""
    day = clock.business_day(now).isoformat()
    return Adoption(
        number, user_id=user_id, tree_id=tree.id, species=tree.species, location=tree.location,
        adopter_name=adopter_name, points_price=tree.points_price, annual_uptake_mg=tree.annual_uptake_mg,
        methodology_id=tree.methodology_id, methodology_version=tree.version, adopted_at=clock.iso(now),
        adopted_day=day, accrued_through=day, accrued_mg=0, accrual_shard=shard, request_id=request_id,
        updated_at=clock.iso(now), platform=None if tree.platform == DEFAULT else tree.platform)


def days_accrued(adoption: Adoption) -> int:
    """How many of its YEAR_DAYS days are credited (0..365)."""
    adopted = date.fromisoformat(adoption.adopted_day)
    return min(YEAR_DAYS, max(0, day_number(adopted, date.fromisoformat(adoption.accrued_through))))


def due(adoption: Adoption, through: date, limit: int | None = None) -> list[AccrualDay]:
    """The days not yet credited up to `through` (at most `limit`), oldest first."""
    return due_days(date.fromisoformat(adoption.adopted_day), date.fromisoformat(adoption.accrued_through),
                    through, int(adoption.annual_uptake_mg), limit=limit)


def after(adoption: Adoption, days: list[AccrualDay], at: str) -> Adoption:
    """The adoption once `days` (its next due days, oldest first) are credited; out of its shard after day 365."""
    last = days[-1]
    return replace(adoption, accrued_through=last.day.isoformat(), updated_at=at,
                   accrued_mg=total_after(int(adoption.annual_uptake_mg), last.n),
                   accrual_shard=None if last.n == YEAR_DAYS else adoption.accrual_shard)


def accrual_rule(adoption: Adoption) -> Rule:
    """The adoption's methodology as a rule: A mg per 365 days, no points (entries name its id and version)."""
    return Rule(code=BEHAVIOR, name="认养树木固碳", category="tree", unit="day",
                carbon_mg=int(adoption.annual_uptake_mg), carbon_per=Decimal(YEAR_DAYS), points=0,
                points_per=Decimal(1), channels=(), methodology_id=adoption.methodology_id,
                version=adoption.methodology_version, source="")
