"""WeChat Sports steps."""
from ..lazy import lazy
from .web import Routes, respond

werun = lazy("chalicelib.services.werun")

routes = Routes(__name__)


@routes.route("/v1/werun/sync", methods=["POST"])
def sync_werun():
    caller = routes.caller()
    return respond(200, werun.sync(caller, routes.body()))
