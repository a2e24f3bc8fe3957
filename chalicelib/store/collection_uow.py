"""The posting unit of work of collection points (services/collection.py): the member's posting with, in the
same transaction, the member code consumed, the staff member's failed-scan window checked and the day's
ceilings grown (domain/guards_collection.py), staged by store/repositories_collection.py."""
from __future__ import annotations

from typing import Any

from ..domain.guards import Guard
from ..domain.guards_collection import CreditUnderCeiling, MemberCodeUnused, ScansNotLimited
from ..domain.guards_risk import StaffDaysRemembered
from . import risk_memory
from .dynamo_uow import DynamoPostingUnitOfWork
from .repositories_collection import CollectionCounters, MemberCodes, Members
from .tx import Tx


class DynamoCollectionUnitOfWork(DynamoPostingUnitOfWork):
    """`failed_scans`: counts a wrong code against the staff member's window (services/attempts.py `refuse`)."""

    ACCESS = (Members, MemberCodes, CollectionCounters, risk_memory.stage_staff_days, risk_memory.RiskMemory)

    def __init__(self, catalog: Any, failed_scans: Any) -> None:
        super().__init__(catalog)
        self.members = Members()
        self.member_codes = MemberCodes()
        self.counters = CollectionCounters()
        self.failed_scans = failed_scans
        self.risk_memory = risk_memory.RiskMemory()

    def _stage_guard(self, tx: Tx, label: str, guard: Guard) -> None:
        if isinstance(guard, MemberCodeUnused):
            self.member_codes.stage_use(tx, label, guard)
        elif isinstance(guard, ScansNotLimited):
            self.counters.stage_window_check(tx, label, guard)
        elif isinstance(guard, CreditUnderCeiling):
            self.counters.stage_credit(tx, label, guard)
        elif isinstance(guard, StaffDaysRemembered):
            risk_memory.stage_staff_days(tx, label, guard)
        else:
            super()._stage_guard(tx, label, guard)
