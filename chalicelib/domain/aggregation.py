"""What the aggregation files and folds, as plain values: an inbox item, what a person's items add, and what
one transaction of the fold writes. Pure: services/aggregate.py and services/fold.py decide with these,
store/inbox.py and store/fold_store.py write them.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from . import clock
from .orgs import counts_for_org, member_owner, part_owner
from .platforms import DEFAULT, scoped
from .ranking import period_keys
from .values import immutable

# Entries of these (kind, source) are a person acting that day (api.md: checked in, synced, redeemed, adopted).
ACTIVITY = {("earn", "checkin"), ("earn", "werun"), ("earn", "operator"), ("spend", "market"), ("spend", "tree")}
TOTAL, COUNTER = "total", "counter"  # kinds of item the fold reads and rewrites on their `rev`: legacy totals,
LIVE, ARCHIVE = "live", "archive"  # counters, a person's tally; and a tally's archive of a past period (put whole)


@immutable
class Filed:
    """An inbox item: a ledger entry ("e#{user}#{entry}"), a login day ("l#{user}#{day}") or a first login
    ("r#{user}"), as the stream handlers file it and the fold reads it."""

    key: str
    what: str  # "entry" | "login" | "register" | "person" | "member" (a union item and each of its users)
    user_id: str
    at: str
    day: str
    kind: str | None = None
    source: str | None = None
    points: int = 0
    carbon_mg: int = 0


NOT_CREDITED = ("held", "void")  # docs/risk.md: held (and voided) credits count nowhere; a `release` is the credit


def matters(kind: str, source: str, points: int, carbon_mg: int) -> bool:
    """Whether an entry changes a board, a counter or the day's actives (refunds, expiries and held or voided
    credits do not)."""
    if kind in NOT_CREDITED:
        return False
    return carbon_mg != 0 or issued_points(kind, points) > 0 or (kind, source) in ACTIVITY


def issued_points(kind: str, points: int) -> int:
    """api.md: points issued are `earn`, `adjust` and `release` (a held credit, released) above zero; refunds
    are not issued again."""
    return points if kind in ("earn", "adjust", "release") and points > 0 else 0


def user_owner(platform: str, user_id: str) -> str:
    """A user's own total, ranked on their platform's users board: "u#{user}", P's "P#u#{user}"."""
    return scoped(platform, f"u#{user_id}")


def person_board(owner: str) -> tuple[str, str]:
    """(user, board) of a person's total: "u#{user}" on "users", "m#{org}#{user}" on "org-{org}", and a platform
    P's "P#u#{user}" on "P#users", "P#m#{org}#{user}" on "P#org-{org}" (a platform id has two characters or more,
    so a key's first part is its platform unless it is "u" or "m")."""
    head, _, rest = owner.partition("#")
    platform, rest = (DEFAULT, owner) if head in ("u", "m") else (head, rest)
    if rest.startswith("u#"):
        return rest[2:], scoped(platform, "users")
    _, org_id, user = rest.split("#", 2)
    return user, scoped(platform, f"org-{org_id}")


def board_of(owner: str) -> str:
    """The board a person's total ranks on (person_board)."""
    return person_board(owner)[1]


def plan_items(unit: list, memberships: list[tuple[str, str]], part: str, platform: str = DEFAULT) -> dict[tuple, int]:
    """What one person's inbox items add: {(kind, name, part): delta} for their totals ("total"), the org parts
    of counter part `part` ("part"), the counters of the user's platform ("stat", name, platform) and their
    active days ("day"). A union item ("person") and each user it joins ("member") count towards the persons of
    the deployment (persons = registered - union_users + unions, over every platform). A user's own total and a
    member's org totals and parts are their platform's ("P#u#...", and domain/orgs.py's "P#m#...", "P#o#..." for
    P): a user of P ranks on P's boards only."""
    plan: dict[tuple, int] = defaultdict(int)
    user = unit[0].user_id
    for item in unit:
        if item.what == "register":
            plan[("stat", "registered", platform)] += 1
        if item.what in ("person", "member"):
            plan[("stat", "unions" if item.what == "person" else "union_users", platform)] += 1
            continue
        if item.what in ("login", "register") or (item.kind, item.source) in ACTIVITY:
            plan[("day", f"days#{user}", clock.business_day(clock.parse_iso(item.at)).isoformat())] += 1
        if item.what != "entry":
            continue
        plan[("stat", "points_issued", platform)] += issued_points(item.kind, int(item.points))
        plan[("stat", "adoptions", platform)] += (item.kind, item.source) == ("spend", "tree")
        carbon = int(item.carbon_mg)
        if not carbon:
            continue
        plan[("stat", "carbon_mg", platform)] += carbon
        for period in period_keys(date.fromisoformat(item.day)):
            plan[("total", user_owner(platform, user), period)] += carbon
            for org_id, joined_at in memberships:
                if counts_for_org(item.at, item.day, joined_at):
                    plan[("total", member_owner(platform, org_id, user), period)] += carbon
                    plan[("part", part_owner(platform, org_id, part), period)] += carbon
    return plan


@immutable
class Rewrite:
    """An item the fold read and writes back whole, on its `rev` being what it read (or its absence): a person's
    tally (LIVE, `name` the user, `value` a domain/tallies.Tally), a histogram part (`value` ({bucket: people},
    {user: mg} its leaders)) or a person's active days (`value` [days]); or an archive of a tally's past period
    (ARCHIVE, `name` the user, `part` the period, `value` {board: mg}), put whole: only a transaction that also
    rewrites the person's tally on its `rev` writes it."""

    kind: str  # TOTAL | COUNTER
    name: str
    part: str
    value: object
    rev: int
    exists: bool
    board_shard: str | None = None


@dataclass
class FoldWrite:
    """One transaction of the fold: the inbox items it applies (their `pending` removed), the items rewritten
    on their `rev`, and the ADDs to the shared parts of counter part `part`: org parts {(owner, period): mg},
    the platforms' counters {(platform, field): n} and the day's new active users {(platform, day): n}."""

    part: str
    inbox: list[str] = field(default_factory=list)
    rewrites: list[Rewrite] = field(default_factory=list)
    parts: dict[tuple[str, str], int] = field(default_factory=dict)
    stats: dict[tuple[str, str], int] = field(default_factory=dict)
    active: dict[tuple[str, str], int] = field(default_factory=dict)
