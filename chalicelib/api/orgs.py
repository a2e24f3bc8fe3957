"""Organizations: list, detail, join."""
from ..domain.orgs import INVITE_MAX
from ..errors import NotFoundError
from ..services import orgs
from .fields import Field
from .path_ids import path_id
from .web import Routes, respond

routes = Routes(__name__)
JOIN = (Field("invite_code", "请填写邀请码", min_length=1, max_length=INVITE_MAX,
              rule=f"invite_code is required: the organization's invite code, 1 to {INVITE_MAX} characters"),)


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
    return respond(200, orgs.join(caller, org_id, routes.body(*JOIN)))
