"""Every test here runs against the stack: DynamoDB Local, the fake partners, the tables and the demo catalog
(tests/conftest.py)."""
import threading

import pytest

from infra.local.dynamodb_local import free_port


@pytest.fixture(scope="session", autouse=True)
def _stack(database):
    return database


@pytest.fixture(scope="module")
def base_url(app_module):
    """The local development server (what `make run` serves: infra/local/devserver.py) on a free port."""
    from infra.local.devserver import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, "local")
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server.server_close()


@pytest.fixture(scope="session")
def rides(stack, database, tmp_path_factory):
    """A second platform that rewards bus rides and works with the transit partner (tests/support/persons.py
    rides_platform), onboarded once for the tests that need one."""
    from tests.support.persons import rides_platform

    return rides_platform(stack, tmp_path_factory.mktemp("rides"))
