"""POST and GET /v1/me/subscriptions: what the user accepted for WeChat subscribe messages (services/
subscriptions.py, docs/nudges.md), on the caller's platform."""
from .. import bootstrap
from ..services import subscriptions
from .fields import ARRAY, REQUEST_ID, Field
from .web import Routes, respond

routes = Routes(__name__)
ACCEPT = (REQUEST_ID, Field("accepted", "accepted 须为主题名称的数组", types=(ARRAY,),
                            rule="accepted is the array of topics wx.requestSubscribeMessage reported as accept"))


@routes.route("/v1/me/subscriptions", methods=["POST"])
def post_subscriptions():
    caller = routes.caller()
    body = routes.body(*ACCEPT)
    status, answer = subscriptions.accept(caller.user_id, caller.platform, body["request_id"], body["accepted"],
                                          bootstrap.subscriptions())
    return respond(status, answer)


@routes.route("/v1/me/subscriptions", methods=["GET"])
def get_subscriptions():
    caller = routes.caller()
    return respond(200, subscriptions.listing(caller.user_id, caller.platform, bootstrap.subscriptions()))
