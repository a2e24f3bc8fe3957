"""POST /v1/me/appeals: the caller under review appeals (services/appeals.py)."""
from .. import bootstrap
from ..services import appeals
from .fields import Field
from .web import Routes, respond

routes = Routes(__name__)
APPEAL = (Field("text", "申诉内容须为 1 到 500 个字", min_length=1, max_length=appeals.TEXT_MAX),)


@routes.route("/v1/me/appeals", methods=["POST"])
def post_appeal():
    caller = routes.caller()
    body = routes.body(*APPEAL)
    appeal = appeals.submit(caller.user_id, body["text"], bootstrap.appeals())
    return respond(201, {"appeal": {"id": appeal.id, "status": appeal.status, "at": appeal.at}})
