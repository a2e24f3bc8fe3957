"""Persons across platforms (shared/contract/platforms.md "Person", docs/platforms.md): logins with one WeChat
unionid on two platforms are one person, joined at the first login without a read before the write."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from chalicelib.store.models import Identity
from chalicelib.store.persons import union_key
from infra.local.ephemeral import DEMO_PLATFORM
from tests.support.api import DynamoDBCalls, call, login
from tests.support.persons import login_on, person_of


def test_one_person_on_two_platforms_has_one_person_id(client, openid):
    on_default = login(client, openid)
    on_demo = login_on(client, openid)
    assert on_demo["id"] != on_default["id"]  # two users ...
    person = person_of(on_default["id"])
    assert person.startswith("p_") and len(person) == 22
    assert person_of(on_demo["id"]) == person  # ... one person
    union = Identity.get(union_key(f"un-{openid}"), consistent_read=True)
    assert (union.person_id, union.user_id) == (person, None)  # names the person, no user and no unionid
    assert f"un-{openid}" not in union.key


def test_two_people_are_two_persons(client, openid):
    other = "o-" + uuid.uuid4().hex[:12]
    assert person_of(login(client, openid)["id"]) != person_of(login_on(client, other)["id"])


def test_a_returning_login_keeps_the_person(client, openid):
    first = login_on(client, openid)
    again = login_on(client, openid)
    assert (again["id"], person_of(again["id"])) == (first["id"], person_of(first["id"]))


def test_joining_a_person_on_a_second_platform_reads_their_accounts_once(client, openid):
    login(client, openid)
    with DynamoDBCalls() as calls:
        login_on(client, openid)
    # the refused returning login, the transaction that learns the person and their users from its refusal, their
    # accounts (the versions the join conditions on), the one that joins
    assert calls.operations == ["UpdateItem", "TransactWriteItems", "BatchGetItem", "TransactWriteItems"]


def test_a_first_login_of_a_new_person_costs_what_it_did(client, openid):
    with DynamoDBCalls() as calls:
        login_on(client, openid)
    assert calls.operations == ["UpdateItem", "TransactWriteItems"]


def test_simultaneous_first_logins_of_one_person_on_two_platforms_make_one_person(client, openid):
    from chalicelib.services import auth

    auth.login(f"wx:o-warm-{uuid.uuid4().hex[:8]}", DEMO_PLATFORM)  # warm the clients before threads share them
    asks = [(f"wx:{openid}:{n}-{platform}", platform) for n in range(3) for platform in ("default", DEMO_PLATFORM)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda ask: auth.login(*ask), asks))
    users = {result.user_id for result in results}
    assert len(users) == 2  # one user per platform
    assert len({person_of(user) for user in users}) == 1  # one person


def test_the_union_item_is_not_counted_as_a_login(client, openid):
    """The identities' stream carries the union item too: the day's registrations count the user, not it."""
    from chalicelib.services.aggregate import accept_identities

    class Inbox:
        filed: list = []

        def identity(self, image):
            return Identity.from_raw_data(image)

        def file(self, filed):
            self.filed.append(filed)
            return 1

    image = {"key": {"S": union_key(f"un-{openid}")}, "person_id": {"S": "p_X"}, "created_at": {"S": "2026-12-01"}}
    assert accept_identities([{"eventName": "INSERT", "dynamodb": {"NewImage": image}}], Inbox()) == 0
    assert call(client, "GET", "/v1/health")[0] == 200
