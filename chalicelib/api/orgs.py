"""Organizations: list, detail, join."""
from ..errors import NotFoundError
from ..lazy import lazy
from .path_ids import path_id
from .web import Routes, respond

orgs = lazy("chalicelib.services.orgs")

routes = Routes(__name__)


@routes.route("/v1/orgs", methods=["GET"])
def list_orgs():
    return respond(200, orgs.list_orgs(routes.query()))


@routes.route("/v1/orgs/{org_id}", methods=["GET"])
def get_org(org_id):
    return respond(200, orgs.get_org(path_id(org_id, NotFoundError("没有这个组织"))))


@routes.route("/v1/orgs/{org_id}/join", methods=["POST"])
def join_org(org_id):
    caller = routes.caller()
    org_id = path_id(org_id, NotFoundError("没有这个组织"))
    return respond(200, orgs.join(caller, org_id, routes.body()))
