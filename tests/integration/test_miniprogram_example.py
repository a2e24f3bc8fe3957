"""The reference mini program end to end: its pages (miniprogram-simulate, wx.request over Node's HTTP) against
the local server `make run` serves, on DynamoDB Local and the fake WeChat: log in, check in and earn, redeem,
verify as the merchant's staff, see the code used (miniprogram_api/example/testing/e2e.js drives the pages)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.contract import spec
from tests.support.api import call, login
from tests.support.market import new_goods, new_merchant
from tests.support.reconcile import reconciled

EXAMPLE = spec.ROOT / "miniprogram_api" / "example"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the mini program's tests need Node 20+")


def test_the_pages_log_in_earn_redeem_and_the_staff_verify_against_the_local_api(base_url, client, openid):
    assert (EXAMPLE / "node_modules" / "miniprogram-simulate").is_dir(), \
        "the mini program's test packages are missing: `make bootstrap` (npm ci in miniprogram_api/example)"
    merchant_id, (staff_openid,) = new_merchant()
    goods = new_goods(merchant_id, name=f"示例小程序券{openid[-6:]}", points_price=2)  # what one check-in earns
    env = {**os.environ, "BASE_URL": base_url, "USER_OPENID": openid, "STAFF_OPENID": staff_openid,
           "GOODS_NAME": goods["name"]}
    done = subprocess.run([NODE, "testing/e2e.js"], cwd=EXAMPLE, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    shown = json.loads(done.stdout.strip().splitlines()[-1])
    # every answer the pages got over HTTP is as openapi.yaml documents it
    assert len(shown["exchanges"]) > 15
    assert spec.check_all([{**e, "path": e["url"], "test": "e2e.js"} for e in shown["exchanges"]]) == []

    user = login(client, openid)  # the same WeChat user the pages logged in as
    status, body = call(client, "GET", f"/v1/me/redemptions/{shown['redemption_id']}", token=user["token"])
    assert status == 200 and body["redemption"]["status"] == "used" and body["redemption"]["code"] == shown["code"]
    me = call(client, "GET", "/v1/me", token=user["token"])[1]
    assert (me["points"], me["points_earned"], me["points_spent"]) == (0, 2, 2)
    assert reconciled(user)["clean"]
