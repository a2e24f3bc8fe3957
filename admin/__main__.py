"""python -m admin COMMAND — see `python -m admin --help` and operations.md."""
from __future__ import annotations

import argparse
import os
import sys
from datetime import date

from chalicelib.settings import SettingsError

from . import local_stack
from .demo import add_parsers as _add_demo
from .nudges import add_parsers as _add_nudges
from .partners import add_parsers as _add_partners
from .persons import add_parsers as _add_persons
from .privacy import add_parsers as _add_privacy
from .privacy import add_user_parsers as _add_privacy_user
from .redemptions import add_parsers as _add_marketplace
from .risk import add_parsers as _add_risk
from .transparency import add_parsers as _add_transparency


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {text!r}") from None


def _segments(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"segments must be 1..64, got {text!r}")
    return int(text)


ISSUANCE_HELP = """Carbon-inclusion reduction report for a carbon exchange. Issues the `earn` and `accrual` entries
whose business day (Asia/Shanghai) is in the period, totalled by methodology id and version; entries of estimate
methodologies, or of versions the catalog cannot confirm, are left out and listed as excluded. --platform P
(default `default`) issues the entries of P's users into P's registry; --platform all issues every platform's
into its own registry, each entry attributed to its user's platform (totals per platform and overall). Only
entries holding their carbon count (never one `counted_via` another platform). --out gets the summary (JSON, or
CSV with --format csv or a .csv name); every issued entry, named by its leaf in the daily roots (day, platform,
entry id, pseudonym, leaf hash; no user id), with its methodology and carbon, goes to --entries (default
OUT_STEM.entries.csv); beside them OUT_STEM.registry.json (the methodology versions' rules), OUT_STEM.roots.json
and OUT_STEM.leaves/ (the roots and leaves files of the entries' days): what verifier/verify_issuance.py checks
(docs/issuance.md). The summary and the issuance record carry the files' SHA-256. An entry is issued at most
once: a period overlapping an issued one of the same scope is refused, and
an entry another scope issued (its marker) is left out. If the console dies half-way, run the same command
again to finish the issuance. Late entries: an event may arrive up to 7 days late and still lands on its own
business day, so a period is issued only once its last day is at least 8 days ago; nothing can then land in it
afterwards, so nothing is missed or issued twice. --dry-run writes the files (marked as a preview, also for an
open or overlapping period) and records and marks nothing."""

VERIFY_HELP = """Recomputes every ledger entry that carries carbon from its methodology id and version (the catalog's
immutable rule history) and its stored inputs, checking the day caps the inputs record; entries without carbon
are counted and skipped. Prints counts (entries read, recomputed, matching, by methodology version) and exits 1
with every mismatch (entry key, stored vs recomputed carbon, why). An offline parallel scan of the ledger (--from
and --to filter on the business day), one page at a time, with a progress bar on a terminal; --resume FILE saves
each segment's position after every page and goes on from FILE's when run again with the same options."""


def _add_reporting(sub, common: argparse.ArgumentParser, writes: argparse.ArgumentParser) -> None:
    """report and issuance (admin/reports.py, admin/issuance.py): offline scans of the ledger by business day."""
    period = argparse.ArgumentParser(add_help=False)
    period.add_argument("--from", dest="first", type=_day, required=True, metavar="D", help="first business day")
    period.add_argument("--to", dest="last", type=_day, required=True, metavar="D", help="last business day")
    period.add_argument("--segments", type=_segments, default=4, help="parallel scan segments (default 4)")
    report = sub.add_parser("report", parents=[common, period], help="reductions and points by behaviour and day",
                            description="Reductions and points by behaviour and business day, and platform totals "
                                        "(a parallel scan of the ledger; bounded memory).")
    report.add_argument("--format", choices=("table", "csv", "json"), help="default table (json with --json)")
    report.add_argument("--out", metavar="FILE", help="write the report to FILE instead of printing it")
    report.add_argument("--chart", metavar="FILE.png", help="draw daily carbon by behaviour (stacked, kg) to a PNG")
    report.add_argument("--platform", default="default", metavar="ID|all",
                        help="the platform whose users' entries count (default `default`); all: every platform's, "
                             "with each platform's totals")
    issuance = sub.add_parser("issuance", parents=[writes, period], help="reduction report for a carbon exchange",
                              description=ISSUANCE_HELP)
    issuance.add_argument("--out", metavar="FILE", required=True, help="the summary file (never overwritten)")
    issuance.add_argument("--entries", metavar="FILE", help="the issued entries' keys (CSV)")
    issuance.add_argument("--format", choices=("json", "csv"), help="summary format (default from --out's suffix)")
    issuance.add_argument("--reason", help="why, for the audit trail (e.g. the exchange's request)")
    issuance.add_argument("--platform", default="default", metavar="ID",
                          help="the platform whose users' reductions are issued, or `all` (default `default`)")
    verify = sub.add_parser("verify-ledger", parents=[common], help="recompute every entry's carbon (exit 1 if any "
                            "differs)", description=VERIFY_HELP)
    verify.add_argument("--from", dest="first", type=_day, metavar="D", help="first business day (default: the first)")
    verify.add_argument("--to", dest="last", type=_day, metavar="D", help="last business day (default: the last)")
    verify.add_argument("--platform", metavar="ID", help="only the entries of this platform's users (default: all)")
    verify.add_argument("--resume", metavar="FILE", help="checkpoint file: written after every page, read to go on")
    verify.add_argument("--segments", type=_segments, default=4, help="parallel scan segments (default 4)")


RESEAL_HELP = """Rewrites every sealed value (WeChat session keys and unionids, delivery addresses, partner tokens)
under the current data key: the first of DATA_KEYS, or DATA_KEY. Run it after adding a new key in front of
DATA_KEYS, and before dropping the old one (docs/deploy.md, "Rotating DATA_KEY and JWT_SECRET"). A one-off
console job that reads the three tables page by page (a Scan: no index lists sealed values; request paths never
scan). Idempotent: a value already under the current key is left. Each rewrite is conditioned on the old sealed
values of its item, so a concurrent change wins (counted as changed_meanwhile, the item's other values left
too; run again to finish). Resumable: each page's cursor is printed on stderr; --from CURSOR goes on from
there, --pages N stops after N pages. Reports counts per table; exit status 1 when a value opens under no
configured key (left as it is)."""


def _page_count(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 6 or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1, got {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    writes = argparse.ArgumentParser(add_help=False, parents=[common])
    writes.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
    writes.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    parser = argparse.ArgumentParser(prog="python -m admin", description="GreenSprout operators' console")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("init-db", parents=[writes], help="create the missing tables and wait until active")
    load = sub.add_parser("load", parents=[writes], help="upsert a catalog file (operations.md)")
    load.add_argument("file")
    sub.add_parser("seed-demo", parents=[writes], help="load the built-in demo catalog")

    # --platform on the commands about one user: a user of another platform is refused as a missing one
    scoped = argparse.ArgumentParser(add_help=False)
    scoped.add_argument("--platform", default="default", metavar="ID",
                        help="the platform the user belongs to (default `default`); a user of another platform "
                             "is refused as a user that does not exist")
    user = sub.add_parser("user", help="look at, freeze and unfreeze accounts")
    user_sub = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    user_sub.add_parser("show", parents=[common, scoped],
                        help="an account and its latest entries").add_argument("user")
    freeze = user_sub.add_parser("freeze", parents=[writes, scoped],
                                 help="the account reads but earns and spends nothing")
    freeze.add_argument("user")
    freeze.add_argument("--reason", required=True)
    unfreeze = user_sub.add_parser("unfreeze", parents=[writes, scoped], help="lift a freeze")
    unfreeze.add_argument("user")
    unfreeze.add_argument("--reason")
    _add_privacy_user(user_sub, common, writes, scoped)  # user delete, user minor (admin/privacy.py)
    _add_risk(sub, common, writes, scoped)  # risk list, flag, release, void (admin/risk.py)
    _add_nudges(sub, common)  # nudges send, stats (admin/nudges.py)

    points = sub.add_parser("points", help="operator corrections")
    points_sub = points.add_subparsers(dest="action", required=True, metavar="ACTION")
    adjust = points_sub.add_parser("adjust", parents=[writes, scoped],
                                   help="an audited adjust entry; never below zero")
    adjust.add_argument("user")
    adjust.add_argument("delta", type=int)
    adjust.add_argument("--reason", required=True)
    adjust.add_argument("--request-id", help="repeat a run safely: the same id applies once")

    reconcile = sub.add_parser("reconcile", parents=[common],
                               help="prove the ledger sums to every balance of the deployment (exit 1 if not)",
                               description="Proves for every account of the deployment, every platform's, that "
                                           "its ledger sums to its balance and lifetime carbon; --platform ID "
                                           "checks only that platform's accounts. Exit status 1 when any differs.")
    reconcile.add_argument("--platform", metavar="ID",
                           help="check only this platform's accounts (default: every account of the deployment)")
    _add_marketplace(sub, common, writes)
    _add_privacy(sub, common, writes)  # expire-points, nickname (admin/privacy.py)
    jobs = sub.add_parser("run-jobs", parents=[writes], help="run scheduled and stream work locally",
                          description="Runs the scheduled jobs (chalicelib/jobs.py) and drains DynamoDB Local's "
                                      "streams. Every job is attempted: a failed one is reported on one line and "
                                      "the rest still run; with --once the exit status is 1 when any failed.")
    jobs.add_argument("--once", action="store_true", help="run what is due once and return")
    jobs.add_argument("--job", action="append", metavar="NAME", help="run only this job (repeatable)")
    accrue = sub.add_parser("accrue-trees", parents=[writes], help="the daily tree accrual (also scheduled)",
                            description="Credits every adopted tree's daily uptake through business day D "
                                        "(default today, Asia/Shanghai), catching up any day a run missed; "
                                        "idempotent per adoption and day, so running a day twice credits it once.")
    accrue.add_argument("--date", type=_day, metavar="D", help="last business day to credit (YYYY-MM-DD)")
    accrue.add_argument("--platform", default="default", metavar="ID",
                        help="credit only the adoptions of this platform's users (default `default`), or `all` "
                             "(every platform's, as the scheduled job does)")
    _add_reporting(sub, common, writes)
    reseal = sub.add_parser("reseal", parents=[writes], help="rewrite sealed values under the current data key",
                            description=RESEAL_HELP)
    reseal.add_argument("--from", dest="start", metavar="CURSOR", help="go on from a cursor an earlier run printed")
    reseal.add_argument("--pages", type=_page_count, metavar="N", help="stop after N pages (then print the cursor)")
    reseal.add_argument("--page-size", type=_page_count, default=100, metavar="N", help="items a page (default 100)")
    stats = sub.add_parser("stats", parents=[common], help="the public stats, plus daily active users over time")
    stats.add_argument("--days", type=int, default=14, help="days of daily active users to show (1 to 90)")
    stats.add_argument("--platform", default="default", metavar="ID",
                       help="the platform whose stats are shown, or `all`: every platform's and the deployment's "
                            "totals, persons counted once (default `default`)")
    _add_demo(sub, common, writes)  # demo rides (admin/demo.py)
    _add_partners(sub, common, writes)  # partner list, partner test (admin/partners.py)
    _add_persons(sub, common, writes)  # backfill-persons (admin/persons.py)
    _add_transparency(sub, common, writes, _day)  # roots (admin/transparency.py)
    audit = sub.add_parser("audit", parents=[common], help="the audit trail")
    audit.add_argument("--since", help="ISO date or time, default the last 30 days")
    audit.add_argument("--platform", metavar="ID", help="only the records of commands that concerned this platform "
                       "(default: the deployment's, every record)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs one command; returns the exit status: 0 done, 1 failed, 2 usage error (also when called in-process)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2, message already printed)
        return exc.code if isinstance(exc.code, int) else 2
    if note := local_stack.use_if_no_deployment():  # before the models read their endpoint and table names
        print(f"python -m admin: {note}", file=sys.stderr)
    try:
        from botocore.exceptions import BotoCoreError, ClientError
        from pynamodb.exceptions import PynamoDBException

        from . import commands
        from .console import CommandError, Output, UsageError
    except SettingsError as exc:
        local = not any(os.environ.get(name) for name in local_stack.DEPLOYMENT_SETTINGS)
        print(f"error: {exc}" + (f" ({local_stack.NO_SETTINGS_HINT})" if local else ""), file=sys.stderr)
        return 1
    out = Output(getattr(args, "json", False))
    try:
        return commands.run(args, out)
    except UsageError as exc:
        print(f"usage error: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (PynamoDBException, BotoCoreError, ClientError) as exc:
        missing = "ResourceNotFound" in str(exc) or "does not exist" in str(exc)
        hint = " (has `python -m admin init-db` run?)" if missing else ""
        print(f"error: DynamoDB: {exc}{hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
