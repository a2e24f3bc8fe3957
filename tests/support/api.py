"""Small helpers the tests use to talk to the app like the mini program does."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager


def call(client, method: str, path: str, body=None, token: str | None = None, headers: dict | None = None):
    """A request through chalice.test.Client; returns (status, parsed JSON body)."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    raw = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
    response = getattr(client.http, method.lower())(path, headers=sent, body=raw)
    return response.status_code, (json.loads(response.body) if response.body else None)


def login(client, openid: str) -> dict:
    status, body = call(client, "POST", "/v1/auth/login", {"code": f"wx:{openid}:{uuid.uuid4().hex[:8]}"})
    assert status == 200, body
    return {"token": body["token"], "id": body["user"]["id"], "openid": openid, "login": body}


def request_id() -> str:
    return "req_" + uuid.uuid4().hex


def dynamodb_clients() -> list:
    """Every botocore client the app talks to DynamoDB through, each once."""
    from chalicelib.store.tables import ALL_MODELS  # here, not at import: tests/unit loads this module too
    from chalicelib.store.tx import connection

    clients = [model._get_connection().connection.client for model in ALL_MODELS] + [connection().client]
    return list({id(c): c for c in clients}.values())


@contextmanager
def hooked(event: str, handler, first: bool = False) -> Iterator[None]:
    """`handler` on botocore event `event` of every app DynamoDB client, for the duration of the block."""
    clients = dynamodb_clients()
    for client in clients:
        (client.meta.events.register_first if first else client.meta.events.register)(event, handler)
    try:
        yield
    finally:
        for client in clients:
            client.meta.events.unregister(event, handler)


class DynamoDBCalls:
    """Counts the DynamoDB API calls this thread makes, through botocore's after-call event."""

    def __init__(self) -> None:
        self.operations: list[str] = []
        self._hook = hooked("after-call.dynamodb", self._count)

    def _count(self, model, **kwargs) -> None:
        self.operations.append(model.name)

    def __enter__(self) -> DynamoDBCalls:
        self._hook.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._hook.__exit__(*exc)

    def __len__(self) -> int:
        return len(self.operations)
