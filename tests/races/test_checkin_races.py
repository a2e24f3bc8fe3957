"""Check-ins racing from several processes at the same moment against DynamoDB Local (no_cutlery: a check-in
without a photo, 3 a day, 2 points and 45.72 g each; photo check-ins racing: test_evidence_races.py)."""
from __future__ import annotations

from chalicelib.store.models import Account, LedgerEntry
from tests.support.racer import checkin, race
from tests.support.reconcile import reconciled


def test_eight_processes_with_distinct_request_ids_award_exactly_the_daily_limit(user):
    calls = [(user["id"], {"request_id": f"race_distinct_{n}", "behavior": "no_cutlery"}) for n in range(8)]
    outcomes = race(checkin, calls)
    statuses = sorted(result for kind, result in outcomes if kind == "ok")
    assert len(statuses) == 8, outcomes
    assert statuses.count((201, "")) == 3
    assert statuses.count((429, "DAILY_LIMIT_REACHED")) == 5
    account = Account.get(user["id"], consistent_read=True)
    assert (account.points, account.carbon_mg) == (6, 3 * 45720)
    assert len(list(LedgerEntry.query(user["id"]))) == 3
    assert reconciled(user)["clean"]


def test_eight_processes_sending_one_request_id_award_once(user):
    body = {"request_id": "race_same_request", "behavior": "no_cutlery"}
    outcomes = race(checkin, [(user["id"], body)] * 8)
    assert [kind for kind, _ in outcomes] == ["ok"] * 8, outcomes
    assert {result for _, result in outcomes} == {(201, "")}  # every retry sees the first success
    account = Account.get(user["id"], consistent_read=True)
    assert (account.points, account.carbon_mg) == (2, 45720)
    assert len(list(LedgerEntry.query(user["id"]))) == 1
    assert reconciled(user)["clean"]
