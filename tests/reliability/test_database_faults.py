"""Faults between the app and DynamoDB: dropped connections, delays, and responses lost after the write.

The app runs as a real server in its own process, talking to DynamoDB Local through a fault-injecting
proxy. Every request ends in success or a clean 503; retrying with the same request_id ends with exactly
one effect, including when the first attempt was applied and only its response was lost.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from admin.__main__ import main as admin
from admin.accounts import reconcile
from chalicelib.store.models import Account, LedgerEntry
from infra.local.dynamodb_local import free_port
from tests.support.faultproxy import FaultProxy, Faults

ROOT = Path(__file__).resolve().parents[2]
BEHAVIOR = {"code": "fault_test_plate", "name": "故障测试", "category": "test", "unit": "event",
            "carbon": {"mg": 1000, "per": 1}, "points": {"points": 1, "per": 1}, "daily_limit": 500,
            "channels": ["checkin"], "methodology": {"id": "TEST-fault", "version": "1", "source": "test"}}


@pytest.fixture(scope="module")
def faulty_api(stack, tmp_path_factory):
    catalog = tmp_path_factory.mktemp("catalog") / "fault.json"
    catalog.write_text(json.dumps({"behaviors": [BEHAVIOR]}), encoding="utf-8")
    assert admin(["load", str(catalog)]) == 0
    faults = Faults(reset=0.08, cut_response=0.12, delay=0.05, seed=11)
    proxy = FaultProxy(stack.dynamodb.port, faults).start()
    port = free_port()
    env = {**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": proxy.endpoint}
    server = subprocess.Popen([sys.executable, "-m", "infra.local.devserver", "--port", str(port)], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if requests.get(base + "/v1/health", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    yield base, proxy
    server.terminate()
    server.wait(timeout=10)
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
    assert reconcile()["clean"]
