"""In-memory collection desk (tests/unit/fakes.py's kind): member codes, the credited counters and the
failed-scan windows, with the same promises as store/collection_uow.py (a refused guard writes nothing)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from types import SimpleNamespace

from chalicelib.domain.guards_collection import CreditUnderCeiling, MemberCodeUnused, ScansNotLimited
from chalicelib.domain.guards_risk import StaffDaysRemembered
from chalicelib.errors import RateLimitedError
from tests.unit.fakes import DEMO_CATALOG, FakeAccount, FakeCatalog, InMemoryPostingUnitOfWork


@dataclass
class FakeMember(FakeAccount):
    nickname: str | None = None


class FakeCollectionCatalog(FakeCatalog):
    def merchant(self, merchant_id: str, platform: str = "default") -> dict | None:
        if platform != "default":
            return None
        return next((m for m in DEMO_CATALOG["merchants"] if m["id"] == merchant_id), None)


class InMemoryMemberCodes:
    def __init__(self) -> None:
        self.items: dict[str, SimpleNamespace] = {}

    def get(self, code: str, platform: str = "default") -> SimpleNamespace | None:
        return self.items.get(code if platform == "default" else f"{platform}#{code}")

    def add(self, code, user_id, created_at, expires_at, platform: str = "default") -> bool:
        code = code if platform == "default" else f"{platform}#{code}"
        if code in self.items:
            return False
        self.items[code] = SimpleNamespace(code=code, user_id=user_id, expires_epoch=int(expires_at.timestamp()),
                                           used_at=None, used_by=None)
        return True


class InMemoryFailedScans:
    """services/attempts.refuse over a dict: a failure counts, or the window is full (429)."""

    def __init__(self, counters: dict[str, int], window_of) -> None:
        self.counters, self.window_of = counters, window_of

    def refuse(self, user_id, error, now):
        window = self.window_of(user_id, now)
        if self.counters.get(window, 0) >= 10:
            raise RateLimitedError(retry_after_seconds=1)
        self.counters[window] = self.counters.get(window, 0) + 1
        raise error


@dataclass
class InMemoryRiskMemory:
    """store/risk_memory.RiskMemory over dicts: key -> (days kept, rev); key -> refusal days."""

    pairs: dict[str, tuple[set, int]] = field(default_factory=dict)
    refusals: dict[str, set] = field(default_factory=dict)

    def staff_days(self, key: str) -> tuple[list[date], int]:
        days, rev = self.pairs.get(key, (set(), 0))
        return sorted(days), rev

    def remember_ceiling_refusal(self, key: str, day: date, window_days: int) -> list[date]:
        self.refusals.setdefault(key, set()).add(day)
        return sorted(self.refusals[key])

    def forget_ceiling_days(self, key: str, stale: list[date]) -> None:
        self.refusals[key] -= set(stale)

    def holds(self, guard: StaffDaysRemembered) -> bool:
        days, rev = self.pairs.get(guard.key, (set(), 0))
        if guard.rev is not None:
            return rev == guard.rev
        window = {guard.day - timedelta(days=back) for back in range(1, guard.window_days)}
        return guard.day in days or not days & window

    def apply(self, guard: StaffDaysRemembered) -> None:
        days, rev = self.pairs.get(guard.key, (set(), 0))
        self.pairs[guard.key] = ((days | {guard.day}) - set(guard.stale), rev + 1)


class InMemoryCollectionUnitOfWork(InMemoryPostingUnitOfWork):
    def __init__(self) -> None:
        from chalicelib.services.attempts import window_key

        super().__init__()
        self.catalog = FakeCollectionCatalog()
        self.members = self.accounts
        self.member_codes = InMemoryMemberCodes()
        self.counters: dict[str, int] = {}
        self.failed_scans = InMemoryFailedScans(self.counters, window_key)
        self.risk_memory = InMemoryRiskMemory()

    def _holds(self, guard: object) -> bool:
        if isinstance(guard, MemberCodeUnused):
            item = self.member_codes.items.get(guard.code)
            return bool(item and item.used_at is None and item.expires_epoch > guard.at_epoch
                        and item.user_id == guard.user_id)
        if isinstance(guard, ScansNotLimited):
            return self.counters.get(guard.window, 0) < guard.limit
        if isinstance(guard, CreditUnderCeiling):
            return self.counters.get(self._credited(guard), 0) <= guard.ceiling_milli - guard.taken_milli
        if isinstance(guard, StaffDaysRemembered):
            return self.risk_memory.holds(guard)
        return super()._holds(guard)

    def _apply(self, record: dict | None) -> None:
        super()._apply(record)
        for guard in self.guards:
            if isinstance(guard, MemberCodeUnused):
                item = self.member_codes.items[guard.code]
                item.used_at, item.used_by = guard.used_at, guard.used_by
            elif isinstance(guard, CreditUnderCeiling):
                key = self._credited(guard)
                self.counters[key] = self.counters.get(key, 0) + guard.taken_milli
            elif isinstance(guard, StaffDaysRemembered):
                self.risk_memory.apply(guard)

    @staticmethod
    def _credited(guard: CreditUnderCeiling) -> str:
        return f"credited#{guard.cap}#{guard.owner}#{guard.behavior}#{guard.day.isoformat()}"
