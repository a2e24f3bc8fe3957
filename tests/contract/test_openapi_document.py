"""miniprogram_api/openapi.yaml holds together: references resolve, schemas are valid JSON Schema 2020-12,
every example matches its schema, every error response names codes of its own status, and every route
and error code of shared/contract/api.md is there."""
from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from jsonschema import Draft202012Validator

from tests.contract import spec

DOC = spec.document()
API_MD = spec.ROOT.parent / "shared" / "contract" / "api.md"
OPERATIONS_MD = API_MD.with_name("operations.md")


def _walk(node, pointer=""):
    yield pointer, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{pointer}/{spec.pointer_escape(str(key))}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{pointer}/{index}")


def test_it_is_openapi_3_1_with_json_values_only():
    assert DOC["openapi"].startswith("3.1.")
    bad = [p for p, v in _walk(DOC) if isinstance(v, (date, datetime))]
    assert not bad, f"YAML read these as dates, not strings (quote them): {bad}"


def test_every_reference_resolves():
    broken = []
    for pointer, node in _walk(DOC):
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            try:
                spec.resolve(node["$ref"][1:])
            except (KeyError, IndexError, ValueError):
                broken.append(f"{pointer}: {node['$ref']}")
    assert not broken, broken


@pytest.mark.parametrize("name", sorted(DOC["components"]["schemas"]))
def test_every_component_schema_is_valid_json_schema(name):
    Draft202012Validator.check_schema(DOC["components"]["schemas"][name])


def _media_examples():
    for pointer, node in _walk(DOC):
        if pointer.endswith("/content/application~1json") and "schema" in node:
            if "example" in node:
                yield f"{pointer}/example", f"{pointer}/schema", node["example"]
            for name, example in (node.get("examples") or {}).items():
                yield f"{pointer}/examples/{name}", f"{pointer}/schema", example["value"]


EXAMPLES = list(_media_examples())


@pytest.mark.parametrize("where, schema, example", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_matches_its_schema(where, schema, example):
    errors = sorted(spec.validator(schema).iter_errors(example), key=lambda e: e.json_path)
    assert not errors, [f"{e.json_path}: {e.message}" for e in errors]


def test_the_clean_plate_example_is_144_g_and_5_points():
    response = DOC["paths"]["/v1/checkins"]["post"]["responses"]["201"]["content"]["application/json"]
    entry = response["example"]["entry"]
    assert (entry["behavior"], entry["carbon_g"], entry["points"]) == ("clean_plate", 144, 5)


def _error_schemas() -> dict[str, dict]:
    return {name: s for name, s in DOC["components"]["schemas"].items() if "x-status" in s}


def test_every_error_code_schema_states_its_status_message_and_code():
    for name, schema in _error_schemas().items():
        assert isinstance(schema["x-status"], int) and 400 <= schema["x-status"] < 600, name
        assert re.search(r"[\u4e00-\u9fff]", schema["x-message"]), f"{name}: x-message is Chinese a user reads"
        assert schema["properties"]["error"]["properties"]["code"]["const"] == name


def _operations():
    return [(op.method, op.path, op.node) for op in spec.operations()]


@pytest.mark.parametrize("method, path, operation", _operations(), ids=[f"{m} {p}" for m, p, _ in _operations()])
def test_every_error_response_names_codes_of_its_own_status(method, path, operation):
    errors = _error_schemas()
    for status, response in operation["responses"].items():
        if not status.startswith(("4", "5")):
            continue
        body, pointer = spec.follow(response, f"/paths/{spec.pointer_escape(path)}/{method.lower()}/responses/{status}")
        codes = spec.error_codes(body["content"]["application/json"]["schema"],
                                 f"{pointer}/content/application~1json/schema")
        assert codes, f"{status}: the response names no error code"
        assert all(errors[c]["x-status"] == int(status) for c in codes), (status, codes)


@pytest.mark.parametrize("method, path, operation", _operations(), ids=[f"{m} {p}" for m, p, _ in _operations()])
def test_every_operation_says_who_calls_it_and_how_they_authenticate(method, path, operation):
    caller = operation["x-greensprout-caller"]
    security = operation.get("security", DOC["security"])
    responses = operation["responses"]
    assert operation["operationId"] and operation["summary"]
    assert "500" in responses
    if caller == "anyone":
        assert security == [], "public routes take no token"
    elif caller == "partner":
        assert security and all("bearerAuth" not in s for s in security)
        assert "401" in responses
    else:
        assert security == [{"bearerAuth": []}]
        assert "401" in responses, "a route that needs a token answers 401"
    if caller == "merchant_staff":
        assert "403" in responses, "a staff route answers 403 to other users"
    declared = {p.get("name") for p in [*spec.document()["paths"][path].get("parameters", []),
                                        *operation.get("parameters", [])]
                for p in [spec.follow(p, "")[0]] if p.get("in") == "path"}
    assert declared == set(re.findall(r"\{([^}]+)\}", path)), "every path parameter is declared"


def test_operation_ids_are_unique():
    ids = [op.node["operationId"] for op in spec.operations()]
    assert len(ids) == len(set(ids))


def _api_md() -> str:
    if not API_MD.exists():
        pytest.skip("shared/contract/api.md is not beside this repository")
    return API_MD.read_text(encoding="utf-8")


def test_every_route_of_api_md_is_documented():
    routes = set(re.findall(r"^\| (GET|POST|PUT|PATCH|DELETE) (/v1/\S*) \|", _api_md(), re.M))
    assert len(routes) > 30
    documented = {(op.method, spec.normalized(op.path)) for op in spec.operations()}
    missing = {(m, p) for m, p in routes if (m, spec.normalized(p)) not in documented}
    assert not missing, missing


def test_every_error_code_of_api_md_is_documented():
    settings = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", OPERATIONS_MD.read_text(encoding="utf-8"), re.M))
    assert "WRITE_RATE_PER_MINUTE" in settings  # api.md names settings too; they are not error codes
    codes = set(re.findall(r"`([A-Z][A-Z_]{3,})`", _api_md())) - {"GET", "POST", "PUT", "PATCH", "DELETE"} - settings
    assert "DAILY_LIMIT_REACHED" in codes
    missing = codes - set(_error_schemas())
    assert not missing, missing
