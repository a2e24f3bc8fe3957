"""Issuance per platform and for all (shared/contract/platforms.md rule 5): `python -m admin issuance --platform P`
issues P's users' reductions into P's registry, `--platform all` every platform's; within a scope an overlapping
period is refused, across scopes no reduction is issued twice (each issued entry's marker), and each entries file
names exactly the entries its issuance issued, once.

Entries are made on business days of the past that no test before this module writes to (the app's clock is set
to that day while they are made): days 128 to 148 ago. Not the last 30 days (test_account_size's history), no
multiple of 9 days (test_fold_catch_up's year of entries), none of test_admin_reports' or test_account_deletion's
days; the tree tests' year of accruals comes later in the suite. A user who checks in on two of these days does so
in time order (entry ids follow the clock, and `reconcile` reads the newest entry's balance)."""
from __future__ import annotations

import itertools
import json
import threading
from datetime import date, datetime, time, timedelta

import pytest

from admin.__main__ import main as admin
from chalicelib.domain import clock
from chalicelib.store.failures import Unavailable
from chalicelib.store.issuance import REGISTRY, IssuanceRecord, IssuedEntry
from chalicelib.store.models import LedgerEntry
from infra.local.ephemeral import DEMO_PLATFORM
from tests.support.api import call, login, request_id
from tests.support.days import at
from tests.support.issued import rows_of
from tests.support.partners import bind, phone, sync
from tests.support.persons import bind_without_route, login_on, pull
from tests.support.photos import evidence_for

TODAY = clock.business_day(clock.now())
DAY_ALL, DAY_HELD_BY_P, DAY_HELD_BY_DEFAULT = (TODAY - timedelta(days=n) for n in (128, 130, 131))
DAY_TWICE, DAY_AFTER_ALL, DAY_FILES, DAY_CRASH, DAY_BEFORE = (TODAY - timedelta(days=n)
                                                               for n in (137, 133, 140, 146, 148))


def checkin(client, user: dict, behavior: str = "clean_plate") -> str:
    """A check-in (a clean plate, rewarded on both demo platforms, with its photo as the demo catalog requires)."""
    status, body = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": behavior,
                                                         **evidence_for(client, user, behavior)},
                        token=user["token"])
    assert status == 201, body
    return body["entry"]["id"]


def issue(capsys, tmp_path, first: date, last: date, platform: str, status: int = 0) -> dict | str:
    """`issuance --platform ...` with --yes: its JSON summary, or its stderr when it fails."""
    name = f"{platform}-{first}-{last}"
    capsys.readouterr()
    assert admin(["issuance", "--from", first.isoformat(), "--to", last.isoformat(), "--platform", platform,
                  "--out", str(tmp_path / f"{name}.json"), "--yes", "--json"]) == status
    captured = capsys.readouterr()
    return json.loads(captured.out) if status == 0 else captured.err


def rows(doc: dict) -> list[dict]:
    """The entries file's rows, with the user of each entry (tests/support/issued.py: the file names none)."""
    return rows_of(doc["files"]["entries"]["path"])


def keys(doc: dict) -> list[tuple[str, str]]:
    return [(row["user_id"], row["entry_id"]) for row in rows(doc)]


def holding(day: date, *users: dict) -> dict[tuple[str, str], int]:
    """The users' reductions of `day` that hold their carbon: {(user id, entry id): carbon_mg}."""
    return {(e.user_id, e.entry_id): int(e.carbon_mg) for user in users
            for e in LedgerEntry.query(user["id"], consistent_read=True)
            if e.day == day.isoformat() and int(e.carbon_mg) > 0 and not e.counted_via}


def marker_of(key: tuple[str, str]) -> str | None:
    try:
        return IssuedEntry.get(*IssuedEntry.key_of(*key), consistent_read=True).issuance
    except IssuedEntry.DoesNotExist:
        return None


def period(day: date, last: date | None = None) -> str:
    return f"{day}..{last or day}"


def test_all_leaves_out_what_a_platform_issued_and_together_they_issue_every_reduction_once(client, openid,
                                                                                          capsys, tmp_path):
    alice, alice_at_work = login(client, openid), login_on(client, openid)  # one person on two platforms
    bob = login_on(client, "o-bob-" + openid)
    with at(DAY_ALL):
        checkin(client, alice), checkin(client, alice, "no_cutlery"), checkin(client, alice_at_work)
        checkin(client, bob), checkin(client, bob)
    every = holding(DAY_ALL, alice, alice_at_work, bob)

    first = issue(capsys, tmp_path, DAY_ALL, DAY_ALL, "default")
    assert set(keys(first)) == {key for key in every if key[0] == alice["id"]}
    assert first["platforms"] == {"default": {"entries": 2, "carbon_mg": 144000 + 45720, "carbon_g": 189.72}}
    everything = issue(capsys, tmp_path, DAY_ALL, DAY_ALL, "all")
    assert set(keys(everything)) == {key for key in every if key[0] != alice["id"]}  # A's are left out
    assert everything["platforms"] == {DEMO_PLATFORM: {"entries": 3, "carbon_mg": 3 * 144000, "carbon_g": 432.0}}
    assert everything["issued_elsewhere"] == {f"{REGISTRY}/{period(DAY_ALL)}": 2}
    assert everything["registry"] == f"{REGISTRY}#all" and everything["platform"] == "all"

    assert first["totals"]["carbon_mg"] + everything["totals"]["carbon_mg"] == sum(every.values())
    assert sorted(keys(first) + keys(everything)) == sorted(every)  # each reduction once
    for doc in (first, everything):
        record = IssuanceRecord.get(doc["registry"], period(DAY_ALL), consistent_read=True)
        assert (record.state, int(record.carbon_mg)) == ("issued", doc["totals"]["carbon_mg"])
        assert {marker_of(key) for key in keys(doc)} == {f"{doc['registry']}/{period(DAY_ALL)}"}


@pytest.fixture
def rider(client, stack, openid, rides):
    """One person bound to one bus account on `default` and on the rides platform, from 8 o'clock of the days
    below."""
    users = {}
    for day in (DAY_HELD_BY_P, DAY_HELD_BY_DEFAULT):
        number, on_default, on_rides = phone(), login(client, f"{openid}-{day}"), login_on(client, f"{openid}-{day}",
                                                                                            rides)
        with at(day, 8):
            ref = bind(client, stack, on_default, "transit", number)
            bind_without_route(on_rides["id"], number)
        users[day] = (on_default, on_rides, ref)
    return users


def ride(client, stack, users, day: date, first_on_rides: bool) -> None:
    on_default, on_rides, ref = users
    stack.transit.add_ride(ref, boarded_at=datetime.combine(day, time(9), clock.SHANGHAI))
    with at(day):
        if first_on_rides:
            assert pull(on_rides["id"])["carbon_mg"] == 80000
        assert sync(client, on_default, "transit")[1]["imported"] == 1
        if not first_on_rides:
            assert pull(on_rides["id"]) == {"imported": 1, "duplicates": 0, "points": 6, "carbon_mg": 0}


def test_a_ride_imported_on_two_platforms_is_issued_once_by_the_platform_holding_it(client, stack, rides, rider,
                                                                                    capsys, tmp_path):
    ride(client, stack, rider[DAY_HELD_BY_P], DAY_HELD_BY_P, first_on_rides=True)
    on_default, on_rides, _ = rider[DAY_HELD_BY_P]
    [counted_via] = [e for e in LedgerEntry.query(on_default["id"]) if e.day == DAY_HELD_BY_P.isoformat()]
    assert (counted_via.counted_via, int(counted_via.carbon_mg)) == (rides, 0)

    assert keys(issue(capsys, tmp_path, DAY_HELD_BY_P, DAY_HELD_BY_P, "default")) == []  # it holds no carbon
    held = issue(capsys, tmp_path, DAY_HELD_BY_P, DAY_HELD_BY_P, rides)
    assert keys(held) == list(holding(DAY_HELD_BY_P, on_rides)) and held["registry"] == f"{REGISTRY}#{rides}"
    assert held["platforms"] == {rides: {"entries": 1, "carbon_mg": 80000, "carbon_g": 80.0}}
    assert [row["platform"] for row in rows(held)] == [rides]
    everything = issue(capsys, tmp_path, DAY_HELD_BY_P, DAY_HELD_BY_P, "all")
    assert keys(everything) == []
    assert everything["issued_elsewhere"] == {f"{REGISTRY}#{rides}/{period(DAY_HELD_BY_P)}": 1}

    ride(client, stack, rider[DAY_HELD_BY_DEFAULT], DAY_HELD_BY_DEFAULT, first_on_rides=False)
    on_default, on_rides, _ = rider[DAY_HELD_BY_DEFAULT]
    everything = issue(capsys, tmp_path, DAY_HELD_BY_DEFAULT, DAY_HELD_BY_DEFAULT, "all")
    assert keys(everything) == list(holding(DAY_HELD_BY_DEFAULT, on_default, on_rides))  # the one of `default`
    assert [row["platform"] for row in rows(everything)] == ["default"]
    assert everything["platforms"] == {"default": {"entries": 1, "carbon_mg": 80000, "carbon_g": 80.0}}
    assert keys(issue(capsys, tmp_path, DAY_HELD_BY_DEFAULT, DAY_HELD_BY_DEFAULT, rides)) == []


def test_an_overlapping_period_is_refused_within_a_scope_and_default_after_all_issues_nothing_twice(
        client, openid, capsys, tmp_path):
    worker, someone = login_on(client, openid), login(client, "o-else-" + openid)
    with at(DAY_TWICE):
        checkin(client, worker)
    with at(DAY_AFTER_ALL):
        checkin(client, worker), checkin(client, someone), checkin(client, someone, "no_cutlery")

    issued = issue(capsys, tmp_path, DAY_TWICE, DAY_TWICE, DEMO_PLATFORM)
    assert keys(issued) == list(holding(DAY_TWICE, worker))
    assert IssuanceRecord.get(f"{REGISTRY}#{DEMO_PLATFORM}", period(DAY_TWICE)).scope == DEMO_PLATFORM
    refused = issue(capsys, tmp_path, DAY_TWICE - timedelta(days=1), DAY_TWICE, DEMO_PLATFORM, status=1)
    assert f"overlaps issued period {period(DAY_TWICE)}" in refused
    assert not (tmp_path / f"{DEMO_PLATFORM}-{DAY_TWICE - timedelta(days=1)}-{DAY_TWICE}.json").exists()

    everything = issue(capsys, tmp_path, DAY_AFTER_ALL, DAY_AFTER_ALL, "all")
    assert sorted(keys(everything)) == sorted(holding(DAY_AFTER_ALL, worker, someone))
    assert set(everything["platforms"]) == {"default", DEMO_PLATFORM}
    assert everything["totals"]["carbon_mg"] == sum(p["carbon_mg"] for p in everything["platforms"].values())
    again = issue(capsys, tmp_path, DAY_AFTER_ALL - timedelta(days=1), DAY_AFTER_ALL, "default")  # its own registry
    assert keys(again) == [] and again["totals"]["carbon_mg"] == 0
    assert again["issued_elsewhere"] == {f"{REGISTRY}#all/{period(DAY_AFTER_ALL)}": 2}
    assert {x["reason"] for x in again["excluded"]} == {"issued_elsewhere"}
    assert "overlaps issued period" in issue(capsys, tmp_path, DAY_AFTER_ALL, DAY_AFTER_ALL, "all", status=1)


def test_each_issued_entry_is_listed_once_across_every_scope(client, openid, rides, capsys, tmp_path):
    people = [login(client, openid), login_on(client, openid), login_on(client, "o-w-" + openid),
              login(client, "o-d-" + openid)]
    with at(DAY_FILES):
        for user in people:
            checkin(client, user), checkin(client, user, "no_cutlery")
    docs = [issue(capsys, tmp_path, DAY_FILES, DAY_FILES, DEMO_PLATFORM),
            issue(capsys, tmp_path, DAY_FILES - timedelta(days=1), DAY_FILES, "all"),
            issue(capsys, tmp_path, DAY_FILES, DAY_FILES + timedelta(days=1), "default"),
            issue(capsys, tmp_path, DAY_FILES, DAY_FILES, rides)]
    listed = [key for doc in docs for key in keys(doc)]
    assert sorted(listed) == sorted(holding(DAY_FILES, *people))  # every one, once
    assert [len(keys(doc)) for doc in docs] == [4, 4, 0, 0]
    for doc in docs:
        assert doc["entries_file"]["rows"] == len(keys(doc)) == doc["totals"]["entries"]


def test_a_console_dying_half_way_loses_nothing_and_its_re_run_finishes_the_issuance(client, openid, capsys,
                                                                                    tmp_path, monkeypatch):
    alice, worker = login(client, openid), login_on(client, "o-w-" + openid)
    with at(DAY_CRASH):
        checkin(client, alice), checkin(client, alice), checkin(client, alice, "no_cutlery"), checkin(client, worker)
    every = holding(DAY_CRASH, alice, worker)
    from admin import issuance_marks

    real, calls, lock = issuance_marks.mark, itertools.count(), threading.Lock()

    def dies_after_one(*args):
        with lock:
            n = next(calls)
        if n > 0:
            raise Unavailable()
        return real(*args)

    monkeypatch.setattr(issuance_marks, "mark", dies_after_one)
    assert "run the same command again" in issue(capsys, tmp_path, DAY_CRASH, DAY_CRASH, "default", status=1)
    monkeypatch.setattr(issuance_marks, "mark", real)
    record = IssuanceRecord.get(REGISTRY, period(DAY_CRASH), consistent_read=True)
    assert record.state == "issuing" and record.carbon_mg is None
    assert not (tmp_path / f"default-{DAY_CRASH}-{DAY_CRASH}.json").exists()
    marked = [key for key in every if marker_of(key)]
    assert len(marked) == 1
    assert "unfinished" in issue(capsys, tmp_path, DAY_CRASH, DAY_CRASH + timedelta(days=1), "default", status=1)

    everything = issue(capsys, tmp_path, DAY_CRASH, DAY_CRASH, "all")  # meanwhile: takes all but the marked one
    assert sorted(keys(everything)) == sorted(key for key in every if key not in marked)
    (tmp_path / f"default-{DAY_CRASH}-{DAY_CRASH}.json").unlink(missing_ok=True)
    finished = issue(capsys, tmp_path, DAY_CRASH, DAY_CRASH, "default")
    assert finished["issuance"]["resumed"] is True and keys(finished) == marked
    assert finished["issued_elsewhere"] == {f"{REGISTRY}#all/{period(DAY_CRASH)}": 2}
    record = IssuanceRecord.get(REGISTRY, period(DAY_CRASH), consistent_read=True)
    assert (record.state, int(record.carbon_mg)) == ("issued", every[marked[0]])
    assert sorted(keys(finished) + keys(everything)) == sorted(every)


def test_a_period_issued_before_platforms_is_refused_in_every_scope(capsys, tmp_path):
    IssuanceRecord(REGISTRY, period(DAY_BEFORE), first_day=DAY_BEFORE.isoformat(), last_day=DAY_BEFORE.isoformat(),
                   issued_at="2026-01-01T00:00:00+08:00", entries=0, carbon_mg=0).save()  # as written then
    for scope in ("all", DEMO_PLATFORM):
        assert "before platforms" in issue(capsys, tmp_path, DAY_BEFORE, DAY_BEFORE, scope, status=1)
    assert "overlaps issued period" in issue(capsys, tmp_path, DAY_BEFORE, DAY_BEFORE, "default", status=1)


def test_an_unknown_platform_is_a_usage_error(capsys, tmp_path):
    assert "no such platform" in issue(capsys, tmp_path, DAY_BEFORE, DAY_BEFORE, "no-such-platform", status=2)
