"""`python -m admin roots`: the transparency record's daily roots (docs/transparency.md, docs/operations.md).

Roots, for one platform or every one (`--platform all`), every closed day (9 days back) after the platform's
last rooted day, or from `--from` (default TRANSPARENCY_FIRST_DAY) when it has none, through `--through` (default
the last closed day), at most 31 days a run: what the scheduled `transparency-roots` job does, in this process.
Everything is written once: a run after the job (or two at once) changes nothing. `--check D` recomputes the
rooted day D from the ledger instead and exits 1 when its root, counts or chain differ from the stored ones.
"""
from __future__ import annotations

import argparse

from .console import CommandError, Output, audit, known_platform


def add_parsers(sub, common: argparse.ArgumentParser, writes: argparse.ArgumentParser, day) -> None:
    roots = sub.add_parser("roots", parents=[writes], help="root the closed days of the transparency record",
                           description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    roots.add_argument("--platform", default="default", metavar="ID", help="a platform, or `all` (default default)")
    roots.add_argument("--through", type=day, metavar="D", help="the last day to root (default the last closed)")
    roots.add_argument("--from", dest="first", type=day, metavar="D",
                       help="the platform's first day when it has no root yet (default TRANSPARENCY_FIRST_DAY)")
    roots.add_argument("--check", type=day, metavar="D", help="recompute the rooted day D and compare (exit 1)")


def _roots(args, out: Output) -> int:
    from chalicelib.domain import clock
    from chalicelib.domain.platforms import ALL
    from chalicelib.services import transparency
    from chalicelib.settings import get_settings

    platform = known_platform(args.platform, allow_all=True)
    platforms = transparency.platforms() if platform == ALL else [platform]
    if args.check:
        return _check(platforms, args.check.isoformat(), out)
    today = clock.business_day(clock.now())
    first = args.first.isoformat() if args.first else get_settings().transparency_first_day
    if first is None:
        raise CommandError("no first day: pass --from D or set TRANSPARENCY_FIRST_DAY")
    if args.dry_run:
        result = [{"platform": p, "days": transparency.pending_days(p, today, first, args.through)} for p in platforms]
        out.result(result, "\n".join(f"{r['platform']}: would root {', '.join(r['days']) or 'nothing'}"
                                     for r in result))
        return 0
    result = [transparency.run(p, today, first, args.through) for p in platforms]
    audit("roots", {"platform": platform, "through": args.through and args.through.isoformat(), "from": first},
          outcome=[{k: r[k] for k in ("platform", "days", "entries", "head")} for r in result])
    out.result(result, "\n".join(f"{r['platform']}: rooted {len(r['days'])} days ({r['entries']} entries); "
                                 f"chain head {r['head'] or 'none'} {r['chain'] or ''}" for r in result))
    return 0


def _check(platforms: list[str], day: str, out: Output) -> int:
    from chalicelib.services import transparency

    checks = [(p, transparency.check_day(p, day)) for p in platforms]
    result = [{"platform": p, "day": day, "rooted": c.stored is not None, "ok": c.ok,
               "root": c.stored and c.stored["root"], "recomputed": c.computed and c.computed["root"]}
              for p, c in checks]
    out.result(result, "\n".join(f"{r['platform']} {day}: " + ("not rooted" if not r["rooted"] else
                                 "matches" if r["ok"] else f"DIFFERS: stored {r['root']}, recomputed {r['recomputed']}")
                                 for r in result))
    return 0 if all(r["ok"] or not r["rooted"] for r in result) else 1


HANDLERS = {("roots", None): _roots}
