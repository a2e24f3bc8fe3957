"""A busy business day of the demo catalog, through the real routes and jobs (the app's clock set to the day): the
ledger verify-ledger and the issuance's verifier are tested on. Every kind of entry that carries carbon, and some
that do not:

- check-ins: clean plates (3, the daily limit; a 4th refused), no cutlery, a parked car (a first reading: verified);
- WeChat steps: a day total grown twice, the second past the 30,000 steps `daily_quantity_max`;
- transit: 7 bus rides (the 7th past the daily limit of 6: carbon, 0 points); one counted via the rides platform;
- bank: an e-statement; a collection point's 2.5 kg of old clothes;
- a tree's first accrual day; a household's monthly reading and its correction (an `adjust` of the carbon
  difference); an operator's points adjustment (no carbon) and the tree's price (a spend, no carbon);
- an account under review: a held check-in, released by the reviewer.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from admin.__main__ import main as admin
from chalicelib import bootstrap
from chalicelib.domain import clock
from chalicelib.domain.readings import year_before
from chalicelib.services import accrual
from chalicelib.store.trees import Adoption
from tests.support import open_partners
from tests.support.api import call, login, request_id
from tests.support.days import at
from tests.support.market import give_points, new_merchant, staff_login
from tests.support.partners import bind, phone, sync
from tests.support.persons import bind_without_route, login_on, pull
from tests.support.photos import evidence_for
from tests.support.steps import werun

GRID = "powergrid"


def checkin(client, user: dict, behavior: str, expect: int = 201, **fields) -> dict:
    status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": behavior,
                                                         **evidence_for(client, user, behavior), **fields},
                        token=user["token"])
    assert status == expect, body
    return body


def _month_back(day: date, months: int) -> str:
    year, index = divmod(day.year * 12 + day.month - 1 - months, 12)
    return f"{year:04d}-{index + 1:02d}"


def fill(client, stack, day: date, rides: str | None = None) -> list[dict]:
    """Makes the busy day; returns its users (to reconcile). `rides`: the rides platform, for a ride counted via."""
    tag = uuid.uuid4().hex[:10]
    alice, bob = login(client, f"o-busy-a-{tag}"), login(client, f"o-busy-b-{tag}")
    users = [alice, bob]
    _, staff_openids = new_merchant(1, collection_point=True)
    staff = staff_login(client, staff_openids[0])
    number = phone()
    with at(day - timedelta(days=1), 9):
        give_points(alice, 1000)
    with at(day, 6):
        transit_ref = bind(client, stack, alice, "transit", number)
        bank_ref = bind(client, stack, alice, "bank")
        if rides:
            on_rides = login_on(client, f"o-busy-a-{tag}", rides)
            bind_without_route(on_rides["id"], number)
            users.append(on_rides)
        user_ref = open_partners.linked(client, stack.open_partner, alice, GRID)
    with at(day - timedelta(days=1), 10):  # the tree's price is spent the day before
        status, body = call(client, "POST", "/v1/trees/t-dawn-redwood-2026/adopt", {"request_id": request_id()},
                            token=alice["token"])
        assert status == 201, body
        adoption_id = body["adoption"]["id"]
    with at(day, 9):
        for _ in range(3):
            checkin(client, alice, "clean_plate")
        checkin(client, alice, "clean_plate", expect=429)
        checkin(client, alice, "no_cutlery")
        checkin(client, alice, "green_parking", quantity=1, evidence={"odometer_km": 1000})
        assert werun(client, stack, alice, {0: 12345})[0] == 200
        assert werun(client, stack, alice, {0: 41000})[0] == 200  # past the 30,000 steps a day count
        for n in range(7):
            stack.transit.add_ride(transit_ref, boarded_at=datetime.combine(day, time(7, n), clock.SHANGHAI))
        if rides:
            pulled = pull(on_rides["id"])
            assert pulled["imported"] == 7, pulled  # the rides platform holds their carbon first
        assert sync(client, alice, "transit")[1]["imported"] == 7
        stack.bank.add_event(bank_ref, occurred_at=datetime.combine(day, time(8), clock.SHANGHAI))
        assert sync(client, alice, "bank")[0] == 200
        code = call(client, "GET", "/v1/me/member-code", token=alice["token"])[1]["member_code"]
        status, body = call(client, "POST", "/v1/operator/credit", {"request_id": request_id(), "member_code": code,
                                                                     "behavior": "old_clothes", "quantity": 2.5},
                            token=staff["token"])
        assert status == 201, body
    with at(day, 14):
        month = _month_back(day, 1)
        read = datetime.combine(day, time(13), clock.SHANGHAI)
        fake = stack.open_partner
        baseline = fake.event(user_ref, type="monthly_usage", field="kwh", quantity=300, month=year_before(month),
                              event_id=f"pg_{tag}_base", occurred_at=read)
        first = fake.event(user_ref, type="monthly_usage", field="kwh", quantity=250, month=month,
                           event_id=f"pg_{tag}_month", occurred_at=read)
        assert open_partners.push(client, fake, [baseline, first], partner=GRID)[1]["accepted"] == 2
        correction = {**first, "kwh": 280, "revision": 1}
        assert open_partners.push(client, fake, [correction], partner=GRID)[1]["accepted"] == 1
    with at(day, 15):
        adoption = bootstrap.trees_uow().adoptions.get_many([adoption_id])
        accrual.accrue_user(alice["id"], adoption, day, bootstrap.trees_uow())
        Adoption(adoption_id).update(actions=[Adoption.accrual_shard.remove()])  # no accrual by other tests' runs
        assert admin(["risk", "flag", bob["id"], "--reason", "test: busy day", "--json"]) == 0
        held = checkin(client, bob, "no_cutlery")
        assert held["entry"]["kind"] == "held", held
        assert admin(["risk", "release", bob["id"], "--reason", "test: looked at", "--yes", "--json"]) == 0
    with at(day, 16):
        give_points(alice, 5)  # an operator's points adjustment: no carbon
    return users
