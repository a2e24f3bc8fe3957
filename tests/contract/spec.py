"""miniprogram_api/openapi.yaml as the contract tests read it: its operations, its path templates, and
a check of one recorded response against the schema the document gives for that route and status."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "miniprogram_api" / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
STATUS_MARK = "x-greensprout-status"  # `planned`: in the contract, not yet in app.py
URI = "urn:greensprout:openapi"
JSON = "application/json"


@functools.cache
def document() -> dict:
    return yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Operation:
    method: str  # upper case, as Chalice spells it
    path: str
    planned: bool
    node: dict


def operations(doc: dict | None = None) -> list[Operation]:
    """Every (method, path) of the document; an operation is planned when it, or its path, is marked."""
    doc = doc or document()
    found = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                planned = "planned" in (item.get(STATUS_MARK), item[method].get(STATUS_MARK))
                found.append(Operation(method.upper(), path, planned, item[method]))
    return found


def normalized(path: str) -> str:
    """A path with its parameters unnamed: `/v1/orgs/{id}` and `/v1/orgs/{org_id}` are one route."""
    return re.sub(r"\{[^/}]+\}", "{}", path)


def pointer_escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def resolve(pointer: str, doc: dict | None = None):
    node = doc or document()
    for segment in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
        segment = segment.replace("~1", "/").replace("~0", "~")
        node = node[int(segment)] if isinstance(node, list) else node[segment]
    return node


def follow(node: dict, pointer: str, doc: dict | None = None) -> tuple[dict, str]:
    """An OpenAPI object behind its `$ref`s (responses, parameters), with the pointer where it lives."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are used here, not {ref}")
        pointer = ref[1:]
        node = resolve(pointer, doc)
    return node, pointer


@functools.cache
def _templates() -> list[tuple[re.Pattern, str]]:
    patterns = []
    for path in document()["paths"]:
        parts = ["[^/]+" if seg.startswith("{") and seg.endswith("}") else re.escape(seg) for seg in path.split("/")]
        patterns.append((re.compile("^" + "/".join(parts) + "$"), path))
    # literal segments win over parameters: /v1/me/trees before a hypothetical /v1/me/{x}
    return sorted(patterns, key=lambda p: p[1].count("{"))


def template_of(url: str) -> str | None:
    """The document's path template a concrete request path falls under (query string ignored)."""
    path = urlsplit(url).path
    return next((template for pattern, template in _templates() if pattern.match(path)), None)


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource(URI, Resource.from_contents(document(), default_specification=DRAFT202012))


@functools.cache
def validator(pointer: str) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator of the schema at `pointer` in the document (its $refs resolve)."""
    return Draft202012Validator({"$ref": f"{URI}#{quote(pointer, safe='/~')}"}, registry=_registry())


def error_codes(schema: dict, pointer: str) -> set[str]:
    """The error codes a response schema allows (the `const` of each per-code schema it names)."""
    schema, pointer = follow(schema, pointer)
    if "oneOf" in schema or "anyOf" in schema:
        options = schema.get("oneOf") or schema.get("anyOf")
        return set().union(*(error_codes(option, f"{pointer}/oneOf/{i}") for i, option in enumerate(options)))
    try:
        return {schema["properties"]["error"]["properties"]["code"]["const"]}
    except (KeyError, TypeError):
        return set()


def check(method: str, url: str, status: int, body) -> str | None:
    """Why a response does not match the document, or None when it does."""
    doc = document()
    method, template = method.upper(), template_of(url)
    where = f"{method} {template or urlsplit(url).path} -> {status}"
    if template is None or method.lower() not in doc["paths"][template]:
        if status in (404, 405):  # an unknown route or method: the app's own contract-shaped refusal
            code = "NOT_FOUND" if status == 404 else "METHOD_NOT_ALLOWED"
            return _validate(f"/components/schemas/{code}", body, where)
        what = f"no path matches {urlsplit(url).path}" if template is None else f"{template} has no {method}"
        return f"{where}: openapi.yaml documents no such route ({what})"
    operation = doc["paths"][template][method.lower()]
    responses = operation.get("responses", {})
    response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
    if response is None:
        return f"{where}: openapi.yaml documents no {status} response here (only {', '.join(sorted(responses))})"
    esc_path = pointer_escape(template)
    key = next(k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses)
    response, pointer = follow(response, f"/paths/{esc_path}/{method.lower()}/responses/{key}")
    content = response.get("content") or {}
    if JSON not in content:
        return None if body is None else f"{where}: openapi.yaml documents no body for this status, got {_short(body)}"
    schema_pointer = f"{pointer}/content/{pointer_escape(JSON)}/schema"
    allowed = error_codes(content[JSON]["schema"], schema_pointer)
    code = body.get("error", {}).get("code") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None
    if allowed and code is not None and code not in allowed:
        documented = ", ".join(sorted(allowed))
        return f"{where}: error code {code!r} is not documented for this status (documented: {documented})"
    if code in allowed:  # the code's own schema gives a clearer message than a failed oneOf
        schema_pointer = f"/components/schemas/{code}"
    return _validate(schema_pointer, body, where)


def _validate(schema_pointer: str, body, where: str) -> str | None:
    errors = list(validator(schema_pointer).iter_errors(body))
    if not errors:
        return None
    error = best_match(errors)
    at = error.json_path if error.json_path != "$" else "the body"
    return f"{where}: {at}: {error.message}"


def _short(value, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def check_all(responses: list[dict]) -> list[str]:
    """Every mismatch among recorded responses, once per distinct problem, with where it was seen."""
    seen: dict[str, list[str]] = {}
    for response in responses:
        problem = check(response["method"], response["path"], response["status"], response["body"])
        if problem:
            seen.setdefault(problem, []).append(response.get("test") or "?")
    return [f"{problem}\n    seen {len(tests)}x, first in {tests[0]}" for problem, tests in seen.items()]
