"""The inputs of the postings that take points out by rule, not by request (domain/commands.py: the others).
Neither has a request_id: each is done once by what the account itself says (see services/points_expiry.py
and services/erasure.py), so they write no idempotency record."""
from __future__ import annotations

from .values import immutable


@immutable
class ExpirePoints:
    """What `user_id` still holds from the lots of `year` and before expires (the yearly run, the console)."""

    user_id: str
    year: int  # the latest lot year due (domain/lots.expired_through)


@immutable
class ForfeitBalance:
    """An account being deleted loses the balance left (services/erasure.py, step 5)."""

    user_id: str
