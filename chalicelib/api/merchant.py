"""Merchant staff: scanning redemption codes, the day's reconciliation, and collection-point credits."""
from ..lazy import lazy
from .web import Routes, respond

collection = lazy("chalicelib.services.collection")
verification = lazy("chalicelib.services.verification")

routes = Routes(__name__)


@routes.route("/v1/merchant/verify", methods=["POST"])
def verify_code():
    caller = routes.caller()
    return respond(200, verification.verify(caller, routes.body()))


@routes.route("/v1/merchant/redemptions", methods=["GET"])
def merchant_redemptions():
    caller = routes.caller()
    return respond(200, verification.merchant_redemptions(caller, routes.query()))


@routes.route("/v1/me/member-code", methods=["GET"])
def member_code():
    caller = routes.caller()
    return respond(200, collection.issue_member_code(caller))


@routes.route("/v1/operator/credit", methods=["POST"])
def operator_credit():
    caller = routes.caller()
    status, body = collection.credit(caller, routes.body())
    return respond(status, body)
