"""The caller's own account: profile, ledger, summary."""
from ..services import ledger, profile
from .fields import NULL, STRING, Field
from .web import Routes, respond

routes = Routes(__name__)
PROFILE = (Field("nickname", "昵称须为文字", required=False),
           Field("avatar_url", "头像地址无效", types=(STRING, NULL), required=False))


@routes.route("/v1/me", methods=["GET"])
def get_me():
    return respond(200, profile.me(routes.caller()))


@routes.route("/v1/me", methods=["PATCH"])
def patch_me():
    caller = routes.caller()
    return respond(200, profile.update(caller, routes.body(*PROFILE)))


@routes.route("/v1/me/ledger", methods=["GET"])
def my_ledger():
    caller = routes.caller()
    return respond(200, ledger.page(caller, routes.query()))


@routes.route("/v1/me/summary", methods=["GET"])
def my_summary():
    caller = routes.caller()
    return respond(200, ledger.summary(caller, routes.query().get("period")))
