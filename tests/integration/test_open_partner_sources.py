"""The demo catalog's open-protocol sources besides the bike share (admin/demo_catalog.json), each pushed over HTTP
by the fake open-protocol partner playing it (infra/local/fakes.OPEN_PARTNER_IDS) and credited at its methodology's
figure (docs/methodology/): a charging network's kWh, a second-hand marketplace's items sold by category. The grid
company's monthly readings are tests/integration/test_partner_readings.py."""
from __future__ import annotations

import pytest

from tests.support.api import call, login
from tests.support.open_partners import linked, push
from tests.support.partners import ledger, me, reconcile_clean


@pytest.fixture
def fake(stack):
    stack.open_partner.faults.clear()
    return stack.open_partner


@pytest.fixture
def user(client, openid):
    return login(client, openid)


def test_the_fake_plays_every_demo_open_partner_and_the_mini_program_lists_them_with_their_behaviours(
        client, fake, user):
    assert fake.ids[0] == "bikeshare"
    partners = {p["id"]: p for p in call(client, "GET", "/v1/partners", token=user["token"])[1]["items"]}
    assert {"bikeshare", "evcharge", "powergrid", "resale"} <= set(partners)
    assert partners["powergrid"]["scopes"] == ["electricity"] and partners["powergrid"]["status"] == "unbound"
    # the page shows a link-code button for an open partner, the phone-number button for a built-in one
    assert {pid: partners[pid]["link"] for pid in ("powergrid", "bikeshare", "transit", "bank")} == {
        "powergrid": "link_code", "bikeshare": "link_code", "transit": "phone", "bank": "phone"}
    behaviours = {b["code"]: b for b in call(client, "GET", "/v1/behaviors", token=user["token"])[1]["items"]}
    for code, estimate in (("ev_charging", True), ("household_power_saving", False), ("second_hand_phone", False),
                           ("second_hand_clothing", True), ("second_hand_book", True), ("shared_bike", False)):
        assert behaviours[code]["channels"] == ["partner"]
        assert behaviours[code]["methodology"]["estimate"] is estimate, code


def test_kwh_charged_at_a_public_charger_earn_the_ev_charging_figure(client, fake, user):
    user_ref = linked(client, fake, user, "evcharge")
    session = fake.event(user_ref, type="charge_session", field="kwh", quantity=32.5)
    assert push(client, fake, [session], partner="evcharge") == (200, {"accepted": 1, "duplicates": 0, "ignored": 0})
    over = fake.event(user_ref, type="charge_session", field="kwh", quantity=151)  # above max_quantity
    assert push(client, fake, [over], partner="evcharge")[1]["ignored"] == 1
    [entry] = [e for e in ledger(client, user) if e["source"] == "evcharge"]
    assert (entry["behavior"], entry["points"]) == ("ev_charging", 20)  # 32 points, 20 a day
    assert entry["carbon_g"] == pytest.approx(32.5 * 529.573)  # petrol for 6.667 km minus the kWh at the grid
    assert (entry["methodology"]["id"], entry["methodology"]["version"]) == ("GS-ev-charging", "2026.1")
    assert reconcile_clean(user) == (True, [])


def test_items_sold_second_hand_earn_their_categorys_figure(client, fake, user):
    user_ref = linked(client, fake, user, "resale")
    sales = [fake.event(user_ref, type="phone_sold", field="items", quantity=1),
             fake.event(user_ref, type="clothing_sold", field="items", quantity=3),
             fake.event(user_ref, type="book_sold", field="items", quantity=2),
             fake.event(user_ref, type="sofa_sold", field="items", quantity=1)]  # no mapping: ignored
    assert push(client, fake, sales, partner="resale") == (200, {"accepted": 3, "duplicates": 0, "ignored": 1})
    earned = {e["behavior"]: (e["points"], e["carbon_g"]) for e in ledger(client, user) if e["source"] == "resale"}
    assert earned == {"second_hand_phone": (20, 25000), "second_hand_clothing": (6, 4500),
                      "second_hand_book": (2, 1200)}
    assert me(client, user)["points"] == 28
    assert reconcile_clean(user) == (True, [])
