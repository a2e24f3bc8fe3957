"""What the leaderboard and statistics use cases return (api/shapes_boards.py writes their JSON)."""
from __future__ import annotations

from .values import immutable


@immutable
class Place:
    """A caller's place on a board: exact inside the top (`approximate` False), else the range the competition
    rank lies in, read from the rank histogram (`rank_from` its best bound)."""

    rank_from: int
    rank_to: int
    approximate: bool
    carbon_mg: int


@immutable
class OrgPlace(Place):
    """On the orgs board: the caller's best-placed org."""

    id: str = ""
    name: str | None = None


@immutable
class BoardRow:
    rank: int
    id: str
    name: str | None
    carbon_mg: int


@immutable
class Leaderboard:
    board: str
    period: str
    period_key: str
    rows: list[BoardRow]
    me: Place | None
    built_at: str | None


@immutable
class PublicStats:
    registered_users: int
    active_users_today: int
    points_issued: int
    carbon_mg: int
    organizations: int
    adoptions: int
    day: str
