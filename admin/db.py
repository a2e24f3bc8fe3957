"""init-db: creates the missing tables under TABLE_PREFIX and waits until they are active, and the evidence
photos' bucket (EVIDENCE_BUCKET) where missing, with its lifecycle rule (objects expire after 180 days).

PynamoDB's create_table also turns on TTL for models with a TTLAttribute (the idempotency records)."""
from __future__ import annotations

from pynamodb.exceptions import TableError

from chalicelib.settings import get_settings
from chalicelib.store import evidence_objects
from chalicelib.store.tables import ALL_MODELS


def init_db(dry_run: bool) -> dict:
    created, present = [], []
    for model in ALL_MODELS:
        name = model.Meta.table_name
        if model.exists():
            present.append(name)
            if not dry_run:
                _enable_stream(model)
            continue
        created.append(name)
        if not dry_run:
            _create(model)
    bucket = get_settings().evidence_bucket
    if not dry_run and evidence_objects.ensure_bucket():  # the lifecycle rule is (re)set either way
        created.append(bucket)
    return {"created": created, "present": present, "dry_run": dry_run, "bucket": bucket}


def _create(model) -> None:
    """Creates the table and waits until it is active. A CreateTable whose answer came too late (a busy
    DynamoDB Local under load) is retried by botocore and finds the table its first attempt made: that table is
    ours, and PynamoDB's create_table, which skips a table that exists, waits for it and sets its TTL."""
    try:
        model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
    except TableError as exc:
        if exc.cause_response_code != "ResourceInUseException":
            raise
        model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")  # it exists: waits, then sets its TTL


def _enable_stream(model) -> None:
    """A table made before its model asked for a stream (an older local database) gets the stream now."""
    view = getattr(model.Meta, "stream_view_type", None)
    if view and not model.describe_table().get("StreamSpecification", {}).get("StreamEnabled"):
        model._get_connection().connection.client.update_table(
            TableName=model.Meta.table_name, StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
