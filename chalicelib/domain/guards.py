"""Guards: the conditions a posting's one transaction must hold, named as objects.

A use case adds guards to its unit of work (store/unit_of_work.py); the store turns each into the
conditioned write it stands for and, when DynamoDB refuses one, the unit of work raises `GuardFailed`
naming it. Guards whose refusal means "a random id collided" (`refuses = False`) make the unit of work
try again with fresh values instead.
"""
from __future__ import annotations

from typing import ClassVar

from .market import Redemption
from .values import immutable


class Guard:
    """Base of the guards. `refuses`: a failure is an answer to the user (else: try again)."""

    refuses: ClassVar[bool] = True


@immutable
class IdempotencyKeyFree(Guard):
    """No success is remembered yet for this request: the caller's `request_id` for one operation and
    payload. Failing it is not an error: the first result is replayed (or 409 for another payload)."""

    scope: str
    request_id: str
    operation: str
    payload: dict


@immutable
class StockAvailable(Guard):
    """One unit of the catalog item is taken, provided one is left (`left > 0`)."""

    stock_key: str


@immutable
class ClaimUnderLimit(Guard):
    """The user holds fewer than `limit` codes of the goods; the claim grows by one."""

    user_id: str
    goods_id: str
    limit: int


@immutable
class RedemptionIssued(Guard):
    """The redemption and its code are new (`attribute_not_exists`): an 80-bit collision retries."""

    redemption: Redemption
    joined_at: str | None = None  # the redeeming account's (on the code's pointer, for rule 5)
    refuses: ClassVar[bool] = False


@immutable
class PersonUnderDailyLimit(Guard):
    """The person (every platform together) has reported fewer than `limit` events of the behaviour on `day`;
    the count grows by one (contract rule 3: a self-reported daily limit caps the person)."""

    person_id: str
    day: str
    behavior: str
    limit: int


@immutable
class StepDayHeld(Guard):
    """A person on several platforms: the carbon of their steps of `day` is held by one platform, the first to
    credit it (contract rule 2: a step-day of a person counts once). `holder` None: this platform (`platform`)
    takes it unless another holds it; else `holder` still holds it (this platform credits points only)."""

    person_id: str
    day: str
    platform: str
    holder: str | None = None
    refuses: ClassVar[bool] = False


class GuardFailed(Exception):
    """The transaction was refused by `guard`: the use case says what that means to the user. `label`
    names which of its conditions, for a guard that holds several."""

    def __init__(self, guard: Guard, label: str | None = None) -> None:
        super().__init__(type(guard).__name__)
        self.guard, self.label = guard, label
