"""python -m admin COMMAND — see `python -m admin --help` and operations.md."""
from __future__ import annotations

import argparse
import sys

from chalicelib.settings import SettingsError


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

    user = sub.add_parser("user", help="look at, freeze and unfreeze accounts")
    user_sub = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    user_sub.add_parser("show", parents=[common], help="an account and its latest entries").add_argument("user")
    freeze = user_sub.add_parser("freeze", parents=[writes], help="the account reads but earns and spends nothing")
    freeze.add_argument("user")
    freeze.add_argument("--reason", required=True)
    unfreeze = user_sub.add_parser("unfreeze", parents=[writes], help="lift a freeze")
    unfreeze.add_argument("user")
    unfreeze.add_argument("--reason")

    points = sub.add_parser("points", help="operator corrections")
    points_sub = points.add_subparsers(dest="action", required=True, metavar="ACTION")
    adjust = points_sub.add_parser("adjust", parents=[writes], help="an audited adjust entry; never below zero")
    adjust.add_argument("user")
    adjust.add_argument("delta", type=int)
    adjust.add_argument("--reason", required=True)
    adjust.add_argument("--request-id", help="repeat a run safely: the same id applies once")

    sub.add_parser("reconcile", parents=[common], help="prove the ledger sums to every balance (exit 1 if not)")
    jobs = sub.add_parser("run-jobs", parents=[common], help="run scheduled and stream work locally")
    jobs.add_argument("--once", action="store_true", help="run what is due once and return")
    audit = sub.add_parser("audit", parents=[common], help="the audit trail")
    audit.add_argument("--since", help="ISO date or time, default the last 30 days")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        from . import commands
        from .console import CommandError, Output
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out = Output(getattr(args, "json", False))
    try:
        return commands.run(args, out)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
