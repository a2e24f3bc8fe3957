"""Login: a wx.login code becomes our own token, creating the user on first login."""
from __future__ import annotations

from pynamodb.exceptions import UpdateError

from ..domain import clock, ids
from ..errors import ServiceUnavailableError, ValidationError
from ..partners import wechat
from ..sealing import seal
from ..store.models import Account, Identity
from ..store.privacy import AccountShard, shard_of
from ..store.tx import Tx, TxCancelledError
from . import catalog, profile, revocations, tokens


def login(code: object) -> dict:
    """POST /v1/auth/login. Two simultaneous first logins of one openid make one user: the identity
    is created by a put conditioned on its absence, never by reading first."""
    if not isinstance(code, str) or not 1 <= len(code) <= 128:
        raise ValidationError("code 须为 wx.login 返回的字符串", field="code")
    wx = wechat.code_to_session(code)
    key = f"wx#{wx.openid}"
    now = clock.iso(clock.now())
    sealed_key = seal(wx.session_key, key)
    account, new_user = _returning(key, sealed_key, now), False
    if account is None:
        account, new_user = _first_login(key, sealed_key, wx.unionid, now)
    merchant = catalog.merchant_of_staff(wx.openid)
    if merchant and account.frozen:
        revocations.keep_frozen(account.user_id)  # staff routes refuse the new token too, while it lives
    roles = ("user", "merchant_staff") if merchant else ("user",)
    sid = tokens.staff_id(wx.openid) if merchant else None  # names the openid to staff routes, never shows it
    token, ttl = tokens.issue(account.user_id, roles, merchant["id"] if merchant else None, sid)
    return {"token": token, "expires_in": ttl,
            "user": {"id": account.user_id, "nickname": account.nickname, "roles": list(roles)},
            "new_user": new_user}


def _returning(key: str, sealed_key: str, now: str) -> Account | None:
    """Stores the fresh session_key on an existing identity; None when the openid is new."""
    identity = Identity(key)
    try:
        identity.update(actions=[Identity.session_key_sealed.set(sealed_key), Identity.last_login_at.set(now)],
                        condition=Identity.key.exists())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise ServiceUnavailableError() from exc
    return profile.account(identity.user_id)


def _first_login(key: str, sealed_key: str, unionid: str | None, now: str) -> tuple[Account, bool]:
    user_id = ids.user_id()
    account = Account(user_id, joined_at=now, identity_key=key, nickname=profile.default_nickname(user_id))
    identity = Identity(key, user_id=user_id, session_key_sealed=sealed_key, created_at=now, last_login_at=now,
                        unionid_sealed=seal(unionid, key) if unionid else None)
    tx = Tx()
    tx.put("identity", identity, condition=Identity.key.does_not_exist())
    tx.put("account", account, condition=Account.user_id.does_not_exist())
    tx.put("listed", AccountShard(shard_of(user_id), user_id, listed_at=now))  # every account, for yearly jobs
    try:
        tx.commit()
        return account, True
    except TxCancelledError as cancelled:
        if "identity" not in cancelled.failed and not cancelled.conflict:
            raise ServiceUnavailableError() from None
    # Another login of the same openid won the race a moment ago: this one is a returning login.
    returning = _returning(key, sealed_key, now)
    if returning is None:
        raise ServiceUnavailableError()
    return returning, False
