"""Login: a wx.login code of one platform's mini program becomes our own token for that platform's user,
creating the user on first login (store/logins.py holds the items; api/auth.py shapes the answer)."""
from __future__ import annotations

from ..domain import clock, ids, persons
from ..domain.platforms import DEFAULT, identity_key
from ..domain.values import immutable
from ..errors import ServiceUnavailableError, ValidationError, WeChatUnavailableError
from ..partners import wechat
from ..sealing import seal
from ..store import logins
from ..store.persons import union_key
from . import catalog, platforms, profile, revocations, tokens


@immutable
class LoginResult:
    token: str
    expires_in: int
    user_id: str
    nickname: str
    roles: tuple[str, ...]
    new_user: bool
    platform_id: str
    platform_name: str


def login(code: object, platform_id: object = DEFAULT) -> LoginResult:
    """POST /v1/auth/login. Two simultaneous first logins of one openid make one user: the identity
    is created by a put conditioned on its absence, never by reading first. An unknown platform is 404
    UNKNOWN_PLATFORM before WeChat is asked."""
    if not isinstance(code, str) or not 1 <= len(code) <= 128:
        raise ValidationError("code 须为 wx.login 返回的字符串", field="code")
    platform = platforms.platform(platform_id) if platform_id != DEFAULT else None
    pid = platform.id if platform else DEFAULT
    appid, secret = platforms.wechat_credentials(pid)
    if platform and not secret:  # onboarding is a catalog load plus its secret: the secret is missing
        raise WeChatUnavailableError()
    wx = wechat.code_to_session(code, appid, secret)
    key = identity_key(pid, wx.openid)
    now = clock.iso(clock.now())
    sealed_key = seal(wx.session_key, key)
    user_id = logins.returning(key, sealed_key, now)
    new_user = user_id is None
    if new_user:
        user_id = ids.user_id()
        nickname, frozen = profile.default_nickname(user_id), False
        new_user = logins.create(_new_user(key, user_id, nickname, sealed_key, wx.unionid, now, pid)) is not None
        if not new_user:  # another login of the same openid won the race a moment ago: a returning login
            user_id = logins.returning(key, sealed_key, now)
            if user_id is None:
                raise ServiceUnavailableError()
    if not new_user:
        account = profile.account(user_id)
        user_id, nickname, frozen = account.user_id, account.nickname, bool(account.frozen)
    merchant = catalog.merchant_of_staff(wx.openid, pid)  # staff of a merchant of this platform (its openid)
    if merchant and frozen:
        revocations.keep_frozen(user_id)  # staff routes refuse the new token too, while it lives
    roles = ("user", "merchant_staff") if merchant else ("user",)
    sid = tokens.staff_id(wx.openid) if merchant else None  # names the openid to staff routes, never shows it
    token, ttl = tokens.issue(user_id, roles, merchant["id"] if merchant else None, sid, pid)
    return LoginResult(token, ttl, user_id, nickname, roles, new_user, pid,
                       platform.name if platform else platforms.name_of(DEFAULT))


def _new_user(key: str, user_id: str, nickname: str, sealed_key: str, unionid: str | None, now: str,
              platform: str) -> logins.NewUser:
    """What a first login writes: with a unionid, a new person and its union item (joined instead when the
    unionid already names a person, store/logins.create); without, the person derived from the user."""
    if not unionid:  # a person of this platform alone: no person_id, read as the derived one
        return logins.NewUser(key, user_id, nickname, sealed_key, None, now, platform)
    return logins.NewUser(key, user_id, nickname, sealed_key, seal(unionid, key), now, platform,
                          union_key=union_key(unionid), person_id=persons.new_person_id())
