"""The JSON of the shelf and of organizations, written in api/ from the services' results (no database)."""
from __future__ import annotations

from chalicelib.api.shapes_goods import shelf_json
from chalicelib.api.shapes_orgs import org_detail_json, orgs_page_json
from chalicelib.domain.market import goods_from_catalog
from chalicelib.domain.orgs import invite_digest
from chalicelib.domain.results_orgs import OrgDetail, OrgsPage
from chalicelib.domain.results_shelf import Merchant, ShelfPage, Shelved
from chalicelib.services.orgs import org_view

COFFEE = {"id": "g-coffee", "name": "咖啡券", "kind": "coupon", "merchant_id": "m-cafe", "points_price": 100,
          "stock": 50, "per_user_limit": 2, "valid_days": 30, "cancellable": True, "refund_on_expiry": False}
SCHOOL = {"id": "o-school", "name": "绿芽小学", "type": "school", "invite_sha256": invite_digest("GREEN-42")}


def test_a_shelf_page_shows_each_goods_with_its_stock_left_and_merchant():
    page = ShelfPage([Shelved(goods_from_catalog(COFFEE), 7, Merchant("m-cafe", "街角咖啡"))], "next")
    assert shelf_json(page) == {"items": [{
        "id": "g-coffee", "name": "咖啡券", "kind": "coupon", "category": "coupon", "description": "",
        "points_price": 100, "stock_left": 7, "per_user_limit": 2, "merchant": {"id": "m-cafe", "name": "街角咖啡"},
        "valid_days": 30, "cancellable": True, "refund_on_expiry": False}], "next_cursor": "next"}


def test_an_org_is_listed_in_grams_and_never_with_its_invite_code():
    body = orgs_page_json(OrgsPage([org_view(SCHOOL, 202458, 3)], None))
    assert body == {"items": [{"id": "o-school", "name": "绿芽小学", "type": "school", "members": 3,
                               "carbon_g": 202.458}], "next_cursor": None}


def test_an_orgs_detail_has_its_carbon_by_period():
    view = org_view(SCHOOL, 5000, 2)
    detail = OrgDetail(view.id, view.name, view.type, view.members, view.carbon_mg,
                       {"week": 1500, "month": 2500, "all": 5000})
    body = org_detail_json(detail)
    assert body["carbon_g_by_period"] == {"week": 1.5, "month": 2.5, "all": 5.0}
    assert body["carbon_g"] == 5.0 and "invite_code" not in body and "invite_sha256" not in body
