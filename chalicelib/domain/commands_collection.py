"""The inputs of collection points and operator corrections, as small typed values (domain/commands.py)."""
from __future__ import annotations

from .commands import UserCommand
from .values import immutable


@immutable
class CreditCollection(UserCommand):
    """POST /v1/operator/credit: `user_id` is the staff member (the request_id is theirs), `merchant_id`
    the merchant their token names (api/ checked they are still its staff); the rest as the client sent it."""

    merchant_id: str
    member_code: object
    behavior: object
    quantity: object = None
    platform: str = "default"  # the staff token's platform: its merchant, its member codes, its points


@immutable
class AdjustPoints:
    """Console `points adjust`: `delta` points on `user_id`'s account with the operator's `reason`;
    the same `request_id` applies once (scope "admin")."""

    user_id: str
    request_id: str
    delta: int
    reason: str


@immutable
class SetFrozen:
    """Console `user freeze` / `user unfreeze`."""

    user_id: str
    frozen: bool
    reason: str | None = None
