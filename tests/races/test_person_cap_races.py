"""One person's check-ins racing on two platforms at once (shared/contract/platforms.md rule 3): the
deployment's daily limit holds for the person, whichever platform each one came through."""
from __future__ import annotations

from chalicelib.store.models import Account
from tests.support.api import login
from tests.support.persons import login_on
from tests.support.racer import checkin, race
from tests.support.reconcile import reconciled


def test_six_checkins_of_one_person_on_two_platforms_award_exactly_the_persons_limit(client, openid):
    on_default, demo = login(client, openid), login_on(client, openid)
    calls = [(on_default["id"], {"request_id": f"race_person_d{n}", "behavior": "clean_plate"}) for n in range(3)]
    calls += [(demo["id"], {"request_id": f"race_person_p{n}", "behavior": "clean_plate"}, "company-demo")
              for n in range(3)]
    outcomes = race(checkin, calls)
    statuses = sorted(result for kind, result in outcomes if kind == "ok")
    assert len(statuses) == 6, outcomes
    assert statuses.count((201, "")) == 3  # the person's limit, across both platforms
    assert statuses.count((429, "DAILY_LIMIT_REACHED")) == 3
    events = (Account.get(on_default["id"], consistent_read=True).points // 5
              + Account.get(demo["id"], consistent_read=True).points // 3)
    assert events == 3
    assert reconciled(on_default, demo)["clean"]
