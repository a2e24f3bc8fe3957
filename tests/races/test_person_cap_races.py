"""One person's check-ins racing on two platforms at once (shared/contract/platforms.md rule 3): the
deployment's daily limit holds for the person, whichever platform each one came through (no_cutlery: a check-in
without a photo, 3 a day, 2 points and 45.72 g on both demo platforms)."""
from __future__ import annotations

import uuid

from chalicelib.store.models import Account
from tests.support.api import call, login, request_id
from tests.support.persons import login_on
from tests.support.racer import checkin, race
from tests.support.racer import login as racer_login
from tests.support.reconcile import reconciled


def test_six_checkins_of_one_person_on_two_platforms_award_exactly_the_persons_limit(client, openid):
    on_default, demo = login(client, openid), login_on(client, openid)
    calls = [(on_default["id"], {"request_id": f"race_person_d{n}", "behavior": "no_cutlery"}) for n in range(3)]
    calls += [(demo["id"], {"request_id": f"race_person_p{n}", "behavior": "no_cutlery"}, "company-demo")
              for n in range(3)]
    outcomes = race(checkin, calls)
    statuses = sorted(result for kind, result in outcomes if kind == "ok")
    assert len(statuses) == 6, outcomes
    assert statuses.count((201, "")) == 3  # the person's limit, across both platforms
    assert statuses.count((429, "DAILY_LIMIT_REACHED")) == 3
    events = (Account.get(on_default["id"], consistent_read=True).points
              + Account.get(demo["id"], consistent_read=True).points) // 2
    assert events == 3
    assert reconciled(on_default, demo)["clean"]


def test_checkins_racing_the_login_that_joins_a_second_platform_count_for_the_person(client, openid):
    on_default = login(client, openid)
    calls = [(checkin, on_default["id"], {"request_id": f"race_join_d{n}", "behavior": "no_cutlery"})
             for n in range(3)]
    calls.append((racer_login, f"wx:{openid}:{uuid.uuid4().hex[:8]}", "company-demo"))
    outcomes = race(_call, calls)
    assert [kind for kind, _ in outcomes] == ["ok"] * 4, outcomes
    demo = login_on(client, openid)  # the user the racing login made
    assert demo["id"] in [result for _, result in outcomes]
    accounts = [Account.get(user["id"], consistent_read=True) for user in (on_default, demo)]
    assert accounts[0].points == 6 and accounts[0].peers == {"company-demo": demo["id"]}
    assert [a.person_carbon_mg for a in accounts] == [3 * 45720] * 2  # the three, whenever each landed
    status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "no_cutlery"},
                        token=demo["token"])
    assert (status, body["error"]["code"]) == (429, "DAILY_LIMIT_REACHED")  # the person's fourth of the day
    assert reconciled(on_default, demo)["clean"]


def _call(target, *args):
    return target(*args)
