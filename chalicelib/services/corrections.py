"""Operator corrections, the console's use cases (admin/accounts.py): `points adjust` and `user freeze/unfreeze`.

    console -> adjust_points -> one posting (store/unit_of_work.py, as every change of points)
    console -> set_frozen -> the account's flag and the revocation the staff routes read, one transaction
               (store/repositories_collection.Standing; services/revocations.py)

The console calls these as the API calls its use cases, and shows their results as it likes.
"""
from __future__ import annotations

from typing import Any

from ..domain import clock
from ..domain.commands_collection import AdjustPoints, SetFrozen
from ..domain.guards import IdempotencyKeyFree
from ..domain.posting import Posting
from ..domain.results_collection import FrozenSet, PointsAdjusted
from ..errors import ValidationError
from ..store.failures import ConditionFailed
from ..store.unit_of_work import PostingUnitOfWork
from . import revocations

ADJUST_ROUTE = "admin points adjust"  # the operation its idempotency records name (scope "admin")


class StaysFrozenError(Exception):
    """A deleted account stays frozen: the console says so (never an API answer)."""


def adjust_points(command: AdjustPoints, uow: PostingUnitOfWork) -> PointsAdjusted:
    """An `adjust` entry with the operator's reason; the balance never goes below zero (INSUFFICIENT_POINTS)."""
    if command.delta == 0:
        raise ValidationError("调整数量不能为 0", field="delta")
    once = IdempotencyKeyFree("admin", command.request_id, ADJUST_ROUTE,
                              {"user": command.user_id, "delta": command.delta, "reason": command.reason})
    with uow.posting(command.user_id, once, command.request_id) as posting:
        for _ in posting.attempts():
            staged = posting.stage([Posting("adjust", command.delta, 0, "admin", reason=command.reason,
                                            ref=command.request_id)])
            posting.commit(PointsAdjusted(staged.lines[0].receipt(), staged.points))
    return posting.result


def set_frozen(command: SetFrozen, standing: Any) -> FrozenSet:
    """Freezing bumps the account's version, so a posting decided before the freeze cannot land after it,
    and writes the account's revocation in the same transaction, so staff routes refuse a frozen staff member
    within a minute in every container; an unfreeze removes it after the account is unfrozen. A deleted
    account stays frozen (StaysFrozenError, also when deleted meanwhile)."""
    if standing.get(command.user_id).deleted_at:
        raise StaysFrozenError(command.user_id)
    revocation = revocations.frozen_item(command.user_id) if command.frozen else None
    try:
        standing.set_frozen(command.user_id, command.frozen, command.reason, clock.now(), revocation)
    except ConditionFailed:
        raise StaysFrozenError(command.user_id) from None
    if command.frozen:
        revocations.frozen(command.user_id)
    else:
        standing.drop_freeze(revocations.shard_of(command.user_id), command.user_id)
        revocations.unfrozen(command.user_id)
    return FrozenSet(command.user_id, command.frozen, command.reason)
