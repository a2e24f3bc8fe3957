"""DynamoDB's failures reach the web edge only as store/failures.py's typed ones (issue 18 item 2): api/ names
neither botocore nor PynamoDB, and what reached it untranslated answers as before: a throttle or a dropped
connection anywhere is 503 SERVICE_UNAVAILABLE, a ValidationException (a request we built wrong) is 500."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from pynamodb.exceptions import GetError, PutError, QueryError

from chalicelib.errors import InternalError, ServiceUnavailableError
from chalicelib.store.failures import Malformed, Unavailable, of_database

ROOT = Path(__file__).resolve().parents[2]


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "GetItem")


def test_the_api_layer_names_neither_botocore_nor_pynamodb():
    named = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "chalicelib" / "api").rglob("*.py"))
             if re.search(r"botocore|pynamodb", p.read_text(encoding="utf-8"))]
    assert named == []


@pytest.mark.parametrize("exc", [
    _client_error("ThrottlingException"),
    _client_error("ProvisionedThroughputExceededException"),
    ConnectionClosedError(endpoint_url="http://127.0.0.1:1"),
    ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
    GetError("dropped", cause=ConnectionClosedError(endpoint_url="http://127.0.0.1:1")),
    QueryError("throttled", cause=_client_error("ThrottlingException")),
    PutError("no cause"),
])
def test_a_throttle_or_a_dropped_connection_is_unavailable(exc):
    failure = of_database(exc)
    assert isinstance(failure, Unavailable) and failure.status == 503
    assert failure.code == ServiceUnavailableError.code


@pytest.mark.parametrize("exc", [_client_error("ValidationException"),
                                 GetError("too long", cause=_client_error("ValidationException"))])
def test_a_request_dynamodb_refuses_as_malformed_is_our_bug(exc):
    failure = of_database(exc)
    assert isinstance(failure, Malformed) and failure.status == 500 and failure.code == InternalError.code


def test_anything_else_is_not_the_databases():
    assert of_database(RuntimeError("a bug")) is None and of_database(KeyError("x")) is None
