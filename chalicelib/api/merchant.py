"""Merchant staff: scanning redemption codes, the day's reconciliation, and collection-point credits."""
from ..lazy import lazy
from .fields import QUANTITY, REQUEST_ID, Field
from .web import Routes, respond

collection = lazy("chalicelib.services.collection")
verification = lazy("chalicelib.services.verification")

routes = Routes(__name__)
VERIFY = (Field("code", "请扫描或输入兑换码", min_length=1,
                rule="code is required: the redemption code scanned or typed"),)
CREDIT = (REQUEST_ID, Field("member_code", "请扫描或输入会员码", min_length=1,
                            rule="member_code is required: the member code scanned or typed"),
          Field("behavior", "behavior 须为低碳行为代码（见 GET /v1/behaviors）"),
          QUANTITY)


@routes.route("/v1/merchant/verify", methods=["POST"])
def verify_code():
    caller = routes.caller()
    return respond(200, verification.verify(caller, routes.body(*VERIFY)))


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
    status, body = collection.credit(caller, routes.body(*CREDIT))
    return respond(status, body)
