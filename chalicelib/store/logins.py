"""The items of a login: a WeChat account's identity and, at its first login, the user it makes.

identities — pk `key`: "wx#{openid}" for the `default` platform's mini program (as before platforms), and
"wx#{platform}#{openid}" for another platform's (an openid is WeChat's per mini program; the platform in the key
keeps two platforms' users apart even if a misconfiguration gave them one appid). The item also says `platform`
when it is not `default`, and so does the account it names.

The account takes its `person_id` at creation (docs/platforms.md "Persons"): with a unionid, the person its union
item names (store/persons.py); the union item is put in the same transaction, conditioned on its absence and
returning the item already there, so the first login of a person on a second platform learns the person from the
refusal and joins it in the next transaction (store/persons.stage_join: the person's users gain this one, and the
accounts it already had, read first in one BatchGetItem, learn their peers and the person's carbon). No read
before a person's first login.
"""
from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import UpdateError

from ..domain import clock
from ..domain.platforms import DEFAULT
from ..domain.values import immutable
from . import persons
from .access import access, on
from .failures import Unavailable, raise_unavailable
from .models import Account, Identity
from .privacy import AccountShard, shard_of
from .tx import ConditionFailed, Tx


@immutable
class NewUser:
    """What a first login writes."""

    key: str
    user_id: str
    nickname: str
    session_key_sealed: str
    unionid_sealed: str | None
    at: str
    platform: str = DEFAULT
    union_key: str | None = None  # store/persons.union_key of the unionid, when WeChat gave one
    person_id: str | None = None  # the person to create (with union_key) or, without it, the derived one


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


JOIN_ATTEMPTS = 3  # a union item is never rewritten: the second transaction of a join normally commits


@access(on(Account, "PutItem"), on(AccountShard, "PutItem"), on(Identity, "PutItem"), persons.stage_join,
        persons.accounts_of)
def create(new: NewUser) -> str | None:
    """Writes the identity, its account and the account's listing (and the person's union item, the first time
    its unionid is seen) in one transaction: the person id of the new user; None when the identity exists
    already (another login of the same openid won a race a moment ago).

    Refused because the union item exists, the returned item names the person and its users: the next
    transaction joins them (store/persons.stage_join), after reading their accounts."""
    person_id, users = new.person_id, None  # users: the person's users when joining, None when new
    for _ in range(JOIN_ATTEMPTS):
        try:
            accounts = persons.accounts_of(users) if users else []
            _transaction(new, person_id, users, accounts).commit()
            return person_id
        except ConditionFailed as cancelled:
            if "identity" in cancelled.failed:
                return None
            if "union" in cancelled.failed and persons.person_in(cancelled.failed["union"]):
                person_id, users = persons.person_in(cancelled.failed["union"]), persons.users_in(
                    cancelled.failed["union"])
                continue
            if not cancelled.conflict and not any(label.startswith("share:") for label in cancelled.failed):
                raise Unavailable() from None
        except (BotoCoreError, ClientError) as exc:
            raise_unavailable(exc)
    raise Unavailable()


def _transaction(new: NewUser, person_id: str | None, users: dict[str, str] | None, accounts: list) -> Tx:
    other = None if new.platform == DEFAULT else new.platform
    tx = Tx()
    joined = {}
    if new.union_key and users is not None:
        carbon = persons.stage_join(tx, new.union_key, person_id, users, new.platform, new.user_id, accounts,
                                    clock.business_day(clock.now()))
        peers = {platform: user for platform, user in users.items() if platform != new.platform}  # a user this
        # platform had before (deleted, WeChat's user logging in again) is replaced, not a peer
        joined = {"peers": peers, "person_carbon_mg": carbon} if peers else {}
    elif new.union_key:
        tx.put_new("union", Identity, {"key": new.union_key, "person_id": person_id, "created_at": new.at,
                                       "users": persons.users_json({new.platform: new.user_id})}, return_old=True)
    account = Account(new.user_id, joined_at=new.at, identity_key=new.key, nickname=new.nickname, platform=other,
                      person_id=person_id, **joined)
    identity = Identity(new.key, user_id=new.user_id, session_key_sealed=new.session_key_sealed, created_at=new.at,
                        last_login_at=new.at, unionid_sealed=new.unionid_sealed, platform=other)
    tx.put("identity", identity, condition=Identity.key.does_not_exist())
    tx.put("account", account, condition=Account.user_id.does_not_exist())
    tx.put("listed", AccountShard(shard_of(new.user_id), new.user_id, listed_at=new.at))  # for yearly jobs
    return tx


ACCESS = (returning, create)  # what a login touches (store/access.py)
