"""The marketplace as users see it: goods, redeeming, and their own redemptions."""
from ..lazy import lazy
from .fields import OBJECT, REQUEST_ID, Field
from .path_ids import path_id
from .web import Routes, respond

goods = lazy("chalicelib.services.goods")
redemptions = lazy("chalicelib.services.redemptions")

routes = Routes(__name__)
REDEEM = (REQUEST_ID, Field("address", "收货地址须为对象：name、phone、region、detail", types=(OBJECT,), required=False,
                            rule="address is an object {name, phone, region, detail}, required for physical goods"))


@routes.route("/v1/market/goods", methods=["GET"])
def list_goods():
    return respond(200, goods.listing(routes.query()))


@routes.route("/v1/market/goods/{goods_id}/redeem", methods=["POST"])
def redeem(goods_id):
    caller = routes.caller()
    status, body = redemptions.redeem(caller, path_id(goods_id), routes.body(*REDEEM))
    return respond(status, body)


@routes.route("/v1/me/redemptions", methods=["GET"])
def my_redemptions():
    caller = routes.caller()
    return respond(200, redemptions.page(caller, routes.query()))


@routes.route("/v1/me/redemptions/{redemption_id}", methods=["GET"])
def my_redemption(redemption_id):
    caller = routes.caller()
    return respond(200, {"redemption": redemptions.one(caller, path_id(redemption_id))})


@routes.route("/v1/me/redemptions/{redemption_id}/cancel", methods=["POST"])
def cancel_redemption(redemption_id):
    caller = routes.caller()
    status, body = redemptions.cancel(caller, path_id(redemption_id))
    return respond(status, body)
