"""Numbers from text never crash a request (issue 17 item 2).

`str.isdigit()` accepts '²' (then `int()` fails: a 500), '٣' and '３' (which `int()` reads as 3), and `int()`
refuses more than 4,300 digits. Every number parsed from a query string, a header or a partner's data takes
ASCII digits only, with a bounded length: otherwise a query parameter is 400 VALIDATION_ERROR naming it, a
partner's signed header is 401 BAD_SIGNATURE, and a partner's event or step record is skipped as malformed.

Every query parameter of every route (read from openapi.yaml, so a new one is covered) gets every odd value
below; the numeric ones must refuse each with 400, the others must answer cleanly.
"""
from __future__ import annotations

import time
import uuid
from urllib.parse import quote

import pytest

from chalicelib.domain import numbers
from tests.contract.spec import document, operations
from tests.reliability.test_bad_input import assert_clean
from tests.support.api import call, login
from tests.support.market import new_merchant

ODD = {"superscript-two": "²", "arabic-indic-three": "٣", "full-width-three": "３", "devanagari-five": "५",
       "5000-nines": "9" * 5000, "40-nines": "9" * 40, "plus": "+5", "minus": "-5", "leading-space": " 5",
       "trailing-newline": "5\n", "trailing-space": "5 ", "empty": "", "decimal": "5.0", "exponent": "5e1",
       "hex": "0x5", "underscore": "1_0", "zero": "0", "nul": "5\x00"}
SAMPLE_PATHS = {"/v1/leaderboards/{board}": "/v1/leaderboards/users"}


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        target = document()
        for segment in node["$ref"].removeprefix("#/").split("/"):
            target = target[segment]
        node = target
    return node


def query_parameters() -> list[tuple[str, str, dict]]:
    found = []
    for op in operations():
        params = op.node.get("parameters", []) + document()["paths"][op.path].get("parameters", [])
        for param in map(_resolve, params):
            if param["in"] == "query":
                found.append((op.path, param["name"], _resolve(param.get("schema", {}))))
    return found


PARAMS = query_parameters()
CASES = [(path, name, schema, odd) for path, name, schema in PARAMS for odd in ODD]


@pytest.fixture(scope="module")
def env(app_module):
    from chalice.test import Client

    merchant = new_merchant()
    with Client(app_module.app, stage_name="local") as client:
        yield {"client": client, "staff": login(client, merchant[1][0])}


def test_the_fuzzed_parameters_include_every_list_limit():
    assert {path for path, name, _ in PARAMS if name == "limit"} == {
        "/v1/me/ledger", "/v1/me/trees", "/v1/market/goods", "/v1/me/redemptions", "/v1/merchant/redemptions",
        "/v1/orgs"}
    assert len({(p, n) for p, n, _ in PARAMS}) >= 19


@pytest.mark.parametrize("path, name, schema, odd", CASES, ids=[f"{p}?{n}={o}" for p, n, _, o in CASES])
def test_every_query_parameter_takes_odd_digits_cleanly(env, path, name, schema, odd):
    url = f"{SAMPLE_PATHS.get(path, path)}?{name}={quote(ODD[odd])}"
    status, answer = call(env["client"], "GET", url, token=env["staff"]["token"])
    assert_clean(status, answer, f"{path}?{name}={odd}")
    if schema.get("type") == "integer":
        assert status == 400, (path, name, odd, answer)
        assert answer["error"]["code"] == "VALIDATION_ERROR" and answer["error"]["details"]["field"] == name, answer


@pytest.mark.parametrize("path", sorted({p for p, n, _ in PARAMS if n == "limit"}))
def test_a_plain_ascii_limit_still_works_and_says_its_range_when_out_of_it(env, path):
    url = SAMPLE_PATHS.get(path, path)
    assert call(env["client"], "GET", f"{url}?limit=007", token=env["staff"]["token"])[0] == 200
    status, answer = call(env["client"], "GET", f"{url}?limit=101", token=env["staff"]["token"])
    assert status == 400, answer
    details = answer["error"]["details"]
    assert (details["field"], details["minimum"], details["maximum"]) == ("limit", 1, 100), answer
    assert "1" in details["rule"] and "100" in details["rule"], answer


def test_the_superscript_two_of_the_report_is_a_400_on_the_public_goods_list(env):
    status, answer = call(env["client"], "GET", "/v1/market/goods?limit=%C2%B2")
    assert (status, answer["error"]["code"], answer["error"]["details"]["field"]) == (400, "VALIDATION_ERROR", "limit")
    status, answer = call(env["client"], "GET", "/v1/me/ledger?limit=" + "9" * 5000, token=env["staff"]["token"])
    assert (status, answer["error"]["code"]) == (400, "VALIDATION_ERROR"), answer


# --- the shared helper ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("odd", [v for k, v in ODD.items() if k != "zero"] + [None, 5, b"5"])
def test_ascii_int_refuses_what_is_not_ascii_digits(odd):
    assert numbers.ascii_int(odd, 12) is None


def test_ascii_int_reads_ascii_digits_within_their_bound():
    assert numbers.ascii_int("0", 3) == 0 and numbers.ascii_int("007", 3) == 7
    assert numbers.ascii_int("1234", 3) is None


@pytest.mark.parametrize("value, ok", [(5, True), (0, True), (-1, False), (10**400, False), (True, False),
                                       (5.0, False), ("5", False), (None, False)])
def test_bounded_int_takes_json_integers_in_range_only(value, ok):
    got = numbers.bounded_int(value, 0, 10)
    assert (got, type(got)) == ((value, int) if ok else (None, type(None)))


# --- partners: signed headers and their data ---------------------------------------------------------------

@pytest.mark.parametrize("stamp", ["²", "٣", "３", "9" * 5000, "+" + str(int(time.time())), " 1", "1\n"])
@pytest.mark.parametrize("partner", ["transit", "bank"])
def test_a_signed_webhook_with_an_odd_timestamp_is_a_bad_signature(env, stack, partner, stamp):
    """Signed correctly over the odd timestamp (so the signature check passes), the timestamp is still refused."""
    fake = stack.transit if partner == "transit" else stack.bank
    path, headers, raw = fake.webhook_request([], timestamp=stamp)
    status, answer = call(env["client"], "POST", path, raw, headers=headers)
    assert (status, answer["error"]["code"]) == (401, "BAD_SIGNATURE"), answer


@pytest.mark.parametrize("timestamp", [10**20, -(10**20), 10**400, True, 1.5, "1764547200"])
def test_werun_step_records_with_odd_timestamps_are_skipped(client, stack, timestamp):
    user = login(client, "o-num-" + uuid.uuid4().hex[:10])
    data = stack.wechat.werun(user["openid"], [{"timestamp": timestamp, "step": 5000},
                                               {"timestamp": int(time.time()), "step": 10**400}])
    status, body = call(client, "POST", "/v1/werun/sync", data, token=user["token"])
    assert (status, body["awarded"]) == (200, {"points": 0, "carbon_g": 0.0}), body


@pytest.mark.parametrize("stamp", [10**20, -(10**20), 10**400])
def test_a_werun_watermark_with_an_odd_timestamp_is_invalid_data(client, stack, stamp):
    user = login(client, "o-num-" + uuid.uuid4().hex[:10])
    data = stack.wechat.werun(user["openid"], [{"timestamp": int(time.time()), "step": 5000}],
                              watermark_timestamp=stamp)
    status, body = call(client, "POST", "/v1/werun/sync", data, token=user["token"])
    assert (status, body["error"]["code"]) == (400, "INVALID_WERUN_DATA"), body
