"""The JSON of leaderboards and the public statistics (api.md), written once here from the use cases' results
(domain/results_boards.py); the console's `stats` shows the same."""
from __future__ import annotations

from ..domain.results_boards import Leaderboard, OrgPlace, Place, PublicStats
from .shapes import carbon_g


def place_json(place: Place) -> dict:
    """`rank` and `approximate`; below the top also the range the competition rank lies in, and what `rank`
    is: its best bound (rank_from). An org's place names the org."""
    body = {"rank": place.rank_from, "approximate": place.approximate}
    if place.approximate:
        body.update(rank_from=place.rank_from, rank_to=place.rank_to, rank_is="best_bound")
    body["carbon_g"] = carbon_g(place.carbon_mg)
    if isinstance(place, OrgPlace):
        body.update(id=place.id, name=place.name)
    return body


def leaderboard_json(board: Leaderboard) -> dict:
    """200 of GET /v1/leaderboards/{board}."""
    items = [{"rank": row.rank, "id": row.id, "name": row.name, "carbon_g": carbon_g(row.carbon_mg)}
             for row in board.rows]
    return {"board": board.board, "period": board.period, "period_key": board.period_key, "items": items,
            "me": place_json(board.me) if board.me else None, "built_at": board.built_at}


def stats_json(stats: PublicStats) -> dict:
    """200 of GET /v1/stats."""
    return {
        "registered_users": stats.registered_users, "active_users_today": stats.active_users_today,
        "points_issued": stats.points_issued, "carbon_g": carbon_g(stats.carbon_mg),
        "organizations": stats.organizations, "adoptions": stats.adoptions, "day": stats.day,
    }
