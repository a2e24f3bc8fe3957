"""python -m admin report --platform ID|all (shared/contract/platforms.md, "Operations"): a platform's report counts
its users' entries only; `all` counts every platform's, gives each platform's totals, and counts a reduction
imported on two platforms once in carbon (the second platform's entry is `counted_via` the first, with 0 carbon),
while each platform's points are its own. Every figure is the difference between a report after and one before,
on a business day nobody else writes to."""
from __future__ import annotations

import json
from datetime import datetime, time, timedelta

import pytest

from admin.__main__ import main as admin
from chalicelib.domain import clock
from infra.local.ephemeral import DEMO_PLATFORM
from tests.support.api import call, login, request_id
from tests.support.days import at, difference
from tests.support.partners import bind, phone, sync
from tests.support.persons import bind_without_route, login_on, pull
from tests.support.photos import evidence_for

DAY = clock.business_day(clock.now()) - timedelta(days=157)  # this module's day: no other test writes to it
CLEAN_PLATE = (DAY.isoformat(), "clean_plate")
BUS = (DAY.isoformat(), "bus_ride")


def report(capsys, platform: str) -> dict:
    capsys.readouterr()
    assert admin(["report", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--platform", platform,
                  "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def reports(capsys, *platforms: str) -> dict[str, dict]:
    return {platform: report(capsys, platform) for platform in platforms}


def totals_difference(after: dict, before: dict, *keys: str) -> dict:
    return {key: after[key] - before.get(key, 0) for key in keys}


def checkin(client, user: dict) -> None:
    """A clean plate, with its photo as the demo catalog requires."""
    status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "clean_plate",
                                                         **evidence_for(client, user, "clean_plate")},
                        token=user["token"])
    assert status == 201, body


def test_each_platforms_report_counts_its_own_users_and_all_counts_a_shared_ride_once(client, stack, rides, openid,
                                                                                       capsys):
    scopes = ("default", DEMO_PLATFORM, rides, "all")
    before = reports(capsys, *scopes)
    number = phone()
    with at(DAY, 8):
        on_default, on_demo, on_rides = (login(client, openid), login_on(client, openid),
                                         login_on(client, openid, rides))
        ref = bind(client, stack, on_default, "transit", number)
        bind_without_route(on_rides["id"], number)
    stack.transit.add_ride(ref, boarded_at=datetime.combine(DAY, time(9), clock.SHANGHAI))
    with at(DAY):
        checkin(client, on_default)
        checkin(client, on_demo)
        assert sync(client, on_default, "transit")[1]["imported"] == 1  # default holds the ride's carbon
        assert pull(on_rides["id"]) == {"imported": 1, "duplicates": 0, "points": 6, "carbon_mg": 0}
    after = reports(capsys, *scopes)

    ride = difference(after["default"], before["default"])[BUS]
    assert ride[:2] == (1, 80000) and ride[2] > 0
    assert difference(after["default"], before["default"]) == {CLEAN_PLATE: (1, 144000, 5), BUS: ride}
    assert difference(after[DEMO_PLATFORM], before[DEMO_PLATFORM]) == {CLEAN_PLATE: (1, 144000, 3)}
    assert difference(after[rides], before[rides]) == {BUS: (1, 0, 6)}  # counted via default: no carbon here
    assert difference(after["all"], before["all"]) == {CLEAN_PLATE: (2, 288000, 8), BUS: (2, 80000, ride[2] + 6)}
    assert [after[scope]["platform"] for scope in scopes] == list(scopes)

    # `all` gives each platform's totals; summed, they are the overall totals: carbon once, points of each
    parts = after["all"]["platforms"]
    assert {"default", DEMO_PLATFORM, rides} <= set(parts) and "platforms" not in after["default"]
    for scope in ("default", DEMO_PLATFORM, rides):
        assert parts[scope]["totals"] == after[scope]["totals"]
    for key in ("events", "carbon_mg", "points_issued", "points_spent"):
        assert sum(part["totals"][key] for part in parts.values()) == after["all"]["totals"][key]
    assert totals_difference(after["all"]["totals"], before["all"]["totals"], "events", "carbon_mg") == {
        "events": 4, "carbon_mg": 288000 + 80000}


def test_the_table_of_all_has_a_line_per_platform_and_a_platforms_table_names_it(rides, capsys):
    span = ["--from", DAY.isoformat(), "--to", DAY.isoformat()]
    capsys.readouterr()
    assert admin(["report", *span, "--platform", "all"]) == 0
    table = capsys.readouterr().out
    assert "\nby platform\n" in table and "\nplatform totals\n" in table
    lines = table.split("\nby platform\n")[1].splitlines()
    assert lines[0].split() == ["platform", "events", "carbon_g", "points", "issued", "points", "spent"]
    assert {line.split()[0] for line in lines[1:]} >= {"default", DEMO_PLATFORM, rides}
    assert admin(["report", *span, "--platform", DEMO_PLATFORM]) == 0
    table = capsys.readouterr().out
    assert f"\ntotals of {DEMO_PLATFORM}\n" in table and "by platform" not in table


@pytest.mark.parametrize("platform", ["nowhere", "ALL"])
def test_an_unknown_platform_is_a_usage_error_before_anything_is_read(platform, capsys):
    capsys.readouterr()
    assert admin(["report", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--platform", platform]) == 2
    assert f"--platform {platform}: no such platform" in capsys.readouterr().err
