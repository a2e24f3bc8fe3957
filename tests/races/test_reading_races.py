"""Revisions of one monthly reading pushed at the same moment from several processes (domain/readings.py): the
reading item's condition (`attribute_not_exists`, then `revision = :recorded`) and the account's version let one
write win at a time, and the others read again; what the month credited in all is the highest revision's saving,
never a sum of revisions, and the ledger reconciles."""
from __future__ import annotations

import uuid

import pytest

from chalicelib.store.models import Account, LedgerEntry
from tests.integration.test_partner_readings import GRID, KWH_MG, linked, month_back, reading
from tests.integration.test_readings_across_platforms import linked_on_both, onboard_grid
from tests.support.partners import reconcile_clean
from tests.support.racer import race


def deliver(path: str, headers: dict, body: bytes) -> tuple[str, int, int]:
    from chalicelib.bootstrap import partner_uow
    from chalicelib.errors import AppError
    from chalicelib.services import webhooks

    try:
        outcome = webhooks.push(path.rsplit("/", 1)[1], headers, {}, body, partner_uow)
        return "ok", outcome.imported, outcome.duplicates
    except AppError as error:
        return error.code, 0, 0


def test_revisions_of_a_reading_racing_credit_the_highest_revision_once(client, stack, user):
    fake = stack.open_partner
    user_ref = linked(client, fake, user)
    baseline = reading(fake, user_ref, month_back(13), 300)
    first = reading(fake, user_ref, month_back(1), 250, event_id="pg_race_" + uuid.uuid4().hex[:8])
    assert deliver(*fake.webhook_request([baseline, first], partner=GRID))[0] == "ok"  # 50 kWh saved
    revisions = [{**first, "kwh": kwh, "revision": revision} for revision, kwh in ((1, 200), (2, 150), (1, 200))]
    outcomes = race(_run, [(deliver, fake.webhook_request([event], partner=GRID)) for event in revisions])
    assert [result[0] for kind, result in outcomes if kind == "ok"] == ["ok"] * 3, outcomes

    account = Account.get(user["id"], consistent_read=True)
    assert (account.points, account.carbon_mg) == (150, 150 * KWH_MG)  # revision 2: 300 - 150 kWh
    entries = [e for e in LedgerEntry.query(user["id"]) if e.source == GRID]
    assert sum(int(e.points) for e in entries) == 150 and len(entries) <= 3
    assert reconcile_clean(user)[0]


def _run(target, args):
    return target(*args)


@pytest.fixture(scope="module")
def grid_platform(stack, database, tmp_path_factory):
    return onboard_grid(stack, tmp_path_factory)


def test_a_reading_pushed_three_times_at_once_to_a_person_on_two_platforms_counts_once_on_each(
        client, stack, openid, grid_platform):
    """The month's item decides between the platforms (the holder put on `attribute_not_exists`, each other
    platform's share on the holder and the shares read): however the deliveries interleave, the person's carbon is
    the latest revision's once, and each platform's points are its own (t-grid: 2 a kWh, 60 a day at most)."""
    fake = stack.open_partner
    on_default, on_grid, user_ref = linked_on_both(client, fake, openid, grid_platform)
    assert deliver(*fake.webhook_request([reading(fake, user_ref, month_back(13), 300)], partner=GRID))[0] == "ok"
    first = reading(fake, user_ref, month_back(1), 250, event_id="pg_race2_" + uuid.uuid4().hex[:8])
    corrected = {**first, "kwh": 280, "revision": 1}  # 20 kWh saved in the end
    outcomes = race(_run, [(deliver, fake.webhook_request([event], partner=GRID))
                           for event in (first, first, corrected)])
    assert [result[0] for kind, result in outcomes if kind == "ok"] == ["ok"] * 3, outcomes

    held, shared = (Account.get(u["id"], consistent_read=True) for u in (on_default, on_grid))
    assert (held.points, held.carbon_mg) == (20, 20 * KWH_MG)
    assert (shared.points, shared.carbon_mg) == (40, 0)
    assert reconcile_clean(on_default, on_grid)[0]
