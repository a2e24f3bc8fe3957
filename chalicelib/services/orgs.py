"""Organizations: the list, one org with fresh totals, and joining with an invite code.

    route (api/orgs.py) -> join -> the account's orgs (one GetItem) -> one transaction (store/repositories_orgs.py)

Orgs come from the catalog (`python -m admin load`), each platform's its own (`org`, P's `P#org`): the routes
build `members` for the request's platform, so another platform's org is 404 exactly as a missing one.
A membership lives on the member's account
(`orgs`: [{id, name, joined_at}], at most MAX_ORGS), written on the condition that the list is still
the one read (`OrgsUnchanged`), together with shard `shard_of(user)` of the org's member count
(`MemberCounted`): two joins racing can neither exceed the limit nor lose each other. Invite codes are kept
as digests and never served. `members`: store/repositories_orgs.Memberships (bootstrap.memberships()), or
tests/unit/fakes_orgs.InMemoryMemberships.
"""
from __future__ import annotations

import heapq
import time
from datetime import datetime
from typing import Any

from ..domain import clock
from ..domain.commands_orgs import JoinOrg
from ..domain.guards import GuardFailed
from ..domain.guards_orgs import InviteWindowOpen, MemberCounted, OrgsUnchanged
from ..domain.orgs import INVITE_MAX, MAX_ORGS, invite_matches
from ..domain.platforms import DEFAULT
from ..domain.ranking import counter_part, period_key, shard_of
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
from ..store.failures import conflict_pause
from . import attempts, boards, catalog

ATTEMPTS = 5


def org_view(org: dict, carbon_mg: int, members: int) -> OrgView:
    """What anyone may see of an org: never its invite code."""
    return OrgView(org["id"], org["name"], org["type"], members, carbon_mg)


def list_orgs(limit: int, kind: str | None, cursor: str | None, platform: str = DEFAULT) -> OrgsPage:
    """GET /v1/orgs: `platform`'s orgs by id, `type` filter (one of domain/orgs.ORG_TYPES, checked by the route), a
    page of at most 100 orgs with the totals the orgs board job last summed into their rows (one BatchGetItem,
    cached per container like the boards). A cursor names its platform (another's: 400 INVALID_CURSOR)."""
    context = f"orgs|{kind or ''}" if platform == DEFAULT else f"orgs|{platform}|{kind or ''}"
    after = (cursors.decode(cursor, context) or {}).get("id", "")
    orgs = catalog.orgs(platform)
    listed = heapq.nsmallest(limit + 1, (o_id for o_id, org in orgs.items()
                                         if (not kind or org["type"] == kind) and o_id > after))
    page, more = listed[:limit], len(listed) > limit
    totals = boards.org_rows(page, platform=platform) if page else {}
    items = [org_view(orgs[o_id], *totals[o_id]) for o_id in page]
    return OrgsPage(items, cursors.encode({"id": page[-1]}, context) if more else None)


def get_org(org_id: str, members: Any = None) -> OrgDetail:
    """GET /v1/orgs/{id}: members and carbon this week, this month and in all, summed from the shards
    (one BatchGetItem), so a join or a counted reduction shows at once once the fold has run."""
    members = members or _memberships()
    org = _org(org_id, members)
    today = clock.business_day(clock.now())
    periods = {p: period_key(p, today) for p in ("week", "month", "all")}
    sums = members.sums(org_id, [*periods.values(), "members"])
    return OrgDetail(org["id"], org["name"], org["type"], sums.get("members", 0), sums.get("all", 0),
                     {p: sums.get(key, 0) for p, key in periods.items()})


def join(command: JoinOrg, members: Any = None) -> OrgDetail:
    """POST /v1/orgs/{id}/join: the org as it is once joined."""
    members = members or _memberships()
    org = _org(command.org_id, members)
    code = command.invite_code
    if not isinstance(code, str) or not 1 <= len(code) <= INVITE_MAX:
        raise ValidationError("请填写邀请码", field="invite_code")
    now = clock.now()
    if not invite_matches(code, org["invite_sha256"]):  # counted: 10 wrong codes in 10 minutes, then 429
        attempts.refuse(command.user_id, InvalidInviteError(), now, kind="invite", counters=members)
    for attempt in range(ATTEMPTS):
        if attempt:  # the org's member count is shared by every joiner: a conflict backs off, jittered
            time.sleep(conflict_pause(attempt - 1))
        if _try_join(members, command.user_id, org, now):
            members.mark_changed(command.user_id)
            return get_org(command.org_id, members)
    raise ServiceUnavailableError()


def _try_join(members: Any, user_id: str, org: dict, now: datetime) -> bool:
    """One attempt on the account read now: False when its org list changed since (read again). Refused while
    the person's window of wrong invite codes is full, so the right code is no oracle for a guesser."""
    current = members.member_orgs(user_id)
    if any(member["id"] == org["id"] for member in current):
        raise AlreadyMemberError(org=org["id"])
    if len(current) >= MAX_ORGS:
        raise TooManyOrgsError(limit=MAX_ORGS)
    joined = [*current, {"id": org["id"], "name": org["name"], "joined_at": clock.iso(now)}]
    try:
        return members.commit([
            OrgsUnchanged(user_id, current, joined),
            MemberCounted(org["id"], counter_part(shard_of(user_id))),
            InviteWindowOpen(attempts.window_key(user_id, now, kind="invite"), attempts.MAX_FAILURES)])
    except GuardFailed:
        raise attempts.limited(now) from None


def _org(org_id: str, members: Any) -> dict:
    org = members.orgs().get(org_id)
    if org is None:
        raise NotFoundError("没有这个组织", org=org_id)
    return org


def _memberships() -> Any:
    from ..bootstrap import memberships  # here: bootstrap imports the services

    return memberships()
