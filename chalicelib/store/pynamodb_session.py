"""One botocore session, and one DynamoDB client, for every PynamoDB connection of the process.

PynamoDB gives each model class its own Connection, and each Connection a botocore session of its own, so
the first request a container served built one session per table it touched, each loading and parsing
DynamoDB's service model again (about 100 ms per table: docs/performance.md). Here every Connection gets the
one session, and the session hands every Connection the same client (the transactions' connection too,
store/tx.py): PynamoDB asks with the same region, endpoint and Config (the timeouts and retries of
store/models.py), so a container builds one client and opens one pool of connections to DynamoDB.
Creating clients is not thread-safe in botocore (the reason PynamoDB kept sessions per thread), so the
session creates them one at a time; a client, once made, is safe to share.

The session only ever makes DynamoDB clients, so its data loader (`_DynamoDBLoader`) reads only DynamoDB's
part of botocore's data. botocore's own loader lists every one of the 400-odd services' directories to
learn that `dynamodb` exists, once per kind of file (about 10 ms each on a cold container); parses the JSON
into OrderedDicts (a plain dict keeps the order, and parses 2.5 times faster); and reads endpoints.json
(1.2 MB, every service's endpoints: 14 ms) where a DynamoDB client needs DynamoDB's entries and the
partitions: those are `dynamodb_endpoints.json` beside this module, botocore's file cut down by
`dynamodb_endpoints` (tests/unit/test_pynamodb_patches.py fails when the installed botocore's differs, and
says how to write it again). The client's address still comes from botocore's endpoint rules, as before.

PynamoDB 6.1 (pinned in requirements.txt) gets each Connection's session from `get_session` as
pynamodb/connection/base.py imported it, which is what is replaced here; tests/unit/test_pynamodb_patches.py
fails if a PynamoDB change makes the connections stop using it, or stop sharing the client.
"""
from __future__ import annotations

import gzip
import json
import os
import threading

import botocore.loaders
import botocore.session
from pynamodb.connection import base

_SERVICES = ["dynamodb"]  # the clients this session makes
ENDPOINTS = os.path.join(os.path.dirname(__file__), "dynamodb_endpoints.json")


def dynamodb_endpoints(endpoints: dict) -> dict:
    """botocore's endpoints.json with only the services this session makes clients for."""
    return {**endpoints, "partitions": [
        {**partition, "services": {name: partition["services"][name] for name in _SERVICES
                                   if name in partition["services"]}} for partition in endpoints["partitions"]]}


class _JSONFiles(botocore.loaders.JSONFileLoader):
    def load_file(self, file_path):
        for suffix, opener in ((".json", open), (".json.gz", gzip.open)):  # botocore's order
            if os.path.isfile(file_path + suffix):
                with opener(file_path + suffix, "rb") as handle:
                    return json.loads(handle.read().decode("utf-8"))
        return None


class _DynamoDBLoader(botocore.loaders.Loader):
    FILE_LOADER_CLASS = _JSONFiles

    def list_available_services(self, type_name):
        return list(_SERVICES)

    def load_data_with_path(self, name):
        if name != "endpoints":
            return super().load_data_with_path(name)
        with open(ENDPOINTS, "rb") as handle:
            data = json.loads(handle.read().decode("utf-8"))
        # botocore's own data, cut down: given as from botocore's path, so the endpoint rules still choose
        # the address (botocore hands a custom endpoints.json's answer to the rules instead)
        return data, os.path.join(self.BUILTIN_DATA_PATH, "endpoints")


class _SharedSession(botocore.session.Session):
    _creating = threading.Lock()

    def __init__(self) -> None:
        super().__init__()
        paths = self.get_config_variable("data_path")  # AWS_DATA_PATH, as botocore's own loader reads it
        extra = [os.path.expanduser(os.path.expandvars(p)) for p in paths.split(os.pathsep)] if paths else None
        self.register_component("data_loader", _DynamoDBLoader(extra_search_paths=extra))
        self._clients: dict[str, object] = {}

    def create_client(self, *args, **kwargs):
        config = kwargs.get("config")
        key = repr((args, sorted((k, v) for k, v in kwargs.items() if k != "config"),
                    sorted(vars(config).items()) if config is not None else None))
        with self._creating:
            client = self._clients.get(key)
            # PynamoDB builds a new client when one holds no credentials (botocore caches a failed lookup of
            # them): so does this cache, rather than hand the empty ones back for good.
            if client is None or getattr(getattr(client, "_request_signer", None), "_credentials", None) is None:
                client = self._clients[key] = super().create_client(*args, **kwargs)
            return client


_session: _SharedSession | None = None
_making = threading.Lock()


def shared_session() -> botocore.session.Session:
    global _session
    with _making:
        if _session is None:
            _session = _SharedSession()
    return _session


base.get_session = shared_session
