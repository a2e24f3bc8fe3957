"""Organizations: list, detail, join."""
from ..services import orgs
from .web import Routes, respond

routes = Routes(__name__)


@routes.route("/v1/orgs", methods=["GET"])
def list_orgs():
    return respond(200, orgs.list_orgs(routes.query()))


@routes.route("/v1/orgs/{org_id}", methods=["GET"])
def get_org(org_id):
    return respond(200, orgs.get_org(org_id))


@routes.route("/v1/orgs/{org_id}/join", methods=["POST"])
def join_org(org_id):
    caller = routes.caller()
    return respond(200, orgs.join(caller, org_id, routes.body()))
