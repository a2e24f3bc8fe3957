"""redeem_goods: points for goods (POST /v1/market/goods/{id}/redeem).

    route (api/market.py) -> redeem_goods -> market rules (domain/market.py) -> one posting
    (store/unit_of_work.py: a consistent GetItem of the account, one TransactWriteItems)

The transaction holds the `spend` entry and the balance (never below zero), one unit of stock
(`StockAvailable`), the user's claim on the goods (`ClaimUnderLimit`, when the goods has a per-user
limit), and the redemption with its code (`RedemptionIssued`: new, so no two redemptions share a code).

A goods' stock may be split into `stock_shards` sub-items (a flash sale: store/stock.py). The unit comes
from one shard (`Shards` picks it; the redemption records it, so a refund gives it back there); an empty
shard makes the same attempt try another, on the same read of the account. Shards found empty are
remembered by the container for a moment (services/stock_memory.py).

The goods are the caller's platform's (its catalog partition `goods`, `P#goods` on another platform P: another
platform's goods id is 404 as a missing one), and so are their stock items ("P#goods#{id}"), the code's key
("P#{code}") and the points spent (the caller's account is its platform's).
"""
from __future__ import annotations

from ..domain import addresses, clock
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
    goods = uow.catalog.goods_on_sale(command.goods_id, command.platform)  # the caller's platform's shelf
    address = _address(goods, command.address)
    once = IdempotencyKeyFree(command.user_id, command.request_id, ROUTE, {"goods_id": goods.id, "address": address})
    shards = Shards(goods, command.user_id, command.request_id, uow)
    if shards.next() is None:  # sold out a moment ago (services/stock_memory.py): no account read, no write
        remembered = uow.remembered(once)  # a retry of a request that succeeded still gets its first answer
        if remembered is not None:
            return remembered
        raise OutOfStockError(goods_id=goods.id)
    sold = None
    try:
        with uow.posting(command.user_id, once, command.request_id) as posting:
            for account in posting.attempts():
                refuse_frozen(account)
                if int(account.points) < goods.points_price:
                    raise InsufficientPointsError(points=int(account.points), points_price=goods.points_price)
                sold = _from_a_shard(posting, shards, command, goods, address, account.joined_at)
    except GuardFailed as failed:
        if isinstance(failed.guard, StockAvailable):
            raise OutOfStockError(goods_id=goods.id) from None
        raise PerUserLimitReachedError(per_user_limit=goods.per_user_limit) from None
    if posting.result is sold:  # not a replayed first result: this container took a unit just now
        shards.memory.sold(goods.scoped_id)
    return posting.result


def _from_a_shard(posting: PostingUnitOfWork, shards: Shards, command: RedeemGoods, goods: rules.Goods,
                  address: dict | None, joined_at: str | None) -> RedemptionResult:
    """One attempt: the unit from the request's next shard; an empty shard makes it try the next one on
    the same read of the account. The result committed (posting.result stays None after a lost race)."""
    while (shard := shards.next()) is not None:
        redemption = rules.issue(command.user_id, goods, address, command.request_id, clock.now(), shard)
        staged = posting.stage([Posting("spend", -goods.points_price, 0, "market", ref=redemption.redemption_id)])
        posting.guard(StockAvailable(rules.stock_key(goods.id, shard, goods.platform)))
        if goods.per_user_limit is not None:
            posting.guard(ClaimUnderLimit(command.user_id, goods.id, goods.per_user_limit))
        posting.guard(RedemptionIssued(redemption, joined_at))  # the account's age, for rule 5
        sold = RedemptionResult(redemption, staged.points, staged.lines[0].receipt())
        try:
            posting.commit(sold)
        except GuardFailed as failed:
            if not isinstance(failed.guard, StockAvailable):
                raise
            shards.empty(shard)
            posting.again()
            continue
        if posting.result is None:
            shards.move_on()  # a lost race (a conflict on the shard, the account moved): the next attempt reads again
        return sold
    raise OutOfStockError(goods_id=goods.id)


class Shards:
    """Which stock shard a redemption tries next: the request's own order (domain/market.shard_order), less
    the shards this container found empty a moment ago (services/stock_memory.py) and those this request
    found empty. When a picked shard turns out empty, every shard is read once (one BatchGetItem: only
    then, and only for goods with several shards) and the next pick is one with units left."""

    def __init__(self, goods: rules.Goods, user_id: str, request_id: str, uow: PostingUnitOfWork) -> None:
        self.goods, self.uow, self.memory = goods, uow, uow.catalog.sold_out
        self.order = rules.shard_order(goods, user_id, request_id)
        self.skip = self.memory.empty_shards(goods.scoped_id)
        self.tried: set[int] = set()  # refused this request: each shard is tried at most once

    def next(self) -> int | None:
        return next((shard for shard in self.order if shard not in self.skip), None)

    def move_on(self) -> None:
        """After a lost race, the next attempt starts at the next shard: a hot shard's losers spread out."""
        self.order = self.order[1:] + self.order[:1]

    def empty(self, shard: int) -> None:
        """The picked shard refused: it is empty. Learns which others are (all of them, in one read)."""
        self.tried.add(shard)
        self.skip.add(shard)
        self.memory.found_empty(self.goods.scoped_id, [shard])
        if self.goods.stock_shards == 1 or len(self.skip) == self.goods.stock_shards:
            return
        left = self.uow.stock.left(self.goods.stock_keys)
        empty = {n for n, key in enumerate(self.goods.stock_keys) if left.get(key, 0) <= 0}
        self.memory.found_empty(self.goods.scoped_id, empty)
        self.memory.found_stocked(self.goods.scoped_id, set(range(self.goods.stock_shards)) - empty - self.tried)
        self.skip = empty | self.tried


def _address(goods: rules.Goods, raw: object) -> dict | None:
    if goods.kind != "physical":
        return None  # only physical goods are delivered; an address sent for others is ignored
    try:
        return addresses.clean_address(raw)
    except addresses.AddressError as exc:
        raise ValidationError(str(exc), field=exc.field, **exc.rule) from None
