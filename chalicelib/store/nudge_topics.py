"""What the nudge sweeps read beside the nudges table (services/nudge_topics.py): the redemptions that expire
soon, from the expiry job's sparse `due` index, and a user's earnings of a week, from the ledger."""
from __future__ import annotations

from datetime import date, datetime, time

from pynamodb.exceptions import PynamoDBException

from ..domain import clock, ids
from .access import access, on
from .failures import Unavailable
from .market import Redemption, expiry_bucket
from .models import LedgerEntry

EARNING = ("earn", "accrual")


@access(on(Redemption, "Query", index="due"))
def expiring_page(shard: int, after: int, until: int, key: dict | None,
                  limit: int) -> tuple[list[Redemption], dict | None]:
    """Issued redemptions of `due` shard `shard` expiring in (after, until], a page from `key`."""
    try:
        page = Redemption.due.query(expiry_bucket(shard), Redemption.expires_epoch.between(after + 1, until),
                                    limit=limit, last_evaluated_key=key)
        return list(page), page.last_evaluated_key
    except PynamoDBException as exc:
        raise Unavailable() from exc


@access(on(LedgerEntry, "Query"))
def week_earnings(user_id: str, monday: date, sunday: date) -> tuple[int, int] | None:
    """(points, carbon_mg) of the user's earning entries (`earn`, `accrual`) of the days Monday..Sunday, None when
    there is none: one Query of the entries written since that Monday (entry ids sort by time)."""
    start = datetime.combine(monday, time(0), clock.SHANGHAI)
    lower = ids.sortable_id(clock.epoch_ms(start))[:10]
    points = carbon = 0
    earned = False
    try:
        for entry in LedgerEntry.query(user_id, LedgerEntry.entry_id >= lower,
                                       filter_condition=LedgerEntry.day.between(monday.isoformat(),
                                                                                sunday.isoformat())):
            if entry.kind in EARNING:
                earned = True
                points += int(entry.points)
                carbon += int(entry.carbon_mg)
    except PynamoDBException as exc:
        raise Unavailable() from exc
    return (points, carbon) if earned else None


