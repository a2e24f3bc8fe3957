"""An in-memory profile repository, for fast tests of GET/PATCH /v1/me's use cases (services/profile.py) only.

It keeps store/repositories_profile.Profiles' promises: one read of the account, one update that writes
the whole change or nothing and is refused for a deleted account. Against DynamoDB Local:
tests/integration/test_profile.py, test_content_check.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from chalicelib.domain.profile import HOLD, SET, ProfileChange
from chalicelib.errors import AccountDeletedError, NotFoundError


@dataclass
class FakeProfileAccount:
    """The Account attributes GET /v1/me reads (store/models.py)."""

    user_id: str
    nickname: str | None = None
    nickname_pending: str | None = None
    nickname_check: str | None = None
    avatar_url: str | None = None
    identity_key: str | None = None
    points: int = 0
    carbon_mg: int = 0
    points_earned: int = 0
    points_spent: int = 0
    joined_at: str = "2026-01-05T09:00:00.000+08:00"
    updated_at: str | None = None
    frozen: bool = False
    orgs: list = field(default_factory=list)
    lots: dict | None = None
    deleted_at: str | None = None


class InMemoryProfiles:
    def __init__(self) -> None:
        self.items: dict[str, FakeProfileAccount] = {}
        self.held: dict[tuple[str, str], str] = {}  # (queue, user_id) -> queued_at
        self.reads = self.updates = 0

    def add(self, account: FakeProfileAccount) -> FakeProfileAccount:
        self.items[account.user_id] = account
        return account

    def get(self, user_id: str) -> FakeProfileAccount:
        self.reads += 1
        found = self.items.get(user_id)
        if found is None:
            raise NotFoundError()
        if found.deleted_at:
            raise AccountDeletedError()
        return replace(found)

    def hold(self, queue: str, user_id: str, at: str) -> None:
        self.held[(queue, user_id)] = at

    def update(self, user_id: str, change: ProfileChange, at: str) -> FakeProfileAccount:
        found = self.items.get(user_id)
        if found is None or found.deleted_at:
            raise AccountDeletedError()
        after = replace(found, updated_at=at)
        if change.avatar_given:
            after.avatar_url = change.avatar_url
        if change.nickname and change.nickname.kind == HOLD:
            after.nickname_pending, after.nickname_check = change.nickname.name, change.nickname.queue
        elif change.nickname:
            after.nickname_pending = after.nickname_check = None
            if change.nickname.kind == SET:
                after.nickname = change.nickname.name
        self.items[user_id] = after
        self.updates += 1
        return replace(after)


class InMemoryNicknameReviews(InMemoryProfiles):
    """The moderation queues as store/repositories_profile.NicknameReviews keeps them: a settlement is
    written only while the pending nickname is still the one judged."""

    def queued(self, queue: str, limit: int | None = None) -> list[tuple[str, str]]:
        found = [(user, at) for (q, user), at in sorted(self.held.items()) if q == queue]
        return found[:limit] if limit else found

    def account(self, user_id: str) -> FakeProfileAccount | None:
        found = self.items.get(user_id)
        return replace(found) if found else None

    def settle(self, user_id: str, pending: str, verdict: str, at: str) -> bool:
        found = self.items.get(user_id)
        if found is None or found.nickname_pending != pending:
            return False
        if verdict == "approve":
            found.nickname, found.nickname_pending, found.nickname_check = pending, None, None
        elif verdict == "reject":
            found.nickname_pending, found.nickname_check = None, "rejected"
        else:
            found.nickname_check = "review"
        found.updated_at = at
        return True

    def drop(self, queue: str, user_id: str) -> None:
        self.held.pop((queue, user_id), None)
