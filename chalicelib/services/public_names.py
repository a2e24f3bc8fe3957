"""Names on leaderboards: who may be shown by nickname, minors marked by their school, and rebuilding the boards
a person appears on when what may be shown of them changes (marked a minor, account deleted).

Boards keep the names of when they were built (services/boards.py); a board is rebuilt when marked dirty.
A person's boards are found from their own totals (`u#{user}` and `m#{org}#{user}` in agg_totals: one Query
each), so every board that ever listed them, past weeks and months included, is rebuilt without their name.
"""
from __future__ import annotations

import uuid

from pynamodb.exceptions import UpdateError

from ..domain import clock
from ..domain.privacy import public_name
from ..domain.ranking import shard_of
from ..errors import NotFoundError, ServiceUnavailableError, ValidationError
from ..store.aggregates import Board, Total, dirty_partition
from ..store.models import Account
from . import catalog

ATTEMPTS = 5


def public_names(user_ids: list[str]) -> dict[str, str]:
    """What others may see of each person (one BatchGetItem per 100): checked nicknames of adults only."""
    fields = ["user_id", "nickname", "minor_orgs", "deleted_at"]
    found = {a.user_id: a for a in Account.batch_get(user_ids, attributes_to_get=fields)} if user_ids else {}
    names = {}
    for user_id in user_ids:
        account = found.get(user_id)
        names[user_id] = public_name(user_id, account.nickname if account else None,
                                     minor=bool(account and account.minor_orgs),
                                     deleted=bool(account and account.deleted_at))
    return names


def mark_boards_of(user_id: str, org_ids: list[str]) -> int:
    """Marks every board (every period) the person is counted on to be rebuilt, in the marker partition of
    the person's fold shard; returns how many."""
    boards = {("users", total.period) for total in Total.query(f"u#{user_id}")}
    for org_id in org_ids:
        boards |= {(f"org-{org_id}", total.period) for total in Total.query(f"m#{org_id}#{user_id}")}
    with Board.batch_write() as batch:
        for board, period in sorted(boards):
            batch.save(Board(dirty_partition(shard_of(user_id)), f"{board}|{period}", marked=uuid.uuid4().hex))
    return len(boards)


def set_minor(user_id: str, org_id: str, minor: bool) -> dict:
    """A school marks (or unmarks) one of its members as a minor: their name leaves every public board.

    The account keeps the schools that marked it (`minor_orgs`), written on the condition that the list is
    still the one read; the person stays a minor while any school says so."""
    org = catalog.orgs().get(org_id)
    if org is None:
        raise NotFoundError("没有这个组织", org=org_id)
    if org["type"] != "school":
        raise ValidationError("只有学校可以标记未成年成员", field="org", type=org["type"])
    for _ in range(ATTEMPTS):
        try:
            account = Account.get(user_id, consistent_read=True)
        except Account.DoesNotExist:
            raise NotFoundError() from None
        member_of = [o["id"] for o in account.orgs or []]
        if org_id not in member_of:
            raise ValidationError("该用户不是这个组织的成员", field="user", org=org_id)
        current = list(account.minor_orgs or [])
        wanted = sorted({*current, org_id}) if minor else [o for o in current if o != org_id]
        if wanted == current:
            return _result(user_id, org_id, wanted, changed=False)
        unchanged = Account.minor_orgs.does_not_exist() if account.minor_orgs is None \
            else Account.minor_orgs == current
        try:
            Account(user_id).update(actions=[Account.minor_orgs.set(wanted) if wanted else Account.minor_orgs.remove(),
                                             Account.updated_at.set(clock.iso(clock.now()))],
                                    condition=Account.user_id.exists() & unchanged)
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                continue  # another school changed the list meanwhile: read it again
            raise ServiceUnavailableError() from exc
        result = _result(user_id, org_id, wanted, changed=True)
        result["boards_marked"] = mark_boards_of(user_id, member_of)
        return result
    raise ServiceUnavailableError()


def _result(user_id: str, org_id: str, minor_orgs: list[str], changed: bool) -> dict:
    return {"id": user_id, "org": org_id, "minor": bool(minor_orgs), "minor_orgs": minor_orgs, "changed": changed}
