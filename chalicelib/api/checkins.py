"""Behaviours and self-reported check-ins."""
from decimal import Decimal

from ..lazy import lazy
from .fields import OBJECT, QUANTITY, REQUEST_ID, Field
from .web import Routes, respond

catalog = lazy("chalicelib.services.catalog")
checkins = lazy("chalicelib.services.checkins")

routes = Routes(__name__)
CHECKIN = (REQUEST_ID, Field("behavior", "behavior 须为低碳行为代码（见 GET /v1/behaviors）"),
           QUANTITY,
           Field("evidence", "凭证须为 JSON 对象", types=(OBJECT,), required=False))


@routes.route("/v1/behaviors", methods=["GET"])
def list_behaviors():
    items = [{
        "code": rule.code, "name": rule.name, "category": rule.category, "unit": rule.unit,
        "carbon_g_per_unit": float(Decimal(rule.carbon_mg) / 1000 / rule.carbon_per),
        "points_rule": {"points": rule.points, "per": float(rule.points_per)},
        "daily_limit": rule.daily_limit, "daily_points_max": rule.daily_points_max,
        "daily_quantity_max": None if rule.daily_quantity_max is None else float(rule.daily_quantity_max),
        "evidence": list(rule.evidence), "channels": list(rule.channels),
        "methodology": {"id": rule.methodology_id, "version": rule.version, "source": rule.source,
                        "estimate": rule.estimate},
    } for rule in sorted(catalog.behaviors().values(), key=lambda r: (r.category, r.code))]
    return respond(200, {"items": items, "next_cursor": None})


@routes.route("/v1/checkins", methods=["POST"])
def create_checkin():
    caller = routes.caller()
    status, body = checkins.checkin(caller, routes.body(*CHECKIN))
    return respond(status, body)
