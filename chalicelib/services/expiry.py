"""expire-redemptions: issued codes past `expires_at` become `expired`, refunded where the goods said so.

Scheduled hourly (chalicelib/jobs.py, app.py) and run by `python -m admin expire-redemptions`. It reads
only what is due: one Query per shard of the sparse `due` index (`expires_epoch <= now`), which holds
issued redemptions only, so a run finds everything a missed run left. Every change is conditioned on
`status = issued`, so running twice, late, or next to a merchant's scan or a user's cancel changes each
redemption at most once.
"""
from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import UpdateError

from ..domain import clock
from ..errors import AppError, ServiceUnavailableError
from ..store.market import EXPIRY_SHARDS, Redemption, expiry_bucket
from .posting import Plan, Posting, post
from .redemptions import unwind

MAX_PER_RUN = 5000  # well inside a Lambda's time; the next run takes the rest


class _Settled(AppError):
    """The redemption left `issued` (used, cancelled, expired) between the query and the write."""


def due(now: datetime, limit: int = MAX_PER_RUN) -> list[Redemption]:
    """Issued redemptions whose expiry has passed at `now`, oldest first within each shard."""
    epoch = int(now.timestamp())
    found: list[Redemption] = []
    for shard in range(EXPIRY_SHARDS):
        for redemption in Redemption.due.query(expiry_bucket(shard), Redemption.expires_epoch <= epoch):
            found.append(redemption)
            if len(found) >= limit:
                return found
    return found


def expire_due(now: datetime, dry_run: bool = False) -> dict:
    """Expires what is due at `now`; a report an operator (or a log) can read."""
    report = {"now": clock.iso(now), "expired": 0, "refunded": 0, "points_refunded": 0, "skipped": 0,
              "failed": [], "dry_run": dry_run}
    candidates = due(now)
    report["due"] = len(candidates)
    report["to_refund"] = sum(1 for r in candidates if r.refund_on_expiry)
    if dry_run:
        report["redemptions"] = [r.redemption_id for r in candidates[:100]]
        return report
    for redemption in candidates:
        try:
            refunded = expire_one(redemption, now)
        except _Settled:
            report["skipped"] += 1
            continue
        except AppError as exc:  # e.g. the account was deleted: report, keep going
            report["failed"].append({"id": redemption.redemption_id, "error": exc.code})
            continue
        report["expired"] += 1
        if refunded:
            report["refunded"] += 1
            report["points_refunded"] += int(redemption.points_spent)
    return report


def expire_one(redemption: Redemption, now: datetime) -> bool:
    """Expires one redemption; True when it was refunded. _Settled when it is no longer issued."""
    if not redemption.refund_on_expiry:
        try:
            Redemption(redemption.redemption_id).update(actions=[
                Redemption.status.set("expired"), Redemption.expired_at.set(clock.iso(now)),
                Redemption.expiry_bucket.remove(),
            ], condition=(Redemption.status == "issued") & (Redemption.expires_epoch <= int(now.timestamp())))
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise _Settled() from None
            raise ServiceUnavailableError() from exc
        return False

    def plan(_account) -> Plan:
        return Plan([Posting("refund", int(redemption.points_spent), 0, "market", ref=redemption.redemption_id,
                             reason="expired")],
                    respond=lambda entries, after: (200, {"entry": entries[0]}),
                    extra=lambda tx: unwind(tx, redemption, "expired", now),
                    refusals={"redemption": _Settled()})

    post(redemption.user_id, plan)
    return True
