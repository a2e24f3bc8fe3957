"""The two patches of PynamoDB (chalicelib/store/pynamodb_errors.py, pynamodb_session.py) still apply to the
pinned PynamoDB, and still do what they are for. Each fails when an upgrade makes its patch silently stop
working, or (the error fields) makes it unnecessary."""
from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pynamodb.exceptions
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from pynamodb.exceptions import PutError, PynamoDBException, TransactWriteError

import chalicelib.store  # noqa: F401 - the package applies both patches
from chalicelib.store import pynamodb_errors, pynamodb_session

ROOT = Path(__file__).resolve().parents[2]
DROPPED = [ReadTimeoutError(endpoint_url="http://dynamodb"), ConnectionClosedError(endpoint_url="http://dynamodb")]


@pytest.mark.parametrize("cause", DROPPED, ids=lambda cause: type(cause).__name__)
def test_a_failure_without_a_dynamodb_response_has_no_code_rather_than_raising(cause):
    for error in (PutError("put", cause=cause), TransactWriteError("write", cause=cause)):
        assert error.cause_response_code is None
        assert error.cause_response_message is None
    with pytest.raises(AttributeError):  # PynamoDB's own property still fails here: the patch is still needed
        pynamodb_errors.PYNAMODB_CODE.fget(PutError("put", cause=DROPPED[0]))


def test_a_dynamodb_refusal_keeps_its_code_and_message():
    refused = ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "no"}}, "PutItem")
    error = PutError("put", cause=refused)
    assert (error.cause_response_code, error.cause_response_message) == ("ConditionalCheckFailedException", "no")


def test_no_pynamodb_error_class_overrides_the_patched_properties():
    classes = [c for _, c in inspect.getmembers(pynamodb.exceptions, inspect.isclass)]
    for cls in (c for c in classes if issubclass(c, PynamoDBException)):
        assert cls.cause_response_code.fget is pynamodb_errors._code, cls
        assert cls.cause_response_message.fget is pynamodb_errors._message, cls


SHARED_SESSION = """
import threading
from chalicelib.store.models import Account, Identity
from chalicelib.store.tx import connection
from chalicelib.store.pynamodb_session import shared_session
connections = [Account._get_connection().connection, Identity._get_connection().connection, connection()]
in_thread = []
thread = threading.Thread(target=lambda: in_thread.append(connections[0].session))
thread.start(); thread.join()
sessions = {id(c.session) for c in connections} | {id(s) for s in in_thread}
assert sessions == {id(shared_session())}, "each PynamoDB connection made its own botocore session"
clients = {id(c.client) for c in connections}
assert len(clients) == 1, "a container built one DynamoDB client per model (and one for transactions)"
"""


def test_every_pynamodb_connection_in_every_thread_uses_the_one_shared_session_and_client():
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "JWT_SECRET": "s" * 40, "AWS_REGION": "eu-west-3",
           "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9",  # connections are made, never used
           "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}  # (a client without credentials is rebuilt)
    result = subprocess.run([sys.executable, "-c", SHARED_SESSION], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


LOADER = """
import botocore.session
from chalicelib.store.pynamodb_session import shared_session
loader = shared_session().get_component("data_loader")
assert loader.list_available_services("service-2") == ["dynamodb"]  # no walk of every service's directory
assert loader.load_data("endpoints")["partitions"][0]["services"].keys() == {"dynamodb"}  # not 1.2 MB of them
for region in ("cn-north-1", "eu-west-3", "us-gov-west-1"):
    ours = shared_session().create_client("dynamodb", region_name=region)
    botocores = botocore.session.Session().create_client("dynamodb", region_name=region)
    assert ours.meta.endpoint_url == botocores.meta.endpoint_url, (ours.meta.endpoint_url, region)
    assert ours.meta.service_model.operation_names == botocores.meta.service_model.operation_names
    for name in ("TransactWriteItems", "Query"):
        a, b = ours.meta.service_model.operation_model(name), botocores.meta.service_model.operation_model(name)
        assert a.input_shape.members.keys() == b.input_shape.members.keys(), name
"""


def test_the_shared_session_loads_only_dynamodb_s_data_and_builds_the_same_client_as_botocore():
    """The session's loader skips botocore's walk of every service's data and its OrderedDict parsing (cold
    start: chalicelib/store/pynamodb_session.py); what it builds must not differ from botocore's own client."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}
    result = subprocess.run([sys.executable, "-c", LOADER], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr


WRITE_AGAIN = """chalicelib/store/dynamodb_endpoints.json is not the installed botocore's; write it again:
.venv/bin/python -c 'import json, os, botocore.loaders; from chalicelib.store.pynamodb_session import *; \
full = json.load(open(os.path.join(botocore.loaders.Loader.BUILTIN_DATA_PATH, "endpoints.json"))); \
open(ENDPOINTS, "w").write(json.dumps(dynamodb_endpoints(full), indent=1, sort_keys=True) + "\\n")'"""


def test_the_shipped_dynamodb_endpoints_are_the_installed_botocore_s_cut_down():
    import botocore.loaders

    full = json.loads(Path(botocore.loaders.Loader.BUILTIN_DATA_PATH, "endpoints.json").read_text(encoding="utf-8"))
    shipped = json.loads(Path(pynamodb_session.ENDPOINTS).read_text(encoding="utf-8"))
    assert shipped == pynamodb_session.dynamodb_endpoints(full), WRITE_AGAIN
