"""Structured logs and metrics: one JSON line per log record, one per request, CloudWatch EMF for metrics.

- Every record of the app's loggers ("greensprout", "chalicelib") is one JSON object with the request's
  id, route and user id when it happens during a request. `request_log` (Chalice middleware) adds one
  line per request: request id, route (the resource path, never the concrete one), method, status,
  latency in ms, user id (from the verified token; never the token) and the error code of a refusal.
- Metrics are Embedded Metric Format lines (a JSON object with an `_aws` block) that CloudWatch turns
  into metrics without any API call: `Awards`, `AwardedPoints`, `AwardedCarbonMg` (by source),
  `Redemptions`, `RedeemedPoints`, `Refunds`, `PartnerFailures` (by partner), `WebhookRejections` (by
  partner), `RateLimited`. They are summed per dimension set and written once at the end of each
  invocation, so a webhook of 500 rides writes a handful of lines, not 500.
- What is logged never carries a token, a session key, a phone number or a secret: nothing here logs
  headers, bodies or query strings, and the formatter masks anything shaped like a token or a mainland
  mobile number that a message might still carry. urllib3 is held at INFO: at DEBUG it logs request
  URLs, and WeChat's code2session URL carries the app secret.

Locally (`make run`, infra/local/devserver.py) `use_readable_lines` swaps the JSON for one short line per
request (`12:03:04 POST /v1/checkins 201 14 ms u_... DAILY_LIMIT_REACHED`) and leaves the metrics out; a
deployed stage never calls it, so Lambda always writes the JSON lines.

Field names follow Powertools for AWS Lambda's Logger (level, location, message, timestamp, service),
so dashboards and queries carry over; the package itself is not used, because it adds about 25 ms and
8 MB to every cold start for the two things needed here (docs/reliability.md).
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

SERVICE = "greensprout"
NAMESPACE = "GreenSprout"
APP_LOGGERS = ("greensprout", "chalicelib")
request_logger = logging.getLogger("greensprout.request")
_metrics_out = logging.getLogger("greensprout.metrics")

_TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")
_SECRET_PARAM = re.compile(r"(?i)\b(secret|js_code|access_token|session_key|phone_code|code)=[^&\s\"']+")
_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("greensprout_request", default=None)
_cold = [True]


def scrub(text: str) -> str:
    """Masks what must never reach a log: bearer tokens, mainland mobile numbers, secret query values."""
    text = _TOKEN.sub("[token]", text)
    text = _PHONE.sub("[phone]", text)
    return _SECRET_PARAM.sub(lambda m: m.group(1) + "=[redacted]", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the current request's id, route and user when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "emf", None) is not None:
            return json.dumps(record.emf, ensure_ascii=False, separators=(",", ":"))
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "service": SERVICE,
            "location": f"{record.funcName}:{record.lineno}", "message": scrub(record.getMessage()),
        }
        context = _context.get()
        if context:
            line.update({k: v for k, v in context.items() if k in ("request_id", "route", "user_id") and v})
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"), default=str)


def install(app_log: logging.Logger) -> None:
    """JSON for the app's records: Chalice's own handler of the app logger (stdout), and in Lambda the
    runtime's handler on the root logger, which the "chalicelib" loggers reach."""
    formatter = JsonFormatter()
    for handler in app_log.handlers:
        handler.setFormatter(formatter)
    for handler in logging.getLogger().handlers:
        if type(handler).__name__.startswith("LambdaLoggerHandler"):
            handler.setFormatter(formatter)
    logging.getLogger("urllib3").setLevel(logging.INFO)


class ReadableFormatter(logging.Formatter):
    """Local development: a request is one short line (time, method, route, status, latency, user, error
    code); any other record is `time LEVEL logger: message`, masked as the JSON lines are."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        fields = getattr(record, "fields", None) or {}
        if record.name == request_logger.name and "route" in fields:
            parts = [stamp, fields["method"], fields["route"], str(fields["status"]), f"{fields['latency_ms']:.0f} ms",
                     fields.get("user_id") or "-", fields.get("error_code") or ""]
            return " ".join(parts).rstrip()
        line = f"{stamp} {record.levelname} {record.name}: {scrub(record.getMessage())}"
        if record.exc_info:
            line += "\n" + scrub(self.formatException(record.exc_info))
        return line


def _not_a_metric(record: logging.LogRecord) -> bool:
    return getattr(record, "emf", None) is None


def use_readable_lines(app_log: logging.Logger) -> None:
    """Local development only (infra/local/devserver.py): readable lines instead of JSON on the app logger's
    handlers, and no EMF metrics lines (nothing reads them off AWS)."""
    for handler in app_log.handlers:
        handler.setFormatter(ReadableFormatter())
        if _not_a_metric not in handler.filters:
            handler.addFilter(_not_a_metric)


def bind_user(user_id: str) -> None:
    """Called once the request's token is verified: the request's log lines name the user."""
    context = _context.get()
    if context is not None:
        context["user_id"] = user_id


# --- metrics (CloudWatch Embedded Metric Format) ------------------------------------------------------

_UNITS = {"AwardedCarbonMg": "None"}
_pending: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """Adds to a metric of this invocation; written by `flush_metrics` (the middleware calls it)."""
    _pending[tuple(sorted(dimensions.items()))][name] += value


def record_postings(postings) -> None:
    """The metrics of one committed posting (store/unit_of_work.py): awards, redemptions, refunds."""
    for posting in postings:
        if posting.kind in ("earn", "accrual") and (posting.points > 0 or posting.carbon_mg > 0):
            count("Awards", source=posting.source)
            count("AwardedPoints", posting.points, source=posting.source)
            count("AwardedCarbonMg", posting.carbon_mg, source=posting.source)
        elif posting.kind == "spend" and posting.source == "market":
            count("Redemptions")
            count("RedeemedPoints", -posting.points)
        elif posting.kind == "refund":
            count("Refunds", source=posting.source)


def flush_metrics() -> None:
    """One EMF line per dimension set of what was counted since the last flush."""
    if not _pending:
        return
    stamp = int(time.time() * 1000)
    for dimensions, values in list(_pending.items()):
        names = dict(dimensions)
        _emit(_metrics_out, logging.INFO, "metrics", "flush_metrics", emf={
            "_aws": {"Timestamp": stamp, "CloudWatchMetrics": [{
                "Namespace": NAMESPACE, "Dimensions": [["service", *names]],
                "Metrics": [{"Name": name, "Unit": _UNITS.get(name, "Count")} for name in values]}]},
            "service": SERVICE, **names, **{name: value for name, value in values.items()}})
    _pending.clear()


def _emit(logger: logging.Logger, level: int, message: str, where: str, **extra: Any) -> None:
    """`logger.log` without its search of the stack for the caller: these lines always come from `where`."""
    if logger.isEnabledFor(level):
        logger.handle(logger.makeRecord(logger.name, level, __file__, 0, message, None, None, func=where,
                                        extra=extra))


_PARTNER_FAILURES = {"PARTNER_UNAVAILABLE", "WECHAT_UNAVAILABLE"}
_WEBHOOK_REJECTIONS = {"BAD_SIGNATURE", "REPLAYED"}


def _refusal_metrics(route: str, code: str | None, details: dict) -> None:
    if code in _PARTNER_FAILURES:
        count("PartnerFailures", partner="wechat" if code == "WECHAT_UNAVAILABLE" else str(details.get("partner")))
    elif code in _WEBHOOK_REJECTIONS:
        count("WebhookRejections", partner=route.rsplit("/", 1)[-1])
    elif code == "RATE_LIMITED":
        count("RateLimited")


def _error_of(response) -> tuple[str | None, dict]:
    body = response.body
    try:
        error = json.loads(body).get("error") if isinstance(body, (str, bytes)) else (body or {}).get("error")
    except (ValueError, AttributeError):
        return None, {}
    if not isinstance(error, dict):
        return None, {}
    return error.get("code"), error.get("details") if isinstance(error.get("details"), dict) else {}


# --- the middleware ----------------------------------------------------------------------------------


def request_log(event, get_response):
    """Chalice HTTP middleware: one JSON line per request, then the invocation's metrics."""
    started = time.perf_counter()
    context = getattr(event, "context", None) or {}
    lambda_context = getattr(event, "lambda_context", None)
    request_id = (context.get("requestId") or getattr(lambda_context, "aws_request_id", None)
                  or uuid.uuid4().hex)
    route = context.get("resourcePath") or "?"
    method = getattr(event, "method", None) or context.get("httpMethod") or "?"
    state = {"request_id": request_id, "route": route, "user_id": None}
    token = _context.set(state)
    status, code = 500, None
    try:
        response = get_response(event)
        status = response.status_code
        if status >= 400:
            code, details = _error_of(response)
            _refusal_metrics(route, code, details)
        return response
    finally:
        fields = {"request_id": request_id, "route": route, "method": method, "status": status,
                  "latency_ms": round((time.perf_counter() - started) * 1000, 1), "user_id": state["user_id"],
                  "cold_start": _cold[0]}
        if code:
            fields["error_code"] = code
        _cold[0] = False
        _emit(request_logger, logging.WARNING if status >= 500 else logging.INFO, "request", "request_log",
              fields=fields)
        _context.reset(token)
        flush_metrics()


def flush_after(event, get_response):
    """Chalice middleware for the other handlers (schedules, streams, the jobs worker): their metrics."""
    try:
        return get_response(event)
    finally:
        flush_metrics()
