"""Leaderboards and the platform's public statistics."""
from ..errors import NotFoundError
from ..services import boards, stats
from .path_ids import path_id
from .platform import resolve
from .shapes_boards import leaderboard_json, stats_json
from .web import Routes, respond

routes = Routes(__name__)


@routes.route("/v1/leaderboards/{board}", methods=["GET"])
def leaderboard(board):
    caller = routes.caller()
    path_id(board.removeprefix("org-"), NotFoundError("没有这个排行榜"))  # users, orgs or org-{org id}
    return respond(200, leaderboard_json(boards.leaderboard(caller, board, routes.query().get("period"))))


@routes.route("/v1/stats", methods=["GET"])
def public_stats():
    """The request's platform's statistics (anyone; the token's platform, else X-Platform, else `default`)."""
    return respond(200, stats_json(stats.public_stats(platform=resolve(routes.current_request))))
