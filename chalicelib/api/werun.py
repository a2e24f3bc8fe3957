"""WeChat Sports steps."""
from ..services import werun
from .web import Routes, respond

routes = Routes(__name__)


@routes.route("/v1/werun/sync", methods=["POST"])
def sync_werun():
    caller = routes.caller()
    return respond(200, werun.sync(caller, routes.body()))
