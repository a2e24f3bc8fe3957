"""nudges send / stats (shared/contract/nudges.md "Operations", docs/nudges.md):

    nudges send [--now T] [--topic TOPIC]   what is due at T (default now): receipts and retries, then the
                                            coupons, points and weekly reports, every shard; the same work the
                                            scheduled jobs do, at most once per (user, topic, subject)
    nudges stats [--days N] [--json]        sent, refused (43101), failed, deferred, by topic and business day

`send` is audited (its counts); a run acts on the acceptances recorded before it runs.
"""
from __future__ import annotations

import argparse
from datetime import timedelta


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    from chalicelib.domain.nudges import TOPICS

    nudges = sub.add_parser("nudges", help="WeChat subscribe messages: send what is due, stats",
                            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = nudges.add_subparsers(dest="action", required=True, metavar="ACTION")
    send = actions.add_parser("send", parents=[common], help="send what is due now (or at --now)")
    send.add_argument("--now", help="ISO time to act as of (default: now; a date means its 00:00 Shanghai)")
    send.add_argument("--topic", choices=TOPICS, help="only this topic")
    stats = actions.add_parser("stats", parents=[common], help="what was sent, refused, failed, deferred")
    stats.add_argument("--days", type=int, default=7, help="business days to show, today included (1 to 90)")


def send(args, out) -> int:
    from chalicelib.services import nudge_topics

    from .console import audit
    from .redemptions import _moment

    result = nudge_topics.run(_moment(args.now), args.topic)
    audit("nudges send", {"now": args.now, "topic": args.topic}, outcome=result)
    out.result(result, f"nudges as of {result['at']}: {result['sent']} sent, {result['refused']} refused, "
                       f"{result['retry']} to retry, {result['failed']} failed, {result['deferred']} deferred")
    return 0


def stats(args, out) -> int:
    from chalicelib.domain import clock
    from chalicelib.store import nudge_sends

    from .console import UsageError

    if not 1 <= args.days <= 90:
        raise UsageError("--days must be from 1 to 90")
    today = clock.business_day(clock.now())
    rows = []
    for back in range(args.days):
        day = (today - timedelta(days=back)).isoformat()
        for topic, counts in sorted(nudge_sends.stats(day).items()):
            rows.append({"day": day, "topic": topic, **counts})
    lines = [f"{r['day']}  {r['topic']:<16} sent {r['sent']}, refused {r['refused']}, failed {r['failed']}, "
             f"deferred {r['deferred']}" for r in rows]
    out.result({"days": rows}, "\n".join(lines) or f"no nudges in the last {args.days} days")
    return 0


HANDLERS = {("nudges", "send"): send, ("nudges", "stats"): stats}
