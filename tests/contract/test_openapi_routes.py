"""The app and miniprogram_api/openapi.yaml describe the same routes, methods and error codes.

Routes of the contract that are still being built carry `x-greensprout-status: planned` (on the path,
or on one operation); removing that one line when the route lands makes this test hold it to the app.
Path parameters are compared unnamed (`/v1/orgs/{id}` is `/v1/orgs/{org_id}`): the name is not part of HTTP.
"""
from __future__ import annotations

import json

import pytest

from tests.contract import spec

_SPELLING: dict[str, str] = {}  # normalized path -> as the app or the document spells it, for messages


def _route(method: str, path: str) -> tuple[str, str]:
    _SPELLING.setdefault(spec.normalized(path), path)
    return method, spec.normalized(path)


def _app_routes(app_module) -> set[tuple[str, str]]:
    return {_route(method, path) for path, methods in app_module.app.routes.items() for method in methods}


def _listing(routes) -> str:
    return "\n  ".join(f"{method} {_SPELLING.get(path, path)}" for path, method in sorted((p, m) for m, p in routes))


def _documented(planned: bool | None = None) -> set[tuple[str, str]]:
    return {_route(op.method, op.path) for op in spec.operations() if planned is None or op.planned == planned}


def test_every_app_route_is_in_the_document_with_the_same_methods(app_module):
    missing = _app_routes(app_module) - _documented()
    assert not missing, ("routes of app.py that miniprogram_api/openapi.yaml does not describe:\n  "
                         + _listing(missing))


def test_every_route_the_document_does_not_mark_planned_is_in_the_app(app_module):
    absent = _documented(planned=False) - _app_routes(app_module)
    assert not absent, ("routes of miniprogram_api/openapi.yaml that app.py does not serve (mark them "
                        "`x-greensprout-status: planned` if they are being built):\n  " + _listing(absent))


def test_no_route_the_app_serves_is_still_marked_planned(app_module):
    """A route that has landed loses its planned mark, so the test above holds it to the app (a warning
    here was easy to miss, and let the document and the app drift apart)."""
    landed = _documented(planned=True) & _app_routes(app_module)
    assert not landed, ("routes served by app.py that miniprogram_api/openapi.yaml still marks "
                        "`x-greensprout-status: planned` (remove the mark):\n  " + _listing(landed))


def _app_errors(app_module) -> dict[str, set[tuple[int, str]]]:
    """Every error class the app can raise (chalicelib/errors.py and any subclass defined elsewhere)."""
    from chalicelib import errors

    found: dict[str, set[tuple[int, str]]] = {}
    pending = [errors.AppError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        found.setdefault(cls.code, set()).add((cls.status, cls.message))
    return found


def _documented_error(code: str) -> dict | None:
    schema = spec.document()["components"]["schemas"].get(code)
    return schema if schema and "x-status" in schema else None


def test_every_error_code_of_the_app_is_documented_with_its_status_and_message(app_module):
    problems = []
    for code, variants in sorted(_app_errors(app_module).items()):
        documented = _documented_error(code)
        if documented is None:
            problems.append(f"{code}: no components/schemas/{code} (with x-status and x-message)")
            continue
        messages = set(documented.get("x-messages") or [documented["x-message"]])
        for status, message in sorted(variants):
            if documented["x-status"] != status:
                problems.append(f"{code}: errors.py says {status}, the document says {documented['x-status']}")
            if message not in messages:
                problems.append(f"{code}: errors.py says {message!r}, the document says {sorted(messages)}")
    assert not problems, "error codes out of step with miniprogram_api/openapi.yaml:\n  " + "\n  ".join(problems)


def test_api_gateway_answers_are_documented_too():
    path = spec.ROOT / "infra" / "gateway_responses.json"
    if not path.exists():
        pytest.skip("infra/gateway_responses.json is not in this tree")
    responses = {k: v for k, v in json.loads(path.read_text(encoding="utf-8")).items() if not k.startswith("_")}
    problems = []
    for kind, answer in responses.items():
        documented = _documented_error(answer["code"])
        if documented is None:
            problems.append(f"{kind}: {answer['code']} is not documented")
        elif answer.get("status") not in (None, documented["x-status"]):
            problems.append(f"{kind}: status {answer['status']}, the document says {documented['x-status']}")
    assert not problems, "\n".join(problems)
