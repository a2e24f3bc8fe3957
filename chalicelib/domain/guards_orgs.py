"""The conditions of joining an org, named as objects (domain/guards.py says what a guard is): one transaction
without a posting (store/repositories_orgs.py), so that two joins racing can neither exceed MAX_ORGS nor lose
each other, and a person whose window of wrong invite codes is full joins nothing.
"""
from __future__ import annotations

from typing import ClassVar

from .guards import Guard
from .values import immutable


@immutable
class OrgsUnchanged(Guard):
    """The account's org list becomes `joined`, provided the account exists and its list is still `read`
    (none when `read` is empty). A changed list is a lost race, not an answer: read again."""

    user_id: str
    read: list
    joined: list
    refuses: ClassVar[bool] = False


@immutable
class MemberCounted(Guard):
    """One more member on shard `part` of the org's member count (no condition: it only adds)."""

    org_id: str
    part: int
    refuses: ClassVar[bool] = False


@immutable
class InviteWindowOpen(Guard):
    """The person's window of wrong invite codes (services/attempts.py) holds fewer than `limit`."""

    window_key: str
    limit: int
