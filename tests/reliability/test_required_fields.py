"""Every write route's body, field by field, against miniprogram_api/openapi.yaml (api.md: "wrong types, missing
required fields, out-of-range values: 400 VALIDATION_ERROR with details.field").

The table below names each write route of the app with a body the route would accept; the required fields and
the JSON types of every field are read from the route's request schema in openapi.yaml, so the document and the
code cannot drift apart. For each route: every required field left out, and every field (optional ones too)
sent with each JSON type its schema does not allow, is 400 VALIDATION_ERROR naming that field, never another
code (a mistyped `behavior` once came back as 404 UNKNOWN_BEHAVIOR with `details.behavior: null`).
A string field whose schema sets a pattern or lengths says them in `details` when it is broken (issue 26).
"""
from __future__ import annotations

import re
import uuid

import pytest

from chalicelib import ratelimit
from tests.contract.spec import document, normalized, operations
from tests.support.api import call, login, request_id
from tests.support.market import load_catalog, new_goods, new_merchant

GOODS, PHYSICAL, TREE = "t-req-coupon", "t-req-physical", "t-req-tree"
KG = {"code": "req_kg", "name": "按公斤测试", "category": "test", "unit": "kg", "carbon": {"mg": 1000, "per": 1},
      "points": {"points": 1, "per": 1}, "daily_quantity_max": 10000, "channels": ["checkin", "operator"],
      "methodology": {"id": "TEST-req-kg", "version": "1", "source": "test"}}
ADDRESS = {"name": "张三", "phone": "13800138000", "region": "四川省泸州市江阳区", "detail": "大山坪街道 1 号"}

# (method, path in openapi.yaml) -> (path to call, who calls, a body the route accepts as far as fields go)
WRITES = {
    ("POST", "/v1/auth/login"): ("/v1/auth/login", None, lambda: {"code": "wx:o-req-" + uuid.uuid4().hex[:8] + ":x"}),
    ("PATCH", "/v1/me"): ("/v1/me", "user", lambda: {"nickname": "小绿", "avatar_url": None}),
    ("DELETE", "/v1/me"): ("/v1/me", "user", lambda: {"confirm": "DELETE"}),
    ("POST", "/v1/me/appeals"): ("/v1/me/appeals", "user", lambda: {"text": "请复核我的账户"}),
    ("POST", "/v1/me/subscriptions"): ("/v1/me/subscriptions", "user", lambda: {
        "request_id": request_id(), "accepted": ["coupon_expiring"]}),
    ("POST", "/v1/checkins"): ("/v1/checkins", "user", lambda: {
        "request_id": request_id(), "behavior": "no_cutlery", "quantity": 1, "evidence": {}}),
    ("POST", "/v1/uploads"): ("/v1/uploads", "user", lambda: {
        "purpose": "checkin_evidence", "content_type": "image/jpeg", "size": 1000}),
    ("POST", "/v1/werun/sync"): ("/v1/werun/sync", "user", lambda: {
        "encrypted_data": "AAAAAAAAAAAAAAAAAAAAAA==", "iv": "AAAAAAAAAAAAAAAAAAAAAA=="}),
    ("PUT", "/v1/partners/{id}/consent"): ("/v1/partners/transit/consent", "user", lambda: {"phone_code": "pc_x"}),
    ("POST", "/v1/trees/{id}/adopt"): (f"/v1/trees/{TREE}/adopt", "user", lambda: {"request_id": request_id()}),
    ("POST", "/v1/market/goods/{id}/redeem"): (f"/v1/market/goods/{PHYSICAL}/redeem", "user", lambda: {
        "request_id": request_id(), "address": dict(ADDRESS)}),
    ("POST", "/v1/merchant/verify"): ("/v1/merchant/verify", "staff", lambda: {"code": "ABCDEFGHJKMNPQRS"}),
    ("POST", "/v1/operator/credit"): ("/v1/operator/credit", "collector", lambda: {
        "request_id": request_id(), "member_code": "ABCDEFGHJKMN", "behavior": "old_clothes", "quantity": 2.5}),
    ("POST", "/v1/orgs/{id}/join"): ("/v1/orgs/o-lz-no1-school/join", "user", lambda: {"invite_code": "LZ1Z-2026"}),
}
NO_BODY = {("POST", "/v1/me/redemptions/{id}/cancel"), ("POST", "/v1/partners/{id}/sync"),
           ("DELETE", "/v1/partners/{id}/consent"), ("POST", "/v1/partners/{id}/link-code")}
# signed partner calls: a malformed event is ignored (test_webhooks.py); a link's fields are checked after its
# signature (test_open_partners.py)
PARTNER = {("POST", "/v1/webhooks/{id}"), ("POST", "/v1/open/links")}
SAMPLES = {"string": "x", "number": 7, "boolean": True, "null": None, "object": {}, "array": []}


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        node = {**_pointer(node["$ref"]), **{k: v for k, v in node.items() if k != "$ref"}}
    for part in node.get("allOf", ()):
        node = {**_resolve(part), **{k: v for k, v in node.items() if k != "allOf"}}
    return node


def _pointer(ref: str) -> dict:
    node = document()
    for segment in ref.removeprefix("#/").split("/"):
        node = node[segment]
    return node


def _types(prop: dict) -> set[str]:
    prop = _resolve(prop)
    if "const" in prop:
        return {"string" if isinstance(prop["const"], str) else "number"}
    if "type" in prop:
        return set(prop["type"]) if isinstance(prop["type"], list) else {prop["type"]}
    return set().union(*(_types(p) for p in prop.get("oneOf", prop.get("anyOf", []))))


def request_schema(method: str, path: str) -> dict:
    op = next(o for o in operations() if (o.method, o.path) == (method, path))
    return _resolve(op.node["requestBody"]["content"]["application/json"]["schema"])


@pytest.fixture(scope="module")
def env(stack, app_module):
    from chalice.test import Client

    patch = pytest.MonkeyPatch()
    patch.setattr(ratelimit, "_writes", ratelimit.TokenBuckets(10**9))
    merchant, collector = new_merchant(), new_merchant(collection_point=True)
    new_goods(merchant_id=merchant[0], id=GOODS, points_price=1, stock=1000, per_user_limit=1000)
    new_goods(merchant_id=merchant[0], id=PHYSICAL, points_price=1, stock=1000, per_user_limit=1000, kind="physical")
    load_catalog({"behaviors": [KG], "trees": [{"id": TREE, "species": "香樟", "location": "泸州", "points_price": 1,
                             "annual_uptake_g": 1000, "stock": 1000,
                             "methodology": {"id": "TEST-tree", "version": "t3", "source": "test", "estimate": True}}]})
    with Client(app_module.app, stage_name="local") as client:
        yield {"client": client, "user": login(client, "o-req-" + uuid.uuid4().hex[:10]),
               "staff": login(client, merchant[1][0]), "collector": login(client, collector[1][0])}
    patch.undo()


def send(env, route, body):
    path, who, _ = WRITES[route]
    return call(env["client"], route[0], path, body, token=env[who]["token"] if who else None)


def assert_names(status, answer, name):
    assert status == 400, answer
    assert answer["error"]["code"] == "VALIDATION_ERROR", answer
    assert answer["error"]["details"]["field"] == name, answer


def test_every_write_route_of_the_app_has_a_row(app_module):
    writes = {(method, normalized(path)) for path, entry in app_module.app.routes.items()
              for method in entry if method in ("POST", "PUT", "PATCH", "DELETE")}
    listed = {(m, normalized(p)) for m, p in (*WRITES, *NO_BODY, *PARTNER)}
    assert writes == listed


def test_the_rows_are_the_documents_request_bodies():
    with_bodies = {(o.method, o.path) for o in operations() if "requestBody" in o.node}
    assert with_bodies == set(WRITES) | PARTNER


MISSING = [(route, name) for route in WRITES for name in request_schema(*route).get("required", ())]
WRONG = [(route, name, kind) for route in WRITES for name, prop in request_schema(*route)["properties"].items()
         for kind in SAMPLES if kind not in _types(prop)]


@pytest.mark.parametrize("route, name", MISSING, ids=[f"{m} {p} -{n}" for (m, p), n in MISSING])
def test_a_missing_required_field_is_named(env, route, name):
    body = WRITES[route][2]()
    del body[name]
    assert_names(*send(env, route, body), name)


@pytest.mark.parametrize("route, name, kind", WRONG, ids=[f"{m} {p} {n}={k}" for (m, p), n, k in WRONG])
def test_a_field_of_the_wrong_json_type_is_named(env, route, name, kind):
    body = {**WRITES[route][2](), name: SAMPLES[kind]}
    assert_names(*send(env, route, body), name)


@pytest.mark.parametrize("route", [("POST", "/v1/operator/credit"), ("POST", "/v1/checkins")])
@pytest.mark.parametrize("quantity", ["missing", None])
def test_a_behaviour_counted_in_kg_names_its_missing_quantity(env, route, quantity):
    """`quantity` is optional in the schema (a behaviour counted in events takes none), required by kg ones."""
    body = {**WRITES[route][2](), "behavior": KG["code"], "quantity": quantity}
    if quantity == "missing":
        del body["quantity"]
    assert_names(*send(env, route, body), "quantity")


def test_the_table_covers_the_reported_cases():
    """The issue's own examples are among the cases: no `behavior`, and `"behavior": 123`."""
    assert (("POST", "/v1/checkins"), "behavior") in MISSING
    assert (("POST", "/v1/checkins"), "behavior", "number") in WRONG
    assert (("POST", "/v1/operator/credit"), "quantity", "boolean") in WRONG
    assert (("POST", "/v1/operator/credit"), "behavior", "null") in WRONG


def test_each_route_accepts_its_row_body(env):
    """The rows' bodies are right as far as fields go: what refuses them is never a VALIDATION_ERROR."""
    for route in WRITES:
        if route == ("DELETE", "/v1/me"):
            continue  # it would delete the module's user
        status, answer = send(env, route, WRITES[route][2]())
        assert status < 500, (route, answer)
        assert status < 400 or answer["error"]["code"] != "VALIDATION_ERROR", (route, answer)


# --- the rule, said in details (issue 26) ------------------------------------------------------------------

STRING_RULES = [(route, name, prop) for route in WRITES for name, prop in
                ((n, _resolve(p)) for n, p in request_schema(*route)["properties"].items())
                if prop.get("type") == "string" and ({"pattern", "maxLength"} & set(prop))]


@pytest.mark.parametrize("route, name, prop", STRING_RULES, ids=[f"{r[1]} {n}" for r, n, _ in STRING_RULES])
def test_a_broken_pattern_or_length_says_the_rule(env, route, name, prop):
    too_long = "a" * (prop.get("maxLength", 64) + 1)
    status, answer = send(env, route, {**WRITES[route][2](), name: too_long})
    assert_names(status, answer, name)
    details = answer["error"]["details"]
    for key, said in (("pattern", "pattern"), ("minLength", "min_length"), ("maxLength", "max_length")):
        if key in prop:
            assert details.get(said) == prop[key], answer
    assert re.search(r"[A-Za-z]{3,}", details.get("rule", "")), answer  # an English sentence a developer reads
    assert any("\u4e00" <= ch <= "\u9fff" for ch in answer["error"]["message"]), answer  # the Chinese stays


def test_a_short_request_id_says_its_pattern_and_lengths(env):
    status, answer = send(env, ("POST", "/v1/checkins"), {"request_id": "abc1234", "behavior": "clean_plate"})
    assert_names(status, answer, "request_id")
    assert answer["error"]["details"] | {"rule": None} == {
        "field": "request_id", "reason": "pattern", "expected": ["string"], "pattern": "^[A-Za-z0-9_-]{8,64}$",
        "min_length": 8, "max_length": 64, "rule": None}, answer
    assert "8" in answer["error"]["details"]["rule"] and "64" in answer["error"]["details"]["rule"]
    assert answer["error"]["message"] == "request_id 须为 8 到 64 位字母、数字、下划线或连字符"


@pytest.mark.parametrize("route, body, field, rule", [
    (("POST", "/v1/market/goods/{id}/redeem"), {"address": {**ADDRESS, "phone": "12800138000"}}, "address.phone",
     {"reason": "pattern", "pattern": "^1[3-9][0-9]{9}$"}),
    (("POST", "/v1/market/goods/{id}/redeem"), {"address": {**ADDRESS, "name": "张" * 21}}, "address.name",
     {"reason": "length", "min_length": 1, "max_length": 20}),
    (("POST", "/v1/market/goods/{id}/redeem"), {"address": {**ADDRESS, "detail": None}}, "address.detail",
     {"reason": "missing", "min_length": 4, "max_length": 120}),
    (("POST", "/v1/werun/sync"), {"iv": "A" * 16385}, "iv", {"reason": "length", "max_length": 16384}),
    (("POST", "/v1/werun/sync"), {"iv": "not base64!"}, "iv", {"reason": "pattern"}),
    (("PATCH", "/v1/me"), {"nickname": "  "}, "nickname", {"reason": "length", "min_length": 1, "max_length": 20}),
], ids=["phone", "name", "detail", "werun-length", "werun-base64", "nickname-blank"])
def test_rules_checked_past_the_shape_say_themselves_too(env, route, body, field, rule):
    status, answer = send(env, route, {**WRITES[route][2](), **body})
    assert_names(status, answer, field)
    details = answer["error"]["details"]
    assert {key: details.get(key) for key in rule} == rule, answer
    assert re.search(r"[A-Za-z]{3,}", details.get("rule", "")), answer
