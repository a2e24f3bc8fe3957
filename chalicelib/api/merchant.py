"""Merchant staff: scanning redemption codes, the day's reconciliation, and collection-point credits. Staff are
staff of a merchant of their token's platform (`plt`), and scan that platform's codes only."""
from datetime import date

from .. import bootstrap
from ..domain.commands_collection import CreditCollection
from ..domain.commands_market import VerifyCode
from ..domain.ids import parse_request_id
from ..errors import ValidationError
from ..services import collection, staff, verification
from . import shapes_collection, shapes_market
from .fields import QUANTITY, REQUEST_ID, Field, query_day
from .paging import parse_limit
from .web import Routes, respond

routes = Routes(__name__)
VERIFY = (Field("code", "请扫描或输入兑换码", min_length=1,
                rule="code is required: the redemption code scanned or typed"),)
CREDIT = (REQUEST_ID, Field("member_code", "请扫描或输入会员码", min_length=1,
                            rule="member_code is required: the member code scanned or typed"),
          Field("behavior", "behavior 须为低碳行为代码（见 GET /v1/behaviors）"),
          QUANTITY)


@routes.route("/v1/merchant/verify", methods=["POST"])
def verify_code():
    command = verify_command(routes.caller(), routes.body(*VERIFY))
    return respond(200, shapes_market.scan_json(verification.verify_code(command, bootstrap.scans(),
                                                                                bootstrap.posting_uow)))


def verify_command(caller, body: dict) -> VerifyCode:
    """Staff of a merchant only (services/staff.py); the code as scanned or typed."""
    merchant_id = staff.require_staff(caller)
    raw = body.get("code")
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("请扫描或输入兑换码", field="code")
    return VerifyCode(caller.user_id, merchant_id, raw, caller.platform)


@routes.route("/v1/merchant/redemptions", methods=["GET"])
def merchant_redemptions():
    caller = routes.caller()
    merchant_id = staff.require_staff(caller)
    query = routes.query()
    day, limit = business_day(query.get("date")), parse_limit(query.get("limit"))
    page = verification.merchant_day(merchant_id, day, limit, query.get("cursor"), bootstrap.scans(), caller.platform)
    return respond(200, shapes_market.merchant_day_json(page))


def business_day(raw: str | None) -> date | None:
    """`?date=`: a day as YYYY-MM-DD in ASCII digits; None (today) when absent."""
    if not raw:
        return None
    return query_day(raw, "date", "date: a day as YYYY-MM-DD in ASCII digits (default: today, Asia/Shanghai)")


@routes.route("/v1/me/member-code", methods=["GET"])
def member_code():
    caller = routes.caller()
    return respond(200, shapes_collection.member_code_json(
        collection.issue_member_code(caller.user_id, bootstrap.collection_uow(), caller.platform)))


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
                            body.get("member_code"), body.get("behavior"), body.get("quantity"), caller.platform)
