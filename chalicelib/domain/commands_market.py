"""The marketplace's inputs after the sale, as the routes parse them (domain/commands.py: the others)."""
from __future__ import annotations

from .values import immutable


@immutable
class CancelRedemption:
    """POST /v1/me/redemptions/{id}/cancel. No request_id: a redemption is cancelled once, so a retry
    finds the first answer by the redemption's id (services/redemptions.py)."""

    user_id: str
    redemption_id: str


@immutable
class VerifyCode:
    """POST /v1/merchant/verify: `code` as scanned or typed, by a staff member of `merchant_id` (of `platform`)."""

    staff_user_id: str
    merchant_id: str
    code: str
    platform: str = "default"  # the staff token's platform: the code's key is built with it
