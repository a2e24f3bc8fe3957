"""The mini program's client (miniprogram_api/client.js): its own tests pass under Node's test runner, and
it has a function for every route of openapi.yaml and knows every error code of it."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.contract import spec

CLIENT_DIR = spec.ROOT / "miniprogram_api"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the JS client's tests need Node 20+")
# called by partners' servers, not by the mini program
PARTNER_ONLY = {("POST", "/v1/webhooks/{}"), ("POST", "/v1/open/links")}


def _node_eval(source: str) -> object:
    done = subprocess.run([NODE, "--input-type=module", "-e", source], cwd=CLIENT_DIR, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_client_tests_pass_under_node():
    done = subprocess.run([NODE, "--test", "miniprogram_api/test/"], cwd=spec.ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, f"node --test failed:\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout, done.stdout[-2000:]


def test_the_client_has_a_function_for_every_route_of_the_document():
    routes = _node_eval("import {ROUTES} from './client.js'; console.log(JSON.stringify(ROUTES))")
    in_client = {(method, spec.normalized(path)) for method, path in routes.values()}
    documented = {(op.method, spec.normalized(op.path)) for op in spec.operations()} - PARTNER_ONLY
    assert in_client == documented, {"not in client.js": sorted(documented - in_client),
                                     "not in openapi.yaml": sorted(in_client - documented)}


def test_the_client_knows_every_error_code_of_the_document():
    source = "import {ErrorCode} from './errors.js'; console.log(JSON.stringify(Object.keys(ErrorCode)))"
    codes = set(_node_eval(source))
    documented = {name for name, schema in spec.document()["components"]["schemas"].items() if "x-status" in schema}
    assert documented <= codes, sorted(documented - codes)
