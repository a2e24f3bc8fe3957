"""Opaque, tamper-proof list cursors: a DynamoDB LastEvaluatedKey, signed and bound to its list and platform.

The signature covers the list's context (route, caller, filter), so a cursor cannot be edited,
nor replayed against someone else's list; anything else is a 400, never a 500.

The platform is signed into the payload (shared/contract/platforms.md rule 1): another platform's payload is
`{platform}\\n` and the key's JSON; `default`'s is the key's JSON alone, as before platforms, so its cursors
handed out before keep working there. A cursor of one platform used on another is 400 INVALID_CURSOR, whatever
its context.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

from ..domain.platforms import DEFAULT
from ..errors import InvalidCursorError
from ..settings import get_settings


def _mac(payload: bytes, context: str) -> bytes:
    key = hashlib.sha256(b"cursor|" + get_settings().jwt_secret).digest()
    return hmac.new(key, context.encode() + b"|" + payload, hashlib.sha256).digest()[:16]


def encode(last_key: dict | None, context: str, platform: str = DEFAULT) -> str | None:
    if not last_key:
        return None
    payload = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    if platform != DEFAULT:
        payload = platform.encode() + b"\n" + payload
    return base64.urlsafe_b64encode(_mac(payload, context) + payload).decode().rstrip("=")


def decode(cursor: str | None, context: str, platform: str = DEFAULT) -> dict | None:
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        mac, payload = raw[:16], raw[16:]
        if len(cursor) > 2048 or not hmac.compare_digest(mac, _mac(payload, context)):
            raise ValueError("bad signature")
        named, _, key_json = payload.partition(b"\n") if not payload.startswith(b"{") else (b"", b"", payload)
        if (named.decode() or DEFAULT) != platform:
            raise ValueError("another platform's cursor")
        key = json.loads(key_json)
        if not isinstance(key, dict):
            raise ValueError("not a key")
        return key
    except (ValueError, TypeError) as exc:
        raise InvalidCursorError() from exc
