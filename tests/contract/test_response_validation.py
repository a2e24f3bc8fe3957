"""The check the recorder applies to every response of the suite (tests/contract/recorder.py) catches
what the mini program would trip over, and says where."""
from __future__ import annotations

import copy

from tests.contract import spec

ENTRY = {"id": "01JD3W5Z8Q7K3M9QX2ABCDEFGH", "at": "2026-11-23T12:31:05.120+08:00", "kind": "earn", "points": 5,
         "carbon_g": 144.0, "behavior": "clean_plate", "source": "checkin", "ref": None,
         "methodology": {"id": "ACEF-031-clean-plate", "version": "2024.1"}, "balance_after": 5, "counted_via": None}
CHECKIN = {"entry": ENTRY, "points": 5, "carbon_g": 144.0}


def test_concrete_paths_map_to_the_document_templates():
    assert spec.template_of("/v1/me/ledger?limit=3&cursor=abc") == "/v1/me/ledger"
    assert spec.template_of("/v1/me/redemptions/rd_1/cancel") == "/v1/me/redemptions/{id}/cancel"
    assert spec.template_of("/v1/me/redemptions") == "/v1/me/redemptions"
    assert spec.template_of("/v1/leaderboards/org-o-school-1") == "/v1/leaderboards/{board}"
    assert spec.template_of("/v1/nowhere") is None


def test_a_response_as_documented_passes():
    assert spec.check("POST", "/v1/checkins", 201, CHECKIN) is None
    assert spec.check("GET", "/v1/me/ledger?limit=1", 200, {"items": [ENTRY], "next_cursor": None}) is None


def test_a_missing_field_is_named():
    body = copy.deepcopy(CHECKIN)
    del body["entry"]["balance_after"]
    problem = spec.check("POST", "/v1/checkins", 201, body)
    assert "POST /v1/checkins -> 201" in problem and "balance_after" in problem and "$.entry" in problem


def test_a_wrong_type_is_named():
    body = copy.deepcopy(CHECKIN)
    body["entry"]["points"] = "5"
    assert "$.entry.points" in spec.check("POST", "/v1/checkins", 201, body)


def test_a_time_without_offset_is_refused():
    body = copy.deepcopy(CHECKIN)
    body["entry"]["at"] = "2026-11-23T12:31:05"
    assert "$.entry.at" in spec.check("POST", "/v1/checkins", 201, body)


def test_an_error_code_not_documented_for_the_status_is_named():
    body = {"error": {"code": "OUT_OF_STOCK", "message": "该商品已兑完"}}
    problem = spec.check("POST", "/v1/checkins", 409, body)
    assert "'OUT_OF_STOCK' is not documented" in problem and "IDEMPOTENCY_CONFLICT" in problem


def test_a_validation_error_must_name_its_field():
    named = {"error": {"code": "VALIDATION_ERROR", "message": "请求参数不正确", "details": {"field": "x"}}}
    assert spec.check("POST", "/v1/checkins", 400, named) is None
    assert "details" in spec.check("POST", "/v1/checkins", 400,
                                   {"error": {"code": "VALIDATION_ERROR", "message": "请求参数不正确"}})


def test_an_undocumented_status_is_named():
    problem = spec.check("GET", "/v1/health", 418, {"error": {"code": "TEAPOT", "message": "茶壶"}})
    assert "documents no 418 response" in problem


def test_an_unknown_route_may_only_be_refused():
    assert spec.check("GET", "/v1/nowhere", 404, {"error": {"code": "NOT_FOUND", "message": "接口不存在"}}) is None
    assert spec.check("DELETE", "/v1/health", 405,
                      {"error": {"code": "METHOD_NOT_ALLOWED", "message": "不支持该请求方法"}}) is None
    assert "documents no such route" in spec.check("GET", "/v1/nowhere", 200, {"ok": True})


def test_problems_are_reported_once_with_where_they_were_seen():
    bad = {"method": "POST", "path": "/v1/checkins", "status": 201, "body": {"points": 5}}
    problems = spec.check_all([{**bad, "test": "tests/a.py::one"}, {**bad, "test": "tests/b.py::two"},
                               {"method": "POST", "path": "/v1/checkins", "status": 201, "body": CHECKIN}])
    assert len(problems) == 1
    assert "seen 2x, first in tests/a.py::one" in problems[0]
