"""The transparency leaves files in object storage: the evidence photos' bucket (store/evidence_objects.py, its
client and settings), under `transparency/{platform}/{day}/`, a prefix the bucket's 180-day lifecycle rule (on
`evidence/`) does not touch.

A file's key names its content's root (domain/transparency.leaves_key), so a key is only ever written with one
body: two computations of a shard that agree write the same bytes, and one that differs (an account deleted
between them) writes another key that no shard root names. Nothing here deletes or lists.
"""
from __future__ import annotations

from ..settings import get_settings
from .evidence_objects import client, read
from .failures import Unavailable

MAX_FILE_BYTES = 512 * 1024 * 1024


def put(key: str, body: bytes, content_type: str = "application/x-ndjson; charset=utf-8") -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client().put_object(Bucket=get_settings().evidence_bucket, Key=key, Body=body,
                            ContentType=content_type)
    except (BotoCoreError, ClientError) as exc:
        raise Unavailable() from exc


def get(key: str) -> bytes | None:
    """The file's bytes (one GetObject); None when it is missing (or beyond MAX_FILE_BYTES, which no shard
    reaches: about 39 MB at 40 M people, docs/capacity.md "Transparency roots")."""
    return read(key, MAX_FILE_BYTES)
