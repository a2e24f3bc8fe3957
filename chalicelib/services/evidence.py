"""Evidence photos of a check-in (contract risk.md, "Evidence photos" and rule 3 `photo_reuse`), for
services/checkins.py: the photo read and hashed, the earlier photos near it, and the refusals remembered.

A photo check-in makes 1 GetObject (the photo, here) + 1 BatchGetItem (the account consistently, the upload's
marker and the hash's 68 probe buckets: store/photo_hashes.py) + 1 TransactWriteItems (the check-in with the
upload's marker, the exact hash's marker and the hash ADDed to its 4 buckets). A refusal for a reused photo
writes nothing of the check-in; it makes 1 GetItem (the request's idempotency record: a retry of a request that
succeeded gets its first result) and 1 UpdateItem (the refusal onto the account, `photo_refusals`, conditioned
on the refusals read; it moves the account's `version`, so a posting that read the account before it reads
again). The refusal that brings the person's refusals within 30 days to the catalog's `risk.photo_refusals`
(default 3) is instead 1 TransactWriteItems: the refusals, the account under review for
`photo_reuse` (domain/review.py Flag: the reason, `since`, its review-queue item), conditioned on the account's
version; once: while the account is under review for `photo_reuse`, further refusals add no reason. The distance
is the catalog's `risk.photo_distance` (default 6). Both from services/catalog.risk_settings (cached: no call).
"""
from __future__ import annotations

from ..domain import clock, evidence, review, risk
from ..domain.photo_hash import NotAPhotoError, dhash
from ..domain.review import Flag
from ..domain.risk import PHOTO_REFUSAL_WINDOW, PHOTO_REUSE
from ..domain.values import immutable
from ..errors import EvidenceReusedError, UploadNotFoundError
from ..store import evidence_objects
from ..store.failures import ConditionFailed
from . import catalog

REFUSAL_ATTEMPTS = 3


class PhotoReusedError(EvidenceReusedError):
    """The photo is within the distance of one already used (counted toward the person's refusals)."""


@immutable
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
    """409 EVIDENCE_REUSED when the upload already served a check-in, or (counted) when the photo is within the
    catalog's `risk.photo_distance` of one already used by anyone."""
    if used:
        raise EvidenceReusedError(reason="upload_used")
    if evidence.nearest(photo.photo_hash, known, catalog.risk_settings().photo_distance) is not None:
        raise PhotoReusedError(reason="photo_reused")


def record_photo_refusal(uow, user_id: str, account, request_id: str) -> list | None:
    """Remembers a refused check-in on the account (its request_id once, whatever the retries); the one that
    brings the person's refusals within 30 days to the catalog's `risk.photo_refusals` also puts them under
    review, in the same write. `uow`: the check-in's unit of work (its `photos`, store/photo_hashes.py);
    `account`: what the check-in read. The refusals after it (None: nothing recorded)."""
    limit = catalog.risk_settings().photo_refusals
    before = getattr(account, "photo_refusals", None)
    for _ in range(REFUSAL_ATTEMPTS):
        now = clock.now()
        after = evidence.with_refusal(before, now, request_id)
        if after is None:
            return before
        cleared = risk.cleared_at(account) if account is not None else None  # unknown: decided again on a read
        if evidence.photo_refusals_reached(after, clock.business_day(now), limit, cleared) and not _flagged(account):
            return _record_flagging(uow, user_id, account, request_id, limit)
        try:
            uow.photos.record_refusal(user_id, before, after)
            return after
        except ConditionFailed:  # a concurrent refusal of the same person: read theirs and add this one again
            before = uow.photos.refusals_of(user_id)
            account = None  # its review status unknown: a refusal that reaches the number reads it again
    return before


def _flagged(account) -> bool:
    """Already under review for reused photos (a further refusal adds no second reason)."""
    return account is not None and review.under_review(account) and PHOTO_REUSE in review.rules_of(account)


def _record_flagging(uow, user_id: str, account, request_id: str, limit: int) -> list | None:
    """The refusal that reaches the number, recorded as a posting with no entry: the refusals and the account
    under review (`photo_reuse`, with a reason a reviewer reads, its review-queue item) in ONE TransactWriteItems
    conditioned on the account's version (domain/posting.stage's flag). Decided again on each fresh consistent
    read: a concurrent refusal that flagged first leaves this one a plain refusal, never a second reason."""
    with uow.posting(user_id, account=account) as posting:
        for current in posting.attempts():
            now = clock.now()
            after = evidence.with_refusal(getattr(current, "photo_refusals", None), now, request_id)
            if after is None:
                posting.answer(current.photo_refusals)
                break
            reached = evidence.photo_refusals_reached(after, clock.business_day(now), limit, risk.cleared_at(current))
            flag = Flag(PHOTO_REUSE, refusals_reason(len(after))) if reached and not _flagged(current) else None
            posting.stage([], {"photo_refusals": after}, flag=flag)
            posting.commit(after)
    return posting.result


def refusals_reason(count: int) -> str:
    """What a reviewer reads (`risk list`): how many of the person's photos were refused as reused, and over
    what time."""
    return f"{count} reused photos in {PHOTO_REFUSAL_WINDOW.days} days"
