"""Counting DynamoDB calls with a botocore event hook, on every client the app and the baseline use."""
from __future__ import annotations


class CallCounter:
    def __init__(self, clients: list) -> None:
        self.count = 0
        self._clients = list({id(c): c for c in clients}.values())
        for client in self._clients:
            client.meta.events.register("after-call.dynamodb", self._seen)

    def _seen(self, **_: object) -> None:
        self.count += 1

    def take(self) -> int:
        count, self.count = self.count, 0
        return count


def app_clients() -> list:
    from chalicelib.store.tables import ALL_MODELS
    from chalicelib.store.tx import connection

    return [model._get_connection().connection.client for model in ALL_MODELS] + [connection().client]
