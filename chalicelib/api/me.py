"""The caller's own account: profile, ledger, summary."""
from .. import bootstrap
from ..domain.profile import UpdateProfile
from ..services import ledger, profile
from . import shapes_ledger
from .fields import NULL, STRING, Field
from .paging import one_of, parse_limit
from .platform import platform_json
from .shapes_profile import profile_json
from .web import Routes, respond

routes = Routes(__name__)
PROFILE = (Field("nickname", "昵称须为文字", required=False),
           Field("avatar_url", "头像地址无效", types=(STRING, NULL), required=False))


@routes.route("/v1/me", methods=["GET"])
def get_me():
    caller = routes.caller()
    return respond(200, {**profile_json(profile.me(caller, bootstrap.profiles())),
                         "platform": platform_json(caller.platform)})


@routes.route("/v1/me", methods=["PATCH"])
def patch_me():
    caller = routes.caller()
    body = routes.body(*PROFILE)
    command = UpdateProfile(body.get("nickname"), "nickname" in body, body.get("avatar_url"), "avatar_url" in body)
    return respond(200, {**profile_json(profile.update(caller, command, bootstrap.profiles())),
                         "platform": platform_json(caller.platform)})


KINDS = ("earn", "spend", "refund", "adjust", "accrual", "expire", "held", "release", "void")
PERIODS = ("month", "year", "all")


@routes.route("/v1/me/ledger", methods=["GET"])
def my_ledger():
    caller = routes.caller()
    query = routes.query()
    limit = parse_limit(query.get("limit"))
    kind = one_of(query.get("kind"), KINDS, "kind", "kind 取值无效", allowed=list(KINDS))
    page = ledger.page(caller.user_id, kind, limit, query.get("cursor"), bootstrap.ledger_reads(), caller.platform)
    return respond(200, shapes_ledger.ledger_page_json(page))


@routes.route("/v1/me/summary", methods=["GET"])
def my_summary():
    caller = routes.caller()
    period = one_of(routes.query().get("period") or "month", PERIODS, "period", "period 须为 month、year 或 all")
    return respond(200, shapes_ledger.summary_json(ledger.summary(caller.user_id, period, bootstrap.ledger_reads())))
