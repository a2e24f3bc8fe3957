"""The refusals every posting shares, written once: a frozen account, and a self-reported event past a cap.

Use cases call these while deciding a posting (inside `posting.attempts()`), so the refusal is the
answer unless the very request already succeeded (store/unit_of_work.py).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..errors import AccountFrozenError, DailyLimitReachedError
from .caps import Award, CapReachedError, DayCount, award_self_reported
from .methodology import Rule


def refuse_frozen(account: Any) -> None:
    """A frozen account reads but earns and spends nothing (admin `user freeze`): 403 ACCOUNT_FROZEN."""
    if account.frozen:
        raise AccountFrozenError()


def award_within_caps(rule: Rule, day: DayCount, quantity: Decimal) -> Award:
    """A check-in's or an operator credit's award, all of it; DAILY_LIMIT_REACHED naming the cap otherwise."""
    try:
        return award_self_reported(rule, day, quantity)
    except CapReachedError as exc:
        raise DailyLimitReachedError(cap=exc.cap, behavior=rule.code) from None
