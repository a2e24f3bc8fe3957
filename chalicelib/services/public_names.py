"""Names on leaderboards: who may be shown by nickname, minors marked by their school, and rebuilding the boards
a person appears on when what may be shown of them changes (marked a minor, account deleted).

Boards keep the names of when they were built (services/boards.py); a board is rebuilt when marked dirty.
A person's boards are found from their own totals (their tally `u#{user}` and its archives, which name their
platform's boards, and `default`'s legacy `m#{org}#{user}` in agg_totals: one Query each), so every board that ever
listed them, past weeks and months included, is rebuilt without their name.
"""
from __future__ import annotations

from typing import Any

from ..domain import clock
from ..domain.platforms import DEFAULT, platform_of
from ..domain.privacy import public_name
from ..domain.ranking import shard_of
from ..domain.values import immutable
from ..errors import NotFoundError, ServiceUnavailableError, ValidationError
from . import catalog

ATTEMPTS = 5


@immutable
class MinorMarking:
    """What marking (or unmarking) a member as a minor did; `boards_marked` only when the marks changed."""

    user_id: str
    org: str
    minor_orgs: list[str]
    changed: bool
    boards_marked: int | None = None

    @property
    def minor(self) -> bool:
        return bool(self.minor_orgs)


def public_names(user_ids: list[str], store: Any = None) -> dict[str, str]:
    """What others may see of each person (one BatchGetItem per 100): checked nicknames of adults only."""
    if store is None:
        from ..store.repositories_public_names import ShownNames

        store = ShownNames()
    found = store.accounts(user_ids)
    names = {}
    for user_id in user_ids:
        account = found.get(user_id)
        names[user_id] = public_name(user_id, account.nickname if account else None,
                                     minor=bool(account and account.minor_orgs),
                                     deleted=bool(account and account.deleted_at))
    return names


def mark_boards_of(user_id: str, org_ids: list[str], store: Any = None, *, platform: str = DEFAULT) -> int:
    """Marks every board (every period) the user is counted on, their platform's, to be rebuilt, in the marker
    partition of the person's fold shard; returns how many."""
    if store is None:
        from ..store.repositories_public_names import BoardMarks

        store = BoardMarks()
    boards = store.boards_of(user_id, org_ids) if platform == DEFAULT else store.boards_of(user_id, org_ids, platform)
    store.mark(shard_of(user_id), boards)
    return len(boards)


def set_minor(user_id: str, org_id: str, minor: bool, marks: Any = None, platform: str = DEFAULT) -> MinorMarking:
    """A school of `platform` (its `orgs`: P's `P#org`) marks (or unmarks) one of its members as a minor: their
    name leaves every public board. Another platform's org, or a user of another platform, is NOT_FOUND.

    The account keeps the schools that marked it (`minor_orgs`), written on the condition that the list is
    still the one read; the person stays a minor while any school says so."""
    org = catalog.orgs(platform).get(org_id)
    if org is None:
        raise NotFoundError("没有这个组织", org=org_id)
    if org["type"] != "school":
        raise ValidationError("只有学校可以标记未成年成员", field="org", type=org["type"])
    if marks is None:
        from ..store.repositories_public_names import MinorMarks

        marks = MinorMarks()
    for _ in range(ATTEMPTS):
        account = marks.get(user_id)
        if account is None or platform_of(account) != platform:
            raise NotFoundError()
        member_of = [o["id"] for o in account.orgs or []]
        if org_id not in member_of:
            raise ValidationError("该用户不是这个组织的成员", field="user", org=org_id)
        current = list(account.minor_orgs or [])
        wanted = sorted({*current, org_id}) if minor else [o for o in current if o != org_id]
        if wanted == current:
            return MinorMarking(user_id, org_id, wanted, changed=False)
        read = None if account.minor_orgs is None else current
        if marks.set(user_id, read, wanted, clock.iso(clock.now())):
            marked = mark_boards_of(user_id, member_of, platform=platform)  # the platform's boards
            return MinorMarking(user_id, org_id, wanted, changed=True, boards_marked=marked)
        # another school changed the list meanwhile: read it again
    raise ServiceUnavailableError()
