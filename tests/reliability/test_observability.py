"""Observability without leaks: one JSON line per request with what an operator needs, EMF metrics for
awards, redemptions and partner failures, and nothing in any log that could be used against a user.
"""
from __future__ import annotations

import base64
import json
import logging

import pytest

from chalicelib.observability import JsonFormatter, scrub
from chalicelib.settings import get_settings
from tests.support.aggregates import drain
from tests.support.api import call, login, request_id
from tests.support.market import give_points, new_goods, redeem
from tests.support.partners import bind, now, phone, phone_code, push


class Records(logging.Handler):
    """Every record of every logger, at DEBUG, formatted as production formats it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.formatter_ = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        return [self.formatter_.format(r) for r in self.records]

    def raw(self) -> list[str]:
        """What each record carries before any masking: its message, arguments and exception text."""
        return [f"{r.getMessage()} {r.args!r} {r.exc_text or ''} {getattr(r, 'fields', '')}" for r in self.records]

    def json(self, logger: str) -> list[dict]:
        return [json.loads(line) for r, line in zip(self.records, self.lines(), strict=True) if r.name == logger]


@pytest.fixture
def logs():
    """Captures all loggers at DEBUG: the root and those that do not propagate to it (Chalice's app logger)."""
    handler, touched = Records(), []
    quiet = [logging.getLogger()] + [logger for logger in logging.root.manager.loggerDict.values()
                                      if isinstance(logger, logging.Logger) and not logger.propagate]
    for logger in quiet:
        touched.append((logger, logger.level))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield handler
    for logger, level in touched:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_every_request_is_one_json_line_with_route_status_latency_and_user(client, user, logs):
    give_points(user, 100)
    rid = redeem(client, user, new_goods(points_price=10)["id"])[1]["redemption"]["id"]
    logs.records.clear()
    call(client, "GET", f"/v1/me/redemptions/{rid}", token=user["token"])
    call(client, "GET", "/v1/me/redemptions/nope", token=user["token"])
    call(client, "GET", "/v1/me", token="forged")
    ok, missing, anonymous = logs.json("greensprout.request")
    assert ok["route"] == "/v1/me/redemptions/{redemption_id}" and rid not in json.dumps(ok)  # the template
    assert (ok["method"], ok["status"], ok["user_id"]) == ("GET", 200, user["id"])
    assert ok["request_id"] and isinstance(ok["latency_ms"], float) and ok["level"] == "INFO"
    assert (missing["status"], missing["error_code"]) == (404, "NOT_FOUND")
    assert (anonymous["status"], anonymous["user_id"], anonymous["error_code"]) == (401, None, "UNAUTHENTICATED")
    assert {ok["request_id"], missing["request_id"], anonymous["request_id"]}.__len__() == 3


def _metrics(logs) -> list[dict]:
    return [line for line in logs.json("greensprout.metrics")]


def _metric(lines: list[dict], name: str, **dimensions) -> float:
    total = 0.0
    for line in lines:
        declared = line["_aws"]["CloudWatchMetrics"][0]
        assert declared["Namespace"] == "GreenSprout" and line["_aws"]["Timestamp"] > 0
        if name in line and all(line.get(k) == v for k, v in dimensions.items()):
            assert name in {m["Name"] for m in declared["Metrics"]}
            assert set(declared["Dimensions"][0]) == {"service", *(k for k in line if k in ("source", "partner"))}
            total += line[name]
    return total


def test_awards_redemptions_and_partner_failures_are_emf_metrics(client, stack, user, logs):
    give_points(user, 100)
    goods = new_goods(points_price=10)
    logs.records.clear()
    call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "no_cutlery"}, token=user["token"])
    redeem(client, user, goods["id"])
    bind(client, stack, user, "transit")
    stack.transit.faults.add(path="/v1/rides", status=503, count=-1)
    try:
        status, body = call(client, "POST", "/v1/partners/transit/sync", token=user["token"])
    finally:
        stack.transit.faults.clear()
    assert (status, body["error"]["code"]) == (503, "PARTNER_UNAVAILABLE")
    lines = _metrics(logs)
    assert _metric(lines, "Awards", source="checkin") == 1 and _metric(lines, "AwardedPoints", source="checkin") == 2
    assert _metric(lines, "AwardedCarbonMg", source="checkin") == 45720  # no_cutlery: 2 points, 45.72 g
    assert _metric(lines, "Redemptions") == 1 and _metric(lines, "RedeemedPoints") == 10
    assert _metric(lines, "PartnerFailures", partner="transit") == 1


def test_a_webhook_batch_is_a_few_metric_lines_not_one_per_ride(client, stack, user, logs):
    ref = bind(client, stack, user, "transit")
    rides = [{"ride_id": f"obs_{request_id()}", "user_ref": ref, "mode": "bus", "line": "12",
              "boarded_at": now().replace(microsecond=0).isoformat(), "alighted_at": now().isoformat(),
              "distance_m": 3000, "fare_cents": 200} for _ in range(20)]
    logs.records.clear()
    status, body = push(client, stack.transit, rides)
    assert status == 200 and body["accepted"] == 20
    lines = _metrics(logs)
    assert len(lines) <= 2 and _metric(lines, "Awards", source="transit") == 20


def test_a_full_run_logs_no_token_session_key_phone_number_or_secret(client, stack, openid, logs, capfd):
    """Login, check-in, WeRun, consent with a phone code, a partner sync, a webhook, a redemption, a forged
    token and the jobs, all captured at DEBUG: none of what could be used against a user is in any record."""
    from tests.integration.test_werun import werun

    settings = get_settings()
    user = login(client, openid)
    session_key = stack.wechat.session_key(openid)
    call(client, "POST", "/v1/checkins", {"request_id": request_id(), "behavior": "no_cutlery"}, token=user["token"])
    assert werun(client, stack, user, {0: 12345})[0] == 200
    number = phone()
    stack.transit.add_rider(number)
    code = phone_code(stack, number)
    status, _ = call(client, "PUT", "/v1/partners/transit/consent", {"phone_code": code}, token=user["token"])
    assert status == 200
    call(client, "POST", "/v1/partners/transit/sync", token=user["token"])
    bank_number = phone()
    bind(client, stack, user, "bank", bank_number)
    push(client, stack.bank, [])
    give_points(user, 100)
    redeem(client, user, new_goods(points_price=10)["id"])
    forged = user["token"][:-4] + "AAAA"
    call(client, "GET", "/v1/me", token=forged)
    drain()
    forbidden = {
        "token": user["token"], "forged token": forged, "session_key": session_key, "phone": number,
        "bank phone": bank_number, "phone_code": code, "login code": user["login"].get("code", "") or openid + ":",
        "JWT_SECRET": settings.jwt_secret.decode(), "WECHAT_SECRET": settings.wechat_secret,
        "TRANSIT_SECRET": settings.transit_secret, "BANK_CLIENT_SECRET": settings.bank_client_secret,
        "BANK_WEBHOOK_SECRET": settings.bank_webhook_secret,
        "DATA_KEY": base64.b64encode(settings.data_key).decode(), "DATA_KEY hex": settings.data_key.hex(),
    }
    forbidden = {name: value for name, value in forbidden.items() if value and len(value) >= 8}
    assert len(logs.records) > 20  # the run was really captured
    out, err = capfd.readouterr()
    texts = {"records": "\n".join(logs.raw()), "formatted": "\n".join(logs.lines()), "stdout": out, "stderr": err}
    leaks = [(name, where) for name, value in forbidden.items() for where, text in texts.items() if value in text]
    assert not leaks, leaks


@pytest.mark.parametrize("text, shown", [
    ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl", "Bearer [token]"),
    ("phone 13912345678 bound", "phone [phone] bound"),
    ("+86 13912345678", "[phone]"),
    ("GET /sns/jscode2session?appid=wx1&secret=s3&js_code=abc", "GET /sns/jscode2session?appid=wx1&secret=[redacted]"
                                                                "&js_code=[redacted]"),
    ("order 123456789012345 stays", "order 123456789012345 stays"),
])
def test_the_formatter_masks_what_a_message_might_still_carry(text, shown):
    assert scrub(text) == shown
