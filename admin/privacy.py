"""Privacy and points expiry in the operators' console: user delete, user minor, nickname moderation, expire-points.

The parsers are added by `add_user_parsers` (under `user`) and `add_parsers` (admin/__main__.py parses before
any setting is read); the handlers import the app's code only when they run. Audit records name the user id,
never the openid an operator may have typed, nor a nickname.
"""
from __future__ import annotations

import argparse


def add_user_parsers(user_sub, common: argparse.ArgumentParser, writes: argparse.ArgumentParser,
                     scoped: argparse.ArgumentParser) -> None:
    delete = user_sub.add_parser(
        "delete", parents=[writes, scoped], help="delete an account (a request received by another channel)",
        description="The same deletion as DELETE /v1/me: consents revoked at the partners, unused redemptions "
                    "cancelled and refunded, the balance forfeited by an `expire` entry, personal data removed "
                    "(WeChat identity, nickname, avatar, addresses) while the ledger's amounts stay under the "
                    "anonymous user id. Cannot be undone; asks unless --yes; --dry-run shows what it would do.")
    delete.add_argument("user", help="user id or WeChat openid")
    delete.add_argument("--reason", required=True, help="the request's reference (e.g. the ticket), for the audit")
    minor = user_sub.add_parser(
        "minor", parents=[writes, scoped], help="a school marks members as minors: never named on public boards",
        description="Marks (or with --off unmarks) members of a school org of the platform (--platform, default "
                    "`default`) as minors: their nickname is never shown on leaderboards, past boards included "
                    "(rebuilt by the next materialize-boards run). Another platform's org or user is refused as a "
                    "missing one.")
    minor.add_argument("users", nargs="+", metavar="USER", help="user ids or WeChat openids of the org's members")
    minor.add_argument("--org", required=True, help="the school org of the platform that asks")
    minor.add_argument("--off", action="store_true", help="lift this school's mark")
    minor.add_argument("--reason", required=True, help="the school's request, for the audit")


def add_parsers(sub, common: argparse.ArgumentParser, writes: argparse.ArgumentParser) -> None:
    expire = sub.add_parser(
        "expire-points", parents=[writes], help="expire points by lot (also scheduled daily)",
        description="Points expire by lot, oldest first: on 1 January the points still held from the lots of year "
                    "Y and before expire, Y = this year - 1 - points.expire_after_years of the account's platform "
                    "(the catalog's top level for `default`, the platform entry's `points` for another; default "
                    "1). One `expire` entry per account; idempotent per account and year. Without --year: the "
                    "lots due today. Asks unless --yes.")
    expire.add_argument("--year", type=int, help="expire the lots of this year and before (not later than due)")
    expire.add_argument("--platform", default="default", metavar="ID|all",
                        help="expire the points of this platform's users (default `default`), or `all` (every "
                             "platform's, each by its own policy, as the scheduled job does)")
    expire.add_argument("--backfill", action="store_true",
                        help="first list accounts made before the account list existed (one scan)")
    nickname = sub.add_parser("nickname", help="nicknames waiting for a content check or a moderator")
    actions = nickname.add_subparsers(dest="action", required=True, metavar="ACTION")
    platform = argparse.ArgumentParser(add_help=False)
    platform.add_argument("--platform", default="default", metavar="ID",
                          help="the platform whose users' nicknames are moderated (default `default`); a user of "
                               "another platform is refused as a user that does not exist")
    listing = actions.add_parser("list", parents=[common, platform], help="pending nicknames of a platform's queue")
    listing.add_argument("--queue", choices=("review", "unchecked"), default="review")
    for name, text in (("approve", "let others see the pending nickname"), ("reject", "drop the pending nickname")):
        decide = actions.add_parser(name, parents=[writes, platform], help=text)
        decide.add_argument("user", help="user id or WeChat openid")
        decide.add_argument("--reason", required=True)


def delete(args, out) -> int:
    from chalicelib.errors import AppError
    from chalicelib.services import erasure

    from .accounts import find_account
    from .console import CommandError, audit, confirm, known_platform, operator

    platform = known_platform(args.platform)
    user_id = find_account(args.user, platform).user_id
    preview = erasure.preview(user_id)
    if args.dry_run or preview["already_deleted"]:
        state = "already deleted" if preview["already_deleted"] else "would be deleted (dry run)"
        out.result({**preview, "dry_run": args.dry_run}, f"{user_id}: {state}\n" + _lines(preview))
        return 0
    confirm(f"delete account {user_id} for good ({preview['points_to_forfeit']} points forfeited, "
            f"{len(preview['redemptions_to_cancel'])} redemptions cancelled)?", args.yes)
    try:
        result = erasure.delete_account(user_id, channel="console", operator=operator(), reason=args.reason)
    except AppError as exc:
        raise CommandError(f"{exc.code}: {exc.message} (run the command again to finish the deletion)") from exc
    audit("user delete", {"user": user_id}, args.reason,
          {k: result[k] for k in ("deleted_at", "consents_revoked", "points_forfeited", "waiting_for_partners")},
          platform)
    out.result(result, f"{user_id}: deleted at {result['deleted_at']}\n" + _lines(result))
    return 0


def minor(args, out) -> int:
    from chalicelib.errors import AppError
    from chalicelib.services import public_names

    from .accounts import find_account
    from .console import CommandError, audit, known_platform

    platform = known_platform(args.platform)
    user_ids = [find_account(user, platform).user_id for user in args.users]
    if args.dry_run:
        out.result({"users": user_ids, "org": args.org, "minor": not args.off, "dry_run": True},
                   f"{len(user_ids)} members would be {'unmarked' if args.off else 'marked'} (dry run)")
        return 0
    results = []
    for user_id in user_ids:
        try:
            marking = public_names.set_minor(user_id, args.org, minor=not args.off, platform=platform)
        except AppError as exc:
            raise CommandError(f"{user_id}: {exc.code}: {exc.message} {exc.details or ''}") from exc
        results.append(_marking_json(marking))
    audit("user minor", {"users": user_ids, "org": args.org, "minor": not args.off}, args.reason,
          {"changed": sum(1 for r in results if r["changed"])}, platform)
    out.result(results, "\n".join(f"{r['id']}: {'minor' if r['minor'] else 'not a minor'}"
                                   + ("" if r["changed"] else " (unchanged)") for r in results))
    return 0


def _marking_json(marking) -> dict:
    shown = {"id": marking.user_id, "org": marking.org, "minor": marking.minor, "minor_orgs": marking.minor_orgs,
             "changed": marking.changed}
    return shown if marking.boards_marked is None else {**shown, "boards_marked": marking.boards_marked}


def expire_points(args, out) -> int:
    from chalicelib.domain import clock
    from chalicelib.services import points_expiry

    from .console import CommandError, audit, confirm, known_platform

    platform = known_platform(args.platform, allow_all=True)
    now = clock.now()
    due = {pid: year for pid, year in points_expiry.due_years(now, platform).items() if year is not None}
    if not due:
        out.result({"policy": "never", "platform": platform}, "the points policy says points never expire")
        return 0
    early = {pid: year for pid, year in due.items() if args.year is not None and args.year > year}
    if early:
        raise CommandError(f"the lots of {args.year} are not due yet: on {clock.business_day(now)} the lots of "
                           + ", ".join(f"{year} ({pid})" for pid, year in early.items()) + " and before are")
    if args.backfill and not args.dry_run:
        audit("expire-points --backfill", {}, outcome={"listed": _backfill()})
    preview = points_expiry.run(now, year=args.year, dry_run=True, platform=platform)
    years = ", ".join(f"{pid} {year}" for pid, year in preview["years"].items())
    summary = f"lots through {years}: {preview['points']} points of {preview['due']} accounts"
    if args.dry_run or not preview["due"]:
        out.result(preview, summary + (" would expire (dry run)" if args.dry_run else ": nothing to expire"))
        return 0
    confirm(f"expire {preview['points']} points of {preview['due']} accounts?", args.yes)
    result = points_expiry.run(now, year=args.year, force=True, platform=platform)
    audit("expire-points", {"year": result["year"], "years": result["years"]}, outcome=result, platform=platform)
    out.result(result, f"lots through {years}: {result['points']} points expired on "
                       f"{result['expired_accounts']} accounts; {result['failed']} failed (run again)")
    return 1 if result["failed"] else 0


def nickname_list(args, out) -> int:
    from dataclasses import asdict

    from chalicelib.services import nicknames

    from .console import known_platform

    platform = known_platform(args.platform)
    rows = [asdict(pending) for pending in nicknames.waiting_list(args.queue, platform=platform)]
    out.result(rows, "\n".join(f"{r['user_id']}  {r['nickname']}  (now: {r['current']}, since {r['queued_at']})"
                               for r in rows) or f"no nickname waits in {args.queue}")
    return 0


def nickname_decide(args, out, approve: bool) -> int:
    from chalicelib.errors import AppError
    from chalicelib.services import nicknames

    from .accounts import find_account
    from .console import CommandError, audit, known_platform

    platform = known_platform(args.platform)
    user_id = find_account(args.user, platform).user_id
    if args.dry_run:
        out.result({"id": user_id, "approve": approve, "dry_run": True}, f"{user_id}: dry run, nothing changed")
        return 0
    try:
        decided = nicknames.decide(user_id, approve, platform=platform)
    except AppError as exc:
        raise CommandError(f"{exc.code}: {exc.message}") from exc
    result = {"id": decided.user_id, "nickname": decided.nickname, "approved": decided.approved}
    audit(f"nickname {'approve' if approve else 'reject'}", {"user": user_id}, args.reason, {"approved": approve},
          platform)
    out.result(result, f"{user_id}: {'approved' if approve else 'rejected'}")
    return 0


def _backfill() -> int:
    """Lists every account in account_shards (accounts made before the list existed); a scan, run once."""
    from chalicelib.domain import clock
    from chalicelib.store.models import Account
    from chalicelib.store.privacy import AccountShard, shard_of

    now, listed = clock.iso(clock.now()), 0
    with AccountShard.batch_write() as batch:
        for account in Account.scan(attributes_to_get=["user_id"]):
            batch.save(AccountShard(shard_of(account.user_id), account.user_id, listed_at=now))
            listed += 1
    return listed


def _lines(info: dict) -> str:
    return "\n".join(f"  {k}: {v}" for k, v in info.items() if k not in ("id", "deleted"))


HANDLERS = {
    ("user", "delete"): delete,
    ("user", "minor"): minor,
    ("expire-points", None): expire_points,
    ("nickname", "list"): nickname_list,
    ("nickname", "approve"): lambda a, o: nickname_decide(a, o, True),
    ("nickname", "reject"): lambda a, o: nickname_decide(a, o, False),
}
