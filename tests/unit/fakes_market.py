"""In-memory repositories of the marketplace after the sale, beside tests/unit/fakes.py's unit of work:
the redemptions it issued can be cancelled, refunded on expiry and scanned, with the same promises as
store/repositories_market.py and store/scans.py (a refused guard writes nothing). DynamoDB keeps those
promises in tests/integration/test_market.py, test_merchant.py and tests/races/test_market_races.py."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

from chalicelib.domain import clock
from chalicelib.domain.guards import Guard, GuardFailed
from chalicelib.domain.guards_market import RedemptionSettled, RedemptionUsed, ScanWindowOpen, VerificationRecorded
from chalicelib.domain.market import Redemption, stock_key
from chalicelib.domain.market_after_sale import CodePointer, MerchantDay, RedemptionsPage, VerifiedRow
from tests.unit.fakes import InMemoryPostingUnitOfWork


class InMemoryMarketUnitOfWork(InMemoryPostingUnitOfWork):
    """Redeems (fakes.py) and also settles: `RedemptionSettled` moves a redemption out of `issued`."""

    def _holds(self, guard: object) -> bool:
        if isinstance(guard, RedemptionSettled):
            found = self.redemptions.get(guard.redemption_id)
            return found is not None and found.status == "issued" and _in_time(found, guard.status, guard.at)
        return super()._holds(guard)

    def _apply(self, record: dict | None) -> None:
        super()._apply(record)
        for guard in self.guards:
            if isinstance(guard, RedemptionSettled):
                stamp = "cancelled_at" if guard.status == "cancelled" else "expired_at"
                found = self.redemptions[guard.redemption_id]
                self.redemptions[guard.redemption_id] = replace(found, status=guard.status, refunded=True,
                                                                **{stamp: clock.iso(guard.at)})
                self.stock[stock_key(guard.goods_id, guard.stock_shard)] += 1
                if guard.per_user_limit is not None:
                    self.claims[f"{guard.user_id}#{guard.goods_id}"] -= 1


def _in_time(redemption: Redemption, status: str, at: datetime) -> bool:
    epoch = int(at.timestamp())
    return redemption.expires_epoch > epoch if status == "cancelled" else redemption.expires_epoch <= epoch


class InMemorySold:
    """The redemptions the unit of work issued, as store/repositories_market.SoldRedemptions reads them."""

    def __init__(self, uow: InMemoryMarketUnitOfWork) -> None:
        self.uow = uow
        self.reads = 0

    def get(self, redemption_id: str) -> Redemption | None:
        self.reads += 1
        return self.uow.redemptions.get(redemption_id)

    def account_and_redemption(self, user_id: str, redemption_id: str):
        self.reads += 1
        account = self.uow.accounts.items.get(user_id)
        return (replace(account) if account else None), self.uow.redemptions.get(redemption_id)

    def of_user(self, user_id: str, limit: int, cursor: str | None) -> RedemptionsPage:
        mine = sorted((r for r in self.uow.redemptions.values() if r.user_id == user_id),
                      key=lambda r: r.redemption_id, reverse=True)
        start = int(cursor or 0)
        more = start + limit < len(mine)
        return RedemptionsPage(mine[start:start + limit], str(start + limit) if more else None)


class InMemoryScans:
    """store/scans.Scans over the unit of work's redemptions. `before_commit`: lands a concurrent change."""

    def __init__(self, uow: InMemoryMarketUnitOfWork) -> None:
        self.uow = uow
        self.failures: dict[str, int] = {}
        self.rows: dict[str, list[VerifiedRow]] = {}
        self.commits = 0
        self.before_commit: Callable[[], None] | None = None

    def pointer(self, code: str, platform: str = "default") -> CodePointer | None:
        for r in self.uow.redemptions.values():
            if r.code == code and (r.platform or "default") == platform:  # another platform's code is a miss
                return CodePointer(r.code, r.redemption_id, r.merchant_id, r.goods_id, r.goods_name, r.points_spent,
                                   r.expires_epoch, r.platform)
        return None

    def redemption(self, redemption_id: str) -> Redemption | None:
        return self.uow.redemptions.get(redemption_id)

    def count_failure(self, window_key: str, limit: int, purge_at: datetime) -> bool:
        if self.failures.get(window_key, 0) >= limit:
            return False
        self.failures[window_key] = self.failures.get(window_key, 0) + 1
        return True

    def commit(self, guards: list[Guard]) -> bool:
        if self.before_commit:
            self.before_commit()
        for guard in guards:
            if guard.refuses and not self._holds(guard):
                raise GuardFailed(guard)
        self.commits += 1
        for guard in guards:
            if isinstance(guard, RedemptionUsed):
                found = self.uow.redemptions[guard.redemption_id]
                self.uow.redemptions[guard.redemption_id] = replace(found, status="used", used_at=clock.iso(guard.at))
            elif isinstance(guard, VerificationRecorded):
                p = guard.pointer
                day = f"{p.merchant_id}#{clock.business_day(guard.at).isoformat()}"
                row = VerifiedRow(p.redemption_id, p.goods_id, p.goods_name, clock.iso(guard.at), p.points_spent,
                                  guard.staff_user_id)
                self.rows.setdefault(day, []).insert(0, row)
        return True

    def _holds(self, guard: Guard) -> bool:
        if isinstance(guard, RedemptionUsed):
            found = self.uow.redemptions.get(guard.redemption_id)
            return found is not None and found.status == "issued" and found.expires_epoch > guard.at.timestamp()
        if isinstance(guard, ScanWindowOpen):
            return self.failures.get(guard.window_key, 0) < guard.limit
        raise TypeError(f"no in-memory condition for {type(guard).__name__}")

    def merchant_day(self, merchant_id: str, day: date, limit: int, cursor: str | None,
                     platform: str = "default") -> MerchantDay:
        rows = self.rows.get(f"{merchant_id}#{day.isoformat()}", [])
        return MerchantDay(day, rows[:limit], len(rows), sum(row.points_spent for row in rows), None)
