"""Identifiers: time-sortable entry ids and unguessable codes, from a CSPRNG.

Crockford's base32 alphabet leaves out I, L, O and U, so a code read aloud or typed from a screen
has no look-alikes.
"""
from __future__ import annotations

import hashlib
import re
import secrets

from ..errors import ValidationError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def random_code(length: int) -> str:
    """`length` characters of 5 random bits each (12 characters = 60 bits): the low 5 bits of one CSPRNG
    byte per character (256 is a multiple of 32, so every character is equally likely)."""
    return "".join(ALPHABET[byte & 31] for byte in secrets.token_bytes(length))


def _base32(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def sortable_id(epoch_ms: int) -> str:
    """A ULID-shaped id: 10 characters of milliseconds then 16 random ones (80 bits); sorts by time."""
    return _base32(epoch_ms, 10) + random_code(16)


def user_id() -> str:
    return "u_" + random_code(20)


def stable_shard(key: str, shards: int) -> int:
    """A shard in [0, shards) that every process and every run agrees on (sha256, not Python's salted hash())."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % shards


REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def parse_request_id(raw: object) -> str:
    """A client's request_id (api.md): the identity that makes a retried write find its first result."""
    if not isinstance(raw, str) or not REQUEST_ID.fullmatch(raw):
        raise ValidationError("request_id 须为 8 到 64 位字母、数字、下划线或连字符", field="request_id")
    return raw
