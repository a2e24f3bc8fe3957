"""Trees and organizations per platform (docs/platforms.md, "Trees and organizations per platform"): a platform's
own trees and orgs, loaded from its catalog entry; adopting spends its points and takes its stock; joining counts
on its org; the fold and the orgs board keep its org totals apart; `accrue-trees --platform` credits its adopters.

The platform `t-groves` names its tree and its org exactly as `default`'s demo catalog names one of each, so a
key that forgot the platform would meet `default`'s."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, time, timedelta

import pytest

from admin.__main__ import main as admin
from chalicelib.domain import clock
from chalicelib.store.models import LedgerEntry
from chalicelib.store.stock import Stock
from chalicelib.store.trees import Adoption
from tests.support.aggregates import checkin, drain
from tests.support.api import call, login, request_id
from tests.support.persons import _onboard, login_on
from tests.support.reconcile import reconciled

PLATFORM, APPID, SECRET = "t-groves", "wx-t-groves", "test-groves-secret"
TREE, ORG, CODE = "t-camphor-2026", "o-jiangyang-runners", "GROVE-RUN-1"  # the same ids as default's demo ones
DEFAULT_CODE = "JY-RUN-2026"  # default's o-jiangyang-runners (admin/demo_catalog.json)
TODAY = clock.business_day(clock.now())
_ADOPTED: list[str] = []


@pytest.fixture(scope="module")
def groves(stack, tmp_path_factory):
    _onboard(stack, tmp_path_factory.mktemp("groves"), {
        "id": PLATFORM, "name": "林地平台", "wechat_appid": APPID,
        "branding": {"name": "林地平台", "slogan": "种树", "primary_color": "#2E7D32", "logo_url": None},
        "behaviors": [{"code": "clean_plate", "points": {"points": 7, "per": 1}}], "partners": [],
        "trees": [{"id": TREE, "species": "银杏", "location": "林地园区", "points_price": 50, "annual_uptake_g": 3650,
                   "stock": 3, "methodology": {"id": "TEST-grove-ginkgo", "version": "g1", "source": "test",
                                               "estimate": True}}],
        "orgs": [{"id": ORG, "name": "林地跑团", "type": "group", "invite_code": CODE}]}, SECRET)
    yield PLATFORM
    for adoption_id in _ADOPTED:  # leave nothing accruing for later modules' run-jobs
        Adoption(adoption_id).update(actions=[Adoption.accrual_shard.remove()])


def _user_on(client, points: int = 0) -> dict:
    user = login_on(client, "o-" + uuid.uuid4().hex[:16], PLATFORM)
    if points:
        assert admin(["points", "adjust", user["id"], str(points), "--reason", "test", "--platform", PLATFORM]) == 0
    return user


def _trees(client, **auth) -> dict[str, dict]:
    status, body = call(client, "GET", "/v1/trees", **auth)
    assert status == 200, body
    return {tree["id"]: tree for tree in body["items"]}


def _org(client, **auth) -> dict:
    status, body = call(client, "GET", f"/v1/orgs/{ORG}", **auth)
    assert status == 200, body
    return body


def test_the_platforms_trees_and_orgs_are_its_own_and_stored_in_its_partitions(client, groves):
    on_groves = {"headers": {"X-Platform": PLATFORM}}
    assert set(_trees(client, **on_groves)) == {TREE}
    assert _trees(client, **on_groves)[TREE]["species"] == "银杏"
    assert _trees(client)[TREE]["species"] == "香樟"  # default's tree of the same id is another tree
    status, body = call(client, "GET", "/v1/orgs", **on_groves)
    assert [(o["id"], o["name"]) for o in body["items"]] == [(ORG, "林地跑团")]
    assert _org(client)["name"] == "江阳跑团"
    assert Stock.get(f"{PLATFORM}#tree#{TREE}", consistent_read=True).total == 3


def test_adopting_spends_the_platforms_points_and_takes_only_its_stock(client, groves):
    user = _user_on(client, points=120)
    default_left = _trees(client)[TREE]["available"]
    status, body = call(client, "POST", f"/v1/trees/{TREE}/adopt", {"request_id": request_id()}, token=user["token"])
    assert status == 201, body
    _ADOPTED.append(body["adoption"]["id"])
    assert (body["adoption"]["tree_id"], body["points"]) == (TREE, 70)
    assert _trees(client, token=user["token"])[TREE]["available"] == 2
    assert _trees(client)[TREE]["available"] == default_left
    status, body = call(client, "GET", "/v1/me/trees", token=user["token"])
    assert [(a["tree_id"], a["species"]) for a in body["items"]] == [(TREE, "银杏")]
    assert Adoption.get(_ADOPTED[-1]).platform == PLATFORM


def test_joining_counts_on_the_platforms_org_and_its_carbon_on_its_board_only(client, groves):
    default_before = _org(client)
    user = _user_on(client)
    status, body = call(client, "POST", f"/v1/orgs/{ORG}/join", {"invite_code": DEFAULT_CODE}, token=user["token"])
    assert (status, body["error"]["code"]) == (403, "INVALID_INVITE")  # default's code is not this org's
    status, body = call(client, "POST", f"/v1/orgs/{ORG}/join", {"invite_code": CODE}, token=user["token"])
    assert status == 200, body
    assert body["org"]["members"] == 1
    checkin(client, user)
    drain()
    mine = _org(client, token=user["token"])
    assert mine["members"] == 1 and mine["carbon_g"] > 0
    listed = call(client, "GET", "/v1/orgs", token=user["token"])[1]["items"]
    assert [(o["members"], o["carbon_g"]) for o in listed] == [(1, mine["carbon_g"])]
    after = _org(client)
    assert (after["members"], after["carbon_g"]) == (default_before["members"], default_before["carbon_g"])
    status, me = call(client, "GET", "/v1/me", token=user["token"])
    assert me["orgs"] == [{"id": ORG, "name": "林地跑团"}]


def test_accrue_trees_with_the_platform_credits_its_adopters_once(client, groves, monkeypatch, capsys):
    user = _user_on(client, points=50)
    yesterday = datetime.combine(TODAY - timedelta(days=1), time(10, 0), tzinfo=clock.SHANGHAI)
    with monkeypatch.context() as patch:
        patch.setattr(clock, "now", lambda: yesterday)
        status, body = call(client, "POST", f"/v1/trees/{TREE}/adopt", {"request_id": request_id()},
                            token=user["token"])
    assert status == 201, body
    _ADOPTED.append(body["adoption"]["id"])
    assert admin(["accrue-trees", "--date", TODAY.isoformat()]) == 0  # default's run leaves it alone
    assert _accruals(client, user) == []
    runs = []
    for _ in range(2):
        capsys.readouterr()
        assert admin(["accrue-trees", "--date", TODAY.isoformat(), "--platform", PLATFORM, "--json"]) == 0
        runs.append(json.loads(capsys.readouterr().out))
    assert [(r["platform"], r["credited_days"]) for r in runs] == [(PLATFORM, 1), (PLATFORM, 0)]
    entries = _accruals(client, user)
    assert [(int(e.carbon_mg), int(e.points), e.day) for e in entries] == [(10_000, 0, TODAY.isoformat())]
    assert call(client, "GET", "/v1/me", token=user["token"])[1]["carbon_g"] == 10.0  # 3650 g a year: 10 g a day
    assert reconciled(user)["clean"]
    assert admin(["audit", "--json", "--platform", PLATFORM]) == 0
    assert any(r["command"] == "accrue-trees" for r in json.loads(capsys.readouterr().out))
    assert admin(["accrue-trees", "--platform", "no-such-platform"]) == 2


def _accruals(client, user) -> list[LedgerEntry]:
    """The user's accrual entries, read from the ledger (GET /v1/me/ledger is not per platform yet)."""
    return [e for e in LedgerEntry.query(user["id"], consistent_read=True) if e.kind == "accrual"]


def test_default_users_still_adopt_and_join_defaults_own(client, groves):
    user = login(client, "o-" + uuid.uuid4().hex[:16])
    status, body = call(client, "POST", f"/v1/orgs/{ORG}/join", {"invite_code": CODE}, token=user["token"])
    assert (status, body["error"]["code"]) == (403, "INVALID_INVITE")  # the platform's code is not default's
    status, body = call(client, "POST", f"/v1/orgs/{ORG}/join", {"invite_code": DEFAULT_CODE}, token=user["token"])
    assert status == 200, body
