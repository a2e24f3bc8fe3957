"""Organizations: list, detail, join, of the request's platform (the token's, else X-Platform, else `default`)."""
from .. import bootstrap
from ..domain.commands_orgs import JoinOrg
from ..domain.orgs import INVITE_MAX, ORG_TYPES
from ..errors import NotFoundError
from ..services import orgs
from .fields import Field
from .paging import one_of, parse_limit
from .path_ids import path_id
from .platform import resolve
from .shapes_orgs import org_detail_json, orgs_page_json
from .web import Routes, respond

routes = Routes(__name__)
JOIN = (Field("invite_code", "请填写邀请码", min_length=1, max_length=INVITE_MAX,
              rule=f"invite_code is required: the organization's invite code, 1 to {INVITE_MAX} characters"),)


@routes.route("/v1/orgs", methods=["GET"])
def list_orgs():
    query = routes.query()
    kind = one_of(query.get("type"), ORG_TYPES, "type", "type 取值无效", allowed=list(ORG_TYPES))
    page = orgs.list_orgs(parse_limit(query.get("limit")), kind, query.get("cursor"), resolve(routes.current_request))
    return respond(200, orgs_page_json(page))


@routes.route("/v1/orgs/{org_id}", methods=["GET"])
def get_org(org_id):
    org_id = path_id(org_id, NotFoundError("没有这个组织"))
    members = bootstrap.memberships(resolve(routes.current_request))
    return respond(200, org_detail_json(orgs.get_org(org_id, members)))


@routes.route("/v1/orgs/{org_id}/join", methods=["POST"])
def join_org(org_id):
    caller = routes.caller()
    org_id = path_id(org_id, NotFoundError("没有这个组织"))
    body = routes.body(*JOIN)
    command = JoinOrg(caller.user_id, org_id, body.get("invite_code"))
    return respond(200, {"org": org_detail_json(orgs.join(command, bootstrap.memberships(caller.platform)))})
