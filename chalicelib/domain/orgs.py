"""Organizations' rules: types, how many a person may join, invite codes, what counts for an org. Pure."""
from __future__ import annotations

import hashlib
import hmac
from datetime import date

from . import clock

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
