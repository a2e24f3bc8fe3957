"""What the use cases return (never a status code or a JSON body: api/ decides those).

The unit of work remembers a result with its request's idempotency record, so a retried request gets
the first result back (store/results.py serialises them).
"""
from __future__ import annotations

from .market import Redemption
from .posting import LedgerLine
from .values import immutable


@immutable
class Verification:
    """Whether a green-parking odometer reading showed a parked day, and a message to show as it is."""

    verified: bool
    reason: str | None
    odometer_km: float
    previous_km: float | None
    previous_day: str | None
    tolerance_km: float
    message: str


@immutable
class CheckinResult:
    entry: LedgerLine
    points: int  # the balance after
    carbon_mg: int  # the account's carbon after
    verification: Verification | None = None


@immutable
class RedemptionResult:
    redemption: Redemption
    points: int  # the balance after
    entry: LedgerLine
