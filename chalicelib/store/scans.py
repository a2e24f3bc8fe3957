"""A merchant's scans: the code's pointer, the hand-over's one transaction, the staff member's window of
failed scans, and the merchant's day. No posting (no points move), so no posting unit of work: the
guards (domain/guards_market.py) are staged here and a refused one comes back as `GuardFailed`.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime

from ..domain import clock
from ..domain.guards import Guard
from ..domain.guards_market import RedemptionUsed, ScanWindowOpen, VerificationRecorded
from ..domain.guards_risk import RingRemembered
from ..domain.market import Redemption as SoldRedemption
from ..domain.market_after_sale import CodePointer, MerchantDay, VerifiedRow
from ..domain.platforms import DEFAULT, scoped
from . import attempts as windows
from . import cursor as cursors
from . import risk_memory
from .access import on
from .market import TOTALS_SHARDS, TOTALS_SK, Redemption, RedemptionCode, Verification, code_key, merchant_day
from .nudges import Nudge, receipt_item
from .repositories_market import SoldRedemptions
from .tx import Tx, commit_guards


class Scans:
    ACCESS = (
        on(Nudge, "PutItem"),  # the receipt queued in the scan's transaction (store/nudge_sends.py)
        on(RedemptionCode, "GetItem"),
        on(Verification, "Query"),
        SoldRedemptions,
        windows.count_failure,
        on(Redemption, "UpdateItem"),  # what `_stage` below stages into a verification's transaction
        on(Verification, "PutItem", "UpdateItem"),
        windows.stage_window_open,
        risk_memory.stage_ring,
        risk_memory.RiskMemory,
    )

    def pointer(self, code: str, platform: str = DEFAULT) -> CodePointer | None:
        """The pointer of `platform`'s code (its key: store/market.code_key): one consistent GetItem."""
        try:
            found = RedemptionCode.get(code_key(platform, code), consistent_read=True)
        except RedemptionCode.DoesNotExist:
            return None
        return CodePointer(found.code, found.redemption_id, found.merchant_id, found.goods_id, found.goods_name,
                           int(found.points_spent), int(found.expires_epoch),
                           None if platform == DEFAULT else platform, found.user_id, found.redeemed_at,
                           found.joined_at)

    @staticmethod
    def ring_entries(key: str) -> tuple[list, int]:
        """Rule 5's memory of a goods and a staff member (its rare path): one consistent GetItem."""
        return risk_memory.ring_entries(key)

    @staticmethod
    def mark_ring(key: str, rev: int, kept: tuple) -> bool:
        """Rule 5's memory with the accounts just flagged marked, if still at `rev` (one UpdateItem)."""
        return risk_memory.mark_ring(key, rev, kept)

    def redemption(self, redemption_id: str) -> SoldRedemption | None:
        return SoldRedemptions().get(redemption_id)

    def count_failure(self, window_key: str, limit: int, purge_at: datetime) -> bool:
        """One more failed scan in the window; False when it already holds `limit`."""
        return windows.count_failure(window_key, limit, purge_at)

    def commit(self, guards: list[Guard]) -> bool:
        """The guards as one TransactWriteItems: True when written, False after a lost race (a concurrent
        transaction, a row id collision: try again), GuardFailed when a refusing guard failed."""
        return commit_guards(guards, _stage)

    def merchant_day(self, merchant_id: str, day: date, limit: int, cursor: str | None,
                     platform: str = DEFAULT) -> MerchantDay:
        """Newest first with the day's totals, summed over their shards: the first page is one Query (the
        totals sort first), later pages add a Query of the totals alone. `platform`: the merchant's."""
        context = f"merchant-redemptions|{scoped(platform, merchant_id)}|{day.isoformat()}"
        start = cursors.decode(cursor, context)
        key = merchant_day(merchant_id, day, platform)
        if start is None:
            results = Verification.query(key, scan_index_forward=False, limit=limit + TOTALS_SHARDS + 1)
            found = list(results)
            totals = [r for r in found if r.sk.startswith(TOTALS_SK)]
            rows = [r for r in found if not r.sk.startswith(TOTALS_SK)]
            last = results.last_evaluated_key
            if len(rows) > limit:  # fewer totals shards than the Query made room for: a page ends at `limit`
                rows = rows[:limit]
                last = {"merchant_day": {"S": key}, "sk": {"S": rows[-1].sk}}
        else:
            results = Verification.query(key, Verification.sk.startswith("v#"), scan_index_forward=False,
                                         limit=limit, last_evaluated_key=start)
            rows, last = list(results), results.last_evaluated_key
            totals = list(Verification.query(key, Verification.sk.startswith(TOTALS_SK)))
        verified = [VerifiedRow(r.redemption_id, r.goods_id, r.goods_name, r.used_at, int(r.points),
                                r.staff_user_id) for r in rows]
        return MerchantDay(day, verified, sum(int(t.count) for t in totals), sum(int(t.points) for t in totals),
                           cursors.encode(last, context))


def _stage(tx: Tx, label: str, guard: Guard) -> None:
    if isinstance(guard, RedemptionUsed):
        tx.update(label, Redemption(guard.redemption_id), actions=[
            Redemption.status.set("used"), Redemption.used_at.set(clock.iso(guard.at)),
            Redemption.used_by.set(guard.staff_user_id), Redemption.expiry_bucket.remove(),
        ], condition=(Redemption.status == "issued")
            & (Redemption.expires_epoch > int(guard.at.timestamp())))
        tx.put(f"{label}:receipt", receipt_item(guard.redemption_id, guard.at))  # the user's receipt (nudges)
    elif isinstance(guard, VerificationRecorded):
        pointer = guard.pointer
        day = merchant_day(pointer.merchant_id, clock.business_day(guard.at), pointer.platform)
        row = Verification(day, "v#" + guard.row_id, redemption_id=pointer.redemption_id,
                           goods_id=pointer.goods_id, goods_name=pointer.goods_name, used_at=clock.iso(guard.at),
                           staff_user_id=guard.staff_user_id, points=pointer.points_spent)
        tx.put(label, row, condition=Verification.sk.does_not_exist())
        tx.update(f"{label}:totals", Verification(day, f"{TOTALS_SK}#{secrets.randbelow(TOTALS_SHARDS)}"),
                  actions=[Verification.count.add(1), Verification.points.add(pointer.points_spent)])
    elif isinstance(guard, ScanWindowOpen):
        windows.stage_window_open(tx, label, guard.window_key, guard.limit)
    elif isinstance(guard, RingRemembered):
        risk_memory.stage_ring(tx, label, guard)
    else:
        raise TypeError(f"no scan action for {type(guard).__name__}")
