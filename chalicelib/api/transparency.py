"""The public transparency record (docs/transparency.md): the daily roots (anyone) and the proof of one of the
caller's own entries."""
from datetime import date

from ..errors import ValidationError
from ..services import transparency
from .fields import query_day
from .path_ids import path_id
from .platform import resolve
from .web import Routes, respond

routes = Routes(__name__)
DAY_FIELDS = ("platform", "day", "v", "shards", "root", "entries", "carbon_mg", "totals", "prev", "chain")
RANGE_RULE = f"from and to are days (YYYY-MM-DD), from <= to, at most {transparency.MAX_RANGE_DAYS} days"


def _day(query: dict, name: str) -> date:
    raw = query.get(name)
    if raw is None:
        raise ValidationError(f"{name} 须为日期 YYYY-MM-DD", field=name, reason="missing", rule=RANGE_RULE)
    return query_day(raw, name, RANGE_RULE)


@routes.route("/v1/transparency/roots", methods=["GET"])
def list_roots():
    """The request's platform's (token, else X-Platform, else `default`) root records of `from`..`to`."""
    query = routes.query()
    first, last = _day(query, "from"), _day(query, "to")
    if first > last or (last - first).days >= transparency.MAX_RANGE_DAYS:
        raise ValidationError(f"from 须不晚于 to，且最多 {transparency.MAX_RANGE_DAYS} 天", field="to",
                              reason="range", rule=RANGE_RULE)
    found = transparency.roots(resolve(routes.current_request), first, last)
    return respond(200, {"items": [{name: record[name] for name in DAY_FIELDS} for record in found]})


@routes.route("/v1/me/ledger/{entry_id}/proof", methods=["GET"])
def entry_proof(entry_id):
    caller = routes.caller()
    return respond(200, transparency.proof(caller.user_id, path_id(entry_id)))
