"""Trees to adopt, adopting one, and the caller's adoptions with their certificates: the request's platform's
trees (the token's, else X-Platform, else `default`); another platform's tree is 404 as a missing one."""
from .. import bootstrap
from ..domain.ids import parse_request_id
from ..domain.platforms import DEFAULT
from ..errors import NotFoundError
from ..services import trees
from . import shapes_trees
from .fields import REQUEST_ID
from .paging import parse_limit
from .path_ids import path_id
from .platform import resolve
from .web import Routes, respond

routes = Routes(__name__)


@routes.route("/v1/trees", methods=["GET"])
def list_trees():
    uow = bootstrap.trees_uow()
    offers = trees.offers(uow.catalog, uow.tree_stock, resolve(routes.current_request))
    return respond(200, {"items": [shapes_trees.offer_json(offer) for offer in offers], "next_cursor": None})


@routes.route("/v1/trees/{tree_id}/adopt", methods=["POST"])
def adopt_tree(tree_id):
    caller = routes.caller()
    command = adopt_command(caller.user_id, path_id(tree_id, NotFoundError("没有这种树苗")), routes.body(REQUEST_ID),
                            caller.platform)
    result = trees.adopt_tree(command, bootstrap.trees_uow())
    return respond(201, shapes_trees.adoption_result_json(result))


def adopt_command(user_id: str, tree_id: str, body: dict, platform: str = DEFAULT):
    from ..domain.commands_trees import AdoptTree  # here: importing the app stays as cheap as before

    return AdoptTree(user_id, parse_request_id(body.get("request_id")), tree_id, platform)


@routes.route("/v1/me/trees", methods=["GET"])
def my_trees():
    caller, query = routes.caller(), routes.query()
    page = trees.my_adoptions(caller.user_id, parse_limit(query.get("limit")), query.get("cursor"),
                              bootstrap.trees_uow().adoptions)
    return respond(200, {"items": [shapes_trees.adoption_json(a) for a in page.items],
                         "next_cursor": page.next_cursor})
