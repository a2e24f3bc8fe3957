"""Two platforms of one person importing the same bus ride at the same moment (shared/contract/platforms.md
rule 2): the ride's carbon is recorded once, and each platform awards its points."""
from __future__ import annotations

from chalicelib.store.models import Account, LedgerEntry
from tests.support.api import login
from tests.support.partners import bind, phone
from tests.support.persons import bind_on, login_on, pull, rides_platform
from tests.support.racer import race
from tests.support.reconcile import reconciled


def test_two_platforms_importing_one_ride_at_once_count_its_carbon_once(client, stack, openid, tmp_path):
    rides = rides_platform(stack, tmp_path)
    number = phone()
    on_default = login(client, openid)
    ref = bind(client, stack, on_default, "transit", number)
    other = login_on(client, openid, rides)
    assert bind_on(client, other, stack, number)[0] == 200
    for _ in range(2):
        stack.transit.add_ride(ref)
    outcomes = race(pull, [(on_default["id"],), (other["id"],)])
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert sorted(result["imported"] for _, result in outcomes) == [2, 2]
    entries = [e for user in (on_default, other) for e in LedgerEntry.query(user["id"], consistent_read=True)]
    assert len(entries) == 4
    assert sum(e.carbon_mg for e in entries) == 2 * 80000  # each ride's carbon once
    assert sorted(e.counted_via or "" for e in entries).count("") == 2
    accounts = [Account.get(user["id"], consistent_read=True) for user in (on_default, other)]
    assert sum(a.carbon_mg for a in accounts) == 160000
    assert (accounts[0].points, accounts[1].points) == (20, 12)
    assert reconciled(on_default, other)["clean"]
