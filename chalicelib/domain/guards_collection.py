"""The conditions of an operator credit's one transaction, beside the member's posting (domain/guards.py)."""
from __future__ import annotations

from datetime import date

from .guards import Guard
from .values import immutable


@immutable
class ScansNotLimited(Guard):
    """The staff member's window of failed scans (services/attempts.py `window`) holds fewer than `limit`:
    after 10 wrong codes even the right one is refused (no oracle)."""

    window: str
    limit: int


@immutable
class MemberCodeUnused(Guard):
    """The member code is still `user_id`'s, unused and unexpired at `at_epoch`; the credit marks it used
    (`used_at`, `used_by`), so a code credits once even when two staff scan it together."""

    code: str
    user_id: str
    used_at: str
    used_by: str
    at_epoch: int


@immutable
class CreditUnderCeiling(Guard):
    """The day's operator credits of `behavior` by `owner` (`cap` "staff": the staff member, "merchant": the
    collection point) grow by `taken_milli`, provided they stay within `ceiling_milli`."""

    cap: str
    owner: str
    behavior: str
    day: date
    taken_milli: int
    ceiling_milli: int
