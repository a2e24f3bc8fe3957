"""The redemptions after the sale: reading them as domain values, and staging a refund's settlement.

Reads are one call each (a cancel's account and redemption: one BatchGetItem); `stage_settle` adds the
`RedemptionSettled` guard's actions to a posting's one transaction (store/dynamo_uow.py).
"""
from __future__ import annotations

from dataclasses import fields

from ..domain import clock
from ..domain.guards_market import RedemptionSettled
from ..domain.market import Redemption as SoldRedemption
from ..domain.market import stock_key
from ..domain.market_after_sale import RedemptionsPage
from . import cursor as cursors
from .access import access, on
from .market import LimitCounter, Redemption, claim_key
from .market import account_and_redemption as read_both
from .models import Account
from .stock import give_back_one
from .tx import Tx

_FIELDS = tuple(f.name for f in fields(SoldRedemption) if f.name != "address")  # the plain address is never stored


def redemption(stored: Redemption) -> SoldRedemption:
    """The stored redemption as the domain's (its sealed address stays in the store)."""
    values = {name: getattr(stored, name) for name in _FIELDS}
    for name in ("points_spent", "expires_epoch", "per_user_limit", "stock_shard"):
        if values[name] is not None:
            values[name] = int(values[name])
    return SoldRedemption(**values)


class SoldRedemptions:
    """The users' redemptions (table `redemptions`, index `by_user`)."""

    ACCESS = (on(Redemption, "GetItem"), on(Redemption, "Query", index="by_user"), read_both)

    def get(self, redemption_id: str) -> SoldRedemption | None:
        """One consistent GetItem."""
        try:
            return redemption(Redemption.get(redemption_id, consistent_read=True))
        except Redemption.DoesNotExist:
            return None

    def account_and_redemption(self, user_id: str, redemption_id: str) -> tuple[Account | None, SoldRedemption | None]:
        """Both by one consistent BatchGetItem (the account as the unit of work reads it)."""
        account, stored = read_both(user_id, redemption_id)
        return account, redemption(stored) if stored else None

    def of_user(self, user_id: str, limit: int, cursor: str | None) -> RedemptionsPage:
        """Newest first: one Query of the `by_user` index; `cursor` is the opaque one a page gave."""
        context = f"redemptions|{user_id}"
        results = Redemption.by_user.query(user_id, scan_index_forward=False, limit=limit,
                                                 last_evaluated_key=cursors.decode(cursor, context))
        items = [redemption(stored) for stored in results]
        return RedemptionsPage(items, cursors.encode(results.last_evaluated_key, context))


@access(on(LimitCounter, "UpdateItem"), on(Redemption, "UpdateItem"), give_back_one)
def stage_settle(tx: Tx, label: str, guard: RedemptionSettled) -> None:
    """Out of `issued` (refused under `label` unless still issued and on the right side of its expiry),
    one unit back to the stock shard it came from (the redemption's platform's item), the user's claim on the goods
    released."""
    epoch = int(guard.at.timestamp())
    cancelled = guard.status == "cancelled"
    stamp = Redemption.cancelled_at if cancelled else Redemption.expired_at
    in_time = Redemption.expires_epoch > epoch if cancelled else Redemption.expires_epoch <= epoch
    tx.update(label, Redemption(guard.redemption_id), actions=[
        Redemption.status.set(guard.status), stamp.set(clock.iso(guard.at)), Redemption.refunded.set(True),
        Redemption.expiry_bucket.remove(),
    ], condition=(Redemption.status == "issued") & in_time)
    give_back_one(tx, stock_key(guard.goods_id, guard.stock_shard, guard.platform), f"{label}:stock")
    if guard.per_user_limit is not None:
        tx.update(f"{label}:claim", LimitCounter(claim_key(guard.user_id, guard.goods_id)),
                  actions=[LimitCounter.count.add(-1)])
