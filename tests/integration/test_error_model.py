"""Every answer the app gives, Chalice's own rejections included, has the contract's error shape."""
from __future__ import annotations

import pytest

from tests.support.api import call


def _assert_contract_error(body: dict, code: str) -> None:
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    message = body["error"]["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message  # Chinese a user can read
    assert "Traceback" not in str(body)


def test_invalid_json_is_a_400_with_the_contract_shape(client, user):
    status, body = call(client, "POST", "/v1/checkins", "{not json", token=user["token"])
    assert status == 400
    _assert_contract_error(body, "INVALID_JSON")


@pytest.mark.parametrize("raw", ["[]", "42", '"text"', "null"])
def test_a_body_that_is_not_an_object_is_a_validation_error(client, user, raw):
    status, body = call(client, "POST", "/v1/checkins", raw, token=user["token"])
    assert status == 400
    _assert_contract_error(body, "VALIDATION_ERROR")


def test_wrong_method_is_a_405_with_the_contract_shape(client):
    status, body = call(client, "DELETE", "/v1/health")
    assert status == 405
    _assert_contract_error(body, "METHOD_NOT_ALLOWED")


def test_unsupported_media_type_is_a_415_with_the_contract_shape(client, user):
    status, body = call(client, "POST", "/v1/checkins", "a=b", token=user["token"],
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415
    _assert_contract_error(body, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("body, field", [
    ({"behavior": "clean_plate"}, "request_id"),
    ({"request_id": "short", "behavior": "clean_plate"}, "request_id"),
    ({"request_id": "has spaces in it", "behavior": "clean_plate"}, "request_id"),
    ({"request_id": 12345678, "behavior": "clean_plate"}, "request_id"),
    ({"request_id": "x" * 65, "behavior": "clean_plate"}, "request_id"),
    ({"request_id": "req_valid_1", "behavior": "old_clothes_typo"}, None),
    ({"request_id": "req_valid_2", "behavior": "clean_plate", "quantity": 2}, "quantity"),
    ({"request_id": "req_valid_3", "behavior": "green_parking", "quantity": 1}, "evidence"),
    ({"request_id": "req_valid_4", "behavior": "green_parking", "quantity": 1,
      "evidence": {"odometer_km": "abc"}}, "evidence.odometer_km"),
    ({"request_id": "req_valid_5", "behavior": "green_parking", "quantity": -1,
      "evidence": {"odometer_km": 12000}}, "quantity"),
])
def test_bad_checkin_bodies_answer_4xx_and_change_nothing(client, user, body, field):
    status, answer = call(client, "POST", "/v1/checkins", body, token=user["token"])
    if field is None:
        assert status == 404
        _assert_contract_error(answer, "UNKNOWN_BEHAVIOR")
    else:
        assert status == 400
        _assert_contract_error(answer, "VALIDATION_ERROR")
        assert answer["error"]["details"]["field"] == field
    status, ledger = call(client, "GET", "/v1/me/ledger", token=user["token"])
    assert ledger["items"] == []


def test_unknown_fields_are_ignored(client, user):
    status, body = call(client, "POST", "/v1/checkins", {"request_id": "req_unknown_fields", "behavior": "no_cutlery",
                                                         "points": 1000000, "carbon_g": 99999}, token=user["token"])
    assert status == 201
    assert body["entry"]["points"] == 2 and body["points"] == 2  # points are never taken from the client
