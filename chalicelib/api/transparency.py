"""The public transparency record (docs/transparency.md): the daily roots (anyone) and the proof of one of the
caller's own entries."""
from ..services import transparency
from .path_ids import path_id
from .platform import resolve
from .web import Routes, respond

routes = Routes(__name__)
DAY_FIELDS = ("platform", "day", "v", "shards", "root", "entries", "carbon_mg", "totals", "prev", "chain")


@routes.route("/v1/transparency/roots", methods=["GET"])
def list_roots():
    """The request's platform's (token, else X-Platform, else `default`) root records of `from`..`to`."""
    query = routes.query()
    found = transparency.roots(resolve(routes.current_request), query.get("from"), query.get("to"))
    return respond(200, {"items": [{name: record[name] for name in DAY_FIELDS} for record in found]})


@routes.route("/v1/me/ledger/{entry_id}/proof", methods=["GET"])
def entry_proof(entry_id):
    caller = routes.caller()
    return respond(200, transparency.proof(caller.user_id, path_id(entry_id)))
