"""The inputs of partner data coming in, as routes parse them (domain/commands.py has the others)."""
from __future__ import annotations

from .values import immutable


@immutable
class SyncWeRun:
    """POST /v1/werun/sync: `wx.getWeRunData`'s encrypted data and its 16-byte iv, base64-decoded."""

    user_id: str
    encrypted_data: bytes
    iv: bytes
    platform: str = "default"  # the caller's: its mini program's appid is the watermark's
