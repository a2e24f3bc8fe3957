"""Merchant staff: scanning redemption codes, the day's reconciliation, and collection-point credits."""
from ..domain.commands_collection import CreditCollection
from ..domain.ids import parse_request_id
from ..lazy import lazy
from . import shapes_collection
from .fields import QUANTITY, REQUEST_ID, Field
from .web import Routes, respond

bootstrap = lazy("chalicelib.bootstrap")
collection = lazy("chalicelib.services.collection")
staff = lazy("chalicelib.services.staff")
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
    return respond(200, shapes_collection.member_code_json(
        collection.issue_member_code(caller.user_id, bootstrap.collection_uow())))


@routes.route("/v1/operator/credit", methods=["POST"])
def operator_credit():
    caller = routes.caller()
    command = credit_command(caller, routes.body(*CREDIT))
    result = collection.credit_collection(command, bootstrap.collection_uow())
    return respond(201, shapes_collection.credit_json(result))


def credit_command(caller, body: dict) -> CreditCollection:
    """Only current staff credit (403 otherwise), for the merchant their token names."""
    merchant_id = staff.require_staff(caller)
    return CreditCollection(caller.user_id, parse_request_id(body.get("request_id")), merchant_id,
                            body.get("member_code"), body.get("behavior"), body.get("quantity"))
