"""Points expiry per platform (docs/platforms.md, "Points expiry per platform"): a platform entry's `points`
policy, stored in `P#policy`, decides when its users' points expire; `default`'s users keep the top level's rule
in the same run; a platform that never loaded a policy follows the default of 1 year, not `default`'s policy."""
from __future__ import annotations

import uuid

import pytest

from admin.__main__ import main as admin
from chalicelib.domain import clock
from chalicelib.services import catalog, points_expiry
from chalicelib.store.models import AuditRecord, CatalogItem
from chalicelib.store.privacy import AccountShard, expiry_marker, shard_of
from tests.support.api import call, login
from tests.support.market import give_points, load_catalog
from tests.support.partners import reconcile_clean
from tests.support.persons import _onboard, login_on
from tests.support.privacy import clock_at, shanghai

BRANDING = {"name": "积分平台", "slogan": "积分", "primary_color": "#2E7D32", "logo_url": None}
SOON, PLAIN = "t-points-soon", "t-points-plain"  # a policy of 0 years; no policy at all


@pytest.fixture(scope="module")
def platforms(stack, tmp_path_factory):
    _onboard(stack, tmp_path_factory.mktemp("soon"), {
        "id": SOON, "name": "当年积分", "wechat_appid": "wx-t-points-soon", "branding": BRANDING,
        "behaviors": [{"code": "clean_plate"}], "partners": [], "points": {"expire_after_years": 0}}, "soon-secret")
    _onboard(stack, tmp_path_factory.mktemp("plain"), {
        "id": PLAIN, "name": "默认积分", "wechat_appid": "wx-t-points-plain", "branding": BRANDING,
        "behaviors": [{"code": "clean_plate"}], "partners": []}, "plain-secret")
    return SOON, PLAIN


def user_on(client, platform: str | None) -> dict:
    openid = "o-" + uuid.uuid4().hex[:16]
    return login(client, openid) if platform is None else login_on(client, openid, platform)


def me(client, user) -> dict:
    status, body = call(client, "GET", "/v1/me", token=user["token"])
    assert status == 200, body
    return body


def expired(client, user) -> list[int]:
    status, body = call(client, "GET", "/v1/me/ledger?kind=expire&limit=100", token=user["token"])
    assert status == 200, body
    return [entry["points"] for entry in body["items"]]


def test_the_platform_entry_s_policy_is_stored_in_its_own_partition(platforms):
    assert CatalogItem.get(f"{SOON}#policy", "points").data == {"expire_after_years": 0}
    assert catalog.policies(PLAIN) == {}
    assert points_expiry.after_years(SOON) == 0 and points_expiry.after_years(PLAIN) == 1


def test_one_run_expires_each_user_s_points_by_their_platform_s_rule(client, platforms):
    soon, regular = user_on(client, SOON), user_on(client, None)
    with clock_at(shanghai("2024-10-17T10:00:00")):
        give_points(soon, 60)
        give_points(regular, 70)
    with clock_at(shanghai("2024-12-31T12:00:00")):
        assert me(client, soon)["points_expiring"] == {"points": 60, "on": "2024-12-31"}  # 0 years: this year
        assert me(client, regular)["points_expiring"] == {"points": 0, "on": None}  # 1 year: end of 2025
    with clock_at(shanghai("2025-01-01T00:00:05")):
        first = points_expiry.run(clock.now(), force=True, platform="all")
    assert first["years"][SOON] == 2024 and first["years"]["default"] == 2023
    assert (expired(client, soon), me(client, soon)["points"]) == ([-60], 0)
    assert (expired(client, regular), me(client, regular)["points"]) == ([], 70)
    with clock_at(shanghai("2026-01-01T00:00:05")):
        points_expiry.run(clock.now(), force=True, platform="all")
    assert (expired(client, regular), expired(client, soon)) == ([-70], [-60])
    assert reconcile_clean(soon, regular) == (True, [])


def test_a_platform_without_a_policy_follows_one_year_whatever_default_s_says(client, platforms):
    plain, regular = user_on(client, PLAIN), user_on(client, None)
    with clock_at(shanghai("2024-10-18T10:00:00")):
        give_points(plain, 40)
        give_points(regular, 45)
    load_catalog({"points": {"expire_after_years": None}})  # default's points never expire now
    try:
        with clock_at(shanghai("2025-12-31T12:00:00")):
            assert me(client, plain)["points_expiring"] == {"points": 40, "on": "2025-12-31"}
            assert me(client, regular)["points_expiring"] == {"points": 0, "on": None}
        with clock_at(shanghai("2026-01-01T00:00:06")):
            result = points_expiry.run(clock.now(), force=True, platform="all")
    finally:
        load_catalog({"points": {"expire_after_years": 1}})
    assert "default" not in result["years"] and result["years"][PLAIN] == 2024
    assert (expired(client, plain), expired(client, regular)) == ([-40], [])
    assert reconcile_clean(plain, regular) == (True, [])


def test_the_job_marks_a_shard_done_for_each_platform_s_year(client, platforms):
    user = user_on(client, SOON)
    with clock_at(shanghai("2025-09-19T10:00:00")):
        give_points(user, 15)
    shard = shard_of(user["id"])
    with AccountShard.batch_write() as batch:
        for platform, year in ((SOON, 2025), ("default", 2024)):
            batch.delete(expiry_marker(shard, year, platform))
    with clock_at(shanghai("2026-01-01T00:00:07")):
        done = points_expiry.due_slice(shard, clock.now(), None, lambda: False)[0]
        again = points_expiry.due_slice(shard, clock.now(), None, lambda: False)[0]
    assert done["expired_accounts"] >= 1 and again == {"shards_skipped": 1}
    assert AccountShard.get(shard, f"#expired#{SOON}#2025").outcome["failed"] == 0
    assert expired(client, user) == [-15]


def test_the_console_expires_one_platform_s_users_audited_and_refuses_an_unknown_one(client, platforms):
    soon, regular = user_on(client, SOON), user_on(client, None)
    with clock_at(shanghai("2024-10-19T10:00:00")):
        give_points(soon, 11)
        give_points(regular, 12)
    with clock_at(shanghai("2026-03-04T10:00:00")):
        assert admin(["expire-points", "--platform", "nowhere", "--yes"]) == 2
        assert admin(["expire-points", "--platform", SOON, "--year", "2026", "--yes"]) == 1  # due at 2026's end
        assert admin(["expire-points", "--platform", SOON, "--year", "2024", "--yes"]) == 0
    assert (expired(client, soon), expired(client, regular)) == ([-11], [])  # default's users are not in scope
    record = next(r for r in AuditRecord.query("2026-03", scan_index_forward=False)  # the month of the run
                  if r.command == "expire-points")
    assert record.platform == SOON and record.arguments["years"] == {SOON: 2024}


@pytest.mark.parametrize("bad", [{"expire_after_years": 11}, {"after": 1}, [0]])
def test_a_platform_s_points_policy_that_means_nothing_refuses_the_file(platforms, bad):
    from admin.catalog_load import load
    from admin.console import CommandError

    entry = {"id": PLAIN, "name": "默认积分", "wechat_appid": "wx-t-points-plain", "branding": BRANDING,
             "behaviors": [{"code": "clean_plate"}], "partners": [], "points": bad}
    with pytest.raises(CommandError, match=f"platform {PLAIN}: points"):
        load({"platforms": [entry]}, dry_run=True)
