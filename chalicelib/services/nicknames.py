"""Nicknames other people see, checked by WeChat's msgSecCheck v2 (partners/wechat_security.py) first.

PATCH /v1/me with a nickname asks WeChat:
- `pass`: the nickname is set;
- `risky`: 422 CONTENT_REJECTED, nothing changes;
- `review`, or WeChat cannot answer (down, busy): the profile update still succeeds, but the nickname is
  kept apart (`nickname_pending`) and listed in the moderation queue. Its owner sees it with
  `nickname_status: "pending"`; everybody else keeps seeing the previous, checked one (boards read
  `nickname` only). The `recheck-nicknames` job asks WeChat again for the "unchecked" queue; a "review"
  verdict waits for a moderator (`python -m admin nickname approve|reject USER`).
Every settlement is written on the condition that the pending nickname is still the one judged, so a newer
PATCH is never overwritten by an older verdict (store/repositories_profile.NicknameReviews.settle).

The queues are per platform: `default`'s partitions `unchecked` and `review` (as before platforms), another
platform P's `P#unchecked` and `P#review` (`queue_key`). A P user's item held in `default`'s queue before this
version is moved to P's queue by the moderator's listing that finds it, and rechecked from where it is by the job.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from ..domain import clock
from ..domain.platforms import DEFAULT, openid_in, platform_of, scoped
from ..domain.profile import (
    APPROVE,
    HOLD,
    QUEUES,
    REJECT,
    REVIEW,
    SAME,
    SET,
    UNCHECKED,
    NicknameChange,
    NicknameDecision,
    PendingNickname,
)
from ..errors import AppError, ContentRejectedError, NotFoundError, ServiceUnavailableError, ValidationError
from ..partners.wechat_security import check_text

RECHECK_PER_RUN = 200  # msgSecCheck allows thousands a minute; a run stays short


def queue_key(queue: str, platform: str = DEFAULT) -> str:
    """The moderation partition of `platform`'s `queue`: "unchecked"/"review" on `default`, "P#..." on P."""
    return scoped(platform, queue)


def reviews() -> Any:
    """The moderation queues in DynamoDB (imported here: a profile read does not load them)."""
    from ..store.repositories_profile import NicknameReviews

    return NicknameReviews()


def openid_of(account: Any) -> str | None:
    """The openid of the account's WeChat identity, in its platform's mini program."""
    return openid_in(account.identity_key, platform_of(account))


def _verdict(account: Any, text: str) -> str | None:
    """WeChat's verdict on `text` as the account's user's, asked with the access token of the mini program of the
    account's platform (an openid is WeChat's per mini program); None when none can be had (no identity, that
    platform's AppSecret not set, WeChat down): the text is then held back as unchecked."""
    openid = openid_of(account)
    if not openid:
        return None
    platform = platform_of(account)
    if platform == DEFAULT:
        return check_text(text, openid)
    from .platforms import wechat_credentials

    try:
        appid, secret = wechat_credentials(platform)
    except AppError:  # a platform no longer in the catalog
        return None
    return check_text(text, openid, app=(appid, secret)) if appid and secret else None


def screen(account: Any, name: str, queue: Any) -> NicknameChange:
    """What setting `name` as the nickname writes: set (checked) or held back in a moderation queue (listed
    there now, through `queue.hold`); raises CONTENT_REJECTED for a risky one. An unchanged nickname is
    not sent to WeChat again."""
    if name == account.nickname:
        return NicknameChange(SAME, name)
    verdict = _verdict(account, name)
    if verdict == "risky":
        raise ContentRejectedError(field="nickname")
    if verdict == "pass":
        return NicknameChange(SET, name)
    waits_in = REVIEW if verdict == "review" else UNCHECKED
    queue.hold(queue_key(waits_in, platform_of(account)), account.user_id, clock.iso(clock.now()))
    return NicknameChange(HOLD, name, waits_in)


def recheck(now: datetime, limit: int = RECHECK_PER_RUN, store: Any = None, platforms: list[str] | None = None) -> dict:
    """The job: asks WeChat again about nicknames it could not check, `default`'s queue first, then each
    platform's (`platforms`, else the catalog's), `limit` in all; settles, moves to review, or leaves them. Its
    report counts each outcome."""
    from . import catalog

    store = store or reviews()
    counts: Counter = Counter()
    for platform in [DEFAULT, *(sorted(catalog.platforms()) if platforms is None else platforms)]:
        left = limit - sum(counts.values())
        if left <= 0:
            break
        found_in = queue_key(UNCHECKED, platform)
        for user_id, _ in store.queued(found_in, left):
            counts[_recheck(store, user_id, found_in)] += 1
    return {key: counts.get(key, 0) for key in ("approved", "rejected", "to_review", "left", "dropped")}


def _recheck(store: Any, user_id: str, found_in: str) -> str:
    account = _waiting(store, user_id, UNCHECKED)
    if account is None:
        store.drop(found_in, user_id)
        return "dropped"
    verdict = _verdict(account, account.nickname_pending)
    if verdict is None:
        return "left"
    at = clock.iso(clock.now())
    if verdict == "review":
        store.hold(queue_key(REVIEW, platform_of(account)), user_id, at)
        outcome = "to_review" if store.settle(user_id, account.nickname_pending, REVIEW, at) else "dropped"
    else:
        approved = verdict == "pass"
        settled = store.settle(user_id, account.nickname_pending, APPROVE if approved else REJECT, at)
        outcome = ("approved" if approved else "rejected") if settled else "dropped"
    store.drop(found_in, user_id)
    return outcome


def waiting_list(queue: str, store: Any = None, platform: str = DEFAULT) -> list[PendingNickname]:
    """What a moderator of `platform` reviews: the nicknames of its users that still wait in its `queue` (stale
    items are dropped; another platform's user's item, held in `default`'s queue before the queues were per
    platform, moves to its platform's queue and is not listed here)."""
    if queue not in QUEUES:
        raise ValidationError("queue 须为 unchecked 或 review", field="queue")
    store = store or reviews()
    here = queue_key(queue, platform)
    found = []
    for user_id, queued_at in store.queued(here):
        account = _waiting(store, user_id, queue)
        if account is None:
            store.drop(here, user_id)
            continue
        if platform_of(account) != platform:
            store.hold(queue_key(queue, platform_of(account)), user_id, queued_at)
            store.drop(here, user_id)
            continue
        found.append(PendingNickname(user_id, account.nickname_pending, account.nickname, queued_at))
    return found


def decide(user_id: str, approve: bool, store: Any = None, platform: str = DEFAULT) -> NicknameDecision:
    """A moderator's verdict on a pending nickname (either queue) of a user of `platform`: a user of another
    platform is NOT_FOUND, as one that does not exist."""
    store = store or reviews()
    account = store.account(user_id)
    if account is None or platform_of(account) != platform:
        raise NotFoundError()
    if not account.nickname_pending or account.deleted_at:
        raise NotFoundError("该用户没有待审核的昵称")
    pending = account.nickname_pending
    if not store.settle(user_id, pending, APPROVE if approve else REJECT, clock.iso(clock.now())):
        raise ServiceUnavailableError("昵称刚被修改，请重新查看")
    for queue in QUEUES:
        store.drop(queue_key(queue, platform), user_id)
    return NicknameDecision(user_id, pending, approve)


def _waiting(store: Any, user_id: str, queue: str) -> Any:
    """The account when its pending nickname still waits in `queue`; None otherwise."""
    account = store.account(user_id)
    if account is None or account.deleted_at or not account.nickname_pending or account.nickname_check != queue:
        return None
    return account
