"""Points expiry by lot: pure arithmetic, no I/O.

A lot is what came into an account in one calendar year (Asia/Shanghai business year): every posting with
positive points (earn, a positive adjust, a refund) adds to the lot of the year it was posted. Spends,
negative adjusts and expiries take points out, oldest lots first (FIFO). So whatever the order of events,
the points still held from lots of year Y or earlier are

    held_through(Y) = max(0, balance - points that came in after Y)

because everything taken out was taken from the oldest points, and the balance is what is left. The
catalog's policy says how long a lot lives: with `after_years = 1` (the default) the lot of year Y
expires at the end of year Y + 1; `None` means points never expire.

A refund is counted as points coming in the year it is posted: points returned in 2027 for a coupon bought
with 2025 points live as long as points earned in 2027 (never shorter than the user could expect).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

DEFAULT_AFTER_YEARS = 1  # a lot lives through the end of the year after it was earned


def credit(lots: dict[str, int], year: int, amounts: Iterable[int]) -> dict[str, int]:
    """The lots after postings of `amounts` (signed points) in `year`: positive amounts add to that year."""
    incoming = sum(a for a in amounts if a > 0)
    if not incoming:
        return dict(lots)
    key = str(year)
    return {**lots, key: int(lots.get(key, 0)) + incoming}


def legacy_lots(balance: int, last_change_year: int) -> dict[str, int]:
    """Lots of an account that held points before lots were kept: its balance counts as came in the year
    of its last change (no point is older than that, so none expires early)."""
    return {str(last_change_year): balance} if balance > 0 else {}


def held_through(balance: int, lots: dict[str, int], year: int) -> int:
    """Points of the balance that came from lots of `year` or earlier (FIFO: the oldest go first)."""
    fresh = sum(int(points) for lot_year, points in lots.items() if int(lot_year) > year)
    return max(0, balance - fresh)


def expired_through(today: date, after_years: int | None) -> int | None:
    """The latest lot year that has expired by business day `today` (None: nothing ever expires).
    With after_years 1, on 2027-01-01 the lots of 2025 and before have expired."""
    if after_years is None:
        return None
    return today.year - 1 - after_years


def next_expiry(balance: int, lots: dict[str, int], today: date, after_years: int | None) -> tuple[int, date | None]:
    """What the mini program shows: (N points, expiring at the end of day D), or (0, None).

    The lots that expire at the end of this year are those of year `today.year - after_years` and before;
    points of lots that are already overdue (the yearly run has not reached the account yet) are included.
    """
    if after_years is None:
        return 0, None
    points = held_through(balance, lots, today.year - after_years)
    return (points, date(today.year, 12, 31)) if points else (0, None)


def parse_after_years(raw: object) -> int | None:
    """The catalog's `points.expire_after_years`: a whole number 0..10, or null for "never"."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 10:
        raise ValueError("expire_after_years must be a whole number of years from 0 to 10, or null (never)")
    return raw
