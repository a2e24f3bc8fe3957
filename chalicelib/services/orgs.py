"""Organizations: the list, one org with fresh totals, and joining with an invite code.

Orgs come from the catalog (`python -m admin load`). A membership lives on the member's account
(`orgs`: [{id, name, joined_at}], at most MAX_ORGS), written on the condition that the list is still
the one read, together with shard `shard_of(user)` of the org's member count: two joins racing can
neither exceed the limit nor lose each other. Invite codes are kept as digests and never served.
"""
from __future__ import annotations

import heapq
import time
import uuid
from datetime import datetime

from ..domain import clock
from ..domain.commands_orgs import JoinOrg
from ..domain.orgs import INVITE_MAX, MAX_ORGS, invite_matches
from ..domain.ranking import PARTS, counter_part, period_key, shard_of
from ..domain.results_orgs import OrgDetail, OrgsPage, OrgView
from ..errors import (
    AlreadyMemberError,
    InvalidInviteError,
    NotFoundError,
    ServiceUnavailableError,
    TooManyOrgsError,
    ValidationError,
)
from ..store import cursor as cursors
from ..store.access import access, on
from ..store.aggregates import Board, Total, marker
from ..store.failures import conflict_pause
from ..store.models import Account
from ..store.repositories import Accounts
from ..store.tx import Tx, TxCancelledError
from . import attempts, boards, catalog

ATTEMPTS = 5


def org_view(org: dict, carbon_mg: int, members: int) -> OrgView:
    """What anyone may see of an org: never its invite code."""
    return OrgView(org["id"], org["name"], org["type"], members, carbon_mg)


def list_orgs(limit: int, kind: str | None, cursor: str | None) -> OrgsPage:
    """GET /v1/orgs: by id, `type` filter (one of domain/orgs.ORG_TYPES, checked by the route), a page of at most
    100 orgs with the totals the orgs board job last summed into their rows (one BatchGetItem, cached per
    container like the boards)."""
    context = f"orgs|{kind or ''}"
    after = (cursors.decode(cursor, context) or {}).get("id", "")
    orgs = catalog.orgs()
    listed = heapq.nsmallest(limit + 1, (o_id for o_id, org in orgs.items()
                                         if (not kind or org["type"] == kind) and o_id > after))
    page, more = listed[:limit], len(listed) > limit
    totals = boards.org_rows(page) if page else {}
    items = [org_view(orgs[o_id], *totals[o_id]) for o_id in page]
    return OrgsPage(items, cursors.encode({"id": page[-1]}, context) if more else None)


@access(on(Total, "BatchGetItem"))
def get_org(org_id: str) -> OrgDetail:
    """GET /v1/orgs/{id}: members and carbon this week, this month and in all, summed from the shards
    (one BatchGetItem), so a join or a counted reduction shows at once once the fold has run."""
    org = _org(org_id)
    today = clock.business_day(clock.now())
    periods = {p: period_key(p, today) for p in ("week", "month", "all")}
    keys = [(f"o#{org_id}#{s:02d}", part) for s in range(PARTS) for part in (*periods.values(), "members")]
    sums: dict[str, int] = {}
    for item in Total.batch_get(keys):
        sums[item.period] = sums.get(item.period, 0) + int(item.value)
    return OrgDetail(org["id"], org["name"], org["type"], sums.get("members", 0), sums.get("all", 0),
                     {p: sums.get(key, 0) for p, key in periods.items()})


def join(command: JoinOrg, accounts: Accounts | None = None) -> OrgDetail:
    """POST /v1/orgs/{id}/join: the org as it is once joined."""
    org = _org(command.org_id)
    code = command.invite_code
    if not isinstance(code, str) or not 1 <= len(code) <= INVITE_MAX:
        raise ValidationError("请填写邀请码", field="invite_code")
    accounts = accounts or Accounts()
    now = clock.now()
    if not invite_matches(code, org["invite_sha256"]):  # counted: 10 wrong codes in 10 minutes, then 429
        attempts.refuse(command.user_id, InvalidInviteError(), now, kind="invite")
    for attempt in range(ATTEMPTS):
        if attempt:  # the org's member count is shared by every joiner: a conflict backs off, jittered
            time.sleep(conflict_pause(attempt - 1))
        account = accounts.get(command.user_id)
        if _try_join(account, org, now):
            _mark_orgs_changed(command.user_id)
            return get_org(command.org_id)
    raise ServiceUnavailableError()


@access(on(Account, "UpdateItem"), on(Total, "UpdateItem"))
def _try_join(account: Account, org: dict, now: datetime) -> bool:
    """One attempt: False when the account's org list changed since it was read (read again). Refused while
    the person's window of wrong invite codes is full, so the right code is no oracle for a guesser."""
    current = list(account.orgs or [])
    if any(member["id"] == org["id"] for member in current):
        raise AlreadyMemberError(org=org["id"])
    if len(current) >= MAX_ORGS:
        raise TooManyOrgsError(limit=MAX_ORGS)
    joined = [*current, {"id": org["id"], "name": org["name"], "joined_at": clock.iso(now)}]
    unchanged = Account.orgs == current
    if not current:
        unchanged = unchanged | Account.orgs.does_not_exist()
    shard = counter_part(shard_of(account.user_id))
    tx = Tx()
    tx.update("account", Account(account.user_id), [Account.orgs.set(joined)],
              condition=Account.user_id.exists() & unchanged)
    tx.update("members", Total(f"o#{org['id']}#{shard:02d}", "members"),
              [Total.value.add(1), Total.board_shard.set(f"orgmembers#{shard:02d}")])
    attempts.check(tx, account.user_id, now, kind="invite")
    try:
        tx.commit()
    except TxCancelledError as cancelled:
        if "attempts" in cancelled.failed:
            raise attempts.limited(now) from None
        return False
    return True


def _org(org_id: str) -> dict:
    org = catalog.orgs().get(org_id)
    if org is None:
        raise NotFoundError("没有这个组织", org=org_id)
    return org


@access(on(Board, "PutItem"))
def _mark_orgs_changed(user_id: str) -> None:
    """The orgs board lists member counts: rebuild it (a join is rare; this is one PutItem, in the marker
    partition of the member's shard)."""
    marker(shard_of(user_id), "orgs", "all", uuid.uuid4().hex).save()

ACCESS = (get_org, _try_join, _mark_orgs_changed)  # what the orgs' use cases touch (store/access.py)
