"""Faults between the app and DynamoDB: dropped connections, delays, and responses lost after the write.

The app runs as a real server in its own process, talking to DynamoDB Local through a fault-injecting
proxy. Every request ends in success or a clean 503; retrying with the same request_id ends with exactly
one effect, including when the first attempt was applied and only its response was lost. The mixed
workload adds redemptions racing for little stock, merchant scans and a partner's webhook batch: stock
taken equals codes issued, no code is used twice, every ride counts once.
"""
from __future__ import annotations

import json
import uuid

import pytest
import requests

from admin.__main__ import main as admin
from chalicelib.store.models import Account, LedgerEntry
from tests.support.faultproxy import FaultProxy, Faults, api_through
from tests.support.reconcile import reconciled

BEHAVIOR = {"code": "fault_test_plate", "name": "故障测试", "category": "test", "unit": "event",
            "carbon": {"mg": 1000, "per": 1}, "points": {"points": 1, "per": 1}, "daily_limit": 500,
            "channels": ["checkin"], "methodology": {"id": "TEST-fault", "version": "1", "source": "test"}}


MERCHANT = {"id": f"m-fault-{uuid.uuid4().hex[:8]}", "name": "故障测试商户",
            "staff_openids": [f"o-fault-staff-{uuid.uuid4().hex[:8]}"]}
GOODS = {"id": f"g-fault-{uuid.uuid4().hex[:8]}", "name": "故障测试券", "kind": "coupon", "category": "test",
         "merchant_id": MERCHANT["id"], "points_price": 10, "stock": 15, "per_user_limit": 10, "valid_days": 30,
         "cancellable": True, "refund_on_expiry": False}


@pytest.fixture(scope="module")
def faulty_api(stack, tmp_path_factory):
    catalog = tmp_path_factory.mktemp("catalog") / "fault.json"
    catalog.write_text(json.dumps({"behaviors": [BEHAVIOR], "merchants": [MERCHANT], "goods": [GOODS]}),
                       encoding="utf-8")  # before the server starts: it caches the catalog for 60 s
    assert admin(["load", str(catalog)]) == 0
    faults = Faults(reset=0.08, cut_response=0.12, delay=0.05, seed=11)
    proxy = FaultProxy(stack.dynamodb.port, faults).start()
    with api_through(proxy) as base:
        yield base, proxy
    proxy.stop()


def _until_done(url: str, statuses: list[int], **kwargs) -> requests.Response:
    """POSTs the same request again (the same request_id) while the answer is a 503 or no answer at all."""
    for _ in range(30):
        try:
            response = requests.post(url, timeout=20, **kwargs)
        except requests.RequestException:
            statuses.append(0)
            continue
        statuses.append(response.status_code)
        if response.status_code != 503:
            return response
        assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    raise AssertionError(f"no success after 30 tries: {statuses[-30:]}")


def test_every_request_ends_once_applied_despite_faults(faulty_api):
    base, proxy = faulty_api
    statuses: list[int] = []
    users = []
    for _ in range(3):
        openid = f"o-fault-{uuid.uuid4().hex[:10]}"
        login = _until_done(base + "/v1/auth/login", statuses, json={"code": f"wx:{openid}:{uuid.uuid4().hex}"})
        assert login.status_code == 200, login.text
        users.append((login.json()["user"]["id"], login.json()["token"]))
    expected = {user_id: 0 for user_id, _ in users}
    first_bodies: dict[str, dict] = {}
    for i in range(40):
        user_id, token = users[i % len(users)]
        request_id = f"fault_{i}_{uuid.uuid4().hex[:8]}"
        body = {"request_id": request_id, "behavior": BEHAVIOR["code"]}
        headers = {"Authorization": f"Bearer {token}"}
        response = _until_done(base + "/v1/checkins", statuses, json=body, headers=headers)
        assert response.status_code == 201, response.text
        first_bodies[request_id] = response.json()
        expected[user_id] += 1
        if i % 5 == 0:  # a client retrying a request that already succeeded gets the same answer
            again = _until_done(base + "/v1/checkins", statuses, json=body, headers=headers)
            assert again.json() == first_bodies[request_id]
    assert 500 not in statuses
    assert proxy.faults.counts["cut_response"] > 0 and proxy.faults.counts["reset"] > 0
    for user_id, count in expected.items():
        entries = list(LedgerEntry.query(user_id))
        assert len(entries) == count
        assert len({e.request_id for e in entries}) == count
        account = Account.get(user_id, consistent_read=True)
        assert (account.points, account.carbon_mg) == (count, count * 1000)
    assert reconciled(*expected)["clean"]


def _login(base: str, openid: str, statuses: list[int]) -> tuple[str, str]:
    """Logs in through the faulty server; each attempt with a fresh wx.login code, as the mini program does."""
    for _ in range(30):
        try:
            response = requests.post(base + "/v1/auth/login", json={"code": f"wx:{openid}:{uuid.uuid4().hex}"},
                                     timeout=20)
        except requests.RequestException:
            statuses.append(0)
            continue
        statuses.append(response.status_code)
        if response.status_code == 200:
            return response.json()["user"]["id"], response.json()["token"]
        assert response.status_code == 503, response.text
    raise AssertionError("no login after 30 tries")


def test_redemptions_scans_and_a_webhook_batch_under_faults_keep_stock_codes_and_rides_exact(faulty_api, client,
                                                                                            stack):
    from chalicelib.domain import clock
    from chalicelib.store.market import Redemption, Verification, merchant_day
    from chalicelib.store.stock import Stock
    from tests.support.api import login
    from tests.support.partners import bind, now

    base, proxy = faulty_api
    statuses: list[int] = []
    days = {clock.business_day(clock.now())}
    users = [_login(base, f"o-fault-mix-{uuid.uuid4().hex[:10]}", statuses) for _ in range(3)]
    for user_id, _ in users:
        assert admin(["points", "adjust", user_id, "1000", "--reason", "fault test"]) == 0
    outcomes = []
    for i in range(21):  # more attempts than stock: some must answer OUT_OF_STOCK, none may oversell
        user_id, token = users[i % 3]
        response = _until_done(f"{base}/v1/market/goods/{GOODS['id']}/redeem", statuses,
                               json={"request_id": f"fault_redeem_{i}_{uuid.uuid4().hex[:6]}"},
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (201, 409), response.text
        outcomes.append(response.json())
    issued = [o["redemption"] for o in outcomes if "redemption" in o]
    assert len(issued) == GOODS["stock"] and len({r["code"] for r in issued}) == len(issued)
    assert {o["error"]["code"] for o in outcomes if "error" in o} == {"OUT_OF_STOCK"}

    _, staff_token = _login(base, MERCHANT["staff_openids"][0], statuses)
    for redemption in issued[:10]:
        for _ in range(2):  # a second scan of the same code is refused, whatever the faults did to the first
            response = _until_done(base + "/v1/merchant/verify", statuses, json={"code": redemption["code"]},
                                   headers={"Authorization": f"Bearer {staff_token}"})
            assert response.status_code in (200, 409), response.text

    rider = login(client, f"o-fault-rider-{uuid.uuid4().hex[:10]}")
    ref = bind(client, stack, rider, "transit")
    rides = [{"ride_id": f"fault_ride_{n}_{uuid.uuid4().hex[:6]}", "user_ref": ref, "mode": "bus", "line": "12",
              "boarded_at": now().replace(microsecond=0).isoformat(), "alighted_at": now().isoformat(),
              "distance_m": 3000, "fare_cents": 200} for n in range(30)]
    for _ in range(30):  # the partner retries a delivery it got no answer for, signed afresh each time
        path, headers, body = stack.transit.webhook_request(rides)
        try:
            response = requests.post(base + path, data=body, headers=headers, timeout=20)
        except requests.RequestException:
            statuses.append(0)
            continue
        statuses.append(response.status_code)
        if response.status_code == 200:
            break
        # REPLAYED too: when the replay guard's write was applied and only its answer lost, botocore's retry of
        # that write finds the guard taken. The partner re-signs and resends on any non-2xx, so nothing is lost.
        assert response.json()["error"]["code"] in ("SERVICE_UNAVAILABLE", "REPLAYED"), response.text
    else:
        raise AssertionError("the webhook never got through")
    proxy.enabled = False
    days.add(clock.business_day(clock.now()))

    assert 500 not in statuses
    stock = Stock.get(f"goods#{GOODS['id']}", consistent_read=True)
    stored = [r for user_id, _ in users for r in Redemption.by_user.query(user_id) if r.goods_id == GOODS["id"]]
    assert int(stock.total) - int(stock.left) == len(stored) == len(issued)  # stock taken = codes issued
    rows = [row for day in days for row in Verification.query(merchant_day(MERCHANT["id"], day))
            if row.sk.startswith("v#")]
    used = [r for r in stored if r.status == "used"]
    assert len(used) == 10 and len(rows) == 10  # every scanned code used once
    assert len({row.redemption_id for row in rows}) == 10  # and no code used twice
    ride_entries = [e for e in LedgerEntry.query(rider["id"]) if e.source == "transit"]
    assert len(ride_entries) == len(rides)  # every ride counts once, whatever the retries
    assert reconciled(*(user_id for user_id, _ in users), rider)["clean"]
