"""init-db: creates the missing tables under TABLE_PREFIX and waits until they are active.

PynamoDB's create_table also turns on TTL for models with a TTLAttribute (the idempotency records)."""
from __future__ import annotations

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
            model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
    return {"created": created, "present": present, "dry_run": dry_run}


def _enable_stream(model) -> None:
    """A table made before its model asked for a stream (an older local database) gets the stream now."""
    view = getattr(model.Meta, "stream_view_type", None)
    if view and not model.describe_table().get("StreamSpecification", {}).get("StreamEnabled"):
        model._get_connection().connection.client.update_table(
            TableName=model.Meta.table_name, StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
