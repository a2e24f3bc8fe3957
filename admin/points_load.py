"""The catalog's "points" section: the platform's points policy (today, how long points live).

    "points": {"expire_after_years": 1}      points expire at the end of the year after the year they came in
    "points": {"expire_after_years": 0}      at the end of the year they came in
    "points": {"expire_after_years": null}   never

Stored as the catalog item ("policy", "points"); chalicelib/services/points_expiry.py reads it (default 1 when
never loaded). A file without the section leaves the stored policy as it is.

A platform entry's `points` (admin/platforms_load.py) is the same section for that platform's users, stored as
("P#policy", "points"); an entry without it leaves P's stored policy as it is, and a platform that never had one
follows the default of 1, as the top level does (never `default`'s policy: points are the platform's).
"""
from __future__ import annotations

from chalicelib.domain.lots import parse_after_years
from chalicelib.domain.platforms import DEFAULT, scoped
from chalicelib.store.models import CatalogItem

from .console import CommandError


def plan_points(section, platform: str = DEFAULT):
    from .catalog_load import Planned, existing  # catalog_load lists this planner

    if section in (None, []):
        return Planned([], [], {"unchanged": []})
    if not isinstance(section, dict) or set(section) - {"expire_after_years"}:
        raise CommandError('points must be an object such as {"expire_after_years": 1}')
    try:
        policy = {"expire_after_years": parse_after_years(section.get("expire_after_years", 1))}
    except ValueError as exc:
        raise CommandError(f"points: {exc}") from exc
    partition = scoped(platform, "policy")
    if existing(partition).get("points") == policy:
        return Planned([], [], {"unchanged": ["points"]})
    return Planned([CatalogItem(partition, "points", data=policy)], [], {"changed": ["points"]})
