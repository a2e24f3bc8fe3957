"""The evidence photos in object storage (S3; locally the fake S3 of infra/local/fake_s3.py, reached through the
standard AWS_ENDPOINT_URL_S3 that boto3 reads): presigned POSTs, the one read a photo check-in makes, the
erasure's deletes, and the bucket with its lifecycle rule for `python -m admin init-db`.

The client is built once per container, on first use (a check-in without a photo never builds it), with its own
boto3 session: the DynamoDB clients' session (store/pynamodb_session.py) only knows DynamoDB.
"""
from __future__ import annotations

import threading
from typing import Any

from ..domain import evidence
from ..domain.values import immutable
from ..settings import get_settings
from .failures import Unavailable

LIFECYCLE_DAYS = 180
LIFECYCLE_RULE_ID = "evidence-180-days"
_client: Any = None
_lock = threading.Lock()


def client() -> Any:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                import boto3
                from botocore.config import Config

                settings = get_settings()
                style = "path" if settings.s3_endpoint else "virtual"  # a local server has no bucket host names
                _client = boto3.session.Session().client("s3", region_name=settings.aws_region, config=Config(
                    signature_version="s3v4", s3={"addressing_style": style}, connect_timeout=1, read_timeout=3,
                    retries={"max_attempts": 3, "mode": "standard"}, request_checksum_calculation="when_required",
                    response_checksum_validation="when_required"))
    return _client


@immutable
class PresignedPost:
    url: str
    fields: dict[str, str]


def presign_post(key: str, content_type: str, expires_in: int) -> PresignedPost:
    """A POST the mini program sends the photo with; S3 itself refuses another key, type or size (the policy)."""
    signed = client().generate_presigned_post(
        get_settings().evidence_bucket, key, Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, evidence.MAX_BYTES]],
        ExpiresIn=expires_in)
    return PresignedPost(signed["url"], dict(signed["fields"]))


def read(key: str, max_bytes: int) -> bytes | None:
    """The object's bytes (one GetObject); None when it is missing or larger than `max_bytes`."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        found = client().get_object(Bucket=get_settings().evidence_bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            return None
        raise Unavailable() from exc
    except BotoCoreError as exc:
        raise Unavailable() from exc
    body = found["Body"]
    try:
        if int(found.get("ContentLength") or 0) > max_bytes:
            return None
        data = body.read(max_bytes + 1)
    finally:
        body.close()
    return data if len(data) <= max_bytes else None


def delete_prefix(prefix: str) -> int:
    """Deletes every object under `prefix` (a user's own: a List of that prefix, never the bucket); the count."""
    bucket, deleted = get_settings().evidence_bucket, 0
    for page in client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            client().delete_object(Bucket=bucket, Key=item["Key"])
            deleted += 1
    return deleted


def ensure_bucket() -> bool:
    """Creates the evidence bucket where missing, and sets its lifecycle rule (objects expire after 180 days);
    True when the bucket was created. For `python -m admin init-db`."""
    from botocore.exceptions import ClientError

    bucket, s3, created = get_settings().evidence_bucket, client(), False
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
        region = get_settings().aws_region
        where = {"LocationConstraint": region} if region and region != "us-east-1" else None
        s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": where} if where else {}))
        created = True
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [{
        "ID": LIFECYCLE_RULE_ID, "Status": "Enabled", "Filter": {"Prefix": "evidence/"},
        "Expiration": {"Days": LIFECYCLE_DAYS}}]})
    return created


def lifecycle_days() -> int | None:
    """The days after which the bucket's lifecycle rule expires evidence objects, as the bucket says."""
    rules = client().get_bucket_lifecycle_configuration(Bucket=get_settings().evidence_bucket).get("Rules", [])
    return next((rule["Expiration"]["Days"] for rule in rules if rule.get("ID") == LIFECYCLE_RULE_ID), None)

