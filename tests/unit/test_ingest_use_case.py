"""Ingesting partner events (services/ingest.py, partner_sync.pull, webhooks.push) over the in-memory unit of
work (tests/unit/fakes_partners.py): no Java, no DynamoDB endpoint.

The same promises against DynamoDB Local: tests/integration/test_transit.py, test_bank.py, test_webhooks.py,
test_consent.py, tests/races/test_partner_races.py.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib.domain import clock
from chalicelib.domain.partner_events import PartnerEvent
from chalicelib.domain.results_ingest import Outcome
from chalicelib.services.ingest import Known, ingest_batch, ingest_user
from tests.unit.fakes_partners import FakeConsent, FakePartnerAccount, InMemoryPartnerUnitOfWork

NOW = clock.now()


def ride(n: int, ref: str = "tu_1", ago: timedelta = timedelta(hours=1)) -> PartnerEvent:
    return PartnerEvent("transit", f"r_{n}", ref, "bus_ride", Decimal(1), NOW - ago - timedelta(seconds=n))


@pytest.fixture
def uow() -> InMemoryPartnerUnitOfWork:
    uow = InMemoryPartnerUnitOfWork()
    uow.accounts.add(FakePartnerAccount("u_1"))
    uow.consents.add(FakeConsent("u_1", "transit", "tu_1"))
    uow.links.items[("transit", "tu_1")] = "u_1"
    return uow


def known(uow, user_id="u_1") -> Known:
    return Known(uow.accounts.get(user_id), uow.consents.get(user_id, "transit"), uow.seen.seen(uow.seen.keys))


def test_rides_count_once_and_beyond_the_daily_cap_for_zero_points(uow):
    outcome = ingest_user("u_1", "transit", [ride(n) for n in range(8)], known(uow), uow)
    assert outcome == Outcome(imported=8, duplicates=0, ignored=0, points=60, carbon_mg=8 * 80_000)
    account = uow.accounts.items["u_1"]
    assert (account.points, account.carbon_mg, account.version) == (60, 640_000, 1)
    assert sorted(line.points for line in uow.ledger) == [0, 0] + [10] * 6
    assert uow.seen.keys == {f"transit#r_{n}" for n in range(8)}
    again = ingest_user("u_1", "transit", [ride(n) for n in range(8)], known(uow), uow)
    assert again == Outcome(duplicates=8) and uow.commits == 1


def test_a_late_ride_is_ignored_before_its_seen_item_is_looked_at(uow):
    uow.seen.keys.add("transit#r_1")  # still there, or already gone by TTL: the answer is the same
    late = ride(1, ago=timedelta(days=clock.LATE_EVENT_DAYS + 1))
    assert ingest_user("u_1", "transit", [late], known(uow), uow) == Outcome(ignored=1)
    assert uow.commits == 0


def test_rides_outside_the_consent_or_of_a_frozen_account_are_ignored(uow):
    consent = uow.consents.items[("u_1", "transit")]
    consent.periods = [[clock.iso(NOW - timedelta(minutes=30)), None]]
    assert ingest_user("u_1", "transit", [ride(1), ride(2, ago=timedelta(minutes=1))], known(uow), uow) == Outcome(
        imported=1, ignored=1, points=10, carbon_mg=80_000)
    uow.accounts.items["u_1"].frozen = True
    assert ingest_user("u_1", "transit", [ride(3, ago=timedelta(minutes=1))], known(uow), uow) == Outcome(ignored=1)
    assert uow.commits == 1


def test_a_revocation_landing_before_the_write_lets_nothing_land(uow):
    def revoke():
        uow.consents.items[("u_1", "transit")].status = "revoked"

    uow.before_write = revoke
    outcome = ingest_user("u_1", "transit", [ride(n) for n in range(3)], known(uow), uow)
    assert outcome == Outcome(ignored=3)
    assert (uow.commits, uow.ledger, uow.seen.keys, uow.accounts.items["u_1"].points) == (0, [], set(), 0)
    assert uow.consents.reads == 2  # once by known(), once again after the lost race


def test_rides_counted_by_a_concurrent_push_are_duplicates_not_counted_twice(uow):
    def pushed_meanwhile():
        uow.seen.keys.update({"transit#r_0", "transit#r_1"})
        uow.before_write = None

    uow.before_write = pushed_meanwhile
    outcome = ingest_user("u_1", "transit", [ride(n) for n in range(3)], known(uow), uow)
    assert outcome == Outcome(imported=1, duplicates=2, points=10, carbon_mg=80_000)
    assert [line.ref for line in uow.ledger] == ["r_2"] and uow.commits == 1


def test_many_rides_are_cut_into_transactions_and_only_the_first_uses_the_batch_read(uow):
    rides = [ride(n, ago=timedelta(hours=1 + n // 20)) for n in range(120)]
    reads = uow.accounts.reads
    outcome = ingest_user("u_1", "transit", rides, known(uow), uow)
    assert (outcome.imported, uow.commits) == (120, 3)
    assert uow.accounts.reads - reads == 1 + 2  # known() read once; each later transaction reads again
    assert len({line.entry_id for line in uow.ledger}) == 120 and len(uow.seen.keys) == 120


def test_a_batch_ignores_unknown_users_and_counts_duplicates_within_it(uow):
    events = [ride(1), ride(1), ride(2, ref="tu_unknown")]
    outcome = ingest_batch("transit", events, lambda: uow)
    assert outcome == Outcome(imported=1, duplicates=1, ignored=1, points=10, carbon_mg=80_000)
    assert ingest_batch("transit", [], lambda: uow) == Outcome()
