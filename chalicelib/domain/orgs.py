"""Organizations' rules: types, how many a person may join, invite codes, what counts for an org. Pure."""
from __future__ import annotations

import hashlib
import hmac
from datetime import date

from . import clock
from .platforms import DEFAULT, scoped

ORG_TYPES = ("enterprise", "school", "group")
MAX_ORGS = 5  # api.md: a user belongs to 5 organizations at most
INVITE_MIN, INVITE_MAX = 4, 64


def invite_digest(code: str) -> str:
    """What the catalog keeps of an invite code: its SHA-256, so the code itself is never stored or served."""
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def invite_matches(code: str, digest: str) -> bool:
    """Constant-time comparison of a typed code with the stored digest (case and spaces forgiven)."""
    return hmac.compare_digest(invite_digest(code), digest)


def counts_for_org(entry_at: str, entry_day: str, joined_at: str) -> bool:
    """A member's reduction counts for an org when it was recorded after they joined and made on or
    after the day they joined (a ride from before the join, reported late, does not count)."""
    joined = clock.parse_iso(joined_at)
    return clock.parse_iso(entry_at) >= joined and date.fromisoformat(entry_day) >= clock.business_day(joined)


# ---- an org's keys in agg_totals and agg_boards (store/aggregates.py), per platform -------------------------
# `default` keeps its keys ("o#{org}#07", "m#{org}#{user}", "org#{org}", board "orgs" and "org-{org}"); a platform
# P's are the same prefixed "P#", since two platforms may name an org alike. Org ids, user ids and platform ids
# hold no '#', so a key's platform is known from how many parts it has.

def part_owner(platform: str, org_id: str, part: str) -> str:
    """Part `part` of an org's carbon and member count: "o#{org}#{part}", P's "P#o#{org}#{part}"."""
    return scoped(platform, f"o#{org_id}#{part}")


def member_owner(platform: str, org_id: str, user_id: str) -> str:
    """A member's carbon counted for the org: "m#{org}#{user}", P's "P#m#{org}#{user}"."""
    return scoped(platform, f"m#{org_id}#{user_id}")


def row_owner(platform: str, org_id: str) -> str:
    """The org's row the orgs board job sums: "org#{org}", P's "P#org#{org}"."""
    return scoped(platform, f"org#{org_id}")


def orgs_board(platform: str) -> str:
    """The orgs board: "orgs", P's "P#orgs"."""
    return scoped(platform, "orgs")


def platform_of_orgs_board(board: str) -> str | None:
    """The platform whose orgs board `board` is ("orgs": `default`, "P#orgs": P), None for another board."""
    if board == "orgs":
        return DEFAULT
    head, _, tail = board.partition("#")
    return head if tail == "orgs" else None


def key_platform(key: str, parts: int) -> str:
    """The platform of an org key of `parts` parts on `default` (o#org#part: 3, m#org#user: 3, org#org: 2)."""
    pieces = key.split("#")
    return pieces[0] if len(pieces) == parts + 1 else DEFAULT
