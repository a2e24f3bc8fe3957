"""The marketplace as users see it: goods, redeeming, and their own redemptions; each the request's platform's
(api/platform.resolve: the token's, else X-Platform, else `default`)."""
from .. import bootstrap
from ..domain.commands import RedeemGoods
from ..domain.commands_market import CancelRedemption
from ..domain.ids import parse_request_id
from ..domain.market import KINDS
from ..domain.platforms import DEFAULT
from ..services import goods, redeem, redemptions
from . import platform, shapes, shapes_goods, shapes_market
from .fields import OBJECT, REQUEST_ID, Field
from .paging import one_of, parse_limit
from .path_ids import path_id
from .web import Routes, respond

routes = Routes(__name__)
REDEEM = (REQUEST_ID, Field("address", "收货地址须为对象：name、phone、region、detail", types=(OBJECT,), required=False,
                            rule="address is an object {name, phone, region, detail}, required for physical goods"))


@routes.route("/v1/market/goods", methods=["GET"])
def list_goods():
    query = routes.query()
    limit = parse_limit(query.get("limit"))
    kind = one_of(query.get("kind") or None, KINDS, "kind", "kind 取值无效", allowed=list(KINDS))
    shelf = bootstrap.shelf(platform.resolve(routes.current_request))
    page = goods.listing(limit, query.get("category") or None, kind, query.get("cursor"), shelf)
    return respond(200, shapes_goods.shelf_json(page))


def merchant_json(merchant_id: str, platform_id: str = DEFAULT) -> dict:
    return shapes_goods.merchant_json(goods.merchant(merchant_id, platform=platform_id))


def merchant_of(redemption) -> dict:
    """The redemption's merchant, of the platform whose goods it is."""
    return merchant_json(redemption.merchant_id, redemption.platform or DEFAULT)


@routes.route("/v1/market/goods/{goods_id}/redeem", methods=["POST"])
def redeem_goods(goods_id):
    caller = routes.caller()
    command = redeem_command(caller.user_id, path_id(goods_id), routes.body(*REDEEM), caller.platform)
    result = redeem.redeem_goods(command, bootstrap.posting_uow())
    return respond(201, shapes.redemption_result_json(result, merchant_of(result.redemption)))


def redeem_command(user_id: str, goods_id: str, body: dict, platform_id: str = DEFAULT) -> RedeemGoods:
    return RedeemGoods(user_id, parse_request_id(body.get("request_id")), goods_id, body.get("address"),
                       platform_id)


@routes.route("/v1/me/redemptions", methods=["GET"])
def my_redemptions():
    caller, query = routes.caller(), routes.query()
    page = redemptions.page(caller.user_id, parse_limit(query.get("limit")), query.get("cursor"),
                            bootstrap.sold_redemptions())
    return respond(200, shapes_market.redemptions_page_json(page, lambda mid: merchant_json(mid, caller.platform)))


@routes.route("/v1/me/redemptions/{redemption_id}", methods=["GET"])
def my_redemption(redemption_id):
    caller = routes.caller()
    redemption = redemptions.one(caller.user_id, path_id(redemption_id), bootstrap.sold_redemptions())
    return respond(200, {"redemption": shapes.redemption_json(redemption, merchant_of(redemption))})


@routes.route("/v1/me/redemptions/{redemption_id}/cancel", methods=["POST"])
def cancel_redemption(redemption_id):
    command = CancelRedemption(routes.caller().user_id, path_id(redemption_id))
    result = redemptions.cancel_redemption(command, bootstrap.posting_uow(), bootstrap.sold_redemptions())
    return respond(200, shapes.redemption_result_json(result, merchant_of(result.redemption)))
