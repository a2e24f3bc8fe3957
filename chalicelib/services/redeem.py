"""redeem_goods: points for goods (POST /v1/market/goods/{id}/redeem).

    route (api/market.py) -> redeem_goods -> market rules (domain/market.py) -> one posting
    (store/unit_of_work.py: a consistent GetItem of the account, one TransactWriteItems)

The transaction holds the `spend` entry and the balance (never below zero), one unit of stock
(`StockAvailable`), the user's claim on the goods (`ClaimUnderLimit`, when the goods has a per-user
limit), and the redemption with its code (`RedemptionIssued`: new, so no two redemptions share a code).
"""
from __future__ import annotations

from ..domain import clock
from ..domain import market as rules
from ..domain.commands import RedeemGoods
from ..domain.guards import ClaimUnderLimit, GuardFailed, IdempotencyKeyFree, RedemptionIssued, StockAvailable
from ..domain.posting import Posting
from ..domain.refusals import refuse_frozen
from ..domain.results import RedemptionResult
from ..errors import (
    InsufficientPointsError,
    OutOfStockError,
    PerUserLimitReachedError,
    ValidationError,
)
from ..store.unit_of_work import PostingUnitOfWork  # the port: store/dynamo_uow.py, tests/unit/fakes.py

ROUTE = "POST /v1/market/goods/{id}/redeem"  # the operation idempotency records name (kept: they replay)


def redeem_goods(command: RedeemGoods, uow: PostingUnitOfWork) -> RedemptionResult:
    goods = uow.catalog.goods_on_sale(command.goods_id)
    address = _address(goods, command.address)
    once = IdempotencyKeyFree(command.user_id, command.request_id, ROUTE, {"goods_id": goods.id, "address": address})
    try:
        with uow.posting(command.user_id, once, command.request_id) as posting:
            for account in posting.attempts():
                refuse_frozen(account)
                if int(account.points) < goods.points_price:
                    raise InsufficientPointsError(points=int(account.points), points_price=goods.points_price)
                redemption = rules.issue(command.user_id, goods, address, command.request_id, clock.now())
                staged = posting.stage([Posting("spend", -goods.points_price, 0, "market",
                                                ref=redemption.redemption_id)])
                posting.guard(StockAvailable(goods.stock_key))
                if goods.per_user_limit is not None:
                    posting.guard(ClaimUnderLimit(command.user_id, goods.id, goods.per_user_limit))
                posting.guard(RedemptionIssued(redemption))
                posting.commit(RedemptionResult(redemption, staged.points, staged.lines[0].receipt()))
    except GuardFailed as failed:
        if isinstance(failed.guard, StockAvailable):
            raise OutOfStockError(goods_id=goods.id) from None
        raise PerUserLimitReachedError(per_user_limit=goods.per_user_limit) from None
    return posting.result


def _address(goods: rules.Goods, raw: object) -> dict | None:
    if goods.kind != "physical":
        return None  # only physical goods are delivered; an address sent for others is ignored
    try:
        return rules.clean_address(raw)
    except rules.AddressError as exc:
        raise ValidationError(str(exc), field=exc.field, **exc.rule) from None
