"""Trees to adopt, adopting one, and the caller's adoptions with their certificates."""
from ..errors import NotFoundError
from ..lazy import lazy
from .fields import REQUEST_ID
from .path_ids import path_id
from .web import Routes, respond

trees = lazy("chalicelib.services.trees")

routes = Routes(__name__)


@routes.route("/v1/trees", methods=["GET"])
def list_trees():
    return respond(200, trees.offers())


@routes.route("/v1/trees/{tree_id}/adopt", methods=["POST"])
def adopt_tree(tree_id):
    caller = routes.caller()
    tree_id = path_id(tree_id, NotFoundError("没有这种树苗"))
    status, body = trees.adopt(caller, tree_id, routes.body(REQUEST_ID))
    return respond(status, body)


@routes.route("/v1/me/trees", methods=["GET"])
def my_trees():
    caller = routes.caller()
    return respond(200, trees.mine(caller, routes.query()))
