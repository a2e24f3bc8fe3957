"""Opaque, tamper-proof list cursors: a DynamoDB LastEvaluatedKey, signed and bound to its list.

The signature covers the list's context (route, caller, filter), so a cursor cannot be edited,
nor replayed against someone else's list; anything else is a 400, never a 500.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

from ..errors import InvalidCursorError
from ..settings import get_settings


def _mac(payload: bytes, context: str) -> bytes:
    key = hashlib.sha256(b"cursor|" + get_settings().jwt_secret).digest()
    return hmac.new(key, context.encode() + b"|" + payload, hashlib.sha256).digest()[:16]


def encode(last_key: dict | None, context: str) -> str | None:
    if not last_key:
        return None
    payload = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(_mac(payload, context) + payload).decode().rstrip("=")


def decode(cursor: str | None, context: str) -> dict | None:
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        mac, payload = raw[:16], raw[16:]
        if len(cursor) > 2048 or not hmac.compare_digest(mac, _mac(payload, context)):
            raise ValueError("bad signature")
        key = json.loads(payload)
        if not isinstance(key, dict):
            raise ValueError("not a key")
        return key
    except (ValueError, TypeError) as exc:
        raise InvalidCursorError() from exc
