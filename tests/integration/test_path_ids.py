"""Ids in the path: one that cannot name anything (3000 characters, odd characters) is an unknown object,
answered like one (404, the route's own code) before DynamoDB ever sees it; and a request DynamoDB refuses
as malformed (ValidationException) is our bug, a 500, while throttling stays a 503."""
from __future__ import annotations

import json
import logging

import pytest

from chalicelib import ratelimit
from chalicelib.domain import ids
from tests.support.api import call, hooked, login, request_id
from tests.support.ddbfaults import error, failing

# (method, path with {} for the id, who calls, body, the route's code for an unknown object)
ROUTES = [
    ("GET", "/v1/orgs/{}", None, None, "NOT_FOUND"),
    ("POST", "/v1/orgs/{}/join", "user", {"invite_code": "LZ1Z-2026"}, "NOT_FOUND"),
    ("GET", "/v1/leaderboards/{}", "user", None, "NOT_FOUND"),
    ("GET", "/v1/leaderboards/org-{}", "user", None, "NOT_FOUND"),
    ("POST", "/v1/trees/{}/adopt", "user", "request_id", "NOT_FOUND"),
    ("POST", "/v1/market/goods/{}/redeem", "user", "request_id", "NOT_FOUND"),
    ("GET", "/v1/me/redemptions/{}", "user", None, "NOT_FOUND"),
    ("POST", "/v1/me/redemptions/{}/cancel", "user", None, "NOT_FOUND"),
    ("PUT", "/v1/partners/{}/consent", "user", {"phone_code": "e31968a7f94cc5ee"}, "UNKNOWN_PARTNER"),
    ("DELETE", "/v1/partners/{}/consent", "user", None, "UNKNOWN_PARTNER"),
    ("POST", "/v1/partners/{}/sync", "user", None, "UNKNOWN_PARTNER"),
    ("POST", "/v1/webhooks/{}", None, {"events": []}, "UNKNOWN_PARTNER"),
]
UNUSABLE_IDS = {
    "3000-chars": "x" * 3000,  # past DynamoDB's 2048-byte partition key
    "2100-bytes": "中" * 700,  # few characters, too many bytes
    "65-chars": "A" * 65,  # just past the bound
    "space": "o-lz-no1-school x",
    "dot": "t-camphor-2026.",
    "cjk": "绿芽",
    "emoji": "😀",
    "encoded-slash": "g-cafe-latte-half%2F..",
    "quote": "transit'--",
    "control-char": "bank\x0b",  # (a newline would not arrive: urllib strips it from a URL)
    "nul": "o-lz-no1-school\x00",
}


@pytest.fixture(scope="module")
def env(app_module):
    """One user shared by every case, with write limits that these many requests cannot reach."""
    from chalice.test import Client

    patch = pytest.MonkeyPatch()
    patch.setattr(ratelimit, "_writes", ratelimit.TokenBuckets(10**9))
    with Client(app_module.app, stage_name="local") as client:
        yield {"client": client, "user": login(client, "o-pathid-" + ids.random_code(10).lower())}
    patch.undo()


class SentToDynamoDB:
    """Every string the app puts into a DynamoDB request (keys, values, conditions) while open."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self._hook = hooked("before-parameter-build.dynamodb", self._record)

    def _record(self, params, **_) -> None:
        pending = [params]
        while pending:
            value = pending.pop()
            if isinstance(value, dict):
                pending.extend([*value.keys(), *value.values()])
            elif isinstance(value, (list, tuple)):
                pending.extend(value)
            elif isinstance(value, str):
                self.strings.append(value)

    def __enter__(self) -> SentToDynamoDB:
        self._hook.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._hook.__exit__(*exc)

    def carried(self, text: str) -> bool:
        return any(text in sent for sent in self.strings)


def _assert_contract_error(status: int, body, expected_status: int, code: str) -> None:
    assert (status, isinstance(body, dict) and body.get("error", {}).get("code")) == (expected_status, code), body
    assert set(body) == {"error"}
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"]), body  # Chinese a person can read


@pytest.mark.parametrize("bad_id", list(UNUSABLE_IDS.values()), ids=list(UNUSABLE_IDS))
@pytest.mark.parametrize("method, template, who, body, code", ROUTES, ids=[f"{m} {p}" for m, p, *_ in ROUTES])
def test_an_id_that_cannot_exist_is_unknown_and_never_reaches_dynamodb(env, method, template, who, body, code,
                                                                       bad_id):
    body = {"request_id": request_id()} if body == "request_id" else body
    token = env["user"]["token"] if who else None
    with SentToDynamoDB() as sent:
        status, answer = call(env["client"], method, template.format(bad_id), body, token=token)
    _assert_contract_error(status, answer, 404, code)
    assert bad_id not in json.dumps(answer, ensure_ascii=False), "an unusable id is not repeated back"
    assert not sent.carried(bad_id), f"{method} {template} passed {bad_id[:20]!r}... to DynamoDB"


@pytest.mark.parametrize("method, template", [("POST", "/v1/orgs/{}/join"), ("GET", "/v1/me/redemptions/{}"),
                                              ("POST", "/v1/partners/{}/sync")])
def test_a_caller_without_a_token_is_refused_before_the_id_is_looked_at(env, method, template):
    status, answer = call(env["client"], method, template.format("x" * 3000), {})
    _assert_contract_error(status, answer, 401, "UNAUTHENTICATED")


def _redemption_id() -> str:
    return ids.sortable_id(1_790_000_000_000)  # well formed, never issued


# (DynamoDB operation, method, path): each reads through a different layer into the edge's error mapping
READS = [
    ("GetItem", "GET", "/v1/me/redemptions/{}"),  # a PynamoDB model's get
    ("BatchGetItem", "POST", "/v1/me/redemptions/{}/cancel"),  # botocore's client directly
    ("Query", "GET", "/v1/me/ledger"),  # PynamoDB's table connection
    ("BatchGetItem", "GET", "/v1/orgs/o-lz-no1-school"),  # a PynamoDB model's batch_get
]


@pytest.mark.parametrize("operation, method, template", READS, ids=[f"{o} {m} {p}" for o, m, p in READS])
def test_a_request_dynamodb_refuses_as_malformed_is_a_500_and_is_logged(env, caplog, operation, method, template):
    refusal = error("ValidationException", "One or more parameter values were invalid: Size of hashkey has "
                                           "exceeded the maximum size limit of 2048 bytes")
    with caplog.at_level(logging.INFO, logger="greensprout.api"), failing(operation, [refusal] * 5) as answered:
        status, answer = call(env["client"], method, template.format(_redemption_id()), token=env["user"]["token"])
    assert answered[0] >= 1
    _assert_contract_error(status, answer, 500, "INTERNAL_ERROR")
    assert "Traceback" not in str(answer) and "ValidationException" not in str(answer)
    logged = [r for r in caplog.records if r.name == "greensprout.api" and r.levelno >= logging.ERROR]
    assert logged and logged[-1].exc_info, "the refusal is logged with its stack, as a bug to fix"
    assert env["user"]["token"] not in caplog.text


@pytest.mark.parametrize("operation, method, template", READS, ids=[f"{o} {m} {p}" for o, m, p in READS])
def test_throttling_on_the_same_reads_is_still_a_503(env, operation, method, template):
    with failing(operation, [error("ProvisionedThroughputExceededException")] * 50) as answered:
        status, answer = call(env["client"], method, template.format(_redemption_id()), token=env["user"]["token"])
    assert answered[0] >= 1
    _assert_contract_error(status, answer, 503, "SERVICE_UNAVAILABLE")
