"""The JSON of organizations (services/orgs.py reads them): never an invite code."""
from __future__ import annotations

from ..domain.results_orgs import OrgDetail, OrgsPage, OrgView
from .shapes import carbon_g


def org_json(org: OrgView) -> dict:
    """An org as anyone may see it (api.md Org)."""
    return {"id": org.id, "name": org.name, "type": org.type, "members": org.members,
            "carbon_g": carbon_g(org.carbon_mg)}


def org_detail_json(org: OrgDetail) -> dict:
    """200 of GET /v1/orgs/{id} (and the `org` of a join): with the carbon of this week, month and in all."""
    body = org_json(org)
    body["carbon_g_by_period"] = {period: carbon_g(mg) for period, mg in org.carbon_mg_by_period.items()}
    return body


def orgs_page_json(page: OrgsPage) -> dict:
    """200 of GET /v1/orgs."""
    return {"items": [org_json(org) for org in page.items], "next_cursor": page.next_cursor}
