"""The reference mini program (miniprogram_api/example): its pages' component tests pass under Node's test
runner (miniprogram-simulate), every route of openapi.yaml is called by one of its pages, its copy of the client
is the client, and errors.js has every code's Chinese message as the document says it."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tests.contract import spec

CLIENT_DIR = spec.ROOT / "miniprogram_api"
EXAMPLE = CLIENT_DIR / "example"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the mini program's tests need Node 20+")

# Routes no page of the mini program calls, each with its reason.
EXEMPT = {
    ("POST", "/v1/webhooks/{}"): "a partner's server pushes its events (docs/partners.md)",
    ("POST", "/v1/open/links"): "an open-protocol partner's server links the code our page handed out",
    ("POST", "/v1/auth/login"): "client.js logs in by itself before a page's first call and after a 401",
}
# client.js functions that call another route than their own name's
CALLS = {"uploadPhoto": "createUpload", "subscribe": "acceptSubscriptions"}
CODE_DIRS = ("app.js", "utils", "pages", "components")


def _node(*args: str, cwd=EXAMPLE, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([NODE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def _installed() -> None:
    assert (EXAMPLE / "node_modules" / "miniprogram-simulate").is_dir(), \
        "the mini program's test packages are missing: `make bootstrap` (npm ci in miniprogram_api/example)"


def test_the_pages_component_tests_pass_under_node():
    _installed()
    done = _node("--test", "test/")
    assert done.returncode == 0, f"node --test failed:\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout, done.stdout[-2000:]


def _called_functions() -> dict[str, set[str]]:
    """{client function: the example's files that call it} from `api.<name>(` and `api().<name>(`."""
    pattern = re.compile(r"\bapi(?:\(\))?\.(\w+)\(")
    found: dict[str, set[str]] = {}
    for entry in CODE_DIRS:
        root = EXAMPLE / entry
        for path in [root] if root.is_file() else sorted(root.rglob("*.js")):
            for name in pattern.findall(path.read_text(encoding="utf-8")):
                found.setdefault(CALLS.get(name, name), set()).add(str(path.relative_to(EXAMPLE)))
    return found


def test_every_route_of_the_document_is_called_by_a_page():
    routes = json.loads(_node("--input-type=module", "-e",
                              "import {ROUTES} from './client.js'; console.log(JSON.stringify(ROUTES))",
                              cwd=CLIENT_DIR).stdout)
    by_route = {(method, spec.normalized(path)): name for name, (method, path) in routes.items()}
    called = _called_functions()
    unknown = sorted(set(called) - set(routes))
    assert not unknown, f"the pages call functions client.js does not have: {unknown}"
    documented = {(op.method, spec.normalized(op.path)) for op in spec.operations()}
    assert set(EXEMPT) <= documented, sorted(set(EXEMPT) - documented)
    uncalled = sorted(route for route in documented - set(EXEMPT) if by_route.get(route) not in called)
    assert not uncalled, f"routes of openapi.yaml that no page calls: {uncalled}"


def test_the_example_carries_the_client_as_it_is():
    """WeChat DevTools resolves files inside the mini program only: example/api/ holds copies, kept equal."""
    for name in ("client.js", "errors.js"):
        assert (EXAMPLE / "api" / name).read_bytes() == (CLIENT_DIR / name).read_bytes(), \
            f"example/api/{name} differs: cp miniprogram_api/{name} miniprogram_api/example/api/"


def test_errors_js_has_the_chinese_message_of_every_code_of_the_document():
    source = "import {MESSAGES} from './errors.js'; console.log(JSON.stringify(MESSAGES))"
    messages = json.loads(_node("--input-type=module", "-e", source, cwd=CLIENT_DIR).stdout)
    documented = {name: schema["x-message"] for name, schema in spec.document()["components"]["schemas"].items()
                  if "x-status" in schema}
    assert messages == documented
