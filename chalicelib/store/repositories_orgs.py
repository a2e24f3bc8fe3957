"""Organizations' memberships and totals in DynamoDB (services/orgs.py decides what to write): a member's org
list on the account, the org's sharded member count and carbon (store/aggregates.Total), the orgs board's dirty
marker, and the person's window of wrong invite codes (store/attempts.py).

A join is one TransactWriteItems of the guards of domain/guards_orgs.py: the account's list, conditioned on the
list read; one more member on the joiner's part of the count; the window not full.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..domain.guards import Guard
from ..domain.guards_orgs import InviteWindowOpen, MemberCounted, OrgsUnchanged
from ..domain.orgs import orgs_board, part_owner
from ..domain.platforms import DEFAULT, scoped
from ..domain.ranking import PARTS, shard_of
from . import attempts as windows
from . import board_marks
from .access import on
from .aggregates import Total
from .models import Account
from .repositories import Accounts
from .tx import Tx, commit_guards


class Memberships:
    """`orgs`: the catalog's orgs of `platform` by id (services/catalog.orgs, cached per container). Its keys are
    that platform's (domain/orgs.py: `default`'s as before platforms, P's prefixed "P#"), so an org of P shares
    no count with an org of another platform of the same id."""

    ACCESS = (
        Accounts,
        windows.count_failure,
        on(Total, "BatchGetItem"),
        on(Account, "UpdateItem"), on(Total, "UpdateItem"), windows.stage_window_open,  # the join's transaction
        board_marks.mark_one,  # the orgs board's marker and its flag
    )

    def __init__(self, orgs: Callable[[], dict[str, dict]], platform: str = DEFAULT) -> None:
        self.orgs = orgs
        self.platform = platform

    def member_orgs(self, user_id: str) -> list[dict]:
        """The orgs on the person's account, read consistently (one GetItem; a deleted account is refused)."""
        return list(Accounts().get(user_id).orgs or [])

    def count_failure(self, window_key: str, limit: int, purge_at: datetime) -> bool:
        """One more wrong invite code in the window; False when it already holds `limit`."""
        return windows.count_failure(window_key, limit, purge_at)

    def sums(self, org_id: str, periods: list[str]) -> dict[str, int]:
        """The org's totals of these periods ("members" too), summed over its PARTS shards: one BatchGetItem."""
        keys = [(part_owner(self.platform, org_id, f"{s:02d}"), period) for s in range(PARTS) for period in periods]
        sums: dict[str, int] = {}
        for item in Total.batch_get(keys):
            sums[item.period] = sums.get(item.period, 0) + int(item.value)
        return sums

    def commit(self, guards: list[Guard]) -> bool:
        """The join as one transaction: True when written, False after a lost race, GuardFailed when the
        window of wrong codes is full."""
        return commit_guards(guards, lambda tx, label, guard: _stage(tx, label, guard, self.platform))

    def mark_changed(self, user_id: str) -> None:
        """The orgs board lists member counts: rebuild it (a marker in the marker partition of the member's shard,
        then its flag: store/board_marks.mark_one)."""
        board_marks.mark_one(shard_of(user_id), orgs_board(self.platform), "all")


def _stage(tx: Tx, label: str, guard: Guard, platform: str = DEFAULT) -> None:
    if isinstance(guard, OrgsUnchanged):
        unchanged = Account.orgs == guard.read
        if not guard.read:
            unchanged = unchanged | Account.orgs.does_not_exist()
        tx.update(label, Account(guard.user_id), [Account.orgs.set(guard.joined)],
                  condition=Account.user_id.exists() & unchanged)
    elif isinstance(guard, MemberCounted):
        tx.update(label, Total(part_owner(platform, guard.org_id, f"{guard.part:02d}"), "members"),
                  [Total.value.add(1), Total.board_shard.set(scoped(platform, f"orgmembers#{guard.part:02d}"))])
    elif isinstance(guard, InviteWindowOpen):
        windows.stage_window_open(tx, label, guard.window_key, guard.limit)
    else:
        raise TypeError(f"no join action for {type(guard).__name__}")
