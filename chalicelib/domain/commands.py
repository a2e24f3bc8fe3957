"""The use cases' inputs: what a route parsed from a request, as small typed values."""
from __future__ import annotations

from .values import immutable


@immutable
class UserCommand:
    """A write a user asks for under their own `request_id` (api.md: a retry finds the first result)."""

    user_id: str
    request_id: str


@immutable
class AwardCheckin(UserCommand):
    """POST /v1/checkins: `quantity` and `evidence` as the client sent them (the behaviour's rule checks them)."""

    behavior: object
    quantity: object = None
    evidence: object = None
    platform: str = "default"  # the caller's platform (its token's)


@immutable
class RedeemGoods(UserCommand):
    """POST /v1/market/goods/{id}/redeem: `address` as sent (only physical goods use it)."""

    goods_id: str
    address: object = None
    platform: str = "default"  # the caller's platform (its token's): its goods, stock and codes
