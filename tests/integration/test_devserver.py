"""The local server answers like API Gateway configured by infra/aws: contract errors for unknown routes."""
from __future__ import annotations

import threading

import pytest
import requests

from infra.local.dynamodb_local import free_port


@pytest.fixture(scope="module")
def base_url(app_module):
    from infra.local.devserver import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, "local")
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server.server_close()


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
