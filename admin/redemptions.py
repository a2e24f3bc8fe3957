"""expire-redemptions and redemption show: the marketplace in the operators' console.

The parsers are added by `add_parsers` (admin/__main__.py, which parses before any setting is read);
the handlers import the app's code and the console only when they run, so `--help` needs no settings.
"""
from __future__ import annotations

import argparse
import json
from datetime import datetime


def add_parsers(sub, common: argparse.ArgumentParser, writes: argparse.ArgumentParser) -> None:
    expire = sub.add_parser("expire-redemptions", parents=[writes],
                            help="expire issued codes past expires_at, refunding where the goods allow",
                            description="Moves issued redemptions whose expires_at has passed to `expired`; those "
                                        "of goods with refund_on_expiry get a `refund` entry, their stock back and "
                                        "the user's per-goods claim released. Idempotent: run it twice, nothing "
                                        "more changes. Also runs hourly as a scheduled job.")
    expire.add_argument("--now", help="ISO time to expire as of (default: now; a date means its 00:00 Shanghai)")
    redemption = sub.add_parser("redemption", help="look at a redemption")
    actions = redemption.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = actions.add_parser("show", parents=[common], help="a redemption; --reveal-address shows the delivery "
                                                             "address of a physical item (audited, needs --reason)")
    show.add_argument("redemption_id")
    show.add_argument("--reveal-address", action="store_true")
    show.add_argument("--reason", help="why the address is needed (e.g. the shipping batch)")


def _moment(raw: str | None) -> datetime:
    from chalicelib.domain import clock

    from .console import CommandError

    if not raw:
        return clock.now()
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise CommandError(f"--now must be an ISO date or time, got {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=clock.SHANGHAI)


def expire(args, out) -> int:
    from chalicelib.domain import clock
    from chalicelib.services import expiry

    from .console import audit, confirm

    now = _moment(args.now)
    preview = expiry.expire_due(now, dry_run=True)
    summary = f"as of {clock.iso(now)}: {preview['due']} issued codes past expiry, {preview['to_refund']} to refund"
    if args.dry_run or not preview["due"]:
        out.result(preview, summary + (" (dry run)" if args.dry_run else ""))
        return 0
    confirm(f"expire {preview['due']} redemptions ({preview['to_refund']} refunded)?", args.yes)
    result = expiry.expire_due(now)
    audit("expire-redemptions", {"now": clock.iso(now)},
          outcome={k: result[k] for k in ("expired", "refunded", "points_refunded", "skipped", "failed")})
    out.result(result, f"expired {result['expired']} ({result['refunded']} refunded, {result['points_refunded']} "
                       f"points); skipped {result['skipped']}; failed {len(result['failed'])}")
    return 1 if result["failed"] else 0


def show(args, out) -> int:
    from chalicelib.sealing import unseal
    from chalicelib.store.market import Redemption
    from chalicelib.store.repositories import address_context

    from .console import CommandError, audit

    try:
        redemption = Redemption.get(args.redemption_id, consistent_read=True)
    except Redemption.DoesNotExist:
        raise CommandError(f"no redemption {args.redemption_id}") from None
    info = {name: value for name, value in redemption.attribute_values.items()
            if name not in ("address_sealed", "address_masked", "code")}
    info["code"] = redemption.code[:4] + "…"  # a code is a bearer token: the console never prints it whole
    info["address"] = redemption.address_masked
    if args.reveal_address:
        if not args.reason:
            raise CommandError("--reveal-address needs --reason (it is personal data, and audited)")
        if redemption.address_sealed:
            info["address"] = json.loads(unseal(redemption.address_sealed, address_context(redemption.redemption_id)))
        audit("redemption show --reveal-address", {"redemption": redemption.redemption_id}, args.reason)
    out.result(info, "\n".join(f"{k}: {v}" for k, v in info.items()))
    return 0


HANDLERS = {("expire-redemptions", None): expire, ("redemption", "show"): show}
