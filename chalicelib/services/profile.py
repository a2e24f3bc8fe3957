"""The caller's own account as they see it: GET and PATCH /v1/me."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from pynamodb.exceptions import UpdateError

from ..domain import clock
from ..domain.privacy import nickname_status
from ..errors import AccountDeletedError, NotFoundError, ServiceUnavailableError, ValidationError
from ..store.models import Account
from . import nicknames, points_expiry, staff
from .posting import carbon_g
from .tokens import Caller

NICKNAME_MAX = 20
AVATAR_MAX = 512
_AVATAR_HOSTS = re.compile(r"^([a-z0-9-]+\.)*(qlogo\.cn|weixin\.qq\.com|qpic\.cn|myqcloud\.com)$")


def default_nickname(user_id: str) -> str:
    return "绿芽用户" + user_id[-4:]


def account(user_id: str) -> Account:
    try:
        found = Account.get(user_id)
    except Account.DoesNotExist as exc:
        raise NotFoundError() from exc
    if found.deleted_at:  # the token outlived its account (services/erasure.py): log in again, as a new user
        raise AccountDeletedError()
    return found


def me(caller: Caller) -> dict:
    return profile_json(account(caller.user_id), caller)


def profile_json(acct: Account, caller: Caller) -> dict:
    return {
        "id": acct.user_id, "nickname": acct.nickname_pending or acct.nickname, "avatar_url": acct.avatar_url,
        "points": int(acct.points), "carbon_g": carbon_g(int(acct.carbon_mg)),
        "points_earned": int(acct.points_earned), "points_spent": int(acct.points_spent),
        "joined_at": acct.joined_at, "roles": list(staff.current_roles(caller)), "frozen": bool(acct.frozen),
        "orgs": [{"id": org["id"], "name": org["name"]} for org in (acct.orgs or [])],
        # Privacy and expiry: whether others may see the nickname yet, what expires when (services/nicknames.py,
        # services/points_expiry.py).
        "nickname_status": nickname_status(acct.nickname_pending, acct.nickname_check),
        "points_expiring": points_expiry.expiring_json(acct, clock.business_day(clock.now())),
    }


def update(caller: Caller, body: dict) -> dict:
    """PATCH /v1/me: nickname and avatar URL, checked; nothing else is taken from the client."""
    actions = []
    nickname = clean_nickname(body["nickname"]) if "nickname" in body else None
    if "avatar_url" in body:
        actions.append(Account.avatar_url.set(clean_avatar_url(body["avatar_url"])))
    if nickname is None and not actions:
        raise ValidationError("请提供 nickname 或 avatar_url", field="nickname")
    if nickname is not None:  # WeChat's content check first: 422 for a risky one, held back when unsure
        actions += nicknames.screen(account(caller.user_id), nickname)
    acct = Account(caller.user_id)
    try:
        acct.update(actions=[*actions, Account.updated_at.set(clock.iso(clock.now()))],
                    condition=Account.user_id.exists() & Account.deleted_at.does_not_exist())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise AccountDeletedError() from exc  # accounts are never removed: it was deleted
        raise ServiceUnavailableError() from exc
    return profile_json(acct, caller)


def clean_nickname(raw: object) -> str:
    if not isinstance(raw, str):
        raise ValidationError("昵称须为文字", field="nickname")
    name = unicodedata.normalize("NFC", raw).strip()
    if not 1 <= len(name) <= NICKNAME_MAX:
        raise ValidationError(f"昵称须为 1 到 {NICKNAME_MAX} 个字", field="nickname", reason="length", min_length=1,
                              max_length=NICKNAME_MAX,
                              rule=f"nickname: 1 to {NICKNAME_MAX} characters once spaces around it are trimmed")
    if any(unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in ("Zl", "Zp") for ch in name):
        raise ValidationError("昵称不能包含控制字符", field="nickname")
    if any(ch in "<>\"'`\\" for ch in name):
        raise ValidationError("昵称不能包含 < > \" ' ` \\ 等符号", field="nickname")
    return name


def clean_avatar_url(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) > AVATAR_MAX or any(ch.isspace() for ch in raw):
        raise ValidationError("头像地址无效", field="avatar_url")
    parts = urlsplit(raw)
    if parts.scheme != "https" or not parts.hostname or not _AVATAR_HOSTS.fullmatch(parts.hostname) \
            or parts.username or parts.password:
        raise ValidationError("头像须为微信或本平台存储的 https 地址", field="avatar_url")
    return raw
