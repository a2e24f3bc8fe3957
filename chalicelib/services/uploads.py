"""issue_upload: POST /v1/uploads, a presigned POST for one evidence photo. No DynamoDB call at all.

    route (api/uploads.py) -> issue_upload -> store/evidence_objects.presign_post (signed locally, no request)

The object key is derived from the caller and a fresh upload_id (domain/evidence.py); the upload_id carries its
issue time, so the check-in that uses it checks "within 24 hours" without an upload item. The policy S3
enforces: that exact key, Content-Type equal to the declared type, 1 to 5,242,880 bytes, 10 minutes.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from ..domain import clock, evidence, ids
from ..domain.values import immutable
from ..errors import ValidationError
from ..store import evidence_objects

VALID_SECONDS = 600


@immutable
class Upload:
    upload_id: str
    url: str
    fields: dict[str, str]
    expires_at: datetime


def issue_upload(user_id: str, platform: str, purpose: object, content_type: object, size: object) -> Upload:
    if purpose != evidence.PURPOSE:
        raise ValidationError("用途须为 checkin_evidence", field="purpose", reason="enum", allowed=[evidence.PURPOSE])
    if content_type not in evidence.CONTENT_TYPES:
        raise ValidationError("照片须为 JPEG 或 PNG 格式", field="content_type", reason="enum",
                              allowed=list(evidence.CONTENT_TYPES))
    if isinstance(size, bool) or not isinstance(size, (int, float)) or not float(size).is_integer() \
            or not 1 <= size <= evidence.MAX_BYTES:
        raise ValidationError("照片大小须在 1 字节到 5 MB 之间", field="size", reason="range", min=1,
                              max=evidence.MAX_BYTES)
    now = clock.now()
    upload_id = ids.sortable_id(clock.epoch_ms(now))
    signed = evidence_objects.presign_post(evidence.object_key(platform, user_id, upload_id), content_type,
                                           VALID_SECONDS)
    return Upload(upload_id, signed.url, signed.fields, now + timedelta(seconds=VALID_SECONDS))
