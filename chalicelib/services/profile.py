"""The caller's own account as they see it: GET and PATCH /v1/me, over the profile repository
(store/repositories_profile.Profiles; tests/unit/fakes_profile.py in unit tests)."""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from ..domain import clock, persons
from ..domain import lots as lot_rules
from ..domain import review as review_rules
from ..domain.caps import DayCount
from ..domain.platforms import platform_of
from ..domain.privacy import nickname_status
from ..domain.profile import Org, Profile, ProfileChange, Review, TodayUse, UpdateProfile
from ..errors import ValidationError
from . import nicknames, points_expiry, staff
from .tokens import Caller

NICKNAME_MAX = 20
AVATAR_MAX = 512
_AVATAR_HOSTS = re.compile(r"^([a-z0-9-]+\.)*(qlogo\.cn|weixin\.qq\.com|qpic\.cn|myqcloud\.com)$")


def default_nickname(user_id: str) -> str:
    return "绿芽用户" + user_id[-4:]


def account(user_id: str) -> Any:
    """The account (one GetItem); NOT_FOUND, or ACCOUNT_DELETED for a token that outlived it. Transitional:
    services/auth.py, boards.py and export.py read the account here."""
    from ..store.repositories_profile import OwnAccounts

    return OwnAccounts().get(user_id)


def me(caller: Caller, store: Any) -> Profile:
    """GET /v1/me: one read of the account."""
    return profile_of(store.get(caller.user_id), caller)


def update(caller: Caller, command: UpdateProfile, store: Any) -> Profile:
    """PATCH /v1/me: nickname and avatar URL, checked; nothing else is taken from the client. The account is
    read only when a nickname is sent (WeChat's content check first: 422 for a risky one, held back when
    unsure), then written by one conditioned update whose answer is shown back."""
    nickname = clean_nickname(command.nickname) if command.nickname_given else None
    avatar = clean_avatar_url(command.avatar_url) if command.avatar_given else None
    if nickname is None and not command.avatar_given:
        raise ValidationError("请提供 nickname 或 avatar_url", field="nickname")
    screened = nicknames.screen(store.get(caller.user_id), nickname, store) if nickname is not None else None
    change = ProfileChange(screened, command.avatar_given, avatar)
    return profile_of(store.update(caller.user_id, change, clock.iso(clock.now())), caller)


def profile_of(acct: Any, caller: Caller) -> Profile:
    """The account as its owner sees it, with the roles to show and the points expiring this year."""
    points = int(acct.points)
    today = clock.business_day(clock.now())
    expiring, on = _expiring(acct, points, today)
    return Profile(
        user_id=acct.user_id, nickname=acct.nickname_pending or acct.nickname,
        nickname_status=nickname_status(acct.nickname_pending, acct.nickname_check), avatar_url=acct.avatar_url,
        points=points, carbon_mg=int(acct.carbon_mg), points_earned=int(acct.points_earned),
        points_spent=int(acct.points_spent), joined_at=acct.joined_at, roles=tuple(staff.current_roles(caller)),
        frozen=bool(acct.frozen), orgs=tuple(Org(org["id"], org["name"]) for org in (acct.orgs or [])),
        expiring_points=expiring, expiring_on=on, person_carbon_mg=persons.person_carbon_mg(acct),
        review=_review(acct), today=_today(acct, today))


def _today(acct: Any, today: date) -> tuple[TodayUse, ...]:
    """Today's use of each capped behaviour, from the counters the account keeps for its caps (no read of its own):
    what a mini program shows beside a daily limit before a check-in is refused."""
    counters = (getattr(acct, "daily", None) or {}).get(today.isoformat(), {})
    used = ((code, DayCount.from_list(raw)) for code, raw in sorted(counters.items()))
    return tuple(TodayUse(code, day.events, day.points, day.quantity_milli) for code, day in used)


def _review(acct: Any) -> Review:
    points, carbon = review_rules.held_totals(acct)
    if not review_rules.under_review(acct):
        return Review(None, (), points, carbon)
    return Review(acct.review_since, tuple(review_rules.rules_of(acct)), points, carbon)


def _expiring(acct: Any, points: int, today: date) -> tuple[int, date | None]:
    """Without points nothing can expire: the policy (a cached catalog read) is not even looked at."""
    if points <= 0:
        return 0, None
    return lot_rules.next_expiry(points, points_expiry.lots_of(acct), today,
                                 points_expiry.after_years(platform_of(acct)))


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
