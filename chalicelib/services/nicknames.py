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
PATCH is never overwritten by an older verdict.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from pynamodb.exceptions import DeleteError, UpdateError

from ..domain import clock
from ..errors import ContentRejectedError, NotFoundError, ServiceUnavailableError, ValidationError
from ..partners.wechat_security import check_text
from ..store.models import Account
from ..store.privacy import ModerationItem

log = logging.getLogger(__name__)
UNCHECKED, REVIEW, REJECTED = "unchecked", "review", "rejected"
QUEUES = (UNCHECKED, REVIEW)
RECHECK_PER_RUN = 200  # msgSecCheck allows thousands a minute; a run stays short


def openid_of(account: Account) -> str | None:
    key = account.identity_key or ""
    return key.removeprefix("wx#") if key.startswith("wx#") else None


def screen(account: Account, name: str) -> list:
    """The account update actions that set `name` as the nickname (checked) or hold it back; raises
    CONTENT_REJECTED for a risky one. An unchanged nickname is not sent to WeChat again."""
    if name == account.nickname:
        return [Account.nickname_pending.remove(), Account.nickname_check.remove()]
    openid = openid_of(account)
    verdict = check_text(name, openid) if openid else None
    if verdict == "risky":
        raise ContentRejectedError(field="nickname")
    if verdict == "pass":
        return [Account.nickname.set(name), Account.nickname_pending.remove(), Account.nickname_check.remove()]
    queue = REVIEW if verdict == "review" else UNCHECKED
    ModerationItem(queue, account.user_id, queued_at=clock.iso(clock.now())).save()  # before the account: a
    return [Account.nickname_pending.set(name), Account.nickname_check.set(queue)]  # stale item is harmless


def recheck(now: datetime, limit: int = RECHECK_PER_RUN) -> dict:
    """The job: asks WeChat again about nicknames it could not check; settles, moves to review, or leaves them."""
    counts: Counter = Counter()
    for item in ModerationItem.query(UNCHECKED, limit=limit):
        counts[_recheck(item)] += 1
    return {key: counts.get(key, 0) for key in ("approved", "rejected", "to_review", "left", "dropped")}


def _recheck(item: ModerationItem) -> str:
    account = _waiting(item.user_id, UNCHECKED)
    if account is None:
        _drop(item)
        return "dropped"
    verdict = check_text(account.nickname_pending, openid_of(account) or "")
    if verdict is None:
        return "left"
    if verdict == "review":
        ModerationItem(REVIEW, account.user_id, queued_at=clock.iso(clock.now())).save()
        outcome = "to_review" if _settle(account, account.nickname_pending, REVIEW) else "dropped"
    else:
        approved = verdict == "pass"
        settled = _settle(account, account.nickname_pending, "approve" if approved else "reject")
        outcome = ("approved" if approved else "rejected") if settled else "dropped"
    _drop(item)
    return outcome


def waiting_list(queue: str) -> list[dict]:
    """What a moderator reviews: the queue's nicknames that still wait (stale items are dropped)."""
    if queue not in QUEUES:
        raise ValidationError("queue 须为 unchecked 或 review", field="queue")
    found = []
    for item in ModerationItem.query(queue):
        account = _waiting(item.user_id, queue)
        if account is None:
            _drop(item)
            continue
        found.append({"user_id": account.user_id, "nickname": account.nickname_pending,
                      "current": account.nickname, "queued_at": item.queued_at})
    return found


def decide(user_id: str, approve: bool) -> dict:
    """A moderator's verdict on a pending nickname (either queue)."""
    try:
        account = Account.get(user_id, consistent_read=True)
    except Account.DoesNotExist:
        raise NotFoundError() from None
    if not account.nickname_pending or account.deleted_at:
        raise NotFoundError("该用户没有待审核的昵称")
    pending = account.nickname_pending
    if not _settle(account, pending, "approve" if approve else "reject"):
        raise ServiceUnavailableError("昵称刚被修改，请重新查看")
    for queue in QUEUES:
        _drop(ModerationItem(queue, user_id))
    return {"id": user_id, "nickname": pending, "approved": approve}


def _waiting(user_id: str, queue: str) -> Account | None:
    """The account when its pending nickname still waits in `queue`; None otherwise."""
    try:
        account = Account.get(user_id, consistent_read=True)
    except Account.DoesNotExist:
        return None
    if account.deleted_at or not account.nickname_pending or account.nickname_check != queue:
        return None
    return account


def _settle(account: Account, pending: str, verdict: str) -> bool:
    """Approves, rejects or moves to review the pending nickname, unless it changed meanwhile (False)."""
    if verdict == "approve":
        actions = [Account.nickname.set(pending), Account.nickname_pending.remove(), Account.nickname_check.remove()]
    elif verdict == "reject":
        actions = [Account.nickname_pending.remove(), Account.nickname_check.set(REJECTED)]
    else:
        actions = [Account.nickname_check.set(REVIEW)]
    try:
        Account(account.user_id).update(actions=[*actions, Account.updated_at.set(clock.iso(clock.now()))],
                                        condition=Account.nickname_pending == pending)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise ServiceUnavailableError() from exc
    return True


def _drop(item: ModerationItem) -> None:
    try:
        item.delete()
    except DeleteError:
        log.warning("could not drop a moderation item; the next reader drops it")
