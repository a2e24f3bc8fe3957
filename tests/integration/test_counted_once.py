"""Each reduction counted once across platforms (shared/contract/platforms.md rule 2): a bus ride imported by
two platforms of one person records its carbon once, on the platform that recorded it first; the other shows it
`counted_via` that platform with 0 carbon, and each awards its own points within its own caps."""
from __future__ import annotations

import pytest

from chalicelib.api.shapes import entry_json
from chalicelib.store.models import Account, LedgerEntry
from chalicelib.store.partners import SeenEvent
from chalicelib.store.repositories_ledger import line
from tests.support.api import login
from tests.support.partners import bind, ledger, phone, push, sync
from tests.support.persons import pull, rewind, rider
from tests.support.reconcile import reconciled


@pytest.fixture
def person(client, stack, openid, rides):
    """One person: a `default` user and a user of the rides platform, both bound to one transit account."""
    return rider(client, stack, openid, rides)


def _entries(user: dict) -> list[dict]:
    return [entry_json(line(entry)) for entry in LedgerEntry.query(user["id"], consistent_read=True)]


def _account(user: dict) -> Account:
    return Account.get(user["id"], consistent_read=True)


def test_a_bus_ride_imported_on_two_platforms_counts_its_carbon_once(client, stack, person, rides):
    on_default, other, ref = person
    ride = stack.transit.add_ride(ref)
    assert sync(client, on_default, "transit")[1]["imported"] == 1
    assert pull(other["id"]) == {"imported": 1, "duplicates": 0, "points": 6, "carbon_mg": 0}
    [first] = ledger(client, on_default)
    assert (first["points"], first["carbon_g"], first["counted_via"]) == (10, 80.0, None)  # holds the carbon
    [second] = _entries(other)
    assert (second["points"], second["carbon_g"], second["counted_via"]) == (6, 0.0, "default")
    assert second["ref"] == ride["ride_id"]
    assert (_account(on_default).carbon_mg, _account(other).carbon_mg) == (80000, 0)
    seen = SeenEvent.get(f"transit#{ride['ride_id']}", consistent_read=True)  # one item for every platform
    assert (seen.via, seen.user_id) == ("default", on_default["id"])  # the holder, made explicit by the other
    assert seen.platforms == {"default", rides}
    rewind(other["id"])
    assert pull(other["id"])["duplicates"] == 1  # each platform imports it once
    assert push(client, stack.transit, [ride])[1]["duplicates"] == 1
    assert reconciled(on_default, other)["clean"]


def test_the_platform_that_records_first_holds_the_carbon(client, stack, person, rides):
    on_default, other, ref = person
    stack.transit.add_ride(ref)
    assert pull(other["id"])["carbon_mg"] == 80000
    assert sync(client, on_default, "transit")[1]["imported"] == 1
    [entry] = ledger(client, on_default)
    assert (entry["points"], entry["carbon_g"], entry["counted_via"]) == (10, 0.0, rides)
    assert (_account(on_default).carbon_mg, _account(other).carbon_mg) == (0, 80000)
    assert reconciled(on_default, other)["clean"]


def test_default_imports_write_the_item_of_before_platforms_and_it_counts_once(client, stack, person, rides):
    on_default, other, ref = person
    ride = stack.transit.add_ride(ref)
    assert sync(client, on_default, "transit")[1]["imported"] == 1
    key = f"transit#{ride['ride_id']}"
    old = SeenEvent.get(key, consistent_read=True)  # no more bytes than before platforms: no platforms, no via
    assert (old.platforms, old.via, old.user_id) == (None, None, on_default["id"])
    assert pull(other["id"]) == {"imported": 1, "duplicates": 0, "points": 6, "carbon_mg": 0}
    assert [e["counted_via"] for e in _entries(other)] == ["default"]
    assert SeenEvent.get(key, consistent_read=True).platforms == {"default", rides}
    assert push(client, stack.transit, [ride])[1]["duplicates"] == 1  # still seen on `default`
    assert (_account(on_default).carbon_mg, _account(other).carbon_mg) == (80000, 0)
    assert reconciled(on_default, other)["clean"]


def test_each_platform_awards_its_points_within_its_own_caps(client, stack, person, rides):
    on_default, other, ref = person
    for _ in range(3):
        stack.transit.add_ride(ref)
    assert sync(client, on_default, "transit")[1]["imported"] == 3
    assert pull(other["id"])["imported"] == 3
    assert (_account(on_default).points, _account(on_default).carbon_mg) == (30, 240000)
    assert (_account(other).points, _account(other).carbon_mg) == (12, 0)  # its cap: 2 rides a day earn
    assert {e.get("counted_via") for e in _entries(other)} == {"default"}
    assert reconciled(on_default, other)["clean"]


def test_ride_of_another_person_is_not_counted_via_anyone(client, stack, rides, openid):
    someone, number = login(client, "o-else-" + openid), phone()
    stack.transit.add_ride(bind(client, stack, someone, "transit", number))
    assert sync(client, someone, "transit")[1]["imported"] == 1
    assert ledger(client, someone)[0]["counted_via"] is None
    assert _account(someone).carbon_mg == 80000
