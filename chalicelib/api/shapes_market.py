"""The JSON of the marketplace after the sale (api/shapes.py writes a redemption and a ledger entry)."""
from __future__ import annotations

from collections.abc import Callable

from ..domain import clock
from ..domain.market_after_sale import MerchantDay, RedemptionsPage
from ..domain.results_market import ScanResult
from .shapes import redemption_json


def scan_json(result: ScanResult) -> dict:
    """200 of POST /v1/merchant/verify."""
    return {"redemption": {"id": result.redemption_id, "goods_id": result.goods_id, "goods_name": result.goods_name,
                           "status": "used", "used_at": result.used_at, "points_spent": result.points_spent}}


def merchant_day_json(page: MerchantDay) -> dict:
    """200 of GET /v1/merchant/redemptions."""
    items = [{"id": row.redemption_id, "goods_id": row.goods_id, "goods_name": row.goods_name,
              "used_at": row.used_at, "points_spent": row.points_spent, "verified_by": row.staff_user_id}
             for row in page.rows]
    return {"date": page.day.isoformat(), "items": items, "next_cursor": page.cursor,
            "totals": {"count": page.count, "points": page.points}}


def redemptions_page_json(page: RedemptionsPage, merchant: Callable[[str], dict]) -> dict:
    """200 of GET /v1/me/redemptions; `merchant(id)` as api/shapes_goods.merchant_json shows it."""
    now = clock.now()
    return {"items": [redemption_json(r, merchant(r.merchant_id), now) for r in page.items],
            "next_cursor": page.cursor}
