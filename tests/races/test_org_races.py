"""Joins racing for a person's last org seat, and folds of one shard racing each other."""
from __future__ import annotations

import uuid

from chalicelib.domain.ranking import shard_of
from chalicelib.services import stats
from tests.support.aggregates import checkin, drain, join, make_orgs, person_total
from tests.support.api import call, login
from tests.support.racer import race


def join_org(user_id: str, org_id: str, code: str) -> tuple[int, str]:
    from chalicelib.domain.commands_orgs import JoinOrg
    from chalicelib.errors import AppError
    from chalicelib.services import orgs

    try:
        orgs.join(JoinOrg(user_id, org_id, code))
        return 200, ""
    except AppError as error:
        return error.status, error.code


def fold_shard(shard: int) -> int:
    from chalicelib.domain import clock
    from chalicelib.services import fold

    return fold.fold_slice(shard, clock.now())["folded"]


def test_six_joins_at_once_for_the_last_seat_admit_exactly_one(client, user):
    orgs = make_orgs(*["group"] * 10)
    for org in orgs[:4]:
        assert join(client, user, org)[0] == 200
    outcomes = race(join_org, [(user["id"], org["id"], org["invite_code"]) for org in orgs[4:]])
    results = sorted(result for kind, result in outcomes if kind == "ok")
    assert len(results) == 6, outcomes
    assert results.count((200, "")) == 1 and results.count((409, "TOO_MANY_ORGS")) == 5
    me = call(client, "GET", "/v1/me", token=user["token"])[1]
    assert len(me["orgs"]) == 5
    members = [call(client, "GET", f"/v1/orgs/{org['id']}")[1]["members"] for org in orgs[4:]]
    assert sorted(members) == [0] * 5 + [1]


def test_folds_of_one_shard_racing_apply_every_entry_once(client):
    from admin import streams

    (org,) = make_orgs("school")
    drain()
    before = call(client, "GET", "/v1/stats")[1]
    person = login(client, "o-" + uuid.uuid4().hex[:16])
    assert join(client, person, org)[0] == 200
    for _ in range(3):
        checkin(client, person)
    streams.drain()  # filed in the inbox, not folded yet
    outcomes = race(fold_shard, [(shard_of(person["id"]),)] * 4)
    assert [kind for kind, _ in outcomes] == ["ok"] * 4, outcomes
    drain()
    assert person_total(f"u#{person['id']}", "all") == 432000
    assert call(client, "GET", f"/v1/orgs/{org['id']}")[1]["carbon_g"] == 432.0
    stats.forget()  # the folds ran in other processes: this one's 30-second cache has not heard of them
    after = call(client, "GET", "/v1/stats")[1]
    assert (after["registered_users"] - before["registered_users"], after["points_issued"] - before["points_issued"],
            round(after["carbon_g"] - before["carbon_g"], 3)) == (1, 15, 432.0)
