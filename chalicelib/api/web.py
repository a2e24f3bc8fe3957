"""The web edge: JSON bodies in, contract-shaped responses out, one error mapping for every route."""
from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response

from .. import observability, ratelimit
from ..errors import (
    AppError,
    InternalError,
    InvalidJSONError,
    RequestTooLargeError,
    ValidationError,
)
from ..services import revocations, tokens
from ..services.tokens import Caller
from ..store.failures import Malformed, of_database
from .fields import Field, parse

log = logging.getLogger("greensprout.api")
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}
MAX_BODY_BYTES = 64 * 1024  # the largest body a route reads (webhooks read theirs themselves)


def respond(status: int, body: Any) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                    status_code=status, headers=dict(JSON_HEADERS))


def error_response(error: AppError) -> Response:
    return respond(error.status, error.body())


def _unexpected(path: str, exc: Exception) -> AppError:
    """What a failure no view turned into an AppError answers: a DynamoDB failure as store/failures.py types it
    (503, or 500 for a request we built wrong), anything else 500; logged, without a stack trace to the client."""
    failure = of_database(exc)
    if isinstance(failure, Malformed):  # a request we built wrong (a key too long ...): our bug
        log.exception("DynamoDB refused a request as malformed on %s", path)
    elif failure:
        log.warning("database unavailable on %s: %s", path, type(exc).__name__)
    else:
        log.exception("unhandled error on %s", path)
    return failure or InternalError()


class Routes(Blueprint):
    """A Blueprint whose views may raise AppError: each becomes the contract's JSON error, and a
    database or unexpected failure becomes a clean 503/500 without a stack trace."""

    def route(self, path: str, **kwargs: Any) -> Callable:
        register = super().route(path, **kwargs)

        def decorator(view: Callable) -> Callable:
            @functools.wraps(view)
            def guarded(*args: Any, **kw: Any) -> Any:
                try:
                    return view(*args, **kw)
                except AppError as error:
                    return error_response(error)
                except Exception as exc:  # noqa: BLE001 - every failure answers the contract's JSON
                    return error_response(_unexpected(path, exc))

            return register(guarded)

        return decorator

    def body(self, *fields: Field) -> dict:
        """The request's JSON object with its `fields` checked (api/fields.py); INVALID_JSON or VALIDATION_ERROR
        otherwise."""
        raw = self.current_request.raw_body
        if not raw:
            return parse({}, *fields)
        if len(raw) > MAX_BODY_BYTES:
            raise RequestTooLargeError(max_bytes=MAX_BODY_BYTES)
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurdly deep nesting
            raise InvalidJSONError() from None
        if not isinstance(body, dict):
            raise ValidationError("请求体须为 JSON 对象", field="body", reason="type", expected=["object"],
                                  rule="the body must be a JSON object")
        return parse(body, *fields)

    def caller(self, deleted_ok: bool = False) -> Caller:
        """The verified caller; a write beyond the caller's per-minute allowance is RATE_LIMITED here,
        before the body is read or DynamoDB is touched. A deleted account's token is UNAUTHENTICATED within
        a minute of the deletion (services/revocations.py: no DynamoDB call on a warm request), except where
        `deleted_ok` (DELETE /v1/me again: a retry finishes a deletion that stopped half-way)."""
        request = self.current_request
        caller = tokens.verify(request.headers.get("authorization"))
        if not deleted_ok:
            revocations.refuse_deleted(caller.user_id)
        observability.bind_user(caller.user_id)  # the request's log line names the user, never the token
        ratelimit.admit_write(caller.user_id, request.method, (request.context or {}).get("resourcePath"))
        return caller

    def query(self) -> dict:
        return dict(self.current_request.query_params or {})
