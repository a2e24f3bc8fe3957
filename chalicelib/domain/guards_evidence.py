"""The guards of a photo check-in (services/checkins.py), conditions of the check-in's own transaction
(store/photo_hashes.py stages them)."""
from __future__ import annotations

from .guards import Guard
from .values import immutable


@immutable
class UploadUnused(Guard):
    """The upload has served no check-in yet (its marker is new): one upload, one check-in."""

    upload_id: str
    at: str


@immutable
class PhotoHashUnused(Guard):
    """No check-in used this exact hash yet (its marker is new); the hash joins its 4 buckets."""

    photo_hash: int
    at: str
