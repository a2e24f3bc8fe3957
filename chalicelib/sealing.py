"""Sealing secrets at rest (WeChat session keys, unionids, phone numbers) with AES-256-GCM and DATA_KEY.

A sealed value is bound to what it belongs to (`context`, e.g. the identity's key), so a sealed
session key copied onto another item does not open.
"""
from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .settings import get_settings

_VERSION = "v1"


def seal(plaintext: str, context: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(get_settings().data_key).encrypt(nonce, plaintext.encode(), context.encode())
    return _VERSION + ":" + base64.b64encode(nonce + sealed).decode()


def unseal(token: str, context: str) -> str:
    version, _, payload = token.partition(":")
    if version != _VERSION:
        raise ValueError("unknown sealing version")
    raw = base64.b64decode(payload)
    return AESGCM(get_settings().data_key).decrypt(raw[:12], raw[12:], context.encode()).decode()
