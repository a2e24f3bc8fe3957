"""The JSON of the marketplace's shelf and of a merchant (services/goods.py reads them)."""
from __future__ import annotations

from ..domain.results_shelf import Merchant, ShelfPage, Shelved


def merchant_json(merchant: Merchant) -> dict:
    """A merchant as a goods item or a redemption names it."""
    return {"id": merchant.id, "name": merchant.name}


def goods_json(shelved: Shelved) -> dict:
    """A goods item on sale (api.md Goods)."""
    goods = shelved.goods
    return {
        "id": goods.id, "name": goods.name, "kind": goods.kind, "category": goods.category,
        "description": goods.description, "points_price": goods.points_price, "stock_left": shelved.left,
        "per_user_limit": goods.per_user_limit, "merchant": merchant_json(shelved.merchant),
        "valid_days": goods.valid_days, "cancellable": goods.cancellable,
        "refund_on_expiry": goods.refund_on_expiry,
    }


def shelf_json(page: ShelfPage) -> dict:
    """200 of GET /v1/market/goods."""
    return {"items": [goods_json(item) for item in page.items], "next_cursor": page.next_cursor}
