"""What reading organizations returns (GET /v1/orgs, GET /v1/orgs/{id}, the join's answer); api/shapes_orgs.py
writes the JSON. Never the invite code."""
from __future__ import annotations

from dataclasses import field

from .values import immutable


@immutable
class OrgView:
    id: str
    name: str
    type: str
    members: int
    carbon_mg: int  # in all


@immutable
class OrgDetail(OrgView):
    carbon_mg_by_period: dict[str, int] = field(default_factory=dict)  # "week", "month", "all"


@immutable
class OrgsPage:
    items: list[OrgView]  # by id
    next_cursor: str | None  # opaque (store/cursor.py), bound to the `type` filter
