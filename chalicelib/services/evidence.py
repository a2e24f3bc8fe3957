"""Evidence photos of a check-in (contract risk.md, "Evidence photos" and rule 3 `photo_reuse`), for
services/checkins.py: the photo read and hashed, the earlier photos near it, and the refusals remembered.

A photo check-in makes 1 GetObject (the photo, here) + 1 BatchGetItem (the account consistently, the upload's
marker and the hash's 68 probe buckets: store/photo_hashes.py) + 1 TransactWriteItems (the check-in with the
upload's marker, the exact hash's marker and the hash ADDed to its 4 buckets). A refusal for a reused photo
writes nothing of the check-in; it makes 1 GetItem (the request's idempotency record: a retry of a request that
succeeded gets its first result) and 1 UpdateItem (the refusal onto the account, `photo_refusals`).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..domain import clock, evidence
from ..domain.photo_hash import NotAPhotoError, dhash
from ..errors import EvidenceReusedError, UploadNotFoundError
from ..store import evidence_objects
from ..store.failures import ConditionFailed

REFUSAL_ATTEMPTS = 3


class PhotoReusedError(EvidenceReusedError):
    """The photo is within the distance of one already used (counted toward the person's refusals)."""


@dataclass(frozen=True)
class Photo:
    upload_id: str
    photo_hash: int


def inspect_photo(user_id: str, platform: str, upload_id: str) -> Photo:
    """The caller's upload, read from object storage and hashed; UPLOAD_NOT_FOUND when it is missing, not the
    caller's (its key is derived from the caller: another's upload_id names no object), issued more than 24
    hours ago, larger than 5 MiB, or not a JPEG or PNG image."""
    if not evidence.serves(upload_id, clock.now()):
        raise UploadNotFoundError()
    data = evidence_objects.read(evidence.object_key(platform, user_id, upload_id), evidence.MAX_BYTES)
    if data is None:
        raise UploadNotFoundError()
    try:
        return Photo(upload_id, dhash(data))
    except NotAPhotoError:
        raise UploadNotFoundError() from None


def refuse_reused(photo: Photo, known: set[int], used: bool) -> None:
    """409 EVIDENCE_REUSED when the upload already served a check-in, or (counted) when the photo is near one
    already used by anyone."""
    if used:
        raise EvidenceReusedError(reason="upload_used")
    if evidence.nearest(photo.photo_hash, known) is not None:
        raise PhotoReusedError(reason="photo_reused")


def record_photo_refusal(photos, user_id: str, before: list | None, request_id: str) -> list | None:
    """Remembers a refused check-in on the account (its request_id once, whatever the retries), and calls
    `photo_refusals_reached` when it is the person's third within 30 days. `photos`: store/photo_hashes.py."""
    after = None
    for _ in range(REFUSAL_ATTEMPTS):
        now = clock.now()
        after = evidence.with_refusal(before, now, request_id)
        if after is None:
            return before
        try:
            photos.record_refusal(user_id, before, after)
            break
        except ConditionFailed:  # a concurrent refusal of the same person: read theirs and add this one again
            before = photos.refusals_of(user_id)
    else:
        return before
    if evidence.photo_refusals_reached(after, clock.business_day(clock.now())):
        photo_refusals_reached(user_id, after)
    return after


def photo_refusals_reached(user_id: str, refusals: list) -> None:
    """The person's third photo refusal within 30 days (rule 3): they go under review. The review status is
    built by the `risk` work; the lead calls its hook here (rule id evidence.RULE, `photo_reuse`)."""
    return None
