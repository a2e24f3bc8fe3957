"""The items of a login: a WeChat account's identity and, at its first login, the user it makes.

identities — pk `key`: "wx#{openid}" for the `default` platform's mini program (as before platforms), and
"wx#{platform}#{openid}" for another platform's (an openid is WeChat's per mini program; the platform in the key
keeps two platforms' users apart even if a misconfiguration gave them one appid). The item also says `platform`
when it is not `default`, and so does the account it names.
"""
from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import UpdateError

from ..domain.platforms import DEFAULT
from .access import access, on
from .failures import Unavailable, raise_unavailable
from .models import Account, Identity
from .privacy import AccountShard, shard_of
from .tx import ConditionFailed, Tx


def identity_key(platform: str, openid: str) -> str:
    return f"wx#{openid}" if platform == DEFAULT else f"wx#{platform}#{openid}"


@dataclass(frozen=True)
class NewUser:
    """What a first login writes."""

    key: str
    user_id: str
    nickname: str
    session_key_sealed: str
    unionid_sealed: str | None
    at: str
    platform: str = DEFAULT


@access(on(Identity, "UpdateItem"))
def returning(key: str, session_key_sealed: str, at: str) -> str | None:
    """Stores the fresh (sealed) session_key on an existing identity: its user id; None when it is new."""
    identity = Identity(key)
    try:
        identity.update(actions=[Identity.session_key_sealed.set(session_key_sealed),
                                 Identity.last_login_at.set(at)],
                        condition=Identity.key.exists())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise Unavailable() from exc
    return identity.user_id


@access(on(Account, "PutItem"), on(AccountShard, "PutItem"), on(Identity, "PutItem"))
def create(new: NewUser) -> bool:
    """Writes the identity, its account and the account's listing in one transaction: True; False when the
    identity exists already (another login of the same openid won a race a moment ago)."""
    other = None if new.platform == DEFAULT else new.platform
    account = Account(new.user_id, joined_at=new.at, identity_key=new.key, nickname=new.nickname, platform=other)
    identity = Identity(new.key, user_id=new.user_id, session_key_sealed=new.session_key_sealed, created_at=new.at,
                        last_login_at=new.at, unionid_sealed=new.unionid_sealed, platform=other)
    tx = Tx()
    tx.put("identity", identity, condition=Identity.key.does_not_exist())
    tx.put("account", account, condition=Account.user_id.does_not_exist())
    tx.put("listed", AccountShard(shard_of(new.user_id), new.user_id, listed_at=new.at))  # for yearly jobs
    try:
        tx.commit()
        return True
    except ConditionFailed as cancelled:
        if "identity" not in cancelled.failed and not cancelled.conflict:
            raise Unavailable() from None
        return False
    except (BotoCoreError, ClientError) as exc:
        raise_unavailable(exc)


ACCESS = (returning, create)  # what a login touches (store/access.py)
