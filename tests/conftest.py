"""Fixtures of every tier. The stack (DynamoDB Local, the fake partners, the tables and the demo catalog)
starts only when a test of a tier that needs it runs: each of tests/{integration,races,reliability,contract,
infra}/conftest.py asks for `database` for all its tests; tests/unit needs no Java and no endpoint.

Nothing in the app reads its settings when imported (chalicelib/settings.py), so test modules may import the
app and its models at collection; the stack's environment is in place before the first use.
"""
from __future__ import annotations

import uuid

import pytest

pytest_plugins = ["tests.contract.recorder"]  # every response of the suite is checked against openapi.yaml


@pytest.fixture(scope="session")
def stack():
    """DynamoDB Local and the fake partners on free ports, their environment set for the app (the settings
    are read afresh after it, in case a pure test of this process built them before)."""
    from chalicelib.settings import get_settings
    from infra.local.ephemeral import Stack

    started = Stack().start()
    get_settings.cache_clear()
    yield started
    started.stop()


@pytest.fixture(scope="session")
def database(stack):
    """Tables and the demo catalog, made once for the session through the admin console."""
    from admin.__main__ import main

    assert main(["init-db"]) == 0
    assert main(["seed-demo"]) == 0
    assert stack.load_open_partners()
    return stack


@pytest.fixture(scope="session")
def app_module(database):
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
