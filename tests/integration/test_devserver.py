"""The local server answers like API Gateway configured by infra/aws: contract errors for unknown routes."""
from __future__ import annotations

import pytest
import requests

from infra.local.dynamodb_local import free_port


def test_health_over_real_http(base_url):
    response = requests.get(base_url + "/v1/health", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("method, path", [("GET", "/v1/nothing-here"), ("POST", "/v2/auth/login"), ("GET", "/")])
def test_unknown_route_answers_404_in_the_contract_shape(base_url, method, path):
    response = requests.request(method, base_url + path, json={}, timeout=5,
                                headers={"Authorization": "Bearer whatever"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert response.json()["error"]["message"] == "接口不存在"


def test_login_over_real_http_against_the_fake_wechat(base_url, openid):
    response = requests.post(base_url + "/v1/auth/login", json={"code": f"wx:{openid}"}, timeout=5)
    assert response.status_code == 200
    token = response.json()["token"]
    me = requests.get(base_url + "/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert me.status_code == 200 and me.json()["id"] == response.json()["user"]["id"]


def test_make_runs_server_logs_each_request_once_as_one_short_readable_line():
    """Locally one line a person can read per request: no JSON line, no access line, no metrics line
    (deployed stages keep the JSON lines: tests/reliability/test_observability.py)."""
    import os
    import re
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "infra.local.devserver", "--port", str(port)],
                              cwd=Path(__file__).resolve().parents[2], env={**os.environ, "PYTHONUNBUFFERED": "1"},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert requests.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).status_code == 200
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, "the dev server did not start"
                time.sleep(0.2)
        refused = requests.post(f"http://127.0.0.1:{port}/v1/auth/login", json={"code": 7}, timeout=5)
        assert refused.status_code == 400
        code = refused.json()["error"]["code"]
        time.sleep(0.3)
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=10)[0]
    lines = [line for line in output.splitlines() if "/v1/" in line]
    assert len(lines) == 2, output
    assert re.fullmatch(r"\d\d:\d\d:\d\d GET /v1/health 200 \d+ ms -", lines[0]), lines
    assert re.fullmatch(rf"\d\d:\d\d:\d\d POST /v1/auth/login 400 \d+ ms - {code}", lines[1]), lines
    assert "HTTP/1.1" not in output and not any(line.startswith("{") for line in output.splitlines()), output
