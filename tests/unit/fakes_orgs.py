"""In-memory memberships, for fast tests of services/orgs.py: the same promises as
store/repositories_orgs.Memberships (a join writes the account's list and one member on the org's count
together or not at all; a list changed since the read is a lost race; a full window of wrong codes refuses).
DynamoDB keeps those promises in tests/integration/test_orgs.py and tests/races/test_org_races.py."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.domain.guards import Guard, GuardFailed
from chalicelib.domain.guards_orgs import InviteWindowOpen, MemberCounted, OrgsUnchanged
from chalicelib.domain.orgs import invite_digest
from chalicelib.errors import AccountDeletedError, NotFoundError
from tests.unit.fakes import DEMO_CATALOG


def demo_orgs() -> dict[str, dict]:
    """The demo catalog's orgs as the catalog partition holds them: the invite code's digest, never the code."""
    return {o["id"]: {"id": o["id"], "name": o["name"], "type": o["type"],
                      "invite_sha256": invite_digest(o["invite_code"])} for o in DEMO_CATALOG["orgs"]}


class InMemoryMemberships:
    """`accounts`: user id -> the orgs on the account (a missing one is not found, `deleted` refused).
    `before_commit`: lands a concurrent change (another join) between the read and the write."""

    def __init__(self) -> None:
        self.catalog = demo_orgs()
        self.accounts: dict[str, list[dict]] = {}
        self.deleted: set[str] = set()
        self.members: dict[tuple[str, int], int] = {}  # (org id, part) -> members
        self.failures: dict[str, int] = {}
        self.marked: list[str] = []
        self.commits = 0
        self.before_commit: Callable[[], None] | None = None

    def orgs(self) -> dict[str, dict]:
        return self.catalog

    def member_orgs(self, user_id: str) -> list[dict]:
        if user_id not in self.accounts:
            raise NotFoundError()
        if user_id in self.deleted:
            raise AccountDeletedError()
        return [dict(org) for org in self.accounts[user_id]]

    def count_failure(self, window_key: str, limit: int, purge_at: datetime) -> bool:
        if self.failures.get(window_key, 0) >= limit:
            return False
        self.failures[window_key] = self.failures.get(window_key, 0) + 1
        return True

    def sums(self, org_id: str, periods: list[str]) -> dict[str, int]:
        members = sum(n for (org, _), n in self.members.items() if org == org_id)
        return {"members": members} if "members" in periods and members else {}

    def commit(self, guards: list[Guard]) -> bool:
        if self.before_commit:
            self.before_commit()
        for guard in guards:
            if isinstance(guard, InviteWindowOpen) and self.failures.get(guard.window_key, 0) >= guard.limit:
                raise GuardFailed(guard)
            if isinstance(guard, OrgsUnchanged) and self.accounts.get(guard.user_id) != guard.read:
                return False
        self.commits += 1
        for guard in guards:
            if isinstance(guard, OrgsUnchanged):
                self.accounts[guard.user_id] = list(guard.joined)
            elif isinstance(guard, MemberCounted):
                self.members[(guard.org_id, guard.part)] = self.members.get((guard.org_id, guard.part), 0) + 1
        return True

    def mark_changed(self, user_id: str) -> None:
        self.marked.append(user_id)
