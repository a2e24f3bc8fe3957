"""Issuance of monthly readings (admin/issuance.py, domain/readings.py): a reading's correction is an `adjust` entry
of the carbon difference, issued on its own day, so what the issuances count for a reading is its net carbon. A
correction down after the reading's day was issued is deducted by the next issuance of the correction's day, once
across every scope.

Entries are made on business days of the past no other test writes to (the app's clock set to the day, see
tests/support/days.py): 167 days ago (the reading) and 164 days ago (its correction)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from chalicelib.domain import clock
from chalicelib.domain.readings import year_before
from tests.integration.test_issuance_platforms import issue, keys, rows
from tests.integration.test_partner_readings import GRID, KWH_MG, month_back, push, reading
from tests.support import open_partners
from tests.support.api import login
from tests.support.days import at
from tests.support.partners import ledger, reconcile_clean

TODAY = clock.business_day(clock.now())
DAY_READ, DAY_CORRECTED = (TODAY - timedelta(days=n) for n in (167, 164))


def afternoon(day) -> datetime:
    return datetime.combine(day, time(13), clock.SHANGHAI)  # after the link at 12 (tests/support/days.at)


def test_a_reading_corrected_down_after_its_day_was_issued_is_deducted_once_by_the_next_issuance(
        client, stack, openid, capsys, tmp_path):
    fake, user = stack.open_partner, login(client, openid)
    with at(DAY_READ):
        user_ref = open_partners.linked(client, fake, user, GRID)
    with at(DAY_READ, hour=14):  # read at 13
        month = month_back(1)
        baseline = reading(fake, user_ref, year_before(month), 300, occurred_at=afternoon(DAY_READ))
        first = reading(fake, user_ref, month, 250, occurred_at=afternoon(DAY_READ))  # 50 kWh saved
        assert push(client, fake, [baseline, first])[1]["accepted"] == 2
    read = issue(capsys, tmp_path, DAY_READ, DAY_READ, "default")
    [earn] = [e for e in ledger(client, user) if e["source"] == GRID]
    assert (user["id"], earn["id"]) in keys(read)
    assert read["platforms"]["default"]["carbon_mg"] >= 50 * KWH_MG

    with at(DAY_CORRECTED, hour=14):  # the grid company corrects the month: 20 kWh saved
        assert push(client, fake, [{**first, "kwh": 280, "revision": 1,
                                    "occurred_at": afternoon(DAY_CORRECTED).isoformat()}])[1]["accepted"] == 1
    adjust = next(e for e in ledger(client, user) if e["source"] == GRID and e["kind"] == "adjust")
    corrected = issue(capsys, tmp_path, DAY_CORRECTED, DAY_CORRECTED, "default")
    [row] = [r for r in rows(corrected) if (r["user_id"], r["entry_id"]) == (user["id"], adjust["id"])]
    assert (row["kind"], int(row["carbon_mg"])) == ("adjust", -30 * KWH_MG)
    assert corrected["totals"]["carbon_mg"] == -30 * KWH_MG  # a deduction: the reading's net is 20 kWh's
    assert 50 * KWH_MG + int(row["carbon_mg"]) == 20 * KWH_MG

    everything = issue(capsys, tmp_path, DAY_READ, DAY_CORRECTED, "all")  # no reduction, nor deduction, twice
    assert (user["id"], adjust["id"]) not in keys(everything) and (user["id"], earn["id"]) not in keys(everything)
    assert everything["issued_elsewhere"]
    assert reconcile_clean(user) == (True, [])
