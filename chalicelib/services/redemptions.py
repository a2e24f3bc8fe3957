"""The user's redemptions after the sale: reading them, cancelling one, and the refund that expiry and
account deletion share (redeeming is services/redeem.py).

    route (api/market.py) -> cancel_redemption -> one posting (store/unit_of_work.py: the account and the
    redemption by one BatchGetItem, one TransactWriteItems)

A cancel, a refunded expiry and an account deletion's refund are `refund` postings guarded by
`RedemptionSettled` (domain/guards_market.py): the transaction moves the redemption out of `issued` on the
condition that it still is, so a code is used, cancelled or expired exactly once and never refunded twice.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ..domain import clock
from ..domain.commands_market import CancelRedemption
from ..domain.guards import GuardFailed, IdempotencyKeyFree
from ..domain.guards_market import RedemptionSettled
from ..domain.market import Redemption, effective_status
from ..domain.market_after_sale import RedemptionsPage
from ..domain.platforms import DEFAULT, scoped
from ..domain.posting import Posting
from ..domain.results_market import CancelResult
from ..errors import AccountFrozenError, NotCancellableError, NotFoundError
from ..store.unit_of_work import PostingUnitOfWork  # the port: store/dynamo_uow.py, tests/unit/fakes.py

CANCEL_ROUTE = "POST /v1/me/redemptions/{id}/cancel"  # the operation idempotency records name (they replay)


def page(user_id: str, limit: int, cursor: str | None, sold: Any) -> RedemptionsPage:
    """GET /v1/me/redemptions: newest first, one Query (`sold`: store/repositories_market.SoldRedemptions)."""
    return sold.of_user(user_id, limit, cursor)


def one(user_id: str, redemption_id: str, sold: Any) -> Redemption:
    """GET /v1/me/redemptions/{id}: another user's id is a 404, exactly like a missing one."""
    redemption = sold.get(redemption_id) if could_exist(redemption_id) else None
    if redemption is None or redemption.user_id != user_id:
        raise NotFoundError()
    return redemption


def cancel_redemption(command: CancelRedemption, uow: PostingUnitOfWork, sold: Any) -> CancelResult:
    """Remembered under "cancel:{id}" (a request_id no client can send), so a retried cancel gets the
    first answer instead of NOT_CANCELLABLE."""
    if not could_exist(command.redemption_id):
        raise NotFoundError()
    account, redemption = sold.account_and_redemption(command.user_id, command.redemption_id)
    if redemption is None or account is None or redemption.user_id != command.user_id:
        raise NotFoundError()
    once = IdempotencyKeyFree(command.user_id, f"cancel:{redemption.redemption_id}", CANCEL_ROUTE,
                              {"redemption_id": redemption.redemption_id})
    done = None
    try:
        with uow.posting(command.user_id, once, account=account) as posting:
            for current in posting.attempts():
                if current.frozen:
                    raise AccountFrozenError()
                now = clock.now()
                status = effective_status(redemption, now)
                if status != "issued" or not redemption.cancellable:
                    raise NotCancellableError(status=status, cancellable=bool(redemption.cancellable))
                staged = posting.stage([refund_posting(redemption)])
                posting.guard(settled(redemption, "cancelled", now))
                cancelled = replace(redemption, status="cancelled", cancelled_at=clock.iso(now), refunded=True)
                done = CancelResult(cancelled, staged.points, staged.lines[0].receipt())
                posting.commit(done)
    except GuardFailed:
        raise NotCancellableError() from None
    if posting.result is done:  # this cancel gave the unit back, not a replayed one
        stock_returned(uow, redemption)
    return posting.result


def refund(redemption: Any, status: str, reason: str, now: datetime, uow: PostingUnitOfWork) -> bool:
    """Expiry ("expired") and account deletion ("cancelled"): the refund posting of an issued redemption
    (a domain one or the stored model); False when it had already left `issued` (nothing written)."""
    try:
        with uow.posting(redemption.user_id) as posting:
            for _ in posting.attempts():
                staged = posting.stage([refund_posting(redemption, reason)])
                posting.guard(settled(redemption, status, now))
                posting.commit(staged.lines[0])
    except GuardFailed:
        return False
    stock_returned(uow, redemption)
    return True


def refund_posting(redemption: Any, reason: str | None = None) -> Posting:
    return Posting("refund", int(redemption.points_spent), 0, "market", ref=redemption.redemption_id, reason=reason)


def settled(redemption: Any, status: str, now: datetime) -> RedemptionSettled:
    limit, shard = redemption.per_user_limit, redemption.stock_shard
    return RedemptionSettled(redemption.redemption_id, redemption.user_id, redemption.goods_id,
                             None if limit is None else int(limit), status, now,
                             None if shard is None else int(shard), redemption.platform)


def stock_returned(uow: PostingUnitOfWork, redemption: Any) -> None:
    """The unit given back sells again at once in this container, even if it had found the goods sold out
    (services/stock_memory.py, keyed by the goods' domain/market.Goods.scoped_id; other containers see it
    within SOLD_OUT_SECONDS)."""
    memory = getattr(uow.catalog, "sold_out", None)
    if memory is not None:
        shard, goods = redemption.stock_shard, scoped(redemption.platform or DEFAULT, redemption.goods_id)
        memory.returned(goods, None if shard is None else int(shard))


def could_exist(redemption_id: str) -> bool:
    """Ids are 26 characters (domain/ids.sortable_id). A much longer one cannot exist, and DynamoDB refuses
    keys over 2 KB with an error that would otherwise surface as a 503 (tests/reliability/test_bad_input.py)."""
    return 0 < len(redemption_id) <= 64
