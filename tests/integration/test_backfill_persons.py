"""`python -m admin backfill-persons` (docs/platforms.md): accounts made before persons get their person,
idempotently; one whose unionid another platform's login already joined takes that person."""
from __future__ import annotations

from admin.__main__ import main as admin
from chalicelib.domain.persons import derived_person_id
from chalicelib.store.models import Account, Identity
from chalicelib.store.persons import union_key
from chalicelib.store.privacy import shard_of
from tests.support.api import login
from tests.support.persons import login_on, person_of


def _as_before_persons(user: dict, openid: str) -> None:
    """The account and its unionid as a login before persons left them: no person_id, no union item."""
    Account(user["id"]).update(actions=[Account.person_id.remove()])
    Identity(union_key(f"un-{openid}")).delete()


def test_backfill_gives_an_existing_user_a_person_idempotently(client, openid):
    user = login(client, openid)
    _as_before_persons(user, openid)
    shard = str(shard_of(user["id"]))
    assert admin(["backfill-persons", "--shard", shard]) == 0
    assert person_of(user["id"]) == derived_person_id(user["id"])
    assert Identity.get(union_key(f"un-{openid}")).person_id == derived_person_id(user["id"])
    assert admin(["backfill-persons", "--shard", shard]) == 0  # again: nothing changes
    assert person_of(user["id"]) == derived_person_id(user["id"])
    other = login_on(client, openid)  # the person, on another platform from now on
    assert person_of(other["id"]) == derived_person_id(user["id"])


def test_backfill_joins_the_person_another_platform_already_made(client, openid):
    user = login(client, openid)
    _as_before_persons(user, openid)
    other = login_on(client, openid)  # logged in on a second platform before the backfill ran
    assert admin(["backfill-persons", "--shard", str(shard_of(user["id"]))]) == 0
    assert person_of(user["id"]) == person_of(other["id"])
