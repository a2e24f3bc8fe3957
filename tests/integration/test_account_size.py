"""The account item at steady state (issue 19 item 6): every posting rewrites it, so its size is every
check-in's write cost. A person with 30 days of history, 4 behaviours a day (two check-ins, bus rides,
WeChat steps) and 2 orgs keeps it under 1 KB: a check-in is 10 write units (docs/capacity.md; the 10th is the
transparency index). Accounts written with the old spaced-JSON counters are still read, capped and carried
forward."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

from bench.measure import Recorder, table_keys
from bench.units import cost, item_size, reader
from chalicelib.domain import clock
from chalicelib.domain import posting as posting_rules
from chalicelib.domain.caps import award_day_total, award_self_reported, award_verified_event
from chalicelib.domain.posting import Posting, day_count
from chalicelib.services import catalog
from chalicelib.store.models import Account, LedgerEntry
from chalicelib.store.tx import Tx, connection
from tests.support.api import call, request_id
from tests.support.photos import evidence_for
from tests.support.reconcile import reconciled

HISTORY_DAYS = 30


def _raw_account(user_id: str) -> dict:
    return connection().client.get_item(TableName=Account.Meta.table_name, Key={"user_id": {"S": user_id}},
                                        ConsistentRead=True)["Item"]


def _steady_state(user_id: str) -> None:
    """30 days before today, each with 2 check-ins (clean_plate, no_cutlery), 2 bus rides and a step total,
    staged by the posting arithmetic every use case uses, their entries written to the ledger, then saved as
    the account (2 orgs joined): an account that reconciles, as one a month of use makes."""
    account = Account.get(user_id, consistent_read=True)
    account.orgs = [{"id": f"org-steady-{n}", "name": f"稳态测试单位{n}", "joined_at": clock.iso(clock.now())}
                    for n in range(2)]
    rules = {code: catalog.behavior(code) for code in ("clean_plate", "no_cutlery", "bus_ride", "walk_steps")}
    noon = clock.now().replace(hour=12, minute=0, second=0, microsecond=0)
    for back in range(HISTORY_DAYS, 0, -1):
        moment: datetime = noon - timedelta(days=back)
        day = clock.business_day(moment)
        awards = [("checkin", rules["clean_plate"], award_self_reported(
                      rules["clean_plate"], day_count(account, day, "clean_plate"), Decimal(1))),
                  ("checkin", rules["no_cutlery"], award_self_reported(
                      rules["no_cutlery"], day_count(account, day, "no_cutlery"), Decimal(1)))]
        for _ in range(2):
            before = day_count(account, day, "bus_ride")
            awards.append(("transit", rules["bus_ride"], award_verified_event(rules["bus_ride"], before, Decimal(1))))
            _apply(account, awards[-1:], day, moment)
            awards.pop()
        awards.append(("werun", rules["walk_steps"], award_day_total(
            rules["walk_steps"], day_count(account, day, "walk_steps"), Decimal(12345))))
        _apply(account, awards, day, moment)
    account.save()


def _apply(account: Account, awards: list, day, moment: datetime) -> None:
    for source, rule, award in awards:
        staged = posting_rules.stage(account, [Posting("earn", award.points, award.carbon_mg, source, rule.code,
                                                       rule, award.inputs, day=day, day_count=award.day)],
                                     now=moment)
        for name, value in staged.account.items():
            setattr(account, name, value)
        tx = Tx()
        for index, line in enumerate(staged.lines):
            tx.put_new(f"entry:{index}", LedgerEntry, line.values())
        tx.commit()


def test_a_checkin_at_steady_state_costs_10_write_units_and_the_account_stays_under_1_kb(client, user):
    _steady_state(user["id"])
    warm = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "no_cutlery"},
                token=user["token"])  # today's first check-in; the caches of a warm container
    assert warm[0] == 201, warm
    before = item_size(_raw_account(user["id"]))
    with Recorder() as recorder:  # a check-in without a photo (the demo catalog's clean_plate takes one)
        status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "no_cutlery"},
                            token=user["token"])
    assert status == 201, body
    calls = recorder.take()
    measured = cost(calls, table_keys(), reader(connection().client))
    after = item_size(_raw_account(user["id"]))
    print(f"\naccount item at steady state: {before} B before the check-in, {after} B after; "
          f"check-in: {measured.write_units} WRU, {measured.read_units} RRU")
    assert before <= 1024 and after <= 1024  # an update costs by the larger of the two
    assert [c.operation for c in calls] == ["GetItem", "TransactWriteItems"]
    # 4 transactional items of <= 1 KB (2 each), the ledger's by_kind copy and its by_root copy (the transparency
    # roots' index, docs/transparency.md): 10
    assert measured.write_units == 10
    assert reconciled(user)["clean"]


def _legacy_account(user_id: str, daily: dict) -> None:
    """The account as the code before issue 19 wrote it: `daily` as spaced JSON (json.dumps' default)."""
    connection().client.update_item(
        TableName=Account.Meta.table_name, Key={"user_id": {"S": user_id}},
        UpdateExpression="SET #d = :d", ExpressionAttributeNames={"#d": "daily"},
        ExpressionAttributeValues={":d": {"S": json.dumps(daily)}})


def test_an_account_written_in_the_old_form_keeps_its_caps_and_its_partner_counters(client, user):
    today = clock.business_day(clock.now())
    five_days_ago = (today - timedelta(days=5)).isoformat()
    _legacy_account(user["id"], {today.isoformat(): {"clean_plate": [3, 15, 3000, 432000],
                                                     "no_cutlery": [1, 2, 1000, 45720]},
                                 five_days_ago: {"bus_ride": [6, 60, 6000, 480000]}})
    assert _raw_account(user["id"])["daily"]["S"].startswith('{"')

    status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "clean_plate",
                                                         **evidence_for(client, user, "clean_plate")},
                        token=user["token"])
    assert (status, body["error"]["code"]) == (429, "DAILY_LIMIT_REACHED")  # today's 3 in the old form count
    status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "no_cutlery"},
                        token=user["token"])
    assert status == 201 and body["points"] == 2

    stored = _raw_account(user["id"])["daily"]["S"]
    assert not stored.startswith("{") and ", " not in stored  # written back in the short form
    daily = Account.get(user["id"], consistent_read=True).daily
    assert daily[today.isoformat()]["no_cutlery"][:1] == [2]
    assert daily[today.isoformat()]["clean_plate"][:1] == [3]  # still capped today
    assert daily[five_days_ago]["bus_ride"][:2] == [6, 60]  # a late ride of that day still meets its limit
    assert [e.behavior for e in LedgerEntry.query(user["id"])] == ["no_cutlery"]
