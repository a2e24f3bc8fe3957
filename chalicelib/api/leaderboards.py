"""Leaderboards and the platform's public statistics."""
from ..services import boards, stats
from .web import Routes, respond

routes = Routes(__name__)


@routes.route("/v1/leaderboards/{board}", methods=["GET"])
def leaderboard(board):
    caller = routes.caller()
    return respond(200, boards.leaderboard(caller, board, routes.query().get("period")))


@routes.route("/v1/stats", methods=["GET"])
def public_stats():
    return respond(200, stats.public_stats())
