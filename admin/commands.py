"""The console's commands: each parses nothing itself, calls one function, prints, audits."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta

from chalicelib.domain import clock
from chalicelib.domain.platforms import ALL, DEFAULT
from chalicelib.store.models import AuditRecord

from . import accounts, catalog_load, db
from .console import CommandError, Output, UsageError, audit, known_platform
from .demo import HANDLERS as _DEMO_HANDLERS
from .nudges import HANDLERS as _NUDGES_HANDLERS
from .partners import HANDLERS as _PARTNER_HANDLERS
from .persons import HANDLERS as _PERSONS_HANDLERS
from .privacy import HANDLERS as _PRIVACY_HANDLERS
from .redemptions import HANDLERS as _MARKETPLACE_HANDLERS
from .risk import HANDLERS as _RISK_HANDLERS
from .transparency import HANDLERS as _TRANSPARENCY_HANDLERS


def run(args: argparse.Namespace, out: Output) -> int:
    handler = _HANDLERS[(args.command, getattr(args, "action", None))]
    return handler(args, out) or 0


def _init_db(args, out: Output):
    result = db.init_db(args.dry_run)
    if result["created"] and not args.dry_run:
        audit("init-db", {}, outcome={"created": result["created"]})
    out.result(result, f"tables created: {', '.join(result['created']) or 'none'}; "
                       f"already present: {len(result['present'])}")


def _load_doc(args, out: Output, doc: dict, source: str):
    """An idempotent upsert (no prompt: --dry-run previews it); audited when it changed anything."""
    result = catalog_load.load(doc, dry_run=True)
    if result["writes"] and not args.dry_run:
        result = catalog_load.load(doc, dry_run=False)
        audit(args.command, {"source": source}, outcome={k: v for k, v in result.items() if k != "dry_run"})
    lines = [f"{section}: " + ", ".join(f"{len(ids)} {what.replace('_', ' ')}" for what, ids in report.items())
             for section, report in result.items() if isinstance(report, dict)]
    out.result(result, "\n".join(lines) + f"\n{result['writes']} writes" + (" (dry run)" if args.dry_run else ""))


def _load(args, out: Output):
    _load_doc(args, out, catalog_load.read_catalog(args.file), args.file)


def _seed_demo(args, out: Output):
    _load_doc(args, out, catalog_load.read_catalog(catalog_load.DEMO_CATALOG), "demo catalog")


def _user_show(args, out: Output):
    info = accounts.show(args.user, known_platform(args.platform))
    out.result(info, "\n".join(f"{k}: {v}" for k, v in info.items() if k != "recent_entries")
               + f"\nrecent entries: {len(info['recent_entries'])}")


def _freeze(args, out: Output, frozen: bool):
    platform = known_platform(args.platform)
    result = accounts.set_frozen(args.user, frozen, args.reason, args.dry_run, platform)
    if not args.dry_run:
        audit(f"user {'freeze' if frozen else 'unfreeze'}", {"user": args.user}, args.reason, result, platform)
    out.result(result, f"{result['id']}: {'frozen' if frozen else 'unfrozen'}" + (" (dry run)" if args.dry_run else ""))


def _adjust(args, out: Output):
    platform = known_platform(args.platform)
    result = accounts.adjust(args.user, args.delta, args.reason, args.request_id, args.dry_run, platform)
    if not args.dry_run:
        audit("points adjust", {"user": args.user, "delta": args.delta, "request_id": result["request_id"]},
              args.reason, {"points": result["points"]}, platform)
    out.result(result, f"{result['id']}: balance now {result.get('points', result.get('points_after'))}"
                       + (" (dry run)" if args.dry_run else ""))


def _reconcile(args, out: Output):
    platform = None if args.platform is None else known_platform(args.platform)
    result = {**accounts.reconcile(platform=platform), "platform": platform}  # None: the deployment's
    scope = "the deployment's accounts" if platform is None else f"{platform}'s accounts"
    lines = [f"{scope} checked: {result['accounts']}; mismatches: {len(result['mismatches'])}"]
    lines += [f"  {m['user_id']}: balance {m['points']} vs ledger {m['ledger_points']}, carbon "
              f"{m['carbon_mg']} mg vs ledger {m['ledger_carbon_mg']} mg" + (
                  f", the person's carbon {m['person_carbon_mg']} mg vs their accounts' {m['users_carbon_mg']} mg"
                  if "person_carbon_mg" in m else "") for m in result["mismatches"]]
    out.result(result, "\n".join(lines))
    return 0 if result["clean"] else 1


def _run_jobs(args, out: Output):
    from . import run_jobs  # every job attempted, each failure reported (admin/run_jobs.py)

    return run_jobs.run(args, out)


def _accrue_trees(args, out: Output):
    from chalicelib import bootstrap
    from chalicelib.services import accrual

    platform = known_platform(args.platform, allow_all=True)  # before anything is read
    today = clock.business_day(clock.now())
    day = args.date or today
    if day > today:
        raise CommandError(f"{day} has not begun in Asia/Shanghai (today is {today}): nothing to credit yet")
    counts = accrual.accrue(day, bootstrap.trees_uow, dry_run=args.dry_run,
                            platform=None if platform == ALL else platform)
    result = {"through": day.isoformat(), "platform": platform, "dry_run": args.dry_run, **counts.as_dict()}
    if not args.dry_run:
        audit("accrue-trees", {"date": day.isoformat(), "platform": platform}, outcome=result)
    out.result(result, f"through {day}: {result['credited_days']} tree-days, {result['credited_mg'] / 1000:.3f} g "
                       f"credited to {result['adoptions']} adoptions ({result['completed']} completed their year; "
                       f"{result['frozen']} frozen, {result['failed']} failed: the next run retries)"
                       + (" (dry run)" if args.dry_run else ""))

def _audit(args, out: Output):
    only = known_platform(args.platform) if args.platform else None  # before anything is read
    since = _since(args.since)
    months, month = [], since.replace(day=1)
    while month.date() <= clock.now().date():
        months.append(month.strftime("%Y-%m"))
        month = (month + timedelta(days=32)).replace(day=1)
    records = [r for m in months for r in AuditRecord.query(m)
               if r.at >= clock.iso(since) and (only is None or (r.platform or DEFAULT) == only)]
    rows = [{"at": r.at, "operator": r.operator, "platform": r.platform or DEFAULT, "command": r.command,
             "arguments": r.arguments, "reason": r.reason, "outcome": r.outcome} for r in records]
    out.result(rows, "\n".join(f"{r['at']}  {r['operator']:<12} {r['platform']:<14} {r['command']:<16} "
                               f"{r['arguments']} {r['reason'] or ''}" for r in rows) or "no audit records")


def _since(raw: str | None) -> datetime:
    if not raw:
        return clock.now() - timedelta(days=30)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise UsageError(f"--since must be an ISO date or time, got {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=clock.SHANGHAI)


def _report(args, out: Output):
    from . import reports  # imported when used: the other commands start without it

    return reports.run(args, out)


def _issuance(args, out: Output):
    from . import issuance

    return issuance.run(args, out)


def _verify_ledger(args, out: Output):
    from . import verify_ledger  # imported when used: the other commands start without it

    return verify_ledger.run(args, out)


def _stats(args, out: Output):
    from . import stats  # imported when used: the other commands start without it

    return stats.run(args, out)


def _reseal(args, out: Output):
    from . import reseal
    from .console import confirm

    if not args.dry_run:
        confirm("rewrite every sealed value not yet under the current data key?", args.yes)
    report = reseal.reseal(args.dry_run, args.start, args.pages, args.page_size,
                           on_page=lambda cursor: print(f"cursor: {cursor}", file=sys.stderr, flush=True))
    result = report.as_dict()
    if not args.dry_run:
        audit("reseal", {"from": args.start, "pages": args.pages}, outcome=result)
    lines = [f"{name}: " + ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in counts.items())
             for name, counts in result["tables"].items()]
    lines.append(f"current key id {report.key_id}" + (" (dry run: nothing written)" if args.dry_run else ""))
    lines.append(f"stopped; go on with --from {report.next}" if report.next else "every table done")
    out.result(result, "\n".join(lines))
    return 1 if any(counts["unreadable"] for counts in result["tables"].values()) else 0


_HANDLERS = {
    ("init-db", None): _init_db,
    ("load", None): _load,
    ("seed-demo", None): _seed_demo,
    ("user", "show"): _user_show,
    ("user", "freeze"): lambda a, o: _freeze(a, o, True),
    ("user", "unfreeze"): lambda a, o: _freeze(a, o, False),
    ("points", "adjust"): _adjust,
    ("reconcile", None): _reconcile,
    ("run-jobs", None): _run_jobs,
    ("accrue-trees", None): _accrue_trees,
    ("audit", None): _audit,
    **_MARKETPLACE_HANDLERS,
    **_PRIVACY_HANDLERS,
    **_DEMO_HANDLERS,
    **_PARTNER_HANDLERS,
    **_PERSONS_HANDLERS,
    **_TRANSPARENCY_HANDLERS,
    **_RISK_HANDLERS,
    **_NUDGES_HANDLERS,
    ("report", None): _report,
    ("issuance", None): _issuance,
    ("verify-ledger", None): _verify_ledger,
    ("stats", None): _stats,
    ("reseal", None): _reseal,
}
