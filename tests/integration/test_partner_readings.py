"""Monthly readings against the same month a year earlier (open-protocol.md, `"baseline": "same_month_last_year"`;
domain/readings.py) over HTTP, from the fake open-protocol partner playing the demo catalog's grid company
`powergrid` (household_power_saving, 530.6 g CO2 a kWh saved, 1 point a kWh).

Months are counted back from today: the month just ended (`month_back(1)`) can be credited against the same month
a year earlier (`month_back(13)`), both sent today; every reading's `occurred_at` is now, so its entry is today's."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from chalicelib.domain import clock
from chalicelib.domain.commands_collection import AdjustPoints
from chalicelib.services.corrections import adjust_points
from chalicelib.store.dynamo_uow import DynamoPostingUnitOfWork
from tests.support import open_partners
from tests.support.api import DynamoDBCalls, call, login
from tests.support.partners import ledger, me, reconcile_clean

GRID = "powergrid"
KWH_MG = 530600  # household_power_saving: 0.5306 kg CO2 a kWh (admin/demo_catalog.json)


@pytest.fixture
def fake(stack):
    stack.open_partner.faults.clear()
    return stack.open_partner


@pytest.fixture
def user(client, openid):
    return login(client, openid)


def month_back(months: int) -> str:
    today = clock.business_day(clock.now())
    year, index = divmod(today.year * 12 + today.month - 1 - months, 12)
    return f"{year:04d}-{index + 1:02d}"


def linked(client, fake, user) -> str:
    """The user linked to a new household account at the grid company; its user_ref (the account holder)."""
    return open_partners.linked(client, fake, user, GRID)


def reading(fake, user_ref: str, month: str, kwh, event_id: str | None = None, **extra) -> dict:
    return fake.event(user_ref, type="monthly_usage", field="kwh", quantity=kwh, month=month,
                      event_id=event_id or f"pg_{month}_{uuid.uuid4().hex[:8]}", **extra)


def push(client, fake, events) -> tuple[int, dict]:
    return open_partners.push(client, fake, events, partner=GRID)


def counts(accepted: int = 0, duplicates: int = 0, ignored: int = 0) -> tuple[int, dict]:
    return 200, {"accepted": accepted, "duplicates": duplicates, "ignored": ignored}


def grid_entries(client, user) -> list[dict]:
    """The user's entries from the grid company, oldest first."""
    return [e for e in reversed(ledger(client, user)) if e["source"] == GRID]


def test_a_first_year_reading_is_stored_and_accepted_but_credits_nothing(client, fake, user):
    user_ref = linked(client, fake, user)
    assert push(client, fake, [reading(fake, user_ref, month_back(1), 250)]) == counts(accepted=1)
    assert grid_entries(client, user) == []
    assert (me(client, user)["points"], me(client, user)["carbon_g"]) == (0, 0)
    assert reconcile_clean(user) == (True, [])


def test_a_month_below_the_same_month_last_year_is_credited_its_saving_at_the_grid_factor(client, fake, user):
    user_ref = linked(client, fake, user)
    assert push(client, fake, [reading(fake, user_ref, month_back(13), 300)]) == counts(accepted=1)
    usage = reading(fake, user_ref, month_back(1), 250)
    assert push(client, fake, [usage]) == counts(accepted=1)
    [entry] = grid_entries(client, user)
    assert (entry["kind"], entry["behavior"], entry["ref"]) == ("earn", "household_power_saving", usage["event_id"])
    assert (entry["points"], entry["carbon_g"]) == (50, 50 * KWH_MG / 1000)  # 300 - 250 kWh saved
    assert entry["methodology"]["id"] == "GS-household-power-saving"
    assert me(client, user)["points"] == 50
    assert reconcile_clean(user) == (True, [])


def test_a_baseline_sent_with_its_month_in_one_batch_counts_and_a_month_above_it_credits_nothing(
        client, fake, user, openid):
    user_ref = linked(client, fake, user)
    batch = [reading(fake, user_ref, month_back(1), 180.5), reading(fake, user_ref, month_back(13), 200)]
    assert push(client, fake, batch) == counts(accepted=2)
    [entry] = grid_entries(client, user)
    assert (entry["points"], entry["carbon_g"]) == (19, pytest.approx(19.5 * KWH_MG / 1000))

    other = login(client, openid + "-above")
    other_ref = linked(client, fake, other)
    batch = [reading(fake, other_ref, month_back(13), 200), reading(fake, other_ref, month_back(1), 260)]
    assert push(client, fake, batch) == counts(accepted=2)
    assert grid_entries(client, other) == []
    assert reconcile_clean(user, other) == (True, [])


def test_a_corrected_reading_is_replaced_by_an_adjust_entry_and_an_older_revision_is_a_duplicate(client, fake, user):
    user_ref = linked(client, fake, user)
    push(client, fake, [reading(fake, user_ref, month_back(13), 300)])
    first = reading(fake, user_ref, month_back(1), 250)
    assert push(client, fake, [first]) == counts(accepted=1)

    lower = {**first, "kwh": 200, "revision": 1}  # the grid company corrects the month: 100 kWh saved
    assert push(client, fake, [lower]) == counts(accepted=1)
    earn, adjust = grid_entries(client, user)
    assert (earn["kind"], earn["points"], earn["carbon_g"]) == ("earn", 50, 50 * KWH_MG / 1000)  # never edited
    assert (adjust["kind"], adjust["ref"]) == ("adjust", first["event_id"])
    assert adjust["behavior"] == "household_power_saving"
    assert (adjust["points"], adjust["carbon_g"]) == (50, 50 * KWH_MG / 1000)
    assert me(client, user)["points"] == 100

    for again in (lower, {**first, "kwh": 100, "revision": 1}, {**first, "kwh": 100}, {**first, "revision": 0}):
        assert push(client, fake, [again]) == counts(duplicates=1)
    assert len(grid_entries(client, user)) == 2

    higher = {**first, "kwh": 280, "revision": 2}  # 20 kWh saved in the end
    assert push(client, fake, [higher]) == counts(accepted=1)
    last = grid_entries(client, user)[-1]
    assert (last["kind"], last["points"], last["carbon_g"]) == ("adjust", -80, -80 * KWH_MG / 1000)
    assert (me(client, user)["points"], me(client, user)["carbon_g"]) == (20, pytest.approx(20 * KWH_MG / 1000))
    summary = call(client, "GET", "/v1/me/summary", token=user["token"])[1]
    [row] = [r for r in summary["by_behavior"] if r["behavior"] == "household_power_saving"]
    assert (row["count"], row["points"], row["carbon_g"]) == (1, 20, pytest.approx(20 * KWH_MG / 1000))
    assert reconcile_clean(user) == (True, [])


def test_a_correction_never_takes_the_balance_below_zero(client, fake, user):
    user_ref = linked(client, fake, user)
    push(client, fake, [reading(fake, user_ref, month_back(13), 300)])
    first = reading(fake, user_ref, month_back(1), 250)
    push(client, fake, [first])  # 50 points
    adjust_points(AdjustPoints(user["id"], "adm_" + uuid.uuid4().hex[:16], -45, "spent elsewhere"),
                  DynamoPostingUnitOfWork())
    assert push(client, fake, [{**first, "kwh": 300, "revision": 1}]) == counts(accepted=1)  # nothing saved
    correction = grid_entries(client, user)[-1]
    assert (correction["points"], correction["carbon_g"]) == (-5, -50 * KWH_MG / 1000)  # the carbon in full
    assert correction["balance_after"] == 0
    assert (me(client, user)["points"], me(client, user)["carbon_g"]) == (0, 0)
    assert reconcile_clean(user) == (True, [])


def test_a_baseline_months_correction_leaves_a_month_already_credited_as_it_was(client, fake, user):
    user_ref = linked(client, fake, user)
    baseline = reading(fake, user_ref, month_back(13), 300)
    push(client, fake, [baseline])
    usage = reading(fake, user_ref, month_back(1), 250)
    push(client, fake, [usage])
    assert push(client, fake, [{**baseline, "kwh": 400, "revision": 1}]) == counts(accepted=1)
    assert push(client, fake, [{**usage, "revision": 1}]) == counts(accepted=1)  # against 300 as recorded
    [entry] = grid_entries(client, user)
    assert entry["points"] == 50
    assert reconcile_clean(user) == (True, [])


@pytest.mark.parametrize("late", [
    {"month": "this month"},  # not over yet
    {"month": "14 months ago"},  # older than the year-earlier month of the month just ended
    {"occurred_at": timedelta(days=8)},  # more than 7 days late, as every event
    {"revision": -1}, {"revision": "1"}, {"revision": 1.5}, {"month": "2026-13"}, {"month": None},
])
def test_a_reading_of_a_month_not_over_too_old_too_late_or_malformed_is_ignored_and_counted(
        client, fake, user, late):
    user_ref = linked(client, fake, user)
    month = {"this month": month_back(0), "14 months ago": month_back(14)}.get(late.get("month"), month_back(1))
    event = reading(fake, user_ref, month, 100)
    if "month" in late and late["month"] not in ("this month", "14 months ago"):
        event["month"] = late["month"]
    if "revision" in late:
        event["revision"] = late["revision"]
    if "occurred_at" in late:  # the month before the one it occurred in: only its lateness refuses it
        moment = (datetime.now(clock.SHANGHAI) - late["occurred_at"]).replace(microsecond=0)
        event["occurred_at"] = moment.isoformat()
        event["month"] = f"{moment.year - (moment.month == 1):04d}-{(moment.month - 2) % 12 + 1:02d}"
    assert push(client, fake, [event]) == counts(ignored=1)
    assert grid_entries(client, user) == []


def test_a_webhook_of_500_readings_is_ingested_in_a_bounded_number_of_dynamodb_calls(client, fake, openid):
    users = [login(client, f"{openid}-{n}") for n in range(50)]
    refs = [linked(client, fake, u) for u in users]
    months = [month_back(13), *(month_back(n) for n in range(9, 0, -1))]  # the last one's baseline, 9 more
    batch = [reading(fake, ref, month, 300 if month == months[0] else 250) for ref in refs for month in months]
    with DynamoDBCalls() as calls:
        assert push(client, fake, batch) == counts(accepted=500)
    # 1 replay guard + batched reads (links, consents, accounts, and 50 x 19 reading keys, the months and the
    # year-earlier months, 100 a call) + one transaction a user (its 10 readings, 1 entry, its summary, account and
    # consent) (+ the catalog, once a minute per container): no call per reading.
    assert calls.operations.count("BatchGetItem") == 3 + 10
    assert calls.operations.count("TransactWriteItems") == 50
    assert len(calls) <= 1 + 3 + 10 + 50 + 1, calls.operations
    for u in users[:3]:
        assert [(e["points"], e["carbon_g"]) for e in grid_entries(client, u)] == [(50, 50 * KWH_MG / 1000)]
    assert reconcile_clean(*users)[0]
