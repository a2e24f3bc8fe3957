"""Every test here runs against the stack: DynamoDB Local, the fake partners, the tables and the demo catalog
(tests/conftest.py)."""
import pytest


@pytest.fixture(scope="session", autouse=True)
def _stack(database):
    return database
