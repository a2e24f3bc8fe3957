"""The user's redemptions, and cancelling one (redeeming is services/redeem.py).

Cancel and refunded expiry are `refund` postings
whose transaction moves the redemption out of `issued` on the condition that it still is, so a code
is used, cancelled or expired exactly once and never refunded twice.
"""
from __future__ import annotations

from datetime import datetime

from ..api import shapes  # transitional: page, one and cancel still answer JSON until they move to api/
from ..domain import clock
from ..domain import market as rules
from ..domain.market import effective_status
from ..errors import AccountFrozenError, NotCancellableError, NotFoundError
from ..store import cursor as cursors
from ..store.idempotency import IdempotencyKey
from ..store.market import Counter, Redemption, account_and_redemption, claim_key
from ..store.models import Account
from ..store.repositories import address_context  # noqa: F401 - admin/ imports it from here
from ..store.stock import give_back_one
from ..store.tx import Tx
from . import goods as shelf
from .ledger import parse_limit
from .posting import Plan, Posting, post
from .tokens import Caller

CANCEL_ROUTE = "POST /v1/me/redemptions/{id}/cancel"


def redemption_json(redemption: Redemption, now: datetime | None = None) -> dict:
    return shapes.redemption_json(redemption, shelf.merchant_json(redemption.merchant_id), now)


def page(caller: Caller, query: dict) -> dict:
    """GET /v1/me/redemptions: newest first, one Query of the `by_user` index."""
    limit = parse_limit(query.get("limit"))
    context = f"redemptions|{caller.user_id}"
    results = Redemption.by_user.query(caller.user_id, scan_index_forward=False, limit=limit,
                                       last_evaluated_key=cursors.decode(query.get("cursor"), context))
    now = clock.now()
    items = [redemption_json(r, now) for r in results]
    return {"items": items, "next_cursor": cursors.encode(results.last_evaluated_key, context)}


def one(caller: Caller, redemption_id: str) -> dict:
    """GET /v1/me/redemptions/{id}: another user's id is a 404, exactly like a missing one."""
    if not _could_exist(redemption_id):
        raise NotFoundError()
    try:
        redemption = Redemption.get(redemption_id, consistent_read=True)
    except Redemption.DoesNotExist:
        raise NotFoundError() from None
    if redemption.user_id != caller.user_id:
        raise NotFoundError()
    return redemption_json(redemption)


def cancel(caller: Caller, redemption_id: str) -> tuple[int, dict]:
    """POST /v1/me/redemptions/{id}/cancel: one BatchGetItem (account and redemption) and one transaction.

    Remembered under "cancel:{id}" (a request_id no client can send), so a retried cancel gets the
    first answer instead of NOT_CANCELLABLE."""
    if not _could_exist(redemption_id):
        raise NotFoundError()
    account, redemption = account_and_redemption(caller.user_id, redemption_id)
    if redemption is None or account is None or redemption.user_id != caller.user_id:
        raise NotFoundError()
    idem = IdempotencyKey(caller.user_id, f"cancel:{redemption_id}", CANCEL_ROUTE, {"redemption_id": redemption_id})

    def plan(acct: Account) -> Plan:
        if acct.frozen:
            raise AccountFrozenError()
        now = clock.now()
        status = effective_status(redemption, now)
        if status != "issued" or not redemption.cancellable:
            raise NotCancellableError(status=status, cancellable=bool(redemption.cancellable))
        shown = {**redemption_json(redemption, now), "status": "cancelled", "cancelled_at": clock.iso(now),
                 "refunded": True, "cancellable": False}
        return Plan(
            [Posting("refund", int(redemption.points_spent), 0, "market", ref=redemption_id)],
            respond=lambda entries, after: (200, {"redemption": shown, "points": int(after.points),
                                                  "entry": entries[0]}),
            extra=lambda tx: unwind(tx, redemption, "cancelled", now),
            refusals={"redemption": NotCancellableError()},
        )

    return post(caller.user_id, plan, idem, None, account=account)


def _could_exist(redemption_id: str) -> bool:
    """Ids are 26 characters (domain/ids.sortable_id). A much longer one cannot exist, and DynamoDB refuses
    keys over 2 KB with an error that would otherwise surface as a 503 (tests/reliability/test_bad_input.py)."""
    return 0 < len(redemption_id) <= 64


def unwind(tx: Tx, redemption: Redemption, status: str, now: datetime) -> None:
    """Undoes a refunded redemption: out of `issued` (only if still issued, and on the right side of its
    expiry), one unit back to stock, the user's claim on the goods released."""
    epoch = int(now.timestamp())
    stamp = Redemption.cancelled_at if status == "cancelled" else Redemption.expired_at
    in_time = Redemption.expires_epoch > epoch if status == "cancelled" else Redemption.expires_epoch <= epoch
    tx.update("redemption", Redemption(redemption.redemption_id), actions=[
        Redemption.status.set(status), stamp.set(clock.iso(now)), Redemption.refunded.set(True),
        Redemption.expiry_bucket.remove(),
    ], condition=(Redemption.status == "issued") & in_time)
    give_back_one(tx, rules.stock_key(redemption.goods_id))
    if redemption.per_user_limit is not None:
        tx.update("claim", Counter(claim_key(redemption.user_id, redemption.goods_id)),
                  actions=[Counter.count.add(-1)])
