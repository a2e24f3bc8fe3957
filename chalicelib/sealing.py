"""Sealing secrets at rest with AES-256-GCM: WeChat session keys and unionids (identities), delivery addresses
with their phone numbers (redemptions), partner access tokens (partner_tokens).

A sealed value is bound to what it belongs to (`context`, e.g. the identity's key), so a sealed
session key copied onto another item does not open.

Formats:
- `v2:<key id>:<base64 of nonce + ciphertext>`, what `seal` writes: sealed under the current key (the first of
  DATA_KEYS, or DATA_KEY), named by its id (settings.data_key_id), the version and id bound into the
  associated data. It opens while its key is still listed in DATA_KEYS.
- `v1:<base64 ...>`, the legacy format written before key ids (sealed with DATA_KEY, or with the key derived
  from JWT_SECRET where DATA_KEY was unset). It still opens: every configured key is tried, then the keys
  derived from JWT_SECRET and JWT_SECRET_PREVIOUS (settings.legacy_data_keys). `python -m admin reseal`
  rewrites it in the v2 format.
"""
from __future__ import annotations

import base64
import os

from .settings import get_settings

# cryptography's AEAD (its Rust bindings: a few per cent of a cold start) is imported by `seal` and `unseal`
# when they first run, not with the API: a check-in neither seals nor opens anything.

_LEGACY, _VERSION = "v1", "v2"


def seal(plaintext: str, context: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    kid, key = get_settings().data_keys[0]
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), _associated(kid, context))
    return f"{_VERSION}:{kid}:" + base64.b64encode(nonce + sealed).decode()


def unseal(token: str, context: str) -> str:
    """The plaintext; ValueError when the format is unknown or no configured key opens it."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    version, _, rest = token.partition(":")
    settings = get_settings()
    if version == _VERSION:
        kid, _, payload = rest.partition(":")
        keys = [key for key_id, key in settings.data_keys if key_id == kid]
        if not keys:
            raise ValueError("sealed under a key that DATA_KEYS no longer lists")
        associated = _associated(kid, context)
    elif version == _LEGACY:
        keys, payload, associated = list(settings.legacy_data_keys), rest, context.encode()
    else:
        raise ValueError("unknown sealing version")
    raw = base64.b64decode(payload)
    for key in keys:
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], associated).decode()
        except InvalidTag:
            continue
    raise ValueError("no configured key opens this sealed value")


def key_id_of(token: str) -> str | None:
    """The id of the key a value is sealed under (None for the legacy format): what `admin reseal` compares
    with the current key's id without opening anything."""
    version, _, rest = token.partition(":")
    return rest.partition(":")[0] if version == _VERSION else None


def _associated(kid: str, context: str) -> bytes:
    return f"{_VERSION}|{kid}|{context}".encode()
