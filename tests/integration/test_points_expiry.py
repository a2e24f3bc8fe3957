"""Points expire by lot, oldest first, at the end of the year after they came in: the right points on the right
day, one `expire` entry per account and year however often the job runs, `reconcile` clean, and GET /v1/me
saying how many points expire when."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from admin.__main__ import main as admin
from chalicelib import jobs
from chalicelib.domain import clock
from chalicelib.scheduling import Slice
from chalicelib.services import points_expiry
from chalicelib.store.privacy import SHARDS, AccountShard, expiry_marker, shard_of
from tests.support.api import call, login, request_id
from tests.support.market import give_points, load_catalog, new_goods, redeem
from tests.support.partners import reconcile_clean
from tests.support.photos import evidence_for
from tests.support.privacy import clock_at, shanghai


def person(client) -> dict:
    return login(client, "o-" + uuid.uuid4().hex[:16])


def me(client, user) -> dict:
    status, body = call(client, "GET", "/v1/me", token=user["token"])
    assert status == 200, body
    return body


def expiries(client, user) -> list[dict]:
    status, body = call(client, "GET", "/v1/me/ledger?kind=expire&limit=100", token=user["token"])
    assert status == 200, body
    return body["items"]


def test_the_unspent_points_of_a_year_expire_at_the_end_of_the_next_year_and_not_a_second_earlier(client):
    user = person(client)
    with clock_at(shanghai("2024-03-01T12:00:00")):
        give_points(user, 100)
        status, _ = call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "clean_plate",
                                                          **evidence_for(client, user, "clean_plate")},
                         token=user["token"])
        assert status == 201  # 105 points came in during 2024 (a clean plate's 5)
    with clock_at(shanghai("2025-06-01T12:00:00")):
        give_points(user, 50)  # 50 in 2025
        goods = new_goods(points_price=30)
        assert redeem(client, user, goods["id"])[0] == 201  # taken from 2024's lot: 75 of it are left
    with clock_at(shanghai("2025-12-31T12:00:00")):
        assert me(client, user)["points_expiring"] == {"points": 75, "on": "2025-12-31"}
    with clock_at(shanghai("2025-12-31T23:59:50")):
        points_expiry.run(clock.now(), force=True)
        assert me(client, user)["points"] == 125 and expiries(client, user) == []
    with clock_at(shanghai("2026-01-01T00:00:00")):
        first = points_expiry.run(clock.now(), force=True)
        again = points_expiry.run(clock.now(), force=True)
        profile = me(client, user)
    (entry,) = expiries(client, user)
    assert (entry["points"], entry["balance_after"], entry["source"], entry["ref"]) == (-75, 50, "admin",
                                                                                      "points-expiry#2024")
    assert first["year"] == 2024 and first["points"] >= 75 and again["expired_accounts"] == 0
    assert (profile["points"], profile["points_expiring"]) == (50, {"points": 50, "on": "2026-12-31"})
    assert reconcile_clean(user) == (True, [])


def test_the_scheduled_job_expires_each_account_once_a_year_and_marks_its_shards(client):
    user = person(client)
    with clock_at(shanghai("2025-05-05T09:00:00")):
        give_points(user, 40)
    with clock_at(shanghai("2026-02-02T09:00:00")):
        give_points(user, 10)
    with AccountShard.batch_write() as batch:  # a fresh year 2025 for this test, whatever ran before it
        for shard in range(SHARDS):
            batch.delete(expiry_marker(shard, 2025))
    job = jobs.job_named("expire-points")
    with clock_at(shanghai("2027-01-01T00:00:05")):
        done = job.run(clock.now())
        repeated = job.run(clock.now())
        piece = job.run_slice(Slice(job.name, clock.now(), shard_of(user["id"])), lambda: False)
    assert done["year"] == 2025 and done["expired_accounts"] >= 1 and done["failed"] == 0
    assert repeated["shards_skipped"] == SHARDS and repeated["accounts"] == 0  # one read, nothing else
    assert piece.counts == {**piece.counts, "shards_skipped": 1} and piece.cursor is None  # an AWS worker too
    assert [e["points"] for e in expiries(client, user)] == [-40]
    assert me(client, user)["points"] == 10
    assert job.schedule == "cron(0 16 * * ? *)"  # 00:00 Asia/Shanghai, like tree accrual


def test_two_runs_at_once_expire_an_account_once(client):
    user = person(client)
    with clock_at(shanghai("2024-08-08T08:00:00")):
        give_points(user, 30)
    with clock_at(shanghai("2026-01-01T00:10:00")), ThreadPoolExecutor(max_workers=4) as pool:
        expired = list(pool.map(lambda _: points_expiry.expire_account(user["id"], 2024), range(4)))
    assert sorted(expired) == [0, 0, 0, 30]
    assert [e["points"] for e in expiries(client, user)] == [-30]
    assert reconcile_clean(user) == (True, [])


def test_refunded_points_live_as_long_as_points_of_the_year_they_came_back(client):
    user = person(client)
    with clock_at(shanghai("2024-04-04T10:00:00")):
        give_points(user, 100)
    with clock_at(shanghai("2025-03-03T10:00:00")):
        goods = new_goods(points_price=100, valid_days=400, cancellable=True)
        status, body = redeem(client, user, goods["id"])
        assert status == 201
    with clock_at(shanghai("2026-01-01T00:00:00")):
        assert points_expiry.expire_account(user["id"], 2024) == 0  # all of 2024's points were spent
    with clock_at(shanghai("2026-02-02T10:00:00")):
        cancel = f"/v1/me/redemptions/{body['redemption']['id']}/cancel"
        assert call(client, "POST", cancel, token=user["token"])[0] == 200  # 100 points back in 2026
    with clock_at(shanghai("2027-01-01T00:00:00")):
        assert points_expiry.expire_account(user["id"], 2025) == 0
        assert me(client, user)["points_expiring"] == {"points": 100, "on": "2027-12-31"}


def test_the_catalog_can_say_points_never_expire(client):
    user = person(client)
    with clock_at(shanghai("2024-01-10T10:00:00")):
        give_points(user, 20)
    load_catalog({"points": {"expire_after_years": None}})
    try:
        assert me(client, user)["points_expiring"] == {"points": 0, "on": None}
        with clock_at(shanghai("2027-01-01T00:00:00")):
            assert points_expiry.run(clock.now(), force=True)["policy"] == "never"
        assert me(client, user)["points"] == 20
    finally:
        load_catalog({"points": {"expire_after_years": 1}})
    assert me(client, user)["points_expiring"]["points"] == 20


def test_the_console_expires_a_due_year_refuses_an_early_one_and_is_audited(client, capsys):
    user = person(client)
    with clock_at(shanghai("2024-11-11T11:00:00")):
        give_points(user, 25)
    with clock_at(shanghai("2026-03-03T10:00:00")):
        assert admin(["expire-points", "--year", "2025", "--yes"]) == 1  # 2025's lots are due only in 2027
        assert admin(["expire-points", "--year", "2024", "--dry-run"]) == 0
        assert me(client, user)["points"] == 25
        assert admin(["expire-points", "--year", "2024"]) == 1  # no terminal to confirm: refused without --yes
        assert admin(["expire-points", "--year", "2024", "--yes"]) == 0
        assert admin(["audit", "--json"]) == 0
    assert [e["points"] for e in expiries(client, user)] == [-25]
    assert "expire-points" in capsys.readouterr().out


@pytest.mark.parametrize("bad", [{"expire_after_years": -1}, {"expire_after_years": "1"}, {"after": 1}, [1]])
def test_a_points_policy_that_means_nothing_is_refused_by_the_loader(bad, capsys):
    from admin.catalog_load import load
    from admin.console import CommandError

    with pytest.raises(CommandError):
        load({"points": bad}, dry_run=True)
