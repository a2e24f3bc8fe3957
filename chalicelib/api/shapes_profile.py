"""The JSON of the caller's own account (api.md: GET and PATCH /v1/me), from services/profile.py's Profile."""
from __future__ import annotations

from ..domain.profile import Profile, Review
from .shapes import carbon_g


def profile_json(profile: Profile) -> dict:
    return {
        "id": profile.user_id, "nickname": profile.nickname, "avatar_url": profile.avatar_url,
        "points": profile.points, "carbon_g": carbon_g(profile.carbon_mg),
        "person_carbon_g": carbon_g(profile.person_carbon_mg),  # across every platform the person is on
        "points_earned": profile.points_earned, "points_spent": profile.points_spent,
        "joined_at": profile.joined_at, "roles": list(profile.roles), "frozen": profile.frozen,
        "orgs": [{"id": org.id, "name": org.name} for org in profile.orgs],
        # Privacy and expiry: whether others may see the nickname yet, what expires when (services/nicknames.py,
        # services/points_expiry.py).
        "nickname_status": profile.nickname_status,
        "points_expiring": {"points": profile.expiring_points,
                            "on": profile.expiring_on.isoformat() if profile.expiring_on else None},
        "review": review_json(profile.review),  # docs/risk.md "Review"
        # today's use of the daily caps, per behaviour with a cap (the numbers no cap reads are 0)
        "today": {use.behavior: {"count": use.events, "points": use.points,
                                 "quantity": quantity_json(use.quantity_milli)} for use in profile.today},
    }


def quantity_json(milli: int) -> int | float:
    """Thousandths as the number a person reads: 2500 -> 2.5, 3000 -> 3."""
    whole, rest = divmod(milli, 1000)
    return whole if rest == 0 else milli / 1000


def review_json(review: Review | None) -> dict:
    review = review or Review(None, (), 0, 0)
    return {"status": "under_review" if review.since else "clear", "since": review.since, "rules": list(review.rules),
            "points_held": review.points_held, "carbon_held_g": carbon_g(review.carbon_held_mg)}
