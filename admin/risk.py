"""risk list / flag / release / void (docs/risk.md "Review", operations.md): the review queue, by hand.

    risk list [--rule R]             accounts under review (oldest first): platform, since, reasons, what is held,
                                     the appeal; read from the review queue's 8 partitions and the accounts by key
    risk flag USER --reason R        puts the account under review (rule "operator"): what it earns is held
    risk release USER --reason R     credits every held entry (a `release` entry each), then clears the account
    risk void USER --reason R        voids every held entry (a `void` entry each, nothing credited), then clears it
    risk simulate --honest N --farmers M [--seed S] [--days D]
                                     a simulated population through the API on a stack of its own (never this
                                     environment's tables): farmers caught, honest people flagged, per rule

Writes are audited; --dry-run shows what would change and writes nothing. Release and void settle each held entry
exactly once, whatever runs race or repeat (services/review.py); after a crash, run the same command again.
"""
from __future__ import annotations

import argparse


def add_parsers(sub, common: argparse.ArgumentParser, writes: argparse.ArgumentParser,
                scoped: argparse.ArgumentParser) -> None:
    risk = sub.add_parser("risk", help="accounts under review: list, flag, release, void", description=__doc__,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = risk.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help="accounts under review, oldest first")
    listing.add_argument("--rule", metavar="R", help="only the accounts this rule put under review")
    for action, text in (("flag", "put an account under review"), ("release", "credit what an account holds"),
                         ("void", "void what an account holds")):
        parser = actions.add_parser(action, parents=[writes, scoped], help=text)
        parser.add_argument("user")
        parser.add_argument("--reason", required=True)
    simulate = actions.add_parser("simulate", parents=[common], help="drive a simulated population through the "
                                  "API on a stack of its own; farmers caught and honest people flagged, per rule")
    simulate.add_argument("--honest", type=int, required=True, metavar="N")
    simulate.add_argument("--farmers", type=int, required=True, metavar="M")
    simulate.add_argument("--seed", type=int, default=1, metavar="S")
    simulate.add_argument("--days", type=int, default=21, metavar="D", help="simulated days (default 21)")


def _row(account) -> dict:
    from chalicelib.domain import review
    from chalicelib.domain.platforms import platform_of
    from chalicelib.store import review_queue

    points, carbon = review.held_totals(account)
    appeal = account.appeal if account.appeal_open else None
    given = sum(len(ids) for ids in review_queue.staff_held(account.user_id).values())  # as staff, one Query
    return {"user_id": account.user_id, "platform": platform_of(account), "since": account.review_since,
            "rules": review.rules_of(account), "reasons": list(account.review_rules or []),
            "points_held": points, "carbon_held_g": carbon / 1000, "credits_given_held": given, "appeal": appeal}


def risk_list(args, out) -> int:
    from chalicelib.services import review
    from chalicelib.store import review_queue
    from chalicelib.store.models import Account

    def accounts(user_ids: list[str]):
        return Account.batch_get(user_ids, consistent_read=True) if user_ids else []

    rows = [_row(account) for account in review.queued(accounts, review_queue, args.rule)]
    lines = [f"{r['since']}  {r['user_id']}  [{r['platform']}]  {', '.join(r['rules'])}  held {r['points_held']} "
             f"points, {r['carbon_held_g']:.3f} g" + (f", {r['credits_given_held']} credits given held"
                                                       if r["credits_given_held"] else "")
             + ("  appeal: " + r["appeal"]["text"] if r["appeal"] else "")
             for r in rows]
    out.result(rows, "\n".join(lines) or "no account under review")
    return 0


def risk_flag(args, out) -> int:
    from chalicelib.errors import AppError
    from chalicelib.services import review
    from chalicelib.store.dynamo_uow import DynamoPostingUnitOfWork

    from .accounts import find_account
    from .console import CommandError, audit, known_platform

    platform = known_platform(args.platform)
    account = find_account(args.user, platform)
    if args.dry_run:
        result = {"user_id": account.user_id, "under_review": bool(account.review_since), "dry_run": True}
    else:
        try:
            result = review.flag(account.user_id, args.reason, DynamoPostingUnitOfWork())
        except AppError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        audit("risk flag", {"user": account.user_id}, args.reason, result, platform)
    out.result(result, f"{account.user_id}: under review" + (" (dry run)" if args.dry_run else ""))
    return 0


def risk_settle(args, out) -> int:
    from chalicelib.errors import AppError, NotUnderReviewError
    from chalicelib.services import review
    from chalicelib.store import review_queue
    from chalicelib.store.dynamo_uow import DynamoPostingUnitOfWork

    from .accounts import find_account
    from .console import CommandError, audit, known_platform

    platform = known_platform(args.platform)
    account = find_account(args.user, platform)
    try:
        done = review.settle(account.user_id, args.action, args.reason, DynamoPostingUnitOfWork(), review_queue,
                             args.dry_run)
    except NotUnderReviewError:
        raise CommandError(f"{account.user_id} is not under review") from None
    except AppError as exc:
        raise CommandError(f"{exc.code}: {exc.message}") from exc
    result = {"user_id": account.user_id, "outcome": args.action, "entries": done.entries,
              "points_credited": done.points, "carbon_credited_g": done.carbon_mg / 1000, "cleared": done.cleared,
              "dry_run": args.dry_run}
    if not args.dry_run:
        audit(f"risk {args.action}", {"user": account.user_id},
              args.reason, {k: v for k, v in result.items() if k != "entries"} | {"entries": len(done.entries)},
              platform)
    verb = "released" if args.action == "release" else "voided"
    out.result(result, f"{account.user_id}: {len(done.entries)} held entries {verb}, {done.points} points credited"
                       + (" (dry run: would be)" if args.dry_run else ""))
    return 0


def risk_simulate(args, out) -> int:
    from .risk_simulate import simulate

    return simulate(args, out)


HANDLERS = {
    ("risk", "list"): risk_list,
    ("risk", "flag"): risk_flag,
    ("risk", "release"): risk_settle,
    ("risk", "void"): risk_settle,
    ("risk", "simulate"): risk_simulate,
}
