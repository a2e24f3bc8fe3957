"""Session set-up: the real DynamoDB Local and fake partners, then the app, its tables and the demo catalog."""
from __future__ import annotations

import uuid

import pytest

from tests.support.stack import Stack

pytest_plugins = ["tests.contract.recorder"]  # every response of the suite is checked against openapi.yaml
STACK = Stack().start()  # before anything imports the app: PynamoDB reads the endpoint at import


def pytest_unconfigure(config):
    STACK.stop()


@pytest.fixture(scope="session", autouse=True)
def database():
    """Tables and the demo catalog, made once for the session through the admin console."""
    from admin.__main__ import main

    assert main(["init-db"]) == 0
    assert main(["seed-demo"]) == 0
    return STACK


@pytest.fixture(scope="session")
def stack():
    return STACK


@pytest.fixture(scope="session")
def app_module():
    import app

    return app


@pytest.fixture
def client(app_module):
    from chalice.test import Client

    with Client(app_module.app, stage_name="local") as c:
        yield c


@pytest.fixture
def openid():
    """A WeChat user nobody else in the suite uses."""
    return "o-" + uuid.uuid4().hex[:16]


@pytest.fixture
def user(client, openid):
    """A logged-in user: {"token", "id", "headers", "openid"}."""
    from tests.support.api import login

    return login(client, openid)
