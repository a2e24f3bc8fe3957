"""Behaviours and self-reported check-ins."""
from decimal import Decimal

from .. import bootstrap
from ..domain.commands import AwardCheckin
from ..domain.ids import parse_request_id
from ..domain.platforms import DEFAULT
from ..services import catalog, checkins
from . import shapes
from .fields import OBJECT, QUANTITY, REQUEST_ID, Field
from .platform import resolve
from .web import Routes, respond

routes = Routes(__name__)
CHECKIN = (REQUEST_ID, Field("behavior", "behavior 须为低碳行为代码（见 GET /v1/behaviors）"),
           QUANTITY,
           Field("evidence", "凭证须为 JSON 对象", types=(OBJECT,), required=False))


@routes.route("/v1/behaviors", methods=["GET"])
def list_behaviors():
    """The behaviours the request's platform rewards (token, else X-Platform, else `default`), with its rules."""
    rules = catalog.rewarded(resolve(routes.current_request))
    items = [{
        "code": rule.code, "name": rule.name, "category": rule.category, "unit": rule.unit,
        "carbon_g_per_unit": float(Decimal(rule.carbon_mg) / 1000 / rule.carbon_per),
        "points_rule": {"points": rule.points, "per": float(rule.points_per)},
        "daily_limit": rule.daily_limit, "daily_points_max": rule.daily_points_max,
        "daily_quantity_max": None if rule.daily_quantity_max is None else float(rule.daily_quantity_max),
        "evidence": list(rule.evidence), "channels": list(rule.channels),
        "methodology": {"id": rule.methodology_id, "version": rule.version, "source": rule.source,
                        "estimate": rule.estimate},
    } for rule in sorted(rules.values(), key=lambda r: (r.category, r.code))]
    return respond(200, {"items": items, "next_cursor": None})


@routes.route("/v1/checkins", methods=["POST"])
def create_checkin():
    caller = routes.caller()
    command = checkin_command(caller.user_id, routes.body(*CHECKIN), caller.platform)
    result = checkins.award_checkin(command, bootstrap.posting_uow())
    return respond(201, shapes.checkin_json(result))


def checkin_command(user_id: str, body: dict, platform: str = DEFAULT) -> AwardCheckin:
    """The body as the use case's command; the behaviour's rule checks quantity and evidence."""
    return AwardCheckin(user_id, parse_request_id(body.get("request_id")), body.get("behavior"),
                        body.get("quantity"), body.get("evidence"), platform)
