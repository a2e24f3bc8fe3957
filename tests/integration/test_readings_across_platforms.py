"""Monthly readings on every platform of a person (docs/platforms.md rule 2; domain/readings.py) over HTTP, from the
fake grid company `powergrid`: the carbon of a month is recorded once, on the first platform to record it; each
other platform linked to the same household account earns its own points under its own caps, `counted_via` the
holder; a correction adjusts each platform's points and the carbon once, and a correction's points respect its
day's caps.

The platform `t-grid` rewards household_power_saving with 2 points a kWh and at most 60 points a day (a capped
behaviour: the demo catalog's has no cap)."""
from __future__ import annotations

import pytest

from tests.integration.test_partner_readings import GRID, KWH_MG, grid_entries, month_back, push, reading
from tests.support import open_partners
from tests.support.api import call, login
from tests.support.partners import me, reconcile_clean
from tests.support.persons import login_on

GRID_PLATFORM, DAY_MAX = "t-grid", 60


@pytest.fixture
def fake(stack):
    stack.open_partner.faults.clear()
    return stack.open_partner


@pytest.fixture(scope="module")
def grid_platform(stack, database, tmp_path_factory):
    return onboard_grid(stack, tmp_path_factory)


def onboard_grid(stack, tmp_path_factory) -> str:
    """The platform t-grid, onboarded as docs/platforms.md says (a catalog load and a secret)."""
    from tests.support.persons import _onboard

    return _onboard(stack, tmp_path_factory.mktemp("grid"), {
        "id": GRID_PLATFORM, "name": "节电平台", "wechat_appid": "wx-t-grid",
        "branding": {"name": "节电平台", "slogan": "节电", "primary_color": "#335577", "logo_url": None},
        "behaviors": [{"code": "household_power_saving", "points": {"points": 2, "per": 1},
                       "daily_points_max": DAY_MAX}], "partners": [GRID]}, "test-grid-secret")


def linked_on_both(client, fake, openid, platform) -> tuple[dict, dict, str]:
    """The person's `default` user and their user of `platform`, both linked to one household account."""
    on_default, on_grid = login(client, openid), login_on(client, openid, platform)
    user_ref = open_partners.linked(client, fake, on_default, GRID)
    status, issued = open_partners.link_code(client, on_grid, GRID)
    assert status == 201 and open_partners.link(client, fake, issued["link_code"], user_ref, partner=GRID)[0] == 200
    return on_default, on_grid, user_ref


def amounts(client, user) -> list[tuple]:
    return [(e["kind"], e["points"], e["carbon_g"], e["counted_via"]) for e in grid_entries(client, user)]


def kwh(n) -> float:
    return pytest.approx(n * KWH_MG / 1000)


def test_a_reading_counts_on_each_platform_its_carbon_once_and_corrections_adjust_each(
        client, fake, openid, grid_platform):
    on_default, on_grid, user_ref = linked_on_both(client, fake, openid, grid_platform)
    assert push(client, fake, [reading(fake, user_ref, month_back(13), 300)])[1]["accepted"] == 1
    first = reading(fake, user_ref, month_back(1), 250)  # 50 kWh saved
    assert push(client, fake, [first]) == (200, {"accepted": 1, "duplicates": 0, "ignored": 0})
    assert amounts(client, on_default) == [("earn", 50, kwh(50), None)]
    assert amounts(client, on_grid) == [("earn", DAY_MAX, 0, "default")]  # 100 points, 60 a day at most
    assert push(client, fake, [first]) == (200, {"accepted": 0, "duplicates": 1, "ignored": 0})

    down = {**first, "kwh": 280, "revision": 1}  # 20 kWh saved: worth 20 on default, 40 on t-grid
    assert push(client, fake, [down]) == (200, {"accepted": 1, "duplicates": 0, "ignored": 0})
    assert amounts(client, on_default)[-1] == ("adjust", -30, kwh(-30), None)
    assert amounts(client, on_grid)[-1] == ("adjust", -20, 0, "default")

    up = {**first, "kwh": 260, "revision": 2}  # 40 kWh saved: worth 80 on t-grid, whose day is at 60 of 60 points
    assert push(client, fake, [up]) == (200, {"accepted": 1, "duplicates": 0, "ignored": 0})
    assert amounts(client, on_default)[-1] == ("adjust", 20, kwh(20), None)
    assert len(amounts(client, on_grid)) == 2  # no room left today on t-grid: the correction earns nothing there

    assert (me(client, on_default)["points"], me(client, on_default)["carbon_g"]) == (40, kwh(40))
    assert (me(client, on_grid)["points"], me(client, on_grid)["carbon_g"]) == (40, 0)
    assert me(client, on_grid)["person_carbon_g"] == kwh(40)  # the latest revision's carbon, once
    assert reconcile_clean(on_default, on_grid) == (True, [])


def test_a_platform_that_records_a_month_first_holds_its_carbon_and_default_imports_its_correction(
        client, fake, openid, grid_platform):
    on_grid = login_on(client, openid, grid_platform)
    user_ref = open_partners.linked(client, fake, on_grid, GRID)
    push(client, fake, [reading(fake, user_ref, month_back(13), 300)])
    first = reading(fake, user_ref, month_back(1), 290)  # 10 kWh saved
    push(client, fake, [first])
    assert amounts(client, on_grid) == [("earn", 20, kwh(10), None)]

    on_default = login(client, openid)
    status, issued = open_partners.link_code(client, on_default, GRID)
    assert status == 201 and open_partners.link(client, fake, issued["link_code"], user_ref, partner=GRID)[0] == 200
    # the month read before default's link is not default's to count; its correction, settled now, is
    corrected = {**first, "kwh": 295, "revision": 1, "occurred_at": fake.event(user_ref)["occurred_at"]}
    assert push(client, fake, [corrected]) == (200, {"accepted": 1, "duplicates": 0, "ignored": 0})  # 5 kWh saved
    assert amounts(client, on_grid)[-1] == ("adjust", -10, kwh(-5), None)
    assert amounts(client, on_default) == [("earn", 5, 0, GRID_PLATFORM)]
    assert push(client, fake, [corrected]) == (200, {"accepted": 0, "duplicates": 1, "ignored": 0})
    assert me(client, on_default)["person_carbon_g"] == kwh(5)
    assert reconcile_clean(on_default, on_grid) == (True, [])


def test_a_corrections_points_respect_its_days_cap_and_a_correction_down_takes_back_only_what_was_credited(
        client, fake, openid, grid_platform):
    on_grid = login_on(client, openid, grid_platform)
    user_ref = open_partners.linked(client, fake, on_grid, GRID)
    push(client, fake, [reading(fake, user_ref, month_back(13), 300)])
    first = reading(fake, user_ref, month_back(1), 280)  # 20 kWh saved: 40 points
    push(client, fake, [first])
    up = {**first, "kwh": 250, "revision": 1}  # 50 kWh saved: worth 100, 60 more, 20 left under today's cap
    assert push(client, fake, [up])[1]["accepted"] == 1
    assert amounts(client, on_grid)[-1] == ("adjust", DAY_MAX - 40, kwh(30), None)  # the carbon in full
    down = {**first, "kwh": 275, "revision": 2}  # 25 kWh saved: worth 50, 60 credited
    assert push(client, fake, [down])[1]["accepted"] == 1
    assert amounts(client, on_grid)[-1] == ("adjust", -10, kwh(-25), None)
    assert (me(client, on_grid)["points"], me(client, on_grid)["carbon_g"]) == (50, kwh(25))
    assert reconcile_clean(on_grid) == (True, [])


def stored(user_ref: str, *months: str) -> list[str]:
    """The months of `user_ref`'s readings the grid company sent that are still stored."""
    from chalicelib.store.partners import PartnerReading

    return [m for m in months if PartnerReading.count(f"{GRID}#{user_ref}#{m}", consistent_read=True)]


def test_erasing_the_last_user_holding_a_household_account_deletes_its_readings(client, fake, openid, grid_platform):
    """Erasure (docs/privacy.md): the readings are keyed by the partner's user_ref; they go once the partner has
    confirmed the revocation and no user of the person holds the account any more, found by key (no scan)."""
    on_default, on_grid, user_ref = linked_on_both(client, fake, openid, grid_platform)
    months = (month_back(13), month_back(1))
    push(client, fake, [reading(fake, user_ref, months[0], 300), reading(fake, user_ref, months[1], 250)])
    assert stored(user_ref, *months) == list(months)
    confirm = {"confirm": "DELETE"}
    assert call(client, "DELETE", "/v1/me", confirm, token=on_grid["token"])[0] == 200
    assert stored(user_ref, *months) == list(months)  # default still holds the household account: its readings
    assert amounts(client, on_default) == [("earn", 50, kwh(50), None)]

    assert call(client, "DELETE", "/v1/me", confirm, token=on_default["token"])[0] == 200
    assert {"partner": GRID, "user_ref": user_ref} in [{k: r[k] for k in ("partner", "user_ref")}
                                                       for r in fake.revocations()]  # the partner confirmed
    assert stored(user_ref, *months) == []
    assert reconcile_clean(on_default, on_grid) == (True, [])
