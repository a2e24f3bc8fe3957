"""Request signatures of the bus company and the bank (shared/partners/transit.md, bank.md). Pure functions.

Transit signs both directions with one secret over method, path, sorted query, timestamp, nonce and
the body's SHA-256; the bank signs its webhooks over "TIMESTAMP.BODY". Comparisons are constant-time.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from urllib.parse import urlencode

from ..domain.numbers import ascii_int

MAX_SKEW_SECONDS = 300
TIMESTAMP_DIGITS = 12  # Unix seconds, ASCII digits only: isdigit() would let "²" through to int()
NONCE_LENGTH = 32
NONCE_MIN, NONCE_MAX = 16, 64


class SignatureError(Exception):
    """The signature is missing or wrong (`replay` False), or the timestamp is too far away (`replay` True)."""

    def __init__(self, reason: str, replay: bool = False) -> None:
        super().__init__(reason)
        self.replay = replay


def sorted_query(query: dict[str, str] | None) -> str:
    """The query string with its keys sorted ("" when there is none): what transit signs, and what we send."""
    return urlencode(sorted((query or {}).items()))


def transit_signature(secret: str, method: str, path: str, query: str, timestamp: str, nonce: str,
                      body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of METHOD\\nPATH\\nSORTED_QUERY\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)."""
    message = "\n".join([method.upper(), path, query, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def transit_headers(app_id: str, secret: str, method: str, path: str, query: str, body: bytes,
                    now: float) -> dict[str, str]:
    """Fresh signing headers for one attempt: a new timestamp and a new random nonce every time."""
    timestamp, nonce = str(int(now)), secrets.token_hex(NONCE_LENGTH // 2)
    return {"X-App-Id": app_id, "X-Timestamp": timestamp, "X-Nonce": nonce,
            "X-Signature": transit_signature(secret, method, path, query, timestamp, nonce, body)}


def verify_transit(headers: dict[str, str], app_id: str, secret: str, method: str, path: str, query: str,
                   body: bytes, now: float) -> str:
    """Checks a signed transit request; returns its nonce (for the replay guard) or raises SignatureError.

    `headers` has lower-case names. The signature is checked first, so only a correctly signed request
    can be told it is stale.
    """
    signature, timestamp = headers.get("x-signature") or "", headers.get("x-timestamp") or ""
    nonce = headers.get("x-nonce") or ""
    if not hmac.compare_digest((headers.get("x-app-id") or "").encode(), app_id.encode()):
        raise SignatureError("unknown app id")
    seconds = ascii_int(timestamp, TIMESTAMP_DIGITS)
    if not (NONCE_MIN <= len(nonce) <= NONCE_MAX) or seconds is None:
        raise SignatureError("missing or malformed nonce or timestamp")
    expected = transit_signature(secret, method, path, query, timestamp, nonce, body)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise SignatureError("signature mismatch")
    if abs(now - seconds) > MAX_SKEW_SECONDS:
        raise SignatureError("stale timestamp", replay=True)
    return nonce


def bank_signature(secret: str, timestamp: str, body: bytes) -> str:
    """"sha256=" + hex HMAC-SHA256(secret, TIMESTAMP + "." + BODY)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return "sha256=" + digest


def verify_bank(headers: dict[str, str], secret: str, body: bytes, now: float) -> str:
    """Checks a bank webhook delivery; returns its signature (for the replay guard) or raises SignatureError.

    The bank doc answers BAD_SIGNATURE for a timestamp more than 300 s away, so `replay` stays False here.
    """
    signature, timestamp = headers.get("x-bank-signature") or "", headers.get("x-bank-timestamp") or ""
    seconds = ascii_int(timestamp, TIMESTAMP_DIGITS)
    if seconds is None:
        raise SignatureError("missing or malformed timestamp")
    if not hmac.compare_digest(signature.encode(), bank_signature(secret, timestamp, body).encode()):
        raise SignatureError("signature mismatch")
    if abs(now - seconds) > MAX_SKEW_SECONDS:
        raise SignatureError("stale timestamp")
    return signature


# --- the open protocol (shared/partners/open-protocol.md, "Signing"): both directions, one secret a partner ---
OPEN_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


def open_signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)."""
    message = "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def open_headers(partner_id: str, secret: str, method: str, path: str, body: bytes, now: float) -> dict[str, str]:
    """Fresh signing headers for one attempt: a new timestamp and a new random nonce every time."""
    timestamp, nonce = str(int(now)), secrets.token_urlsafe(24)
    return {"X-GS-Partner": partner_id, "X-GS-Timestamp": timestamp, "X-GS-Nonce": nonce,
            "X-GS-Signature": open_signature(secret, method, path, timestamp, nonce, body)}


def verify_open(headers: dict[str, str], partner_id: str, secret: str | None, method: str, path: str,
                body: bytes, now: float) -> str:
    """Checks a request signed by the open-protocol partner `partner_id` (whose secret is `secret`, None when it
    has none); returns its nonce (for the replay guard) or raises SignatureError. `headers` has lower-case names.
    The signature is checked first, so only a correctly signed request can be told it is stale."""
    named, signature = headers.get("x-gs-partner") or "", headers.get("x-gs-signature") or ""
    timestamp, nonce = headers.get("x-gs-timestamp") or "", headers.get("x-gs-nonce") or ""
    if not secret or not hmac.compare_digest(named.encode(), partner_id.encode()):
        raise SignatureError("unknown partner")
    seconds = ascii_int(timestamp, TIMESTAMP_DIGITS)
    if not OPEN_NONCE.fullmatch(nonce) or seconds is None:
        raise SignatureError("missing or malformed nonce or timestamp")
    expected = open_signature(secret, method, path, timestamp, nonce, body)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise SignatureError("signature mismatch")
    if abs(now - seconds) > MAX_SKEW_SECONDS:
        raise SignatureError("stale timestamp", replay=True)
    return nonce
